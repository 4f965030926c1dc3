"""The data-breach register: incidents with the 72-hour clock, affected pupils computed from the
audit log, ENISA severity, the texts for the AP and for guardians, and the decision.

- :func:`register` opens an incident (internal or from a supplier) and computes its affected
  pupils: :func:`compute_affected` reads the release events of the log (``gateway.release``,
  per pupil for single sign-on, with the pupils' internal ids for OneRoster; and
  ``gateway.result.received``: results the supplier holds) for this supplier in the window,
  keeps the board's pupils and stores them with the categories that went (:class:`AffectedPupil`).
- The clock: :func:`Clock` — the deadline is the detection time + 72 hours; an incident is
  *open* while it is undecided, or decided "notify" and not yet notified; *overdue* when open
  past the deadline; notified *in time* when the AP was notified by the deadline.
- Every step is an audit event ``oversight.incident.*`` with ids, counts and levels only.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from regie.agreements import catalogue
from regie.agreements.models import Supplier
from regie.audit.services import actor_for, record
from regie.core import datacategories as dc
from regie.core.models import Board
from regie.gateway.models import SupplierPseudonym
from regie.roster.models import Student

from . import events, severity
from .models import AffectedPupil, Decision, Incident, IncidentSource
from .releases import releases

MAX_NAMED = 10_000
"""At most this many pseudonyms in one supplier report."""


# --- the clock -----------------------------------------------------------------------------------


def is_open(incident: Incident) -> bool:
    """Needs a decision, or the AP still has to be notified."""
    return incident.decision == Decision.UNDECIDED or (
        incident.decision == Decision.NOTIFY and incident.notified_ap_at is None
    )


OPEN = Q(decision=Decision.UNDECIDED) | Q(decision=Decision.NOTIFY, notified_ap_at__isnull=True)
""":func:`is_open` as a query."""


@dataclass(frozen=True)
class Clock:
    deadline: dt.datetime
    open: bool
    remaining: dt.timedelta  # negative when past the deadline
    overdue: bool
    in_time: bool | None  # notified by the deadline; None when the AP was not notified

    @property
    def hours_left(self) -> int:
        return max(0, int(self.remaining.total_seconds() // 3600))

    @property
    def hours_over(self) -> int:
        return max(0, int(-self.remaining.total_seconds() // 3600))


def clock(incident: Incident, now: dt.datetime | None = None) -> Clock:
    now = now or timezone.now()
    still_open = is_open(incident)
    stopped = incident.notified_ap_at
    in_time = None if stopped is None else stopped <= incident.deadline
    remaining = incident.deadline - (stopped or now)
    return Clock(
        deadline=incident.deadline,
        open=still_open,
        remaining=remaining,
        overdue=still_open and now > incident.deadline,
        in_time=in_time,
    )


# --- the affected pupils, from the log -----------------------------------------------------------


@dataclass
class Found:
    attributes: set[str]
    releases: int = 0


def released(supplier: Supplier, start: dt.datetime, end: dt.datetime) -> dict[int, Found]:
    """Per pupil (internal id) the attributes that went to ``supplier`` between ``start`` and
    ``end`` (inclusive), from the log (:mod:`.releases`), over every board; with the results
    the supplier posted about them."""
    found: dict[int, Found] = {}
    for release in releases(
        start, end, supplier=supplier.pk, end_inclusive=True, with_results=True
    ):
        for pk in release.pupils:
            item = found.setdefault(pk, Found(set()))
            item.attributes.update(release.attributes)
            item.releases += 1
    return found


def categories_of(attributes: Iterable[str]) -> list[str]:
    """The taxonomy keys of the catalogue attributes (unknown names left out)."""
    return sorted(
        {
            catalogue.CATALOGUE[name].category.key
            for name in attributes
            if name in catalogue.CATALOGUE
        }
    )


def named_students(supplier: Supplier, subjects: Iterable[str]) -> set[int]:
    """The pupils (internal ids) whose pseudonym at ``supplier`` is among ``subjects``."""
    values = list(dict.fromkeys(subjects))[:MAX_NAMED]
    return set(
        SupplierPseudonym.objects.filter(supplier=supplier, value__in=values).values_list(
            "student_id", flat=True
        )
    )


def boards_concerned(
    supplier: Supplier, start: dt.datetime, end: dt.datetime, named: set[int]
) -> list[int]:
    """The boards whose pupils went to ``supplier`` in the window, or were named."""
    pupils = set(released(supplier, start, end)) | named
    return sorted(
        set(Student.objects.filter(pk__in=pupils).values_list("school__board_id", flat=True))
    )


def compute_affected(incident: Incident, named: Iterable[int] = ()) -> int:
    """(Re)compute the incident's affected pupils from the log; pupils the supplier named keep
    their place. Returns the count."""
    kept_named = set(
        incident.affected.filter(named_by_supplier=True).values_list("student_id", flat=True)
    ) | set(named)
    found: dict[int, Found] = {}
    if incident.supplier is not None:
        found = released(incident.supplier, incident.window_from, incident.window_to)
    board_pupils = set(
        Student.objects.filter(
            school__board=incident.board, pk__in=set(found) | kept_named
        ).values_list("pk", flat=True)
    )
    wanted = set(incident.categories)
    rows: list[AffectedPupil] = []
    for pk in sorted(board_pupils):
        item = found.get(pk, Found(set()))
        categories = categories_of(item.attributes)
        if wanted:
            categories = sorted(set(categories) & wanted) or (
                sorted(wanted) if pk in kept_named else []
            )
        if not categories and pk not in kept_named:
            continue
        rows.append(
            AffectedPupil(
                incident=incident,
                student_id=pk,
                categories=categories,
                attributes=sorted(item.attributes),
                releases=item.releases,
                named_by_supplier=pk in kept_named,
            )
        )
    with transaction.atomic():
        incident.affected.all().delete()
        AffectedPupil.objects.bulk_create(rows)
        incident.computed_at = timezone.now()
        incident.save(update_fields=["computed_at"])
    return len(rows)


def per_category(incident: Incident) -> list[tuple[str, int]]:
    """(taxonomy key, count of affected pupils) for the incident, most first."""
    counts: Counter[str] = Counter()
    for categories in incident.affected.values_list("categories", flat=True):
        counts.update(categories)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def category_label(key: str) -> str:
    category = dc.TAXONOMY.get(key)
    if category is None:
        return key
    return category.label_en if (get_language() or "nl").startswith("en") else category.label_nl


# --- registering ---------------------------------------------------------------------------------


def register(
    board: Board,
    *,
    description: str,
    detected_at: dt.datetime,
    window: tuple[dt.datetime, dt.datetime],
    supplier: Supplier | None,
    categories: Iterable[str] = (),
    user: User | None = None,
    source: str = IncidentSource.INTERNAL,
    report_jti: str = "",
    named: Iterable[int] = (),
    subjects_named: int = 0,
) -> Incident:
    """Open an incident of ``board`` and compute its affected pupils from the log."""
    known = [key for key in dict.fromkeys(categories) if key in dc.TAXONOMY]
    with transaction.atomic():
        incident = Incident.objects.create(
            board=board,
            source=source,
            supplier=supplier,
            description=description,
            categories=known,
            window_from=window[0],
            window_to=window[1],
            detected_at=detected_at,
            deadline=detected_at,  # set by save(): detected_at + 72 h
            registered_by=user,
            report_jti=report_jti,
            subjects_named=subjects_named,
        )
        affected = compute_affected(incident, named)
        base = severity.default_dpc(
            known or {key for row in incident.affected.all() for key in row.categories}
        )
        incident.severity = {"dpc_base": base, "dpc_adjust": 0, "ei": "1"}
        incident.save(update_fields=["severity"])
        record(
            events.INCIDENT_REGISTERED,
            actor_for(user),
            f"incident:{incident.pk}",
            {
                "board": board.pk,
                "source": source,
                "supplier": supplier.pk if supplier else None,
                "detected_at": detected_at.isoformat(),
                "deadline": incident.deadline.isoformat(),
                "affected": affected,
            },
        )
    return incident


def recompute(incident: Incident, *, user: User | None) -> int:
    count = compute_affected(incident)
    record(
        events.INCIDENT_COMPUTED,
        actor_for(user),
        f"incident:{incident.pk}",
        {"affected": count, "per_category": dict(per_category(incident))},
    )
    return count


def assess(incident: Incident, factors: Mapping[str, Any], *, user: User | None) -> None:
    incident.severity = dict(factors)
    incident.save(update_fields=["severity"])
    scored = severity.assess(incident.severity)
    record(
        events.INCIDENT_ASSESSED,
        actor_for(user),
        f"incident:{incident.pk}",
        {
            "factors": {key: str(value) for key, value in factors.items()},
            "score": str(scored.score),
            "level": scored.level,
        },
    )


def decide(
    incident: Incident, decision: str, reasons: str, *, notify_persons: bool, user: User | None
) -> None:
    if decision not in (Decision.NOTIFY, Decision.NO_NOTIFY) or not reasons.strip():
        raise ValueError("a decision needs one of notify/no_notify and reasons")
    incident.decision = decision
    incident.decision_reasons = reasons.strip()
    incident.notify_persons = notify_persons
    incident.decided_at = timezone.now()
    incident.decided_by = user
    incident.save(
        update_fields=["decision", "decision_reasons", "notify_persons", "decided_at", "decided_by"]
    )
    record(
        events.INCIDENT_DECIDED,
        actor_for(user),
        f"incident:{incident.pk}",
        {"decision": decision, "notify_persons": notify_persons},
    )


def notified(incident: Incident, at: dt.datetime, *, user: User | None) -> bool:
    """Record when the AP was notified (the clock stops); whether it was in time."""
    incident.notified_ap_at = at
    incident.save(update_fields=["notified_ap_at"])
    in_time = at <= incident.deadline
    record(
        events.INCIDENT_NOTIFIED,
        actor_for(user),
        f"incident:{incident.pk}",
        {"notified_at": at.isoformat(), "in_time": in_time},
    )
    return in_time


def open_incidents(boards: Iterable[int]) -> QuerySet[Incident]:
    return Incident.objects.filter(OPEN, board_id__in=list(boards))
