"""What ``regie demo`` does for the provable log: the log's key, a witness served beside the hub
(as another board or a sector body would run one), registered at the hub, and a first
checkpoint once the demo board is loaded."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from regie.audit import witness as witness_service
from regie.lib.logging import get_logger
from regie.lib.serving import port_taken, run_until_stopped, stop_serving

from . import keys
from .models import Witness

logger = get_logger(__name__)

DEMO_WITNESS_NAME = "getuige.regie.example/demo"


@dataclass
class RunningWitness:
    url: str
    vkey: str
    thread: threading.Thread
    stopped: threading.Event
    server: Any

    def stop(self, timeout: float = 10.0) -> None:
        stop_serving(self.server, self.stopped)
        self.thread.join(timeout=timeout)


def start_demo_witness(port: int, host: str = "127.0.0.1") -> RunningWitness:
    """Serve the demo's witness on ``port`` (any free one when taken), with its key and state in
    ``$REGIE_VAR_DIR/demo-witness``, witnessing this hub's log; register it at the hub."""
    from waitress.server import create_server

    keys.ensure()
    directory = Path(settings.VAR_DIR) / "demo-witness"
    if not (directory / witness_service.KEY_FILE).exists():
        witness_service.init(directory, DEMO_WITNESS_NAME)
    witness_service.add_log(directory, keys.origin(), keys.verifier().vkey)
    loaded = witness_service.Witness.load(directory)
    server: Any = create_server(
        witness_service.WitnessApp(loaded),
        host=host,
        port=0 if port_taken(host, port) else port,
        threads=2,
        ident="regie-demo-witness",
    )
    url = f"http://{host}:{server.effective_port}"
    stopped = threading.Event()
    thread = threading.Thread(
        target=run_until_stopped,
        args=(server, stopped),
        kwargs={"grace_seconds": 2.0},
        name="demo-witness",
        daemon=True,
    )
    thread.start()
    Witness.objects.update_or_create(vkey=loaded.vkey, defaults={"url": url, "active": True})
    logger.info("transparency.demo_witness_started", url=url)
    return RunningWitness(url, loaded.vkey, thread, stopped, server)
