"""The register's front door: suppliers, agreements and their lifecycle, schedules, licences,
switches, consent, DPIA screenings and council decisions — validated, audited, or refused.

Every change is a function here that checks the rules, writes in one transaction and records an
audit event; a change that breaks a rule raises :class:`Refused` with the reason and changes
nothing. Who may change what is decided by :func:`access_for` (views check it before calling):

- board-level records (agreements, DPIA screenings, council decisions) are edited by the board's
  privacy officers and board admins;
- school-level decisions (licences, switches, consent) also by the school's own admins;
- teachers and care coordinators see nothing of the register; other boards see nothing at all.

Suppliers and products are a catalogue shared by the hub's boards: any editor may add them; the
agreements, licences and decisions about them are the board's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from regie.audit.services import record
from regie.core.models import Board, School, SchoolYear
from regie.roster.models import Group, Guardian, Staff, StaffRole, Student

from . import catalogue, dpia, events
from .models import (
    AgreementStatus,
    Consent,
    ConsentGivenBy,
    CouncilDecision,
    DataSchedule,
    Deviation,
    DpiaScreening,
    Licence,
    Processing,
    ProcessingAgreement,
    Product,
    RetentionTrigger,
    RetentionUnit,
    SchoolSwitch,
    Subprocessor,
    Supplier,
    TransferMechanism,
)
from .policy import active_agreement

User = AuthUser | AnonymousUser

BOARD_EDITOR_ROLES = {StaffRole.PRIVACY_OFFICER, StaffRole.BOARD_ADMIN}
SCHOOL_EDITOR_ROLES = {StaffRole.PRIVACY_OFFICER, StaffRole.SCHOOL_ADMIN, StaffRole.BOARD_ADMIN}
AGE_OF_OWN_CONSENT = 16
EEA = frozenset(
    (
        *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
        *("IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
        *("IS", "LI", "NO"),
    )
)


class Refused(Exception):
    """A change that breaks a rule of the register. ``reason`` says which; nothing was changed."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


# --- who may see and change what -----------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    boards: frozenset[int]  # board-level editors
    schools: frozenset[int]  # school-level editors (includes every school of ``boards``)

    @property
    def any(self) -> bool:
        return bool(self.boards or self.schools)


def access_for(user: User) -> Access:
    if not user.is_authenticated:
        return Access(frozenset(), frozenset())
    if user.is_superuser:
        return Access(
            frozenset(Board.objects.values_list("pk", flat=True)),
            frozenset(School.objects.values_list("pk", flat=True)),
        )
    boards: set[int] = set()
    schools: set[int] = set()
    memberships = Staff.objects.filter(user=user, is_active=True).values_list(
        "board_id", "school_id", "roles"
    )
    for board_id, school_id, roles in memberships:
        if BOARD_EDITOR_ROLES & set(roles):
            boards.add(board_id)
        if school_id is not None and SCHOOL_EDITOR_ROLES & set(roles):
            schools.add(school_id)
    schools.update(School.objects.filter(board_id__in=boards).values_list("pk", flat=True))
    return Access(frozenset(boards), frozenset(schools))


def editable_boards(user: User) -> QuerySet[Board]:
    return Board.objects.filter(pk__in=access_for(user).boards)


def editable_schools(user: User) -> QuerySet[School]:
    return School.objects.filter(pk__in=access_for(user).schools).select_related("board")


def visible_agreements(user: User) -> QuerySet[ProcessingAgreement]:
    """The agreements of the boards the user edits for (offers are in :func:`offers`)."""
    return ProcessingAgreement.objects.filter(board_id__in=access_for(user).boards).select_related(
        "supplier", "board"
    )


def offers() -> QuerySet[ProcessingAgreement]:
    return ProcessingAgreement.objects.offers().select_related("supplier")


def visible_licences(user: User) -> QuerySet[Licence]:
    return Licence.objects.filter(school_id__in=access_for(user).schools).select_related(
        "product__supplier", "school", "school_year", "group"
    )


def _actor(user: AuthUser | None) -> str:
    return "system" if user is None else f"user:{user.pk}"


