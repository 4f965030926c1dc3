"""The audit app's front door: :func:`record`, the one call every app makes to log an event."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from regie.lib.logging import Pii, get_logger

from .events import REGISTRY, EventType
from .models import AuditEvent

logger = get_logger(__name__)

SYSTEM = "system"


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
