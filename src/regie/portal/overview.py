"""What a guardian (or a pupil of 16+) is shown about one child, in one place: the page, its
printable version and the download are three renderings of :func:`overview`.

- **What the school holds**: the data categories (``regie.core.datacategories``) of the fields of
  the hub's records about the child that hold something — the pupil record, the guardians, the
  groups, the results suppliers sent, the consents, the supplier pseudonyms. Never a value.
- **What went where**: the child's release events in the audit log (``gateway.release`` with
  subject ``student:<id>``), grouped per supplier and product, with channel, attribute labels and
  time; each has a proof (:func:`regie.transparency.services.bundle`), served by the portal only
  for an event of this child (:func:`release_event`). With them the newest co-signed checkpoint.
- **Under which agreement**: per supplier and product the agreement in force, its schedule's
  processings (purpose, data, retention in words) and subprocessors with their countries.
- **What goes now**: the release policy's answer per licensed product
  (:func:`regie.gateway.pupils.releases_for`).
- **Who at school sees it**: the roles of ``regie.roster.access``'s rules
  (:func:`regie.roster.services.pupil_viewers`).
- **Who read sensitive data**: per read of the child's sensitive records (``roster.sensitive.read``
  events in the audit log) the day, the category and the reader's role — never their name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from regie.agreements import catalogue
from regie.agreements import services as register
from regie.agreements.models import Consent, ProcessingAgreement, Product, Supplier
from regie.audit.models import AuditEvent
from regie.core import datacategories as dc
from regie.gateway import pupils
from regie.gateway.models import Result, SupplierPseudonym
from regie.roster import services as roster
from regie.roster.events import SENSITIVE_READ
from regie.roster.models import Guardian, SensitiveRecord, StaffRole, Student
from regie.transparency import services as transparency
from regie.transparency.models import Checkpoint

from .services import release_events

# The channel a release event names, in words (``gateway.claims`` and the OneRoster binding).
CHANNEL_NAMES: Mapping[str, Promise] = {
    "id_token": _("Inloggen (single sign-on)"),
    "userinfo": _("Inloggen (single sign-on)"),
    "introspection": _("Inloggen (single sign-on)"),
    "oneroster": _("Roostergegevens (OneRoster)"),
}

REACH: Mapping[str, Promise] = {
    "groups": _("de leerlingen van de groepen die zij lesgeven"),
    "school": _("alle leerlingen van de school"),
    "board": _("alle leerlingen van alle scholen van het bestuur"),
}


def category_label(category: dc.DataCategory) -> str:
    return category.label_en if (get_language() or "").startswith("en") else category.label_nl


def attribute_label(key: str) -> str:
    item = catalogue.CATALOGUE.get(key)
    return str(item.label) if item is not None else key


# --- What the school holds --------------------------------------------------------------------


@dataclass(frozen=True)
class HeldCategory:
    key: str
    label: str
    sensitive: bool
    where: list[str]  # the kinds of record it is in (verbose names)


def _filled(row: models.Model, name: str) -> bool:
    field_ = row._meta.get_field(name)
    if field_.many_to_many:
        return bool(getattr(row, name).exists())
    value = getattr(row, getattr(field_, "attname", name))
    return value not in (None, "", [], {})


def _sources(student: Student) -> list[tuple[type[models.Model], QuerySet[Any]]]:
    return [
        (Student, Student.objects.filter(pk=student.pk)),
        (Guardian, Guardian.objects.filter(students=student, is_active=True)),
        (Result, Result.objects.filter(student=student)),
        (Consent, Consent.objects.filter(student=student)),
        (SupplierPseudonym, SupplierPseudonym.objects.filter(student=student)),
        (SensitiveRecord, SensitiveRecord.objects.filter(student=student)),
    ]


def held_categories(student: Student) -> list[HeldCategory]:
    """The data categories the hub holds something of about the child, in taxonomy order."""
    found: dict[str, list[str]] = {}
    for model, rows in _sources(student):
        mapping: Mapping[str, dc.DataCategory | dc.NotPersonal] = model.DATA_CATEGORIES  # type: ignore[attr-defined]
        where = str(model._meta.verbose_name_plural)
        for row in rows:
            if isinstance(row, SensitiveRecord):  # the row's own category, not its fields'
                places = found.setdefault(row.category, [])
                if where not in places:
                    places.append(where)
                continue
            for name, category in mapping.items():
                if isinstance(category, dc.DataCategory) and _filled(row, name):
                    places = found.setdefault(category.key, [])
                    if where not in places:
                        places.append(where)
    order = list(dc.TAXONOMY)
    return [
        HeldCategory(key, category_label(dc.TAXONOMY[key]), dc.TAXONOMY[key].sensitive, where)
        for key, where in sorted(found.items(), key=lambda item: order.index(item[0]))
    ]


# --- What went where ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseLine:
    event_id: int
    at: datetime
    channel: str
    attributes: list[str]  # labels


@dataclass
class ReleaseGroup:
    supplier: str
    product: str
    lines: list[ReleaseLine] = field(default_factory=list)


def release_event(student: Student, event_id: int) -> AuditEvent | None:
    """One release event of this child, or None (another child's event, or no release)."""
    return release_events(student).filter(pk=event_id).first()


def _names(model: type[models.Model], ids: Iterable[int]) -> dict[int, str]:
    return {
        pk: name
        for pk, name in model._default_manager.filter(pk__in=set(ids)).values_list("pk", "name")
    }


def release_groups(student: Student) -> list[ReleaseGroup]:
    """The release events, grouped per supplier and product (suppliers by name)."""
    events = list(release_events(student))
    suppliers = _names(
        Supplier, (e.details.get("supplier") for e in events if e.details.get("supplier"))
    )
    products = _names(
        Product, (e.details.get("product") for e in events if e.details.get("product"))
    )
    groups: dict[tuple[str, str], ReleaseGroup] = {}
    unknown = str(_("onbekend"))
    for event in events:
        details = event.details or {}
        supplier = suppliers.get(details.get("supplier") or 0, unknown)
        product = products.get(details.get("product") or 0, "—")
        group = groups.setdefault((supplier, product), ReleaseGroup(supplier, product))
        channel = details.get("channel", "")
        group.lines.append(
            ReleaseLine(
                event.pk,
                event.occurred_at,
                str(CHANNEL_NAMES.get(channel, channel)),
                [attribute_label(key) for key in details.get("attributes", [])],
            )
        )
    return sorted(groups.values(), key=lambda group: (group.supplier, group.product))


@dataclass(frozen=True)
class CheckpointInfo:
    size: int
    at: datetime
    witnesses: list[str]  # the witnesses' key names


def checkpoint_info() -> CheckpointInfo | None:
    """The newest checkpoint the hub signed, with the witnesses that cosigned it."""
    checkpoint: Checkpoint | None = transparency.latest()
    if checkpoint is None:
        return None
    cosignatures = checkpoint.cosignatures.select_related("witness").order_by("pk")
    return CheckpointInfo(
        checkpoint.size,
        checkpoint.created_at,
        [item.witness.vkey.split("+", 1)[0] for item in cosignatures],
    )


# --- Who read sensitive data -------------------------------------------------------------------


@dataclass(frozen=True)
class SensitiveReadLine:
    day: date
    category: str
    role: str


def _reader_role(details: Mapping[str, Any]) -> str:
    role = str(details.get("role", ""))
    label = str(StaffRole(role).label) if role in StaffRole.values else gettext("medewerker")
    if details.get("designated"):
        return gettext("%(role)s, aangewezen door het bestuur") % {"role": label}
    return label


def sensitive_reads(student: Student) -> list[SensitiveReadLine]:
    """The reads of the child's sensitive records, newest first: one line per day, category and
    role (a page showing three records is one line per category)."""
    events = AuditEvent.objects.filter(
        subject=f"student:{student.pk}", event_type=SENSITIVE_READ.name
    ).order_by("-occurred_at", "-pk")
    lines: list[SensitiveReadLine] = []
    for occurred_at, details in events.values_list("occurred_at", "details"):
        key = str((details or {}).get("category", ""))
        category = category_label(dc.TAXONOMY[key]) if key in dc.TAXONOMY else str(_("onbekend"))
        line = SensitiveReadLine(
            timezone.localdate(occurred_at), category, _reader_role(details or {})
        )
        if line not in lines:
            lines.append(line)
    return lines


# --- Under which agreement ---------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessingLine:
    purpose: str
    attributes: list[str]
    retention: str


@dataclass(frozen=True)
class SubprocessorLine:
    name: str
    country: str
    in_eea: bool


@dataclass(frozen=True)
class AgreementLine:
    supplier: str
    product: str
    agreement: str
    status: str
    processings: list[ProcessingLine]
    subprocessors: list[SubprocessorLine]


def _agreement_line(board_id: int, product: Product) -> AgreementLine | None:
    agreement: ProcessingAgreement | None = register.current_agreement(board_id, product)
    if agreement is None:
        return None
    schedule = agreement.schedules.get(product=product)
    return AgreementLine(
        product.supplier.name,
        product.name,
        agreement.title,
        agreement.get_status_display(),
        [
            ProcessingLine(p.purpose, p.attribute_labels(), p.retention_in_words())
            for p in schedule.processings.all()
        ],
        [
            SubprocessorLine(s.name, s.location, s.location.upper() in register.EEA)
            for s in schedule.subprocessors.all()
        ],
    )


def agreements_for(student: Student, products: Iterable[Product]) -> list[AgreementLine]:
    lines = [_agreement_line(student.school.board_id, product) for product in products]
    return [line for line in lines if line is not None]


# --- The whole overview ------------------------------------------------------------------------


@dataclass(frozen=True)
class ViewerLine:
    role: str
    reach: str
    count: int


@dataclass
class Overview:
    student: Student
    categories: list[HeldCategory]
    releases: list[ReleaseGroup]
    checkpoint: CheckpointInfo | None
    agreements: list[AgreementLine]
    now: list[pupils.ProductRelease]
    viewers: list[ViewerLine]
    sensitive_reads: list[SensitiveReadLine] = field(default_factory=list)


def _products(student: Student, releases: list[pupils.ProductRelease]) -> list[Product]:
    """The products licensed now, then those that received data before (by their events)."""
    products = [release.product for release in releases]
    released = release_events(student).values_list("details__product", flat=True)
    ids = {pk for pk in released if isinstance(pk, int)} - {p.pk for p in products}
    products += list(Product.objects.filter(pk__in=ids).select_related("supplier").order_by("name"))
    return products


def overview(student: Student) -> Overview:
    now = pupils.releases_for(student)
    return Overview(
        student=student,
        categories=held_categories(student),
        releases=release_groups(student),
        checkpoint=checkpoint_info(),
        agreements=agreements_for(student, _products(student, now)),
        now=now,
        viewers=[
            ViewerLine(str(viewer.role.label), str(REACH[viewer.reach]), viewer.count)
            for viewer in roster.pupil_viewers(student)
        ],
        sensitive_reads=sensitive_reads(student),
    )


def as_json(view: Overview) -> dict[str, Any]:
    """The overview as a machine-readable document (labels, never values)."""
    student = view.student
    return {
        "format": "regie-portal-overview/v1",
        "child": {"name": str(student), "school": student.school.name},
        "data_categories": [
            {"key": c.key, "label": c.label, "sensitive": c.sensitive, "in": c.where}
            for c in view.categories
        ],
        "releases": [
            {
                "supplier": group.supplier,
                "product": group.product,
                "events": [
                    {
                        "event": line.event_id,
                        "at": line.at.isoformat(),
                        "channel": line.channel,
                        "attributes": line.attributes,
                    }
                    for line in group.lines
                ],
            }
            for group in view.releases
        ],
        "checkpoint": None
        if view.checkpoint is None
        else {
            "size": view.checkpoint.size,
            "at": view.checkpoint.at.isoformat(),
            "witnesses": view.checkpoint.witnesses,
        },
        "agreements": [
            {
                "supplier": line.supplier,
                "product": line.product,
                "agreement": line.agreement,
                "status": str(line.status),
                "processings": [
                    {"purpose": p.purpose, "data": p.attributes, "retention": p.retention}
                    for p in line.processings
                ],
                "subprocessors": [
                    {"name": s.name, "country": s.country, "in_eea": s.in_eea}
                    for s in line.subprocessors
                ],
            }
            for line in view.agreements
        ],
        "now": [
            {
                "supplier": release.product.supplier.name,
                "product": release.product.name,
                "channels": [
                    {
                        "channel": str(item.channel.name),
                        "connected": item.connected,
                        "data": item.labels,
                    }
                    for item in release.channels
                ],
                "not_released": [
                    {"data": label, "why": str(why)} for label, why in release.refusals
                ],
            }
            for release in view.now
        ],
        "who_at_school_sees_it": [
            {"role": str(v.role), "sees": v.reach, "count": v.count} for v in view.viewers
        ],
        "sensitive_reads": [
            {"date": line.day.isoformat(), "category": line.category, "role": line.role}
            for line in view.sensitive_reads
        ],
    }
