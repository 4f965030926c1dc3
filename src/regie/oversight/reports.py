"""The hub's signed aggregate report for the sector dashboard (``docs/oversight.md``,
"Rapportages / Aggregate reports"; the format is the contract with :mod:`regie.sector`).

- :func:`build`: the report object for every board of this hub over a period of whole days
  (Amsterdam dates, both inclusive). Every count is a query over the hub's own rows or its audit
  log; counts of persons go through :func:`suppress`.
- :func:`sign`: the C2SP signed note, signed by the log's key: the header line and the RFC 8785
  canonical JSON of the object, each ending in a newline.
- :func:`verify`: the object of a signed note, once its signature, header and canonical form
  check out.
- :func:`make`: the report of a period, stored (:class:`~.models.AggregateReport`) with the next
  sequence number and committed to the provable log (``oversight.report.published``); the same
  period again gives the report already made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import rfc8785
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from regie.agreements import catalogue
from regie.agreements.models import Consent, ProcessingAgreement, Supplier
from regie.audit import signed_note
from regie.audit.services import SYSTEM, record
from regie.core.models import Board
from regie.orders.models import Order, OrderState
from regie.portal.models import OPEN_REQUEST_STATES, RightsRequest
from regie.portal.requests import overdue as overdue_requests
from regie.retention.models import CanarySighting, RetentionRun, RunState
from regie.roster.models import Student, StudentStatus
from regie.transparency import keys

from . import events
from .models import AggregateReport, Decision, Incident
from .releases import releases

HEADER = "regie aggregate report v1"
FORMAT = "regie-aggregate-report/1"
K = 5
"""The suppression threshold: counts of persons from 1 to ``K - 1`` are not given."""
SUPPRESSION = {
    "method": "threshold",
    "k": K,
    "rule": "counts of persons from 1 to k-1 are null; 0 and counts of k or more are exact",
}
MEDIAN_MINIMUM = K
"""``median_days`` is given only when at least this many requests closed in the period."""


class ReportInvalid(ValueError):
    """A signed note that is not a valid aggregate report of this format."""


def suppress(count: int) -> int | None:
    """Small-count suppression of a count of persons (threshold method, k = 5).

    A count of persons (pupils, consents, requests, pupils released, pupils deleted) from 1 to
    ``K - 1`` (1–4) becomes ``None`` (``null`` in the report): so few that a reader who knows
    the school might tell who they are. 0 and counts of ``K`` or more are given exactly. No noise
    is added: a count given is the true count. Counts of organisations and events (agreements,
    orders, receipts, runs, canary failures, incidents) are never suppressed."""
    return None if 0 < count < K else count


# --- the period ---------------------------------------------------------------------------------


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The period as aware datetimes: from ``start`` 00:00 to the day after ``end`` 00:00
    (Amsterdam time), the second excluded."""
    zone = timezone.get_default_timezone()
    return (
        timezone.make_aware(dt.datetime.combine(start, dt.time.min), zone),
        timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), zone),
    )


def last_week(now: dt.datetime) -> tuple[dt.date, dt.date]:
    """The seven whole days before the day of ``now`` (Amsterdam date)."""
    today = timezone.localdate(now)
    return today - dt.timedelta(days=7), today - dt.timedelta(days=1)


# --- the counts per board -----------------------------------------------------------------------


def _pupils(board: Board) -> dict[str, int | None]:
    active = Student.objects.filter(school__board=board, status=StudentStatus.ACTIVE)
    return {
        "active": suppress(active.count()),
        "with_pseudonym": suppress(active.exclude(eck_id="").count()),
    }


def _agreements(board: Board, used: set[int]) -> list[dict[str, Any]]:
    rows = []
    for supplier_id, kvk, status, count in _grouped(
        ProcessingAgreement.objects.filter(board=board), "status"
    ):
        used.add(supplier_id)
        rows.append({"supplier": kvk, "status": status, "count": count})
    return rows


def _grouped(queryset: Any, field: str) -> Iterable[tuple[int, str, str, int]]:
    found = (
        queryset.values("supplier_id", "supplier__kvk", field)
        .annotate(count=Count("pk"))
        .order_by("supplier__kvk", field)
    )
    for row in found:
        yield row["supplier_id"], row["supplier__kvk"], row[field], row["count"]


