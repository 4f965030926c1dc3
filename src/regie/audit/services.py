"""The audit app's front door: :func:`record`, the one call every app makes to log an event, and
the helpers that say who did it.

An event's *actor* is always one of these forms, made here and nowhere else:

- ``system`` (:data:`SYSTEM`): the hub itself — a command, a scheduled job, a background worker;
- ``anonymous`` (:data:`ANONYMOUS`): a visitor who is not logged in (a refused login);
- ``user:<id>`` (:func:`actor_for`): a login, by the id of the Django user;
- ``client:<id>`` (:func:`client_actor`): a supplier's OAuth client at the gateway;
- ``nv-client:<OIN>`` (:func:`nv_client_actor`): a client of the number service, by its OIN.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from django.utils import timezone

from regie.lib.logging import Pii, get_logger

from .events import REGISTRY, EventType
from .models import AuditEvent

logger = get_logger(__name__)

SYSTEM = "system"
ANONYMOUS = "anonymous"


class HasPk(Protocol):
    @property
    def pk(self) -> Any: ...


def actor_for(user: HasPk | None) -> str:
    """The actor for what a login did (``user:<id>``); :data:`SYSTEM` when no one did it, and
    :data:`ANONYMOUS` for a visitor who is not logged in."""
    if user is None:
        return SYSTEM
    if user.pk is None:
        return ANONYMOUS
    return f"user:{user.pk}"


def client_actor(client: HasPk) -> str:
    """The actor for what a supplier's OAuth client did at the gateway: ``client:<id>``."""
    return f"client:{client.pk}"


def nv_client_actor(oin: str) -> str:
    """The actor for what a client of the number service did, by its OIN: ``nv-client:<OIN>``."""
    return f"nv-client:{oin}"


class PersonalDataInDetails(TypeError):
    """Personal data was passed in audit details; it belongs in the PII side table."""


def _refuse_pii(value: Any) -> Any:
    if isinstance(value, Pii):
        raise PersonalDataInDetails(
            "audit details must not hold personal data; record a reference instead"
        )
    raise TypeError(f"audit details must be JSON: {type(value).__name__} is not")


def record(
    event_type: EventType,
    actor: str,
    subject: str = "",
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. ``details`` is JSON without personal data (identifiers never go here)."""
    if REGISTRY.get(event_type.name) != event_type:
        raise ValueError(f"audit event type {event_type.name!r} is not declared")
    payload = json.loads(json.dumps(dict(details or {}), default=_refuse_pii))
    event = AuditEvent.objects.create(
        occurred_at=timezone.now(),
        event_type=event_type.name,
        actor=actor,
        subject=subject,
        details=payload,
    )
    logger.debug("audit.recorded", event_type=event_type.name, actor=actor, subject=subject)
    return event
