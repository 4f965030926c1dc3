"""The audit log as a board's privacy officer reads it: the events about the board's own records,
filtered by pupil, supplier, event type and period, each with a label a person can read.

What belongs to a board is read from an event's subject (``<kind>:<id>``, see
:mod:`regie.audit.services`): its pupils, staff, schools, licences, agreements, imports and the
board itself, and a product's DPIA screening for the board. An event that names no record of the
board (the shared catalogue, the number service, a supplier's roster requests across boards) is
not shown: nothing of another board ever is.

Names are shown only for pupils the viewer may see (``roster.visible_students``: inside their
school, or the board for a board admin); every other pupil is a neutral label. No identifier
(PGN, HPgn, ECK iD, pseudonym) is read here: events hold none, and a pupil is filtered by the
hub's internal id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import CharField, Model, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from regie.audit.events import REGISTRY
from regie.audit.models import AuditEvent
from regie.core.models import Board, School
from regie.roster import services as roster
from regie.roster.models import ImportRun, Staff, Student

from .models import Licence, ProcessingAgreement, Product, Supplier
from .services.common import User


def _refs(kind: str, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """The subject references (``kind:<pk>``) of ``queryset``, as a subquery."""
    refs: QuerySet[Any] = queryset.annotate(
        audit_ref=Concat(Value(f"{kind}:"), Cast("pk", output_field=CharField()))
    ).values("audit_ref")
    return refs


def board_events(boards: QuerySet[Board]) -> QuerySet[AuditEvent]:
    """Every event about a record of ``boards``, newest first."""
    board_ids = list(boards.values_list("pk", flat=True))
    schools = School.objects.filter(board_id__in=board_ids)
    imports = ImportRun.objects.filter(board_id__in=board_ids).values_list("pk", flat=True)
    about_board = (
        Q(subject__in=_refs("student", Student.objects.filter(school__in=schools)))
        | Q(subject__in=_refs("staff", Staff.objects.filter(board_id__in=board_ids)))
        | Q(subject__in=_refs("school", schools))
        | Q(subject__in=[f"board:{pk}" for pk in board_ids])
        | Q(subject__in=_refs("licence", Licence.objects.filter(school__in=schools)))
        | Q(
            subject__in=_refs(
                "agreement", ProcessingAgreement.objects.filter(board_id__in=board_ids)
            )
        )
        | Q(subject__in=[f"import:{pk}" for pk in imports])
        | Q(subject__startswith="product:", details__board__in=board_ids)
    )
    return AuditEvent.objects.filter(about_board).order_by("-occurred_at", "-pk")


def about_supplier(supplier: Supplier) -> Q:
    """The events about ``supplier``: its own records, its products and what it received."""
    products = Product.objects.filter(supplier=supplier)
    product_ids = list(products.values_list("pk", flat=True))
    return (
        Q(details__supplier=supplier.pk)
        | Q(details__product__in=product_ids)
        | Q(subject=f"supplier:{supplier.pk}")
        | Q(subject__in=_refs("product", products))
        | Q(subject__in=_refs("agreement", ProcessingAgreement.objects.filter(supplier=supplier)))
        | Q(subject__in=_refs("licence", Licence.objects.filter(product__supplier=supplier)))
    )


@dataclass(frozen=True)
class Filters:
    """What the privacy officer asked for; ``None`` or empty means any."""

    student: Student | None = None
    supplier: Supplier | None = None
    event_type: str = ""
    since: date | None = None
    until: date | None = None


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filtered(events: QuerySet[AuditEvent], filters: Filters) -> QuerySet[AuditEvent]:
    if filters.student is not None:
        events = events.filter(subject=f"student:{filters.student.pk}")
    if filters.supplier is not None:
        events = events.filter(about_supplier(filters.supplier))
    if filters.event_type:
        events = events.filter(event_type=filters.event_type)
    if filters.since is not None:
        events = events.filter(occurred_at__gte=_start_of(filters.since))
    if filters.until is not None:
        events = events.filter(occurred_at__lt=_start_of(filters.until + timedelta(days=1)))
    return events


def event_types() -> list[str]:
    return sorted(REGISTRY)


def find_students(user: User, query: str) -> QuerySet[Student]:
    """The pupils ``user`` may see whose name or LAS key matches every word of ``query``."""
    students = roster.visible_students(user)
    for word in query.split():
        students = students.filter(
            Q(roepnaam__icontains=word)
            | Q(voornamen__icontains=word)
            | Q(achternaam__icontains=word)
            | Q(las_key__iexact=word)
        )
    return students.select_related("school").order_by("achternaam", "voornamen", "pk")


@dataclass(frozen=True)
class Row:
    """One event as the page shows it."""

    event_id: int  # for its proof (transparency:bundle)
    occurred_at: datetime
    event_type: str
    actor: str
    subject: str
    subject_url_id: int | None  # a pupil the viewer may open
    supplier: str


def _ids(refs: Iterable[str], kind: str) -> set[int]:
    prefix = f"{kind}:"
    return {
        int(ref[len(prefix) :])
        for ref in refs
        if ref.startswith(prefix) and ref[len(prefix) :].isdigit()
    }


def _names(model: type[Model], ids: set[int]) -> dict[int, str]:
    return {item.pk: str(item) for item in model._default_manager.filter(pk__in=ids)} if ids else {}


def rows(user: User, events: Sequence[AuditEvent]) -> list[Row]:
    """Readable rows for ``events``: pupil names only for pupils ``user`` may see."""
    subjects = [event.subject for event in events]
    visible = {
        student.pk: str(student)
        for student in roster.visible_students(user).filter(pk__in=_ids(subjects, "student"))
    }
    agreements = _names(ProcessingAgreement, _ids(subjects, "agreement"))
    schools = _names(School, _ids(subjects, "school"))
    boards = _names(Board, _ids(subjects, "board"))
    products = _names(Product, _ids(subjects, "product"))
    licences = {
        licence.pk: licence.product.name
        for licence in Licence.objects.filter(pk__in=_ids(subjects, "licence")).select_related(
            "product"
        )
    }
    supplier_ids = {
        event.details["supplier"]
        for event in events
        if isinstance(event.details.get("supplier"), int)
    }
    suppliers = _names(Supplier, supplier_ids)
    result = []
    for event in events:
        kind, _sep, raw_id = event.subject.partition(":")
        pk = int(raw_id) if raw_id.isdigit() else None
        url_id = pk if kind == "student" and pk in visible else None
        supplier = event.details.get("supplier")
        result.append(
            Row(
                event_id=event.pk,
                occurred_at=event.occurred_at,
                event_type=event.event_type,
                actor=_actor_label(event.actor),
                subject=_subject_label(
                    kind,
                    pk,
                    {
                        "student": visible,
                        "agreement": agreements,
                        "school": schools,
                        "board": boards,
                        "product": products,
                        "licence": licences,
                    },
                ),
                subject_url_id=url_id,
                supplier=suppliers.get(supplier, "") if isinstance(supplier, int) else "",
            )
        )
    return result


def _actor_label(actor: str) -> str:
    kind = actor.partition(":")[0]
    return {
        "system": _("het systeem"),
        "anonymous": _("niet ingelogd"),
        "user": _("een gebruiker"),
        "client": _("een leverancier"),
        "nv-client": _("de nummervoorziening"),
    }.get(kind, _("onbekend"))


def _subject_label(kind: str, pk: int | None, names: dict[str, dict[int, str]]) -> str:
    neutral = {
        "student": _("een leerling"),
        "staff": _("een medewerker"),
        "agreement": _("verwerkersovereenkomst"),
        "school": _("school"),
        "board": _("schoolbestuur"),
        "product": _("product"),
        "licence": _("licentie"),
        "import": _("import"),
    }
    label = neutral.get(kind, "")
    name = names.get(kind, {}).get(pk, "") if pk is not None else ""
    if kind == "student":
        return name or label
    if kind == "licence" and name:
        return _("licentie voor %(product)s") % {"product": name}
    return f"{label}: {name}" if name else label