def _releases(
    start: dt.datetime, end: dt.datetime, used: set[int]
) -> dict[int, list[dict[str, Any]]]:
    """Per board: the pupils whose data beyond the pseudonym went to a supplier in the period,
    per supplier and attribute, from the log (:mod:`.releases`: SSO launches and exports about
    one pupil, OneRoster reads with the pupils they served). A pupil deleted since (retention)
    has no board any more and is not counted; canaries are fictional and not counted."""
    seen: dict[tuple[int, int, str], set[int]] = defaultdict(set)
    pupils: dict[int, list[tuple[int, list[str]]]] = defaultdict(list)
    for release in releases(start, end):
        names = [
            name
            for name in release.attributes
            if name != catalogue.SUPPLIER_PSEUDONYM and name in catalogue.CATALOGUE
        ]
        if names:
            for pupil in release.pupils:
                pupils[pupil].append((release.supplier, names))
    boards = dict(Student.objects.filter(pk__in=list(pupils)).values_list("pk", "school__board_id"))
    for pupil_id, items in pupils.items():
        board = boards.get(pupil_id)
        if board is None:
            continue
        for supplier, names in items:
            for name in names:
                seen[(board, supplier, name)].add(pupil_id)
    kvks = dict(Supplier.objects.filter(pk__in={key[1] for key in seen}).values_list("pk", "kvk"))
    result: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for (board, supplier, name), who in sorted(
        seen.items(), key=lambda item: (kvks.get(item[0][1], ""), item[0][2])
    ):
        if supplier not in kvks:
            continue
        used.add(supplier)
        result[board].append(
            {
                "supplier": kvks[supplier],
                "attribute": name,
                "category": catalogue.CATALOGUE[name].category.key,
                "pupils": suppress(len(who)),
            }
        )
    return result


def _consents(board: Board, start: dt.datetime, end: dt.datetime) -> dict[str, int | None]:
    mine = Consent.objects.filter(student__school__board=board, student__is_canary=False)
    latest = Consent.objects.filter(
        student=OuterRef("student"), product=OuterRef("product"), attribute=OuterRef("attribute")
    ).order_by("-decided_at", "-pk")
    in_force = mine.filter(pk=Subquery(latest.values("pk")[:1]), given=True)
    withdrawn = mine.filter(given=False, decided_at__gte=start, decided_at__lt=end)
    return {
        "in_force": suppress(in_force.count()),
        "withdrawn_in_period": suppress(withdrawn.count()),
    }


def _requests(board: Board, start: dt.datetime, end: dt.datetime, today: dt.date) -> dict[str, Any]:
    mine = RightsRequest.objects.filter(board=board)
    closed = list(
        mine.filter(closed_at__gte=start, closed_at__lt=end).values_list("received_at", "closed_at")
    )
    median = None
    if len(closed) >= MEDIAN_MINIMUM:
        days = [
            (closed_at - received).total_seconds() / 86400
            for received, closed_at in closed
            if closed_at is not None
        ]
        median = round(statistics.median(days), 1)
    return {
        "open": suppress(mine.filter(state__in=OPEN_REQUEST_STATES).count()),
        "closed_in_period": suppress(len(closed)),
        "overdue": suppress(overdue_requests(mine, today).count()),
        "median_days": median,
    }


def _answered(orders: Any) -> Any:
    return orders.annotate(answered=Min("receipts__verified_at"))


def _retention(
    board: Board, start: dt.datetime, end: dt.datetime, today: dt.date
) -> dict[str, int | None]:
    runs = RetentionRun.objects.filter(board=board, dry_run=False, state=RunState.DONE)
    in_period = runs.filter(finished_at__gte=start, finished_at__lt=end)
    deleted = sum(int(run.counts.get("pupils_deleted", 0)) for run in in_period.only("counts"))
    order_ids = {str(pk) for run in runs.only("orders") for pk in run.orders}
    outstanding = (
        Order.objects.filter(pk__in=order_ids, receipts__isnull=True)
        .exclude(state=OrderState.CANCELLED)
        .distinct()
    )
    return {
        "runs_in_period": in_period.count(),
        "pupils_deleted_in_period": suppress(deleted),
        "receipts_outstanding": outstanding.count(),
        "receipts_overdue": outstanding.filter(deadline__lt=today).count(),
    }