def _changed(instance: models.Model, values: Mapping[str, Any]) -> list[str]:
    changed = []
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def _full_clean(instance: models.Model, exclude: Sequence[str] = ()) -> None:
    from django.core.exceptions import ValidationError

    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise Refused(f"{field}: {' '.join(messages)}", field=field) from None


# --- suppliers and products ----------------------------------------------------------------------


SUPPLIER_FIELDS = (
    "name",
    "kvk",
    "website",
    "contact_name",
    "contact_email",
    "convenant_status",
    "certifications",
)
PRODUCT_FIELDS = ("name", "url", "sector", "users", "description")


@transaction.atomic
def save_supplier(
    values: Mapping[str, Any], *, supplier: Supplier | None = None, user: AuthUser | None
) -> Supplier:
    unknown = set(values) - set(SUPPLIER_FIELDS)
    if unknown:
        raise Refused(f"unknown supplier fields: {', '.join(sorted(unknown))}")
    created = supplier is None
    supplier = supplier or Supplier()
    changed = _changed(supplier, values)
    _full_clean(supplier)
    if created or changed:
        supplier.save()
        record(
            events.SUPPLIER_SAVED,
            _actor(user),
            f"supplier:{supplier.pk}",
            {"created": created, "fields": sorted(changed)},
        )
    return supplier


@transaction.atomic
def save_product(
    supplier: Supplier,
    values: Mapping[str, Any],
    *,
    product: Product | None = None,
    user: AuthUser | None,
) -> Product:
    unknown = set(values) - set(PRODUCT_FIELDS)
    if unknown:
        raise Refused(f"unknown product fields: {', '.join(sorted(unknown))}")
    created = product is None
    product = product or Product(supplier=supplier)
    changed = _changed(product, values)
    _full_clean(product)
    if created or changed:
        product.save()
        record(
            events.PRODUCT_SAVED,
            _actor(user),
            f"product:{product.pk}",
            {"created": created, "fields": sorted(changed)},
        )
    return product


# --- agreements ----------------------------------------------------------------------------------


AGREEMENT_FIELDS = (
    "title",
    "model",
    "version",
    "board_signatory",
    "board_signatory_role",
    "board_signed_on",
    "supplier_signatory",
    "supplier_signatory_role",
    "supplier_signed_on",
    "start_date",
    "end_date",
)


@transaction.atomic
def create_agreement(
    board: Board | None,
    supplier: Supplier,
    values: Mapping[str, Any],
    *,
    user: AuthUser | None,
    status: str = AgreementStatus.DRAFT,
    how: str = "form",
) -> ProcessingAgreement:
    """A new agreement in ``draft`` (or an offer, ``board`` None, in ``offered``)."""
    unknown = set(values) - set(AGREEMENT_FIELDS)
    if unknown:
        raise Refused(f"unknown agreement fields: {', '.join(sorted(unknown))}")
    if board is None:
        status = AgreementStatus.OFFERED
    elif status not in {AgreementStatus.DRAFT, AgreementStatus.OFFERED}:
        raise Refused("a new agreement starts as draft or offered; sign and activate it next")
    agreement = ProcessingAgreement(board=board, supplier=supplier, status=status)
    _changed(agreement, values)
    _full_clean(agreement)
    _check_dates(agreement)
    agreement.save()
    record(
        events.AGREEMENT_CREATED,
        _actor(user),
        f"agreement:{agreement.pk}",
        {"board": board.pk if board else None, "supplier": supplier.pk, "how": how},
    )
    return agreement


def _check_dates(agreement: ProcessingAgreement) -> None:
    if agreement.start_date and agreement.end_date and agreement.end_date < agreement.start_date:
        raise Refused("the end date lies before the start date", field="end_date")


def _require_editable(agreement: ProcessingAgreement) -> None:
    if not agreement.is_editable:
        raise Refused(
            f"the agreement is {agreement.status}: only a draft or offered agreement can be "
            "changed (make a new version instead)"
        )


# Signatures and dates may still be filled in on a signed agreement (before activation).
SIGNATURE_FIELDS = frozenset(
    {
        "board_signatory",
        "board_signatory_role",
        "board_signed_on",
        "supplier_signatory",
        "supplier_signatory_role",
        "supplier_signed_on",
        "start_date",
        "end_date",
    }
)


