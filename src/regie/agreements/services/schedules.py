"""Data schedules (privacybijsluiters): processings and subprocessors, validated; and which
suppliers of a board receive the ECK iD (:func:`eck_id_recipients`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import User as AuthUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from regie.audit.services import actor_for, record

from .. import catalogue, events
from ..catalogue import Subject
from ..models import (
    DataSchedule,
    Processing,
    ProcessingAgreement,
    Product,
    RetentionTrigger,
    RetentionUnit,
    Subprocessor,
    TransferMechanism,
)
from .agreements import require_editable
from .common import Refused, apply_changes, full_clean_or_refuse

EEA = frozenset(
    (
        *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
        *("IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
        *("IS", "LI", "NO"),
    )
)


# The ECK iD is the same number at every supplier that receives it (DESIGN §4): unlike the
# supplier pseudonym, it lets those suppliers link a pupil's data between them.
ECK_ID = "eck_id"


@dataclass(frozen=True)
class EckIdRecipient:
    """A supplier that receives the ECK iD of a board's pupils, and for which products."""

    supplier_id: int
    supplier: str
    products: tuple[str, ...]


def eck_id_recipients(
    board_id: int, *, excluding_supplier_id: int | None = None, day: date | None = None
) -> list[EckIdRecipient]:
    """The suppliers (but ``excluding_supplier_id``) whose data schedule under an active agreement
    of the board names the ECK iD on ``day`` (today), by name, with those products."""
    active = ProcessingAgreement.objects.active_on(day or timezone.localdate())
    schedules = DataSchedule.objects.filter(agreement__in=active.filter(board_id=board_id))
    if excluding_supplier_id is not None:
        schedules = schedules.exclude(agreement__supplier_id=excluding_supplier_id)
    schedules = schedules.select_related("product", "agreement__supplier").prefetch_related(
        "processings"
    )
    products: dict[int, tuple[str, set[str]]] = {}
    for schedule in schedules:
        if ECK_ID in schedule.attributes():
            supplier = schedule.agreement.supplier
            products.setdefault(supplier.pk, (supplier.name, set()))[1].add(schedule.product.name)
    return sorted(
        (EckIdRecipient(pk, name, tuple(sorted(names))) for pk, (name, names) in products.items()),
        key=lambda recipient: (recipient.supplier.lower(), recipient.supplier_id),
    )


# --- data schedules ------------------------------------------------------------------------------


@transaction.atomic
def save_schedule(
    agreement: ProcessingAgreement,
    product: Product,
    *,
    breach_notification_hours: int = 24,
    destruction_days: int = 90,
    user: AuthUser | None,
) -> DataSchedule:
    require_editable(agreement)
    if product.supplier_id != agreement.supplier_id:
        raise Refused(
            _("Het product is niet van de leverancier van de overeenkomst."), field="product"
        )
    schedule = DataSchedule.objects.filter(agreement=agreement, product=product).first()
    created = schedule is None
    schedule = schedule or DataSchedule(agreement=agreement, product=product)
    changed = apply_changes(
        schedule,
        {
            "breach_notification_hours": breach_notification_hours,
            "destruction_days": destruction_days,
        },
    )
    full_clean_or_refuse(schedule, exclude=("agreement", "product"))
    if created or changed:
        schedule.save()
        record(
            events.AGREEMENT_CHANGED,
            actor_for(user),
            f"agreement:{agreement.pk}",
            {"schedule": schedule.pk, "product": product.pk, "fields": sorted(changed)},
        )
    return schedule


