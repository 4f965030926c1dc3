"""Serving a demo supplier: its own waitress server on its own port, in a thread."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from regie.lib.logging import get_logger
from regie.lib.serving import Served, serve_in_thread

from .app import DemoSupplierApp
from .suppliers import DemoSupplierSpec

logger = get_logger(__name__)


@dataclass
class Running(Served):
    """A demo supplier being served; :meth:`stop` ends it."""

    app: DemoSupplierApp = field(kw_only=True)


def start(
    spec: DemoSupplierSpec,
    issuer: str,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    jwks_url: str | None = None,
    keeps_erased: bool = False,
) -> Running:
    """Serve the demo supplier on ``port`` (default: the spec's; 0: any free one) until stopped.

    ``jwks_url`` is where the hub's order-signing keys are read (default ``<issuer>/jwks``);
    ``keeps_erased`` makes it misbehave, for tests only (:class:`~.app.DemoSupplierApp`)."""

    port = spec.port if port is None else port
    if port == 0:  # any free port, known before the app is made (its URLs name the port)
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = int(probe.getsockname()[1])
    app = DemoSupplierApp(
        spec, spec.base(host, port), issuer, jwks_url=jwks_url, keeps_erased=keeps_erased
    )
    return serve(app, host=host, port=port)


def serve(app: DemoSupplierApp, *, host: str = "127.0.0.1", port: int) -> Running:
    """Serve ``app`` on ``port`` until stopped: a supplier that was stopped comes back with what
    it held, its key and its registration (as a real supplier after an outage)."""
    spec = app.spec
    served = serve_in_thread(
        app,
        host=host,
        port=port,
        name=f"demosupplier-{spec.key}",
        clear_untrusted_proxy_headers=True,
    )
    logger.info("demosupplier.started", supplier=spec.key, url=app.base + "/")
    return Running(app.base, served.thread, served.stopped, served.server, app=app)
