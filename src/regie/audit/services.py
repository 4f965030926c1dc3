"""The audit app's front door: :func:`record`, the one call every app makes to log an event
(:func:`record_many` for many at once), :func:`erase_subject` / :func:`erase_subjects` (the one way
to delete events' personal details), and the helpers that say who did it.

An event's *actor* is always one of these forms, made here and nowhere else:

- ``system`` (:data:`SYSTEM`): the hub itself — a command, a scheduled job, a background worker;
- ``anonymous`` (:data:`ANONYMOUS`): a visitor who is not logged in (a refused login);
- ``user:<id>`` (:func:`actor_for`): a login, by the id of the Django user;
- ``client:<id>`` (:func:`client_actor`): a supplier's OAuth client at the gateway;
- ``nv-client:<OIN>`` (:func:`nv_client_actor`): a client of the number service, by its OIN.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from regie.lib.crypto import Hmac
from regie.lib.logging import Pii, get_logger
from regie.lib.prepared import Insert

from .events import AUDIT_DETAILS_ERASED, REGISTRY, EventType
from .leaves import details_commitment, leaf_bytes, new_salt
from .models import AuditEvent, PendingLeaf

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


# The event row, made as the ORM's create makes it, its SQL written once (regie.lib.prepared).
_INSERT_EVENT = Insert(AuditEvent)
_INSERT_PENDING = f"INSERT INTO {PendingLeaf._meta.db_table} (event_id, leaf) VALUES (%s, %s)"  # noqa: S608


@lru_cache(maxsize=4)
def _subject_hmac(key: str) -> Hmac:
    return Hmac(key.encode(), "sha256").prefixed(b"regie-audit-subject")


def subject_hash(subject: str) -> str:
    """The leaf's keyed hash of a subject (``""`` for none): HMAC-SHA-256 under the identifier
    key (``REGIE_IDENTIFIER_KEY``, outside the database), prefixed ``regie-audit-subject``. The
    one place the audit subject key is derived."""
    if not subject:
        return ""
    return _subject_hmac(settings.IDENTIFIER_KEY).hexdigest(subject.encode())


def leaf_for(
    *,
    event_type: str,
    occurred_at: dt.datetime,
    actor: str,
    subject: str,
    details: Mapping[str, Any],
    salt: str,
) -> bytes:
    """The leaf (RFC 8785 JSON bytes) committing to one event's side row."""
    return leaf_bytes(
        event_type,
        occurred_at,
        actor,
        subject_hash(subject),
        details_commitment(actor, subject, details, salt),
    )


def _payload(event_type: EventType, details: Mapping[str, Any] | None) -> Any:
    """The details as stored: refused for an undeclared type or personal data."""
    if REGISTRY.get(event_type.name) != event_type:
        raise ValueError(f"audit event type {event_type.name!r} is not declared")
    return json.loads(json.dumps(dict(details or {}), default=_refuse_pii))