def validate_processing(
    purpose: str,
    subjects: Iterable[str],
    attributes: Iterable[str],
    retention_period: int,
    retention_unit: str,
    retention_trigger: str,
) -> None:
    if not purpose.strip():
        raise Refused(_("Een verwerking noemt haar doel."), field="purpose")
    subjects = list(subjects)
    unknown_subjects = [item for item in subjects if item not in Subject.values]
    if not subjects or unknown_subjects:
        raise Refused(
            _("De betrokkenen zijn een of meer van: %(choices)s."),
            field="subjects",
            choices=", ".join(Subject.values),
        )
    attributes = list(attributes)
    unknown = [key for key in attributes if key not in catalogue.CATALOGUE]
    if unknown:
        raise Refused(
            _("Onbekende gegevens (niet in de catalogus): %(attributes)s."),
            field="attributes",
            attributes=", ".join(sorted(key[:40] for key in unknown)),
        )
    if not attributes:
        raise Refused(_("Een verwerking noemt ten minste één gegeven."), field="attributes")
    if not isinstance(retention_period, int) or isinstance(retention_period, bool):
        raise Refused(_("De bewaartermijn is een heel getal."), field="retention_period")
    if retention_period < 0:
        raise Refused(_("De bewaartermijn kan niet negatief zijn."), field="retention_period")
    if retention_unit not in RetentionUnit.values:
        raise Refused(
            _("De eenheid van de bewaartermijn is een van: %(choices)s."),
            field="retention_unit",
            choices=", ".join(RetentionUnit.values),
        )
    if retention_trigger not in RetentionTrigger.values:
        raise Refused(
            _("Het begin van de bewaartermijn is een van: %(choices)s."),
            field="retention_trigger",
            choices=", ".join(RetentionTrigger.values),
        )


@transaction.atomic
def add_processing(
    schedule: DataSchedule,
    *,
    purpose: str,
    subjects: Iterable[str],
    attributes: Iterable[str],
    retention_period: int,
    retention_unit: str,
    retention_trigger: str,
    sources: str = "",
    user: AuthUser | None,
) -> Processing:
    require_editable(schedule.agreement)
    subjects, attributes = list(dict.fromkeys(subjects)), list(dict.fromkeys(attributes))
    validate_processing(
        purpose, subjects, attributes, retention_period, retention_unit, retention_trigger
    )
    processing = Processing.objects.create(
        schedule=schedule,
        purpose=purpose.strip(),
        subjects=subjects,
        attributes=attributes,
        sources=sources.strip(),
        retention_period=retention_period,
        retention_unit=retention_unit,
        retention_trigger=retention_trigger,
    )
    record(
        events.AGREEMENT_CHANGED,
        actor_for(user),
        f"agreement:{schedule.agreement_id}",
        {"schedule": schedule.pk, "processing_added": processing.pk, "attributes": attributes},
    )
    return processing


@transaction.atomic
def remove_processing(processing: Processing, *, user: AuthUser | None) -> None:
    agreement = processing.schedule.agreement
    require_editable(agreement)
    record(
        events.AGREEMENT_CHANGED,
        actor_for(user),
        f"agreement:{agreement.pk}",
        {"schedule": processing.schedule_id, "processing_removed": processing.pk},
    )
    processing.delete()


def validate_subprocessor(name: str, kvk: str, location: str, transfer_mechanism: str) -> None:
    if not name.strip():
        raise Refused(_("Een subverwerker heeft een naam."), field="name")
    if kvk and not (len(kvk) == 8 and kvk.isdigit()):
        raise Refused(_("Een KvK-nummer heeft 8 cijfers."), field="kvk")
    if not (len(location) == 2 and location.isalpha() and location.isupper()):
        raise Refused(
            _("De vestiging is een landcode van twee letters (NL, IE, US)."), field="location"
        )
    if transfer_mechanism not in TransferMechanism.values:
        raise Refused(
            _("De doorgiftegrondslag is een van: %(choices)s."),
            field="transfer_mechanism",
            choices=", ".join(TransferMechanism.values),
        )
    if location not in EEA and transfer_mechanism == TransferMechanism.NONE:
        raise Refused(
            _("%(location)s ligt buiten de EER: noem de doorgiftegrondslag."),
            field="transfer_mechanism",
            location=location,
        )


@transaction.atomic
def add_subprocessor(
    schedule: DataSchedule,
    *,
    name: str,
    kvk: str = "",
    location: str,
    transfer_mechanism: str = TransferMechanism.NONE,
    user: AuthUser | None,
) -> Subprocessor:
    require_editable(schedule.agreement)
    location = location.strip().upper()
    validate_subprocessor(name, kvk, location, transfer_mechanism)
    subprocessor = Subprocessor.objects.create(
        schedule=schedule,
        name=name.strip(),
        kvk=kvk,
        location=location,
        transfer_mechanism=transfer_mechanism,
    )
    record(
        events.AGREEMENT_CHANGED,
        actor_for(user),
        f"agreement:{schedule.agreement_id}",
        {"schedule": schedule.pk, "subprocessor_added": subprocessor.pk},
    )
    return subprocessor