@transaction.atomic
def update_agreement(
    agreement: ProcessingAgreement, values: Mapping[str, Any], *, user: AuthUser | None
) -> list[str]:
    unknown = set(values) - set(AGREEMENT_FIELDS)
    if unknown:
        raise Refused(f"unknown agreement fields: {', '.join(sorted(unknown))}")
    agreement = ProcessingAgreement.objects.select_for_update().get(pk=agreement.pk)
    changing = {name for name, value in values.items() if getattr(agreement, name) != value}
    if agreement.status == AgreementStatus.SIGNED and changing <= SIGNATURE_FIELDS:
        pass
    elif changing:
        _require_editable(agreement)
    changed = _changed(agreement, values)
    _full_clean(agreement)
    _check_dates(agreement)
    if changed:
        agreement.save()
        record(
            events.AGREEMENT_CHANGED,
            _actor(user),
            f"agreement:{agreement.pk}",
            {"fields": sorted(changed)},
        )
    return changed


@transaction.atomic
def add_deviation(
    agreement: ProcessingAgreement, clause: str, text: str, reason: str, *, user: AuthUser | None
) -> Deviation:
    _require_editable(agreement)
    if not clause.strip() or not text.strip():
        raise Refused("a deviation names the clause and what deviates", field="text")
    if not reason.strip():
        raise Refused("a deviation from the model needs a reason", field="reason")
    deviation = Deviation.objects.create(
        agreement=agreement, clause=clause.strip(), text=text.strip(), reason=reason.strip()
    )
    record(
        events.AGREEMENT_CHANGED,
        _actor(user),
        f"agreement:{agreement.pk}",
        {"deviation_added": deviation.pk},
    )
    return deviation


# The lifecycle: draft → offered → signed → active → terminated → data destroyed.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    AgreementStatus.DRAFT: frozenset({AgreementStatus.OFFERED}),
    AgreementStatus.OFFERED: frozenset({AgreementStatus.DRAFT, AgreementStatus.SIGNED}),
    AgreementStatus.SIGNED: frozenset({AgreementStatus.ACTIVE, AgreementStatus.TERMINATED}),
    AgreementStatus.ACTIVE: frozenset({AgreementStatus.TERMINATED}),
    AgreementStatus.TERMINATED: frozenset({AgreementStatus.DATA_DESTROYED}),
    AgreementStatus.DATA_DESTROYED: frozenset(),
}


@transaction.atomic
def transition(
    agreement: ProcessingAgreement,
    to: str,
    *,
    user: AuthUser | None,
    on: date | None = None,
) -> ProcessingAgreement:
    """Move the agreement one step along its lifecycle, or refuse with the reason."""
    day = on or timezone.localdate()
    agreement = ProcessingAgreement.objects.select_for_update().get(pk=agreement.pk)
    before = agreement.status
    if agreement.is_offer:
        raise Refused("an offer is not signed itself: adopt it for your board first")
    if to not in TRANSITIONS.get(before, frozenset()):
        raise Refused(f"an agreement cannot go from {before} to {to}")
    if to == AgreementStatus.OFFERED and not agreement.schedules.exists():
        raise Refused("an agreement is offered with a data schedule for at least one product")
    if to in {AgreementStatus.SIGNED, AgreementStatus.ACTIVE}:
        _require_signatures(agreement)
        signed = [agreement.board_signed_on, agreement.supplier_signed_on]
        if any(when is not None and when > day for when in signed):
            raise Refused("a signature cannot be dated in the future", field="board_signed_on")
    if to == AgreementStatus.ACTIVE:
        _require_activatable(agreement, day)
    if to == AgreementStatus.TERMINATED:
        agreement.terminated_on = day
        if agreement.end_date is None or agreement.end_date > day:
            agreement.end_date = day
    if to == AgreementStatus.DATA_DESTROYED:
        if agreement.terminated_on and day < agreement.terminated_on:
            raise Refused("data cannot be destroyed before the agreement ended")
        agreement.data_destroyed_on = day
    agreement.status = to
    agreement.save()
    record(
        events.AGREEMENT_STATUS_CHANGED,
        _actor(user),
        f"agreement:{agreement.pk}",
        {"from": before, "to": to, "on": day.isoformat()},
    )
    return agreement