def _receipts(
    board: Board, start: dt.datetime, end: dt.datetime, today: dt.date, used: set[int]
) -> list[dict[str, Any]]:
    """Per supplier, the orders made in the period (not cancelled): answered by a receipt on or
    before the deadline (on time), after it (late), or not yet (outstanding; overdue once the
    deadline has passed)."""
    orders = _answered(
        Order.objects.filter(board=board, created_at__gte=start, created_at__lt=end).exclude(
            state=OrderState.CANCELLED
        )
    ).values_list("supplier_id", "supplier__kvk", "deadline", "answered")
    rows: dict[tuple[str, int], dict[str, int]] = {}
    for supplier_id, kvk, deadline, answered in orders:
        row = rows.setdefault(
            (kvk, supplier_id),
            {"orders_in_period": 0, "on_time": 0, "late": 0, "outstanding": 0, "overdue": 0},
        )
        row["orders_in_period"] += 1
        if answered is None:
            row["outstanding"] += 1
            row["overdue"] += deadline < today
        elif timezone.localdate(answered) <= deadline:
            row["on_time"] += 1
        else:
            row["late"] += 1
    result = []
    for (kvk, supplier_id), row in sorted(rows.items()):
        used.add(supplier_id)
        result.append({"supplier": kvk, **row})
    return result


def _canaries(board: Board, used: set[int]) -> list[dict[str, Any]]:
    """Per supplier: the canaries it named after confirming their deletion (breaches), to date."""
    found = (
        CanarySighting.objects.filter(canary__board=board, breach=True)
        .values("supplier_id", "supplier__kvk")
        .annotate(failures=Count("canary", distinct=True))
        .order_by("supplier__kvk")
    )
    rows = []
    for row in found:
        used.add(row["supplier_id"])
        rows.append({"supplier": row["supplier__kvk"], "failures": row["failures"]})
    return rows


def _incident_counts(
    board: Board, start: dt.datetime, end: dt.datetime, now: dt.datetime, used: set[int]
) -> dict[str, Any]:
    """The board's data breaches (``oversight.Incident``): registered in the
    period; open (undecided, or to notify and not yet notified); notified to the AP, and of
    those before the 72-hour deadline; decided not to notify; registered in the period per
    source (a supplier's KvK, or ``None`` for an internal one)."""
    mine = Incident.objects.filter(board=board)
    registered = mine.filter(registered_at__gte=start, registered_at__lt=end)
    notified = mine.filter(notified_ap_at__isnull=False)
    by_source: dict[str | None, int] = defaultdict(int)
    for supplier_id, kvk in registered.values_list("supplier_id", "supplier__kvk"):
        if supplier_id is not None:
            used.add(supplier_id)
        by_source[kvk] += 1
    return {
        "registered_in_period": registered.count(),
        "open": mine.filter(
            Q(decision=Decision.UNDECIDED)
            | Q(decision=Decision.NOTIFY, notified_ap_at__isnull=True)
        ).count(),
        "notified": notified.count(),
        "notified_in_time": notified.filter(notified_ap_at__lte=F("deadline")).count(),
        "not_notified": mine.filter(decision=Decision.NO_NOTIFY).count(),
        "by_source": [
            {"supplier": kvk, "count": count}
            for kvk, count in sorted(by_source.items(), key=lambda item: item[0] or "")
        ],
    }


# --- the report ---------------------------------------------------------------------------------


def _board(board: Board) -> dict[str, Any]:
    sectors = sorted({sector.lower() for sector in board.schools.values_list("sector", flat=True)})
    return {"name": board.name, "number": board.bestuursnummer or board.kvk, "sectors": sectors}


