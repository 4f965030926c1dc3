"""What retention has to do, and when: the one computation the run acts on and the pages show.

**Pupils who left** (:func:`pupils`). A pupil is one person across the rows of the board that
share their ECK iD (a school move makes a new row): the group is due only when its latest row
left, and a pupil who came back (an active row, or one that left later) makes nothing due. For
a pupil who left on ``left_on``:

- each supplier that holds one of their pseudonyms gets a deletion order on the day its
  schedules' longest pupil rule ends (:func:`regie.retention.rules.supplier_rules`; a supplier
  without such a rule keeps the data until the end of its contract, see :mod:`.contracts`);
- the hub deletes the pupil on the day its own rule ends (``pupils_left``), but never before
  every supplier's order has gone: the order needs the pupil's pseudonym, which goes with them.

A legal hold, or a rights request still open, stops both (``blocked``); what was done already
(:class:`~.models.RetentionAction`) is not due again.

**Withdrawn consent** (:func:`consents`). When the latest decision for (pupil, product,
attribute) withdrew a consent given before, the supplier is ordered to delete that attribute on
the day the schedule's ``consent_withdrawn`` rule ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache

from django.db.models import Max

from regie.agreements.models import Consent, Product
from regie.core.models import Board
from regie.gateway.models import SupplierPseudonym
from regie.portal.models import OPEN_REQUEST_STATES, RightsRequest
from regie.roster.models import Student, StudentStatus

from . import rules
from .models import ActionScope, HubDataKind, LegalHold, RetentionAction

HOLD = "hold"
OPEN_REQUEST = "open_request"


@dataclass(frozen=True)
class SupplierDue:
    supplier_id: int
    due_on: dt.date
    done: bool  # the order went already


@dataclass(frozen=True)
class PupilDue:
    """One pupil who left, and what is due about them. ``student_id`` is the group's latest row
    (the key of what is done); ``student_ids`` every row of the group."""

    student_id: int
    student_ids: tuple[int, ...]
    school_id: int
    left_on: dt.date
    own_due: dt.date  # the hub's rule
    due_on: dt.date  # when the hub deletes: the later of its rule and every supplier's order
    suppliers: tuple[SupplierDue, ...]
    blocked: str = ""  # HOLD or OPEN_REQUEST: nothing is done
    hub_done: bool = False

    def orders_due(self, today: dt.date) -> list[SupplierDue]:
        """The suppliers to order today (due, not yet ordered; none while blocked)."""
        if self.blocked:
            return []
        return [due for due in self.suppliers if not due.done and due.due_on <= today]

    def delete_due(self, today: dt.date) -> bool:
        """Whether the hub deletes the pupil today (every order then goes in the same step)."""
        return not self.blocked and not self.hub_done and self.due_on <= today


@dataclass(frozen=True)
class ConsentDue:
    """Data a supplier received under a consent that was withdrawn."""

    student_id: int
    school_id: int
    supplier_id: int
    product_id: int
    attribute: str
    consent_id: int  # the withdrawal
    withdrawn_on: dt.date
    due_on: dt.date
    blocked: str = ""

    @property
    def scope_key(self) -> str:
        return f"{self.product_id}:{self.attribute}:{self.consent_id}"


@dataclass
class Plan:
    """Everything due for one board up to a day."""

    board_id: int
    today: dt.date
    pupils: list[PupilDue] = field(default_factory=list)
    consents: list[ConsentDue] = field(default_factory=list)


def year_end_finder() -> Callable[[dt.date], dt.date]:
    """:func:`rules.school_year_end`, remembered for one computation (one query per year)."""
    return cache(rules.school_year_end)


def pupils(board: Board | int, *, today: dt.date, until: dt.date | None = None) -> list[PupilDue]:
    """The pupils who left with something due on or before ``until`` (``today`` by default),
    blocked ones included (the page shows them); oldest leaving first."""
    board_id = board if isinstance(board, int) else board.pk
    until = until or today
    year_end = year_end_finder()
    own_rule = rules.hub_rule(board_id, HubDataKind.PUPILS_LEFT)
    in_board = Student.objects.filter(school__board_id=board_id)
    left = list(
        in_board.filter(status=StudentStatus.LEFT, left_on__isnull=False)
        .order_by("left_on", "pk")
        .values_list("pk", "eck_id", "left_on", "school_id")
    )
    if not left:
        return []
    left_ids = in_board.filter(status=StudentStatus.LEFT, left_on__isnull=False).values("pk")
    # A pupil still (or again) at a school of the board: their ECK iD on an active row.
    present = set(
        in_board.filter(status=StudentStatus.ACTIVE)
        .exclude(eck_id="")
        .filter(eck_id__in=in_board.filter(pk__in=left_ids).exclude(eck_id="").values("eck_id"))
        .values_list("eck_id", flat=True)
    )
    groups: dict[str, list[tuple[int, dt.date, int]]] = {}
    for pk, eck_id, left_on, school_id in left:
        if left_on is None or (eck_id and eck_id in present):
            continue
        groups.setdefault(eck_id or f"pk:{pk}", []).append((pk, left_on, school_id))
    holders: dict[int, set[int]] = {}
    for student_id, supplier_id in SupplierPseudonym.objects.filter(
        student_id__in=left_ids
    ).values_list("student_id", "supplier_id"):
        holders.setdefault(student_id, set()).add(supplier_id)
    held = set(
        LegalHold.objects.filter(board_id=board_id, lifted_at__isnull=True).values_list(
            "student_id", flat=True
        )
    )
    asking = set(
        RightsRequest.objects.filter(
            student_id__in=left_ids, state__in=OPEN_REQUEST_STATES
        ).values_list("student_id", flat=True)
    )
    done: set[tuple[int, str, int | None]] = set(
        RetentionAction.objects.filter(
            board_id=board_id,
            student_key__in=left_ids,
            scope__in=(ActionScope.HUB, ActionScope.SUPPLIER),
        ).values_list("student_key", "scope", "supplier_id")
    )
    supplier_rules = rules.supplier_rules(board_id)
    found: list[PupilDue] = []
    for rows in groups.values():
        rows.sort(key=lambda row: (row[1], row[0]))
        pk, left_on, school_id = rows[-1]
        ids = tuple(row[0] for row in rows)
        own_due = own_rule.due(left_on, year_end)
        suppliers = []
        for supplier_id in sorted(set().union(*(holders.get(i, set()) for i in ids))):
            rule = supplier_rules.get(supplier_id)
            due_on = rule.due(left_on, year_end) if rule else None
            if due_on is not None:
                suppliers.append(
                    SupplierDue(
                        supplier_id, due_on, (pk, ActionScope.SUPPLIER, supplier_id) in done
                    )
                )
        due_on = max([own_due, *(item.due_on for item in suppliers)])
        first = min([due_on, *(item.due_on for item in suppliers if not item.done)])
        if first > until:
            continue
        blocked = HOLD if held & set(ids) else OPEN_REQUEST if asking & set(ids) else ""
        found.append(
            PupilDue(
                student_id=pk,
                student_ids=ids,
                school_id=school_id,
                left_on=left_on,
                own_due=own_due,
                due_on=due_on,
                suppliers=tuple(suppliers),
                blocked=blocked,
                hub_done=(pk, ActionScope.HUB, None) in done,
            )
        )
    found.sort(key=lambda item: (item.left_on, item.student_id))
    return found


def consents(
    board: Board | int, *, today: dt.date, until: dt.date | None = None
) -> list[ConsentDue]:
    """Withdrawn consents whose supplier deletion is due on or before ``until`` and not yet
    ordered (blocked ones included)."""
    board_id = board if isinstance(board, int) else board.pk
    until = until or today
    consent_rules = rules.consent_rules(board_id)
    if not consent_rules:
        return []
    products = {key[0] for key in consent_rules}
    latest = (
        Consent.objects.filter(student__school__board_id=board_id, product_id__in=products)
        .values("student_id", "product_id", "attribute")
        .annotate(last=Max("pk"))
        .values_list("last", flat=True)
    )
    withdrawn = list(
        Consent.objects.filter(pk__in=latest, given=False).values_list(
            "pk", "student_id", "student__school_id", "product_id", "attribute", "decided_at"
        )
    )
    if not withdrawn:
        return []
    given_before = set(
        Consent.objects.filter(
            student__school__board_id=board_id, product_id__in=products, given=True
        ).values_list("student_id", "product_id", "attribute")
    )
    suppliers = dict(Product.objects.filter(pk__in=products).values_list("pk", "supplier_id"))
    holders = set(
        SupplierPseudonym.objects.filter(student__school__board_id=board_id).values_list(
            "student_id", "supplier_id"
        )
    )
    done = set(
        RetentionAction.objects.filter(board_id=board_id, scope=ActionScope.CONSENT).values_list(
            "scope_key", flat=True
        )
    )
    held = set(
        LegalHold.objects.filter(board_id=board_id, lifted_at__isnull=True).values_list(
            "student_id", flat=True
        )
    )
    found = []
    for pk, student_id, school_id, product_id, attribute, decided_at in withdrawn:
        rule = consent_rules.get((product_id, attribute))
        supplier_id = suppliers[product_id]
        if rule is None or (student_id, product_id, attribute) not in given_before:
            continue
        if (student_id, supplier_id) not in holders:
            continue  # the supplier never received anything about the pupil
        withdrawn_on = decided_at.date()
        item = ConsentDue(
            student_id=student_id,
            school_id=school_id,
            supplier_id=supplier_id,
            product_id=product_id,
            attribute=attribute,
            consent_id=pk,
            withdrawn_on=withdrawn_on,
            due_on=rule.due(withdrawn_on),
            blocked=HOLD if student_id in held else "",
        )
        if item.scope_key in done or item.due_on > until:
            continue
        found.append(item)
    found.sort(key=lambda item: (item.due_on, item.consent_id))
    return found


def plan(board: Board | int, *, today: dt.date, until: dt.date | None = None) -> Plan:
    board_id = board if isinstance(board, int) else board.pk
    return Plan(
        board_id=board_id,
        today=today,
        pupils=pupils(board_id, today=today, until=until),
        consents=consents(board_id, today=today, until=until),
    )


def held_pupils(board: Board | int) -> Iterable[int]:
    board_id = board if isinstance(board, int) else board.pk
    return LegalHold.objects.filter(board_id=board_id, lifted_at__isnull=True).values_list(
        "student_id", flat=True
    )
