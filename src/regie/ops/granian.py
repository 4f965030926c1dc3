"""``regie serve`` with granian: its HTTP stack (Rust, hyper) in front of regie's WSGI app.

granian runs the app in a worker process of its own (started with ``spawn``, never ``fork``:
this process has threads and database connections that a child must not share), with the
request threads (``--threads``) in it; this process supervises the worker, turns SIGTERM and
SIGINT into a graceful stop (no new connections, requests in progress finish, idle keep-alive
connections are closed) and runs the in-process background worker, as with waitress. The proxy
headers are handled as waitress does it for ``regie serve``: without a trusted proxy, every
``Forwarded`` and ``X-Forwarded-*`` header a visitor sent is dropped before Django sees it
(waitress's own middleware, so the two servers cannot differ).

Chosen by numbers: ``benchmarks/servers.py`` and the section "WSGI servers for the hub" in
``docs/performance.md``.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from regie.lib.logging import get_logger
from regie.lib.serving import limit_malloc_arenas

logger = get_logger(__name__)

# The worker may take this long to finish requests in progress once told to stop (waitress's
# grace period in ``regie serve``); after that granian ends it.
GRACE_SECONDS = 30

# granian's own log lines go through regie's logging (structured, masked), not its own handlers.
GRANIAN_LOG_CONFIG: dict[str, Any] = {
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": True},
    }
}


def load_application(role: str) -> Any:
    """In granian's worker process: regie's WSGI app for ``role``, behind waitress's
    proxy-header rule. The settings are read from the same environment as the supervising
    process's, and the role is then set as ``regie serve --role`` sets it there."""
    from waitress.proxy_headers import proxy_headers_middleware

    limit_malloc_arenas()

    from django.conf import settings

    from regie.wsgi import application

    settings.ROLE = role
    return proxy_headers_middleware(application, trusted_proxy=None, clear_untrusted=True)


def serve_with_granian(
    *,
    host: str,
    port: int,
    threads: int,
    processes: int,
    role: str,
    stop: threading.Event,
    started: Callable[[], None],
) -> None:
    """Serve ``regie.wsgi`` until SIGTERM or SIGINT; ``stop`` is set as the stop begins, and
    ``started`` is called once the port listens (before the worker process starts)."""
    from granian.constants import Interfaces
    from granian.server import Server

    class RegieGranian(Server):  # type: ignore[misc,valid-type]
        def signal_handler_interrupt(self, *args: Any, **kwargs: Any) -> None:
            signum = args[0] if args else signal.SIGTERM
            logger.info("server.stopping", signal=signal.Signals(signum).name)
            stop.set()
            super().signal_handler_interrupt(*args, **kwargs)

    multiprocessing.set_start_method("spawn", force=True)
    server = RegieGranian(
        "regie.wsgi:application",  # for granian's log lines; the app is load_application's
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=processes,
        blocking_threads=threads,
        websockets=False,
        log_dictconfig=GRANIAN_LOG_CONFIG,
        workers_kill_timeout=GRACE_SECONDS,
    )
    server.on_startup(started)
    server.serve(target_loader=partial(load_application, role), wrap_loader=False)