def build(
    period_start: dt.date,
    period_end: dt.date,
    *,
    now: dt.datetime,
    sequence: int = 0,
) -> dict[str, Any]:
    """The report object for every board of this hub over the period (both days inclusive)."""
    if period_start > period_end:
        raise ValueError("a report's period starts on or before its end")
    start, end = _bounds(period_start, period_end)
    today = timezone.localdate(now)
    used: set[int] = set()
    releases = _releases(start, end, used)
    boards = []
    for board in Board.objects.order_by("bestuursnummer", "pk"):
        boards.append(
            {
                "board": _board(board),
                "pupils": _pupils(board),
                "agreements": _agreements(board, used),
                "releases_beyond_pseudonym": releases.get(board.pk, []),
                "consents": _consents(board, start, end),
                "requests": _requests(board, start, end, today),
                "retention": _retention(board, start, end, today),
                "receipts": _receipts(board, start, end, today, used),
                "canaries": _canaries(board, used),
                "incidents": _incident_counts(board, start, end, now, used),
            }
        )
    suppliers = [
        {"kvk": kvk, "name": name, "convenant": convenant}
        for kvk, name, convenant in Supplier.objects.filter(pk__in=used)
        .order_by("kvk")
        .values_list("kvk", "name", "convenant_status")
    ]
    return {
        "format": FORMAT,
        "hub": keys.origin(),
        "sequence": sequence,
        "issued_at": now.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "period": {"start": period_start.isoformat(), "end": period_end.isoformat()},
        "suppression": dict(SUPPRESSION),
        "boards": boards,
        "suppliers": suppliers,
    }


def canonical(obj: dict[str, Any]) -> str:
    """RFC 8785 (JCS) canonical JSON."""
    return rfc8785.dumps(obj).decode()


def sign(obj: dict[str, Any]) -> str:
    """The report as a C2SP signed note by the log's key: the header line and the canonical JSON,
    each ending in a newline, then the signature."""
    text = f"{HEADER}\n{canonical(obj)}\n".encode()
    return signed_note.sign_note(text, keys.signer()).decode()


def verify(text: str, verifier: signed_note.Verifier) -> dict[str, Any]:
    """The report object of a signed note, once the signature verifies with ``verifier`` (the
    hub's published log key), the header is this format's and the JSON is canonical."""
    try:
        note = signed_note.open_note(text.encode(), [verifier])
    except signed_note.NoteError as error:
        raise ReportInvalid(str(error)) from None
    header, _, rest = note.text.decode().partition("\n")
    if header != HEADER:
        raise ReportInvalid("the note is not an aggregate report")
    try:
        obj = json.loads(rest)
    except ValueError:
        raise ReportInvalid("the report is not JSON") from None
    if not isinstance(obj, dict) or rest != canonical(obj) + "\n":
        raise ReportInvalid("the report is not canonical JSON")
    if obj.get("format") != FORMAT:
        raise ReportInvalid("the report's format is not known")
    return obj


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make(period_start: dt.date, period_end: dt.date, *, now: dt.datetime) -> AggregateReport:
    """The report of the period: made, signed, stored with the next sequence number and committed
    to the provable log; or, for a period that has one already, that one (never a second)."""
    for _ in range(3):
        found = AggregateReport.objects.filter(
            period_start=period_start, period_end=period_end
        ).first()
        if found is not None:
            return found
        try:
            with transaction.atomic():
                last = AggregateReport.objects.aggregate(last=Max("sequence"))["last"] or 0
                obj = build(period_start, period_end, now=now, sequence=last + 1)
                note = sign(obj)
                report = AggregateReport.objects.create(
                    sequence=last + 1,
                    period_start=period_start,
                    period_end=period_end,
                    issued_at=now.replace(microsecond=0),
                    note=note,
                    sha256=digest(note),
                )
                record(
                    events.REPORT_PUBLISHED,
                    SYSTEM,
                    f"report:{report.sequence}",
                    {
                        "sequence": report.sequence,
                        "sha256": report.sha256,
                        "period_start": period_start.isoformat(),
                        "period_end": period_end.isoformat(),
                    },
                )
                return report
        except IntegrityError:  # another process took the sequence or the period: look again
            continue
    raise RuntimeError("no sequence number could be taken for the report")
