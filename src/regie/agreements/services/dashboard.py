"""The privacy officer's dashboard: what needs doing in the register, and what goes where.

Everything here is read for the boards whose register the login keeps
(``roster.access``: privacy officers and board admins), never another board's.

How the pupils per supplier are counted: for every product with a data schedule in an active
agreement of those boards, the candidates are the active pupils a licence of this school year
covers (one query); the release policy decides for all of them at once
(:func:`.policy.decide_many`, a fixed number of queries per product, not one per pupil). A pupil
counts for a supplier when the policy releases at least one attribute about them for one of its
products, and for a data category when it releases an attribute of that category. Pupils are
counted once per supplier, however many of its products they use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise

from regie.core import datacategories as dc
from regie.roster import services as roster
from regie.roster.models import ImportStatus, Student, StudentStatus

from .. import catalogue, dpia, policy
from ..models import (
    AgreementStatus,
    DataSchedule,
    Licence,
    ProcessingAgreement,
    Product,
    Supplier,
)
from .common import User
from .obligations import dpia_states

ENDING_DAYS = 60
AWAITING_SIGNATURE = (AgreementStatus.DRAFT, AgreementStatus.OFFERED)
OPEN_IMPORTS = (ImportStatus.REFUSED, ImportStatus.PREVIEWED)


@dataclass(frozen=True)
class ConsentRelease:
    """A consent-gated attribute of a product's schedule, and the licensed pupils whose consent
    is in force (``given``) or not (``missing``) at schools that switched it on."""

    product: Product
    attribute: catalogue.Attribute
    given: int
    missing: int


@dataclass(frozen=True)
class TodoLine:
    """A line another app adds to "what needs doing": its label, the page it links to (a URL with
    its filter) and how many."""

    label: str | Promise
    url: str
    count: int


TodoSource = Callable[[User], list[TodoLine]]
_todo_sources: list[TodoSource] = []


def add_todo_source(source: TodoSource) -> None:
    """Let ``source`` add lines to every dashboard (once; from an app's ``AppConfig.ready``)."""
    if source not in _todo_sources:
        _todo_sources.append(source)


def more_todo(user: User) -> list[TodoLine]:
    """The lines of the registered sources, for ``user``."""
    return [line for source in _todo_sources for line in source(user)]


@dataclass(frozen=True)
class Todo:
    ending_soon: int
    dpia_missing: int
    awaiting_destruction: int
    awaiting_signature: int
    consent_releases: list[ConsentRelease]
    imports_refused: int | None  # None: the login does not import (no import page to link to)
    imports_waiting: int | None
    more: list[TodoLine] = field(default_factory=list)  # from :func:`add_todo_source`

    @property
    def consent_missing(self) -> int:
        return sum(item.missing for item in self.consent_releases)

    @property
    def nothing(self) -> bool:
        return not (
            self.ending_soon
            or self.dpia_missing
            or self.awaiting_destruction
            or self.awaiting_signature
            or self.consent_missing
            or self.imports_refused
            or self.imports_waiting
            or any(line.count for line in self.more)
        )


@dataclass(frozen=True)
class SupplierRow:
    supplier: Supplier
    # Category key → pupils the policy releases data of that category about (0: the schedule
    # names it, but nothing goes now); a category the schedules do not name is absent.
    cells: dict[str, int]
    pupils: int


@dataclass(frozen=True)
class Matrix:
    categories: list[dc.DataCategory]  # the columns, in the taxonomy's order
    rows: list[SupplierRow]


@dataclass
class _Flow:
    """What one supplier receives, gathered product by product."""

    scheduled: set[str] = field(default_factory=set)
    pupils: set[int] = field(default_factory=set)
    by_category: dict[str, set[int]] = field(default_factory=dict)


def todo(user: User, consent_releases: list[ConsentRelease], day: date | None = None) -> Todo:
    """The counts of what needs doing; ``consent_releases`` from :func:`flows`."""
    day = day or timezone.localdate()
    agreements = ProcessingAgreement.objects.filter(
        board_id__in=roster.access_for(user).register_boards
    )
    imports = roster.visible_import_runs(user)
    may_import = roster.access_for(user).imports()
    return Todo(
        ending_soon=agreements.ending_within(day, ENDING_DAYS).count(),
        dpia_missing=len(dpia_missing(user)),
        awaiting_destruction=agreements.filter(status=AgreementStatus.TERMINATED).count(),
        awaiting_signature=agreements.filter(status__in=AWAITING_SIGNATURE).count(),
        consent_releases=consent_releases,
        imports_refused=imports.filter(status=ImportStatus.REFUSED).count() if may_import else None,
        imports_waiting=imports.filter(status=ImportStatus.PREVIEWED).count()
        if may_import
        else None,
        more=more_todo(user),
    )


@dataclass(frozen=True)
class DpiaRow:
    board_id: int
    board_name: str
    product: Product
    state: dpia.State

    @property
    def label(self) -> str:
        return str(dpia.STATE_LABELS[self.state])


def dpia_rows(user: User) -> list[DpiaRow]:
    """Every product a board of the user screened, with where the board stands with its DPIA."""
    rows = []
    boards = roster.register_boards(user).order_by("name")
    for board in boards:
        products = list(
            Product.objects.filter(dpia_screenings__board=board).select_related("supplier")
        )
        states = dpia_states(board.pk, [product.pk for product in products])
        rows += [
            DpiaRow(board.pk, board.name, product, states[product.pk])
            for product in sorted(products, key=lambda item: (item.supplier.name, item.name))
        ]
    return rows


def dpia_missing(user: User) -> list[DpiaRow]:
    return [row for row in dpia_rows(user) if row.state == dpia.State.MISSING]


def _candidates(product: Product, board_ids: Iterable[int], day: date) -> list[Student]:
    """Active pupils of these boards that a licence of ``day``'s school year for ``product``
    covers, by group or by name (the policy decides the rest)."""
    in_force = Licence.objects.in_force_on(day).filter(
        product=product, school__board_id__in=list(board_ids)
    )
    return list(
        Student.objects.filter(
            Q(groups__licences__in=in_force) | Q(licences__in=in_force),
            status=StudentStatus.ACTIVE,
        )
        .only("pk", "school_id", "status")
        .distinct()
    )


def flows(user: User, day: date | None = None) -> tuple[Matrix, list[ConsentRelease]]:
    """The supplier × data-category matrix and the consent-gated releases, from one pass of the
    release policy over the licensed pupils of each product in use."""
    day = day or timezone.localdate()
    board_ids = roster.access_for(user).register_boards
    schedules = (
        DataSchedule.objects.filter(
            agreement__in=ProcessingAgreement.objects.active_on(day).filter(board_id__in=board_ids)
        )
        .select_related("product__supplier")
        .prefetch_related("processings")
        .order_by("product__supplier__name", "product__name")
    )
    by_product: dict[int, tuple[Product, set[str]]] = {}
    for schedule in schedules:
        _product, keys = by_product.setdefault(schedule.product_id, (schedule.product, set()))
        keys.update(schedule.attributes())
    found: dict[int, _Flow] = {}
    suppliers: dict[int, Supplier] = {}
    consent: list[ConsentRelease] = []
    for product, keys in by_product.values():
        supplier = product.supplier
        suppliers[supplier.pk] = supplier
        flow = found.setdefault(supplier.pk, _Flow())
        known = [key for key in sorted(keys) if key in catalogue.CATALOGUE]
        flow.scheduled.update(catalogue.CATALOGUE[key].category.key for key in known)
        decisions = policy.decide_many(product, _candidates(product, board_ids, day), day=day)
        given = dict.fromkeys(catalogue.CONSENT_GATED & set(known), 0)
        missing = dict.fromkeys(given, 0)
        for pupil_id, decision in decisions.items():
            if decision.allowed:
                flow.pupils.add(pupil_id)
            for key in decision.allowed:
                category = catalogue.CATALOGUE[key].category.key
                flow.by_category.setdefault(category, set()).add(pupil_id)
                if key in given:
                    given[key] += 1
            for refusal in decision.refused:
                if refusal.condition == policy.Condition.NO_CONSENT:
                    missing[refusal.attribute] += 1
        consent += [
            ConsentRelease(product, catalogue.CATALOGUE[key], given[key], missing[key])
            for key in given
            if given[key] or missing[key]
        ]
    used = set().union(*(flow.scheduled for flow in found.values())) if found else set()
    categories = [category for category in dc.TAXONOMY.values() if category.key in used]
    rows = [
        SupplierRow(
            suppliers[supplier_id],
            {key: len(flow.by_category.get(key, ())) for key in flow.scheduled},
            len(flow.pupils),
        )
        for supplier_id, flow in sorted(found.items(), key=lambda item: suppliers[item[0]].name)
    ]
    return Matrix(categories, rows), consent
