"""The school's decisions: licences, switches and consent records."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.contrib.auth.models import User as AuthUser
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from regie.audit.services import actor_for, record
from regie.core.models import School, SchoolYear
from regie.roster.models import Group, Guardian, Student

from .. import catalogue, events
from ..models import (
    AgreementStatus,
    Consent,
    ConsentGivenBy,
    Licence,
    ProcessingAgreement,
    Product,
    SchoolSwitch,
)
from .common import Refused

AGE_OF_OWN_CONSENT = 16


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
    today = timezone.localdate()
    if ProcessingAgreement.objects.governing_for(school.board_id, product, today) is None:
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
        actor_for(user),
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
        actor_for(user),
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
        actor_for(user),
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
        actor_for(user),
        f"student:{student.pk}",
        {"product": product.pk, "attribute": attribute, "given": given, "by": given_by},
    )
    return consent


def consent_history(student: Student) -> QuerySet[Consent]:
    return Consent.objects.filter(student=student).select_related("product", "guardian")


def licensed_products(school: School, day: date | None = None) -> QuerySet[Product]:
    """Products the school holds a licence for in the school year of ``day``."""
    day = day or timezone.localdate()
    return Product.objects.filter(
        licences__in=Licence.objects.in_force_on(day).filter(school=school)
    ).distinct()
