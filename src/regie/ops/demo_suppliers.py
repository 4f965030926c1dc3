"""What ``regie demo`` does with the demo suppliers: serve them, then register them at the hub."""

from __future__ import annotations

from regie.core.models import Board
from regie.demosupplier import server
from regie.demosupplier.suppliers import DEMO_SUPPLIERS, DemoSupplierSpec

from . import supplier_registration as registration


def start_demo_suppliers(issuer: str, hub_port: int) -> list[server.Running]:
    """Serve each demo supplier on the hub's port + 1, + 2 … (any free port when that is taken)."""
    running = []
    for offset, spec in enumerate(DEMO_SUPPLIERS, start=1):
        running.append(_start(spec, issuer, hub_port + offset))
    return running


def _start(spec: DemoSupplierSpec, issuer: str, port: int) -> server.Running:
    try:
        return server.start(spec, issuer, port=port)
    except OSError:  # the port is taken: let the system choose one
        return server.start(spec, issuer, port=0)


def register_demo_suppliers(running: list[server.Running], board: Board) -> None:
    """Make a second supplier launchable and register every demo supplier's clients."""
    registration.ensure_second_launchable(board)
    for item in running:
        registration.register(item.app)


def stop_demo_suppliers(running: list[server.Running]) -> None:
    for item in running:
        item.stop()
