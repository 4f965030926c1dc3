"""The one reader of the release log: which pupils' data went to which supplier, when.

Both the data-breach register (``incidents.released``: the affected pupils) and the aggregate
reports (``reports``: releases beyond the pseudonym) ask this module, so that they can never
disagree about what counts as a release. A release is a ``gateway.release`` event. Its pupils are
its subject (``student:<pk>``: an SSO launch, an export) and, for a OneRoster read that served
many pupils at once, the internal ids in its ``students`` detail. A result a supplier posted
(``gateway.result.received``) is not a release, but it is data about the pupil the supplier
holds: the breach register asks for those too (``with_results``), as the attribute ``results``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from regie.audit.models import AuditEvent
from regie.gateway.events import RELEASE, RESULT_RECEIVED


@dataclass(frozen=True)
class Release:
    """One event's release to one supplier: the pupils (internal ids) and the attribute names."""

    supplier: int
    pupils: tuple[int, ...]
    attributes: tuple[str, ...]


def releases(
    start: dt.datetime,
    end: dt.datetime,
    *,
    supplier: int | None = None,
    end_inclusive: bool = False,
    with_results: bool = False,
) -> Iterator[Release]:
    """The releases logged from ``start`` to ``end`` (``end`` itself only if ``end_inclusive``),
    to ``supplier`` or to every supplier, in the log's order."""
    kinds = (RELEASE.name, RESULT_RECEIVED.name) if with_results else (RELEASE.name,)
    window = {"occurred_at__gte": start}
    window["occurred_at__lte" if end_inclusive else "occurred_at__lt"] = end
    events = AuditEvent.objects.filter(event_type__in=kinds, **window)
    if supplier is not None:
        events = events.filter(details__supplier=supplier)
    rows = events.order_by("pk").values_list("event_type", "subject", "details")
    for event_type, subject, details in rows.iterator():
        release = _release(event_type, subject, details)
        if release is not None:
            yield release


def _release(event_type: str, subject: str, details: Any) -> Release | None:
    if not isinstance(details, dict) or not isinstance(details.get("supplier"), int):
        return None
    if event_type == RESULT_RECEIVED.name:
        names: list[str] = ["results"]
    else:
        names = [name for name in details.get("attributes", []) if isinstance(name, str)]
    pupils: list[int] = []
    if isinstance(subject, str) and subject.startswith("student:"):
        number = subject.removeprefix("student:")
        if number.isdecimal():
            pupils.append(int(number))
    pupils.extend(pk for pk in details.get("students", []) if isinstance(pk, int))
    return Release(details["supplier"], tuple(pupils), tuple(names))
