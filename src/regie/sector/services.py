"""The sector dashboard's front door: registering hubs, supervisors, and who may read."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from regie.audit import signed_note
from regie.audit.services import SYSTEM, record

from .events import HUB_DEACTIVATED, HUB_REGISTERED, SUPERVISOR_ADDED
from .models import Hub, Organisation, Supervisor


class SectorError(ValueError):
    """A registration the sector refuses (a bad key, an unknown hub, a taken name)."""


def register_hub(name: str, vkey: str, actor: str = SYSTEM) -> Hub:
    """Register a hub by its verifier key; its origin is the key's name. Registering the same
    origin again replaces the key and makes the hub active."""
    try:
        verifier = signed_note.verifier_from_vkey(vkey)
    except signed_note.NoteError as error:
        raise SectorError(str(error)) from None
    if verifier.key_type != signed_note.ED25519:
        raise SectorError("a hub's key is an Ed25519 note key (type 0x01)")
    with transaction.atomic():
        hub, _created = Hub.objects.update_or_create(
            origin=verifier.name,
            defaults={"name": name, "vkey": verifier.vkey, "active": True},
        )
        record(HUB_REGISTERED, actor, details={"hub": hub.pk, "origin": hub.origin})
    return hub


def deactivate_hub(origin: str, actor: str = SYSTEM) -> Hub:
    with transaction.atomic():
        hub = Hub.objects.filter(origin=origin).first()
        if hub is None:
            raise SectorError("no hub with this origin")
        hub.active = False
        hub.save(update_fields=["active"])
        record(HUB_DEACTIVATED, actor, details={"hub": hub.pk, "origin": hub.origin})
    return hub


def add_supervisor(
    username: str, organisation: str, password: str, actor: str = SYSTEM
) -> Supervisor:
    if organisation not in Organisation.values:
        raise SectorError(f"organisation must be one of {', '.join(Organisation.values)}")
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise SectorError("this username is taken")
        user = User.objects.create_user(username=username, password=password)
        supervisor = Supervisor.objects.create(user=user, organisation=organisation)
        record(SUPERVISOR_ADDED, actor, details={"user": user.pk, "organisation": organisation})
    return supervisor


def may_read(user: Any) -> bool:
    """Whether a login may read the dashboard: a supervisor, or the superuser."""
    if not user.is_authenticated:
        return False
    return bool(user.is_superuser) or Supervisor.objects.filter(user_id=user.pk).exists()


def stale_days() -> int:
    """After how many days without an accepted report a hub is flagged as silent."""
    return int(settings.OVERSIGHT_STALE_DAYS)
