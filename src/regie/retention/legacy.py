"""Legacy named data (motion 9): a supplier that held named pupil data from before pseudonyms
(its own pupil keys, names, birth dates) registers it for one school; the hub matches each
record inside the hub on what the school's export holds, answers a conversion table (legacy key
→ the supplier's pseudonym), and orders the named data destroyed.

Matching, per record: the LAS key at that school first (``las_key``); else the exact name and
birth date when exactly one pupil of the school has them. A matched pupil gets a pseudonym only
when the release policy lets the pseudonym go to the client's product (an agreement in force
with the board, a licence): otherwise ``not_allowed``, without one.

The hub keeps only the counts (:class:`~.models.LegacyRegistration`): the keys, names and birth
dates are the named data to be destroyed, and the hub must not become their new home. They are
not logged, audited or put in an order. The ``legacy-conversion`` order is about the converted
pupils (their pseudonyms); its completed receipt is the supplier's destruction statement
(:func:`on_order_changed`). When no pupil was converted there is no one to order about
(``create_order`` needs pupils): the registration is kept as ``nothing_converted`` and the
board's page shows that a statement is still wanted from the supplier.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from regie.agreements import catalogue, policy
from regie.agreements.models import Product, Supplier
from regie.audit.events import define
from regie.audit.services import SYSTEM, client_actor, record
from regie.core.models import School
from regie.gateway import pseudonyms
from regie.gateway.models import OAuthClient
from regie.orders import services as orders
from regie.orders.models import Order, OrderState, OrderType
from regie.roster.models import Student

from .models import LegacyRegistration, LegacyState

REGISTERED = define(
    "retention.legacy.registered",
    "A supplier registered the named data it held from before pseudonyms for a school and got a "
    "conversion table (counts per outcome, the registration id, the order id; never a key, name "
    "or birth date).",
)
DESTRUCTION_CHANGED = define(
    "retention.legacy.destruction",
    "The supplier's answer to the order to destroy its legacy named data: confirmed (its signed "
    "statement), refused (its reason) or overdue (the registration id, the order id, the state).",
)

MAX_RECORDS = 5000
DESTRUCTION_DAYS = 30
LEGAL_BASIS = (
    "AVG art. 5 lid 1 onder c en e (minimale gegevensverwerking, opslagbeperking); motie 9: "
    "vernietig de herleidbare gegevens van voor de pseudoniemen"
)

CONVERTED = "converted"
NOT_FOUND = "not_found"
AMBIGUOUS = "ambiguous"
NOT_ALLOWED = "not_allowed"
STATUSES = (CONVERTED, NOT_FOUND, AMBIGUOUS, NOT_ALLOWED)


@dataclass(frozen=True)
class LegacyRecord:
    """One record as the supplier sent it (held in memory for the request only)."""

    key: str
    las_key: str = ""
    name: str = ""
    birth_date: dt.date | None = None


@dataclass(frozen=True)
class Converted:
    key: str
    pseudonym: str | None
    status: str

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "pseudonym": self.pseudonym, "status": self.status}


def _normal(name: str) -> str:
    return " ".join(name.split()).casefold()


def _names(student: Student) -> set[str]:
    """The spellings of a pupil's name an exact match accepts (roepnaam or voornamen, with the
    family name)."""
    family = student.family_name
    return {
        _normal(f"{first} {family}")
        for first in (student.roepnaam, student.voornamen)
        if first.strip()
    }


def match(
    school: School, items: list[LegacyRecord]
) -> list[tuple[LegacyRecord, Student | None, str]]:
    """Each record with its pupil (or None) and the matching outcome before the policy:
    ``converted`` (matched), ``not_found`` or ``ambiguous``."""
    pupils = list(Student.objects.filter(school=school).select_related("school"))
    by_key = {pupil.las_key: pupil for pupil in pupils}
    by_name_date: dict[tuple[str, dt.date], list[Student]] = {}
    for pupil in pupils:
        if pupil.birth_date is None:
            continue
        for name in _names(pupil):
            by_name_date.setdefault((name, pupil.birth_date), []).append(pupil)
    found: list[tuple[LegacyRecord, Student | None, str]] = []
    for item in items:
        if item.las_key and item.las_key in by_key:
            found.append((item, by_key[item.las_key], CONVERTED))
            continue
        if item.name and item.birth_date is not None:
            candidates = by_name_date.get((_normal(item.name), item.birth_date), [])
            unique = {pupil.pk: pupil for pupil in candidates}
            if len(unique) == 1:
                found.append((item, next(iter(unique.values())), CONVERTED))
                continue
            if len(unique) > 1:
                found.append((item, None, AMBIGUOUS))
                continue
        found.append((item, None, NOT_FOUND))
    return found


def _products(client: OAuthClient) -> list[Product]:
    """The client's product, or (a client for the whole supplier) every product of it."""
    if client.product is not None:
        return [client.product]
    return list(Product.objects.filter(supplier=client.supplier))


def _may_have_pseudonym(products: list[Product], student: Student, day: dt.date) -> bool:
    """The release policy lets the pseudonym go for one of ``products`` (an agreement in force
    with the pupil's board and a licence covering the pupil)."""
    wanted = (catalogue.SUPPLIER_PSEUDONYM,)
    return any(
        catalogue.SUPPLIER_PSEUDONYM in policy.decide(product, student, wanted, day=day).allowed
        for product in products
    )