def _require_signatures(agreement: ProcessingAgreement) -> None:
    missing = [
        label
        for label, value in (
            ("board signatory", agreement.board_signatory),
            ("date signed by the board", agreement.board_signed_on),
            ("supplier signatory", agreement.supplier_signatory),
            ("date signed by the supplier", agreement.supplier_signed_on),
        )
        if not value
    ]
    if missing:
        raise Refused(f"not signed: missing {', '.join(missing)}", field="board_signatory")


def _require_activatable(agreement: ProcessingAgreement, day: date) -> None:
    if agreement.start_date is None:
        raise Refused("an active agreement needs a start date", field="start_date")
    if agreement.start_date > day:
        raise Refused("the agreement starts later: activate it on its start date")
    if agreement.end_date is not None and agreement.end_date < day:
        raise Refused("the agreement's end date has passed")
    if not agreement.schedules.exists():
        raise Refused("an agreement without a data schedule cannot be activated")
    other = (
        ProcessingAgreement.objects.filter(
            board=agreement.board, supplier=agreement.supplier, status=AgreementStatus.ACTIVE
        )
        .exclude(pk=agreement.pk)
        .first()
    )
    if other is not None:
        raise Refused(
            f"the board already has an active agreement with this supplier ({other.title}, "
            f"version {other.version}): terminate it first"
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
    _require_editable(agreement)
    if product.supplier_id != agreement.supplier_id:
        raise Refused("the product is not the agreement's supplier's", field="product")
    schedule = DataSchedule.objects.filter(agreement=agreement, product=product).first()
    created = schedule is None
    schedule = schedule or DataSchedule(agreement=agreement, product=product)
    changed = _changed(
        schedule,
        {
            "breach_notification_hours": breach_notification_hours,
            "destruction_days": destruction_days,
        },
    )
    _full_clean(schedule, exclude=("agreement", "product"))
    if created or changed:
        schedule.save()
        record(
            events.AGREEMENT_CHANGED,
            _actor(user),
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
    from .catalogue import Subject

    if not purpose.strip():
        raise Refused("a processing names its purpose", field="purpose")
    subjects = list(subjects)
    unknown_subjects = [item for item in subjects if item not in Subject.values]
    if not subjects or unknown_subjects:
        raise Refused(
            f"data subjects must be some of {', '.join(Subject.values)}", field="subjects"
        )
    attributes = list(attributes)
    unknown = [key for key in attributes if key not in catalogue.CATALOGUE]
    if unknown:
        raise Refused(
            f"unknown attributes (not in the catalogue): {', '.join(sorted(unknown))}",
            field="attributes",
        )
    if not attributes:
        raise Refused("a processing names at least one attribute", field="attributes")
    if not isinstance(retention_period, int) or isinstance(retention_period, bool):
        raise Refused("the retention period is a whole number", field="retention_period")
    if retention_period < 0:
        raise Refused("the retention period cannot be negative", field="retention_period")
    if retention_unit not in RetentionUnit.values:
        raise Refused(
            f"the retention unit is one of {', '.join(RetentionUnit.values)}",
            field="retention_unit",
        )
    if retention_trigger not in RetentionTrigger.values:
        raise Refused(
            f"the retention trigger is one of {', '.join(RetentionTrigger.values)}",
            field="retention_trigger",
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
    _require_editable(schedule.agreement)
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
        _actor(user),
        f"agreement:{schedule.agreement_id}",
        {"schedule": schedule.pk, "processing_added": processing.pk, "attributes": attributes},
    )
    return processing


@transaction.atomic
def remove_processing(processing: Processing, *, user: AuthUser | None) -> None:
    agreement = processing.schedule.agreement
    _require_editable(agreement)
    record(
        events.AGREEMENT_CHANGED,
        _actor(user),
        f"agreement:{agreement.pk}",
        {"schedule": processing.schedule_id, "processing_removed": processing.pk},
    )
    processing.delete()


def validate_subprocessor(name: str, kvk: str, location: str, transfer_mechanism: str) -> None:
    if not name.strip():
        raise Refused("a subprocessor has a name", field="name")
    if kvk and not (len(kvk) == 8 and kvk.isdigit()):
        raise Refused("a KvK number has 8 digits", field="kvk")
    if not (len(location) == 2 and location.isalpha() and location.isupper()):
        raise Refused("the location is a two-letter country code (NL, IE, US)", field="location")
    if transfer_mechanism not in TransferMechanism.values:
        raise Refused(
            f"the transfer mechanism is one of {', '.join(TransferMechanism.values)}",
            field="transfer_mechanism",
        )
    if location not in EEA and transfer_mechanism == TransferMechanism.NONE:
        raise Refused(
            f"{location} is outside the EEA: name the transfer mechanism",
            field="transfer_mechanism",
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
    _require_editable(schedule.agreement)
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
        _actor(user),
        f"agreement:{schedule.agreement_id}",
        {"schedule": schedule.pk, "subprocessor_added": subprocessor.pk},
    )
    return subprocessor


# --- offers and adoption -------------------------------------------------------------------------


@transaction.atomic
def adopt_offer(
    offer: ProcessingAgreement, board: Board, *, user: AuthUser | None
) -> ProcessingAgreement:
    """Copy a supplier's published offer into an agreement of ``board`` (status ``offered``)."""
    if not offer.is_offer or offer.status != AgreementStatus.OFFERED:
        raise Refused("only a supplier's published offer can be adopted")
    agreement = ProcessingAgreement.objects.create(
        board=board,
        supplier=offer.supplier,
        title=offer.title,
        model=offer.model,
        version=offer.version,
        status=AgreementStatus.OFFERED,
        adopted_from=offer,
    )
    copy_contents(offer, agreement)
    record(
        events.AGREEMENT_ADOPTED,
        _actor(user),
        f"agreement:{agreement.pk}",
        {"offer": offer.pk, "board": board.pk},
    )
    return agreement


def copy_contents(source: ProcessingAgreement, target: ProcessingAgreement) -> None:
    """Deviations, schedules, processings and subprocessors of ``source``, onto ``target``."""
    for deviation in source.deviations.all():
        Deviation.objects.create(
            agreement=target, clause=deviation.clause, text=deviation.text, reason=deviation.reason
        )
    for schedule in source.schedules.prefetch_related("processings", "subprocessors"):
        copy = DataSchedule.objects.create(
            agreement=target,
            product=schedule.product,
            breach_notification_hours=schedule.breach_notification_hours,
            destruction_days=schedule.destruction_days,
        )
        Processing.objects.bulk_create(
            Processing(
                schedule=copy,
                purpose=item.purpose,
                subjects=item.subjects,
                attributes=item.attributes,
                sources=item.sources,
                retention_period=item.retention_period,
                retention_unit=item.retention_unit,
                retention_trigger=item.retention_trigger,
            )
            for item in schedule.processings.all()
        )
        Subprocessor.objects.bulk_create(
            Subprocessor(
                schedule=copy,
                name=item.name,
                kvk=item.kvk,
                location=item.location,
                transfer_mechanism=item.transfer_mechanism,
            )
            for item in schedule.subprocessors.all()
        )


# --- licences ------------------------------------------------------------------------------------


@transaction.atomic
def grant_licence(
    product: Product,
    school: School,
    school_year: SchoolYear,
    *,
    group: Group | None = None,
    students: Iterable[Student] = (),
    user: AuthUser | None,
) -> Licence:
    """License ``product`` for a group or for named pupils of ``school`` in ``school_year``."""
    pupils = list(students)
    if (group is None) == (not pupils):
        raise Refused("a licence is for one group or for named pupils", field="group")
    if group is not None and group.school_id != school.pk:
        raise Refused("the group is not of this school", field="group")
    if any(pupil.school_id != school.pk for pupil in pupils):
        raise Refused("every pupil on a licence is of this school", field="students")
    if active_agreement(school.board_id, product, timezone.localdate()) is None:
        raise Refused(
            "the board has no active processing agreement with a data schedule for this "
            "product: activate one first",
            field="product",
        )
    existing = Licence.objects.filter(
        product=product, school=school, school_year=school_year, group=group
    ).first()
    if group is not None and existing is not None:
        raise Refused("this group already has a licence for this product this year", field="group")
    licence = Licence.objects.create(
        product=product, school=school, school_year=school_year, group=group, granted_by=user
    )
    if pupils:
        licence.students.set(pupils)
    record(
        events.LICENCE_GRANTED,
        _actor(user),
        f"licence:{licence.pk}",
        {
            "product": product.pk,
            "school": school.pk,
            "school_year": school_year.title,
            "group": group.pk if group else None,
            "pupils": len(pupils),
        },
    )
    return licence


@transaction.atomic
def revoke_licence(licence: Licence, *, user: AuthUser | None) -> None:
    record(
        events.LICENCE_REVOKED,
        _actor(user),
        f"licence:{licence.pk}",
        {"product": licence.product_id, "school": licence.school_id},
    )
    licence.delete()


# --- the school's switches -----------------------------------------------------------------------


def current_agreement(board_id: int, product: Product) -> ProcessingAgreement | None:
    """The board's most recent agreement with a schedule for the product that still runs."""
    return (
        ProcessingAgreement.objects.filter(
            board_id=board_id,
            supplier_id=product.supplier_id,
            schedules__product=product,
            status__in=[
                AgreementStatus.DRAFT,
                AgreementStatus.OFFERED,
                AgreementStatus.SIGNED,
                AgreementStatus.ACTIVE,
            ],
        )
        .order_by(
            models.Case(models.When(status=AgreementStatus.ACTIVE, then=0), default=1),
            "-created_at",
        )
        .first()
    )


def schedule_attributes(board_id: int, product: Product) -> frozenset[str]:
    agreement = current_agreement(board_id, product)
    if agreement is None:
        return frozenset()
    return agreement.schedules.get(product=product).attributes()


def switched_on(school: School, product: Product) -> frozenset[str]:
    return frozenset(
        SchoolSwitch.objects.filter(school=school, product=product).values_list(
            "attribute", flat=True
        )
    )


@transaction.atomic
def set_switch(
    school: School, product: Product, attribute: str, on: bool, *, user: AuthUser | None
) -> bool:
    """Switch one attribute on or off for the school's pupils. Returns whether anything changed."""
    if attribute not in catalogue.CATALOGUE:
        raise Refused(f"unknown attribute {attribute!r}: not in the catalogue", field="attribute")
    if attribute in catalogue.DEFAULT_ON:
        raise Refused(
            "the supplier pseudonym is the default release: "
            "it is on whenever the schedule names it",
            field="attribute",
        )
    if on and attribute not in schedule_attributes(school.board_id, product):
        raise Refused(
            f"{attribute} is not in the data schedule of the board's agreement for this product",
            field="attribute",
        )
    existing = SchoolSwitch.objects.filter(school=school, product=product, attribute=attribute)
    if on == existing.exists():
        return False
    if on:
        SchoolSwitch.objects.create(
            school=school, product=product, attribute=attribute, switched_by=user
        )
    else:
        existing.delete()
    record(
        events.SWITCH_CHANGED,
        _actor(user),
        f"school:{school.pk}",
        {"product": product.pk, "attribute": attribute, "on": on},
    )
    return True


# --- consent -------------------------------------------------------------------------------------


def decides_own_consent(student: Student, day: date | None = None) -> bool:
    """From 16 a pupil decides on consent themselves (AVG art. 8, UAVG art. 5)."""
    age = student.age_on(day or timezone.localdate())
    return age is not None and age >= AGE_OF_OWN_CONSENT


@transaction.atomic
def record_consent(
    student: Student,
    product: Product,
    attribute: str,
    given: bool,
    *,
    guardian: Guardian | None = None,
    user: AuthUser | None,
    at: datetime | None = None,
) -> Consent:
    """Record that consent was given or withdrawn: by a guardian, or by the pupil from 16."""
    if attribute not in catalogue.CATALOGUE:
        raise Refused(f"unknown attribute {attribute!r}: not in the catalogue", field="attribute")
    if attribute not in catalogue.CONSENT_GATED:
        raise Refused(
            f"{attribute} is not consent-gated: the school's switch decides", field="attribute"
        )
    moment = at or timezone.now()
    if moment > timezone.now():
        raise Refused("a consent decision cannot lie in the future", field="at")
    if decides_own_consent(student, moment.date()):
        if guardian is not None:
            raise Refused(
                "the pupil is 16 or older and decides on consent themselves", field="guardian"
            )
        given_by = ConsentGivenBy.PUPIL
    else:
        if guardian is None:
            raise Refused("a pupil under 16 needs a guardian's decision", field="guardian")
        if not guardian.students.filter(pk=student.pk).exists():
            raise Refused("this guardian is not a guardian of the pupil", field="guardian")
        given_by = ConsentGivenBy.GUARDIAN
    consent = Consent.objects.create(
        student=student,
        product=product,
        attribute=attribute,
        given=given,
        given_by=given_by,
        guardian=guardian,
        recorded_by=user,
        decided_at=moment,
    )
    record(
        events.CONSENT_RECORDED,
        _actor(user),
        f"student:{student.pk}",
        {"product": product.pk, "attribute": attribute, "given": given, "by": given_by},
    )
    return consent


def consent_history(student: Student) -> QuerySet[Consent]:
    return Consent.objects.filter(student=student).select_related("product", "guardian")


# --- DPIA screenings and the participation council -----------------------------------------------


@transaction.atomic
def screen_dpia(
    board: Board,
    product: Product,
    criteria: Iterable[str],
    *,
    notes: str = "",
    user: AuthUser | None,
    on: date | None = None,
) -> DpiaScreening:
    chosen = sorted(set(criteria))
    unknown = [key for key in chosen if key not in dpia.KEYS]
    if unknown:
        raise Refused(f"unknown DPIA criteria: {', '.join(unknown)}", field="criteria")
    screening, _ = DpiaScreening.objects.update_or_create(
        board=board,
        product=product,
        defaults={
            "criteria": chosen,
            "notes": notes.strip(),
            "screened_on": on or timezone.localdate(),
        },
    )
    record(
        events.DPIA_SCREENED,
        _actor(user),
        f"product:{product.pk}",
        {"board": board.pk, "criteria": chosen, "dpia_required": screening.dpia_required},
    )
    return screening


def screening_for(board: Board, product: Product) -> DpiaScreening | None:
    return DpiaScreening.objects.filter(board=board, product=product).first()


@transaction.atomic
def record_council_decision(
    board: Board,
    *,
    document_title: str,
    document_version: str,
    decided_on: date,
    decision: str,
    notes: str = "",
    user: AuthUser | None,
) -> CouncilDecision:
    if decision not in CouncilDecision.Decision.values:
        raise Refused(
            f"the decision is one of {', '.join(CouncilDecision.Decision.values)}",
            field="decision",
        )
    if not document_version.strip():
        raise Refused("name the version of the document the council decided on", field="version")
    if decided_on > timezone.localdate():
        raise Refused("a decision cannot lie in the future", field="decided_on")
    item = CouncilDecision.objects.create(
        board=board,
        document_title=document_title.strip() or "Privacyreglement",
        document_version=document_version.strip(),
        decided_on=decided_on,
        decision=decision,
        notes=notes.strip(),
    )
    record(
        events.COUNCIL_DECISION_RECORDED,
        _actor(user),
        f"board:{board.pk}",
        {"version": item.document_version, "decision": decision, "on": decided_on.isoformat()},
    )
    return item


def licensed_products(school: School, day: date | None = None) -> QuerySet[Product]:
    """Products the school holds a licence for in the school year of ``day``."""
    day = day or timezone.localdate()
    return Product.objects.filter(
        Q(licences__school=school)
        & Q(licences__school_year__start__lte=day)
        & Q(licences__school_year__end__gte=day)
    ).distinct()
