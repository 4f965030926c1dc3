"""What ``regie demo`` does for the provable log: the log's key, a witness served beside the hub
(as another board or a sector body would run one), registered at the hub, and a first
checkpoint once the demo board is loaded."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from regie.audit import witness as witness_service
from regie.lib.logging import get_logger
from regie.lib.serving import Served, port_taken, serve_in_thread

from . import keys
from .models import Witness

logger = get_logger(__name__)

DEMO_WITNESS_NAME = "getuige.regie.example/demo"


def start_demo_witness(port: int, host: str = "127.0.0.1") -> Served:
    """Serve the demo's witness on ``port`` (any free one when taken), with its key and state in
    ``$REGIE_VAR_DIR/demo-witness``, witnessing this hub's log; register it at the hub."""
    keys.ensure()
    directory = Path(settings.VAR_DIR) / "demo-witness"
    if not (directory / witness_service.KEY_FILE).exists():
        witness_service.init(directory, DEMO_WITNESS_NAME)
    witness_service.add_log(directory, keys.origin(), keys.verifier().vkey)
    loaded = witness_service.Witness.load(directory)
    served = serve_in_thread(
        witness_service.WitnessApp(loaded),
        host=host,
        port=0 if port_taken(host, port) else port,
        name="regie-demo-witness",
        threads=2,
    )
    Witness.objects.update_or_create(vkey=loaded.vkey, defaults={"url": served.url, "active": True})
    logger.info("transparency.demo_witness_started", url=served.url)
    return served