def register(
    client: OAuthClient, school: School, items: list[LegacyRecord]
) -> tuple[LegacyRegistration, list[Converted]]:
    """Match ``items`` at ``school``, answer the conversion table, keep the counts and order the
    named data destroyed (about the converted pupils)."""
    supplier: Supplier = client.supplier
    day = timezone.localdate()  # a release: the real day (the demo clock moves only retention)
    table: list[Converted] = []
    converted: dict[int, Student] = {}
    products = _products(client)
    for item, student, status in match(school, items):
        if student is None:
            table.append(Converted(item.key, None, status))
            continue
        if not _may_have_pseudonym(products, student, day):
            table.append(Converted(item.key, None, NOT_ALLOWED))
            continue
        value = pseudonyms.for_student(student, supplier)
        if value is None:  # no ECK iD: the number service cannot give one
            table.append(Converted(item.key, None, NOT_ALLOWED))
            continue
        table.append(Converted(item.key, value, CONVERTED))
        converted[student.pk] = student
    counts = {status: sum(1 for row in table if row.status == status) for status in STATUSES}
    with transaction.atomic():
        registration = LegacyRegistration.objects.create(
            board_id=school.board_id,
            supplier=supplier,
            school=school,
            records=len(items),
            converted=counts[CONVERTED],
            not_found=counts[NOT_FOUND],
            ambiguous=counts[AMBIGUOUS],
            not_allowed=counts[NOT_ALLOWED],
            state=LegacyState.ORDERED if converted else LegacyState.NOTHING_CONVERTED,
        )
        if converted:
            registration.order = orders.create_order(
                type=OrderType.LEGACY_CONVERSION,
                supplier=supplier,
                students=sorted(converted.values(), key=lambda pupil: pupil.pk),
                legal_basis=LEGAL_BASIS,
                deadline=day + dt.timedelta(days=DESTRUCTION_DAYS),
                details={
                    "registration": registration.pk,
                    "records": len(items),
                    "converted": counts[CONVERTED],
                },
            )
            registration.save(update_fields=["order"])
        record(
            REGISTERED,
            client_actor(client),
            subject=f"legacy:{registration.pk}",
            details={
                "registration": registration.pk,
                "supplier": supplier.pk,
                "school": school.pk,
                "records": len(items),
                **counts,
                "order": str(registration.order_id) if registration.order_id else None,
            },
        )
    return registration, table


STATES_BY_ORDER = {
    OrderState.COMPLETED: LegacyState.CONFIRMED,
    OrderState.REFUSED: LegacyState.REFUSED,
    OrderState.OVERDUE: LegacyState.OVERDUE,
}


def on_order_changed(sender: Any, *, order: Order, previous: str, **_: Any) -> None:
    """A ``legacy-conversion`` order's receipt moves its registration on: completed → the
    destruction is confirmed (the receipt's statement), refused → refused (its reason)."""
    if order.type != OrderType.LEGACY_CONVERSION:
        return
    state = STATES_BY_ORDER.get(OrderState(order.state))
    if state is None:
        return
    for registration in LegacyRegistration.objects.filter(order=order):
        registration.state = state
        registration.save(update_fields=["state", "changed_at"])
        record(
            DESTRUCTION_CHANGED,
            SYSTEM,
            subject=f"legacy:{registration.pk}",
            details={"registration": registration.pk, "order": str(order.pk), "state": state},
        )


@dataclass(frozen=True)
class SupplierLine:
    """One supplier's line on the board's page."""

    supplier: Supplier
    records: int
    converted: int
    confirmed: int
    outstanding: int
    overdue: int
    registrations: list[LegacyRegistration]


OUTSTANDING = (LegacyState.ORDERED, LegacyState.NOTHING_CONVERTED, LegacyState.OVERDUE)


def overview(board_ids: list[int]) -> list[SupplierLine]:
    """Per supplier: records registered, converted, registrations whose destruction is
    confirmed, outstanding (ordered, overdue or waiting for a statement)."""
    found = (
        LegacyRegistration.objects.filter(board_id__in=board_ids)
        .select_related("supplier", "school", "order")
        .prefetch_related("order__receipts")
        .order_by("supplier__name", "-created_at")
    )
    by_supplier: dict[int, list[LegacyRegistration]] = {}
    for registration in found:
        by_supplier.setdefault(registration.supplier_id, []).append(registration)
    lines = []
    for items in by_supplier.values():
        lines.append(
            SupplierLine(
                supplier=items[0].supplier,
                records=sum(item.records for item in items),
                converted=sum(item.converted for item in items),
                confirmed=sum(1 for item in items if item.state == LegacyState.CONFIRMED),
                outstanding=sum(1 for item in items if item.state in OUTSTANDING),
                overdue=sum(1 for item in items if item.state == LegacyState.OVERDUE),
                registrations=items,
            )
        )
    return lines


def statement(registration: LegacyRegistration) -> str:
    """The supplier's statement (or refusal reason) from the order's latest receipt."""
    if registration.order is None:
        return ""
    receipts = sorted(registration.order.receipts.all(), key=lambda item: item.issued_at)
    return receipts[-1].statement if receipts else ""