def record(
    event_type: EventType,
    actor: str,
    subject: str = "",
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. ``details`` is JSON without personal data (identifiers never go here).

    The side row and the event's pending leaf are written in the caller's transaction (or in one
    of their own); :func:`regie.audit.log.integrate` puts the leaf into the tree later."""
    payload = _payload(event_type, details)
    occurred_at = timezone.now()
    salt = new_salt()
    leaf = leaf_for(
        event_type=event_type.name,
        occurred_at=occurred_at,
        actor=actor,
        subject=subject,
        details=payload,
        salt=salt,
    )
    with transaction.atomic(savepoint=False):
        event = _INSERT_EVENT(
            occurred_at=occurred_at,
            event_type=event_type.name,
            actor=actor,
            subject=subject,
            details=payload,
            salt=salt,
        )
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_PENDING, [event.pk, leaf])
    if logger.isEnabledFor(logging.DEBUG):  # every release is recorded: skip the processors
        logger.debug("audit.recorded", event_type=event_type.name, actor=actor, subject=subject)
    return event


Item = tuple[EventType, str, str, Mapping[str, Any] | None]
"""What :func:`record_many` appends: ``(event_type, actor, subject, details)``, as :func:`record`
takes them."""


def record_many(items: Iterable[Item]) -> list[AuditEvent]:
    """Append many events at once, as :func:`record` appends each (its own time, salt, subject
    hash and leaf, the same checks), in the caller's transaction (or in one of their own): the
    side rows by one ``bulk_create``, the pending leaves by one ``executemany``. The events, in
    the order given (their ids, and so their places in the tree, in that order too)."""
    made: list[tuple[AuditEvent, bytes]] = []
    for event_type, actor, subject, details in items:
        payload = _payload(event_type, details)
        occurred_at = timezone.now()
        salt = new_salt()
        leaf = leaf_for(
            event_type=event_type.name,
            occurred_at=occurred_at,
            actor=actor,
            subject=subject,
            details=payload,
            salt=salt,
        )
        event = AuditEvent(
            occurred_at=occurred_at,
            event_type=event_type.name,
            actor=actor,
            subject=subject,
            details=payload,
            salt=salt,
        )
        made.append((event, leaf))
    if not made:
        return []
    events = [event for event, _ in made]
    with transaction.atomic(savepoint=False):
        if connection.features.can_return_rows_from_bulk_insert:
            AuditEvent.objects.bulk_create(events)
        else:  # a database that cannot say the new ids: one insert each
            for event in events:
                event.save(force_insert=True)
        if any(event.pk is None for event in events):
            raise RuntimeError("the database did not return the audit events' ids")
        with connection.cursor() as cursor:
            cursor.executemany(_INSERT_PENDING, [[event.pk, leaf] for event, leaf in made])
    logger.debug("audit.recorded_many", count=len(events))
    return events


ERASE_CHUNK = 500  # subjects per DELETE (well under SQLite's limit of parameters)


def erase_subjects(subjects: Iterable[str], actor: str) -> dict[str, int]:
    """Delete the side rows (the personal details) of every event about each of ``subjects`` —
    one DELETE per :data:`ERASE_CHUNK` subjects — and record per subject that it was done
    (``audit.details.erased``, same subject, so its leaf carries the same subject hash, with that
    subject's count), by :func:`record_many`. The leaves stay in the tree: no proof breaks.
    Returns the rows deleted per subject (in the order given, duplicates once).

    The per-subject counts are read in the same transaction just before each DELETE; the DELETE
    removes every row about those subjects. Should the two differ (an event about one of them
    committed by another transaction in between, PostgreSQL's read committed), a warning says so;
    for one subject the DELETE's own count is taken."""
    wanted = list(dict.fromkeys(subjects))
    if not wanted or any(not subject for subject in wanted):
        raise ValueError("erasure needs a subject")
    counts: dict[str, int] = {}
    with transaction.atomic():
        for start in range(0, len(wanted), ERASE_CHUNK):
            chunk = wanted[start : start + ERASE_CHUNK]
            rows = AuditEvent.objects.filter(subject__in=chunk)
            found = dict(
                rows.order_by()
                .values("subject")
                .annotate(n=Count("pk"))
                .values_list("subject", "n")
            )
            # The one delete of side rows: the queryset's own delete refuses.
            erased: int = rows._raw_delete(AuditEvent.objects.db)
            if len(chunk) == 1:
                found = {chunk[0]: erased}
            elif erased != sum(found.values()):
                logger.warning(
                    "audit.erasure_count_moved", counted=sum(found.values()), erased=erased
                )
            counts.update((subject, found.get(subject, 0)) for subject in chunk)
        record_many(
            (AUDIT_DETAILS_ERASED, actor, subject, {"count": counts[subject]}) for subject in wanted
        )
    logger.info("audit.details_erased", subjects=len(wanted), count=sum(counts.values()))
    return counts


def erase_subject(subject: str, actor: str) -> int:
    """Delete the side rows (the personal details) of every event about ``subject`` and record
    that it was done (``audit.details.erased``, same subject, so its leaf carries the same subject
    hash): :func:`erase_subjects` of one. The leaves stay in the tree: no proof breaks. Returns
    how many rows were deleted."""
    if not subject:
        raise ValueError("erasure needs a subject")
    return erase_subjects([subject], actor)[subject]
