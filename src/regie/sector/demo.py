"""The sector dashboard's part of the demo: the demo hubs registered by their log keys, and a
supervisor's login (``toezicht``, of the AP). ``regie demo`` (ops) calls :func:`load_demo_sector`
with the vkeys of the hubs it runs; the hubs then send their signed reports to
``/sector/api/reports``."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User

from . import services
from .models import Hub, Organisation

DEMO_SUPERVISOR = "toezicht"


def load_demo_sector(hubs: Iterable[tuple[str, str]], password: str) -> list[Hub]:
    """Register each ``(name, vkey)`` hub and the demo supervisor; running it again changes
    nothing but the hubs' names and keys."""
    registered = [services.register_hub(name, vkey) for name, vkey in hubs]
    if not User.objects.filter(username=DEMO_SUPERVISOR).exists():
        services.add_supervisor(DEMO_SUPERVISOR, Organisation.AP, password)
    return registered
