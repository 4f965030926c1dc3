"""The school's decisions: licences, switches and consent records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User as AuthUser
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from regie.audit.services import actor_for, record
from regie.core.models import School, SchoolYear
from regie.roster.models import Group, Guardian, Student, StudentStatus

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


def _create_licence(
    product: Product,
    school: School,
    school_year: SchoolYear,
    group: Group | None,
    pupils: list[Student],
    user: AuthUser | None,
) -> Licence:
    """The rules of a licence, checked, and the licence made (the caller records the event)."""
    if (group is None) == (not pupils):
        raise Refused(
            _("Een licentie is voor één groep of voor bepaalde leerlingen."), field="group"
        )
    if group is not None and group.school_id != school.pk:
        raise Refused(_("De groep hoort niet bij deze school."), field="group")
    if any(pupil.school_id != school.pk for pupil in pupils):
        raise Refused(_("Elke leerling op een licentie hoort bij deze school."), field="students")
    today = timezone.localdate()
    if ProcessingAgreement.objects.governing_for(school.board_id, product, today) is None:
        raise Refused(
            _(
                "Het schoolbestuur heeft geen actieve verwerkersovereenkomst met een "
                "privacybijsluiter voor dit product. Zet eerst een overeenkomst op actief."
            ),
            field="product",
        )
    existing = Licence.objects.filter(
        product=product, school=school, school_year=school_year, group=group
    ).first()
    if group is not None and existing is not None:
        raise Refused(
            _("Deze groep heeft dit schooljaar al een licentie voor dit product."), field="group"
        )
    licence = Licence.objects.create(
        product=product, school=school, school_year=school_year, group=group, granted_by=user
    )
    if pupils:
        licence.students.set(pupils)
    return licence


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
    licence = _create_licence(product, school, school_year, group, pupils, user)
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


@dataclass(frozen=True)
class RevokedLicence:
    """What a revoked licence covered (record ids only), so that it can be restored the same day.

    Plain values, so that a page can keep it in the session (:meth:`as_json`).
    """

    licence: int
    product: int
    school: int
    school_year: int
    group: int | None
    students: tuple[int, ...]
    revoked_on: date

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "students": list(self.students), "revoked_on": str(self.revoked_on)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RevokedLicence:
        return cls(
            licence=int(data["licence"]),
            product=int(data["product"]),
            school=int(data["school"]),
            school_year=int(data["school_year"]),
            group=None if data["group"] is None else int(data["group"]),
            students=tuple(int(pk) for pk in data["students"]),
            revoked_on=date.fromisoformat(data["revoked_on"]),
        )

    def restorable(self, day: date | None = None) -> bool:
        """A revoked licence can be restored on the day it was revoked (after that: grant anew)."""
        return self.revoked_on == (day or timezone.localdate())


@transaction.atomic
def revoke_licence(licence: Licence, *, user: AuthUser | None) -> RevokedLicence:
    """Withdraw a licence: from now on nothing about its pupils goes to the product's supplier."""
    revoked = RevokedLicence(
        licence=licence.pk,
        product=licence.product_id,
        school=licence.school_id,
        school_year=licence.school_year_id,
        group=licence.group_id,
        students=tuple(licence.students.order_by("pk").values_list("pk", flat=True)),
        revoked_on=timezone.localdate(),
    )
    record(
        events.LICENCE_REVOKED,
        actor_for(user),
        f"licence:{licence.pk}",
        {"product": licence.product_id, "school": licence.school_id},
    )
    licence.delete()
    return revoked


@transaction.atomic
def restore_licence(revoked: RevokedLicence, *, user: AuthUser | None) -> Licence:
    """Undo a revocation of today: the same product, school, year and group or pupils (those
    still at the school). The rules of a new licence apply: an agreement that is no longer active,
    or a group that has a licence again, is refused with the reason."""
    if not revoked.restorable():
        raise Refused(
            _("Een ingetrokken licentie kunt u alleen herstellen op de dag van het intrekken.")
        )
    school = School.objects.get(pk=revoked.school)
    group = Group.objects.filter(pk=revoked.group, school=school).first() if revoked.group else None
    if revoked.group is not None and group is None:
        raise Refused(_("De groep van de licentie bestaat niet meer."), field="group")
    pupils = list(
        Student.objects.filter(pk__in=revoked.students, school=school, status=StudentStatus.ACTIVE)
    )
    if revoked.group is None and not pupils:
        raise Refused(
            _("Geen van de leerlingen van de licentie zit nog op de school."), field="students"
        )
    licence = _create_licence(
        Product.objects.get(pk=revoked.product),
        school,
        SchoolYear.objects.get(pk=revoked.school_year),
        group,
        pupils,
        user,
    )
    record(
        events.LICENCE_RESTORED,
        actor_for(user),
        f"licence:{licence.pk}",
        {
            "revoked_licence": revoked.licence,
            "product": revoked.product,
            "school": revoked.school,
            "group": revoked.group,
            "pupils": len(pupils),
        },
    )
    return licence


def licensable_products(board_id: int, day: date | None = None) -> QuerySet[Product]:
    """Products a school of the board can license on ``day``: those with an active agreement of
    the board that has a data schedule for them (what :func:`grant_licence` accepts)."""
    active = ProcessingAgreement.objects.active_on(day or timezone.localdate())
    return (
        Product.objects.filter(
            schedules__agreement__in=active.filter(board_id=board_id),
            schedules__agreement__supplier_id=models.F("supplier_id"),
        )
        .distinct()
        .order_by("supplier__name", "name")
    )


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
        raise Refused(
            _("‘%(attribute)s’ is geen gegeven uit de catalogus van regie."),
            field="attribute",
            attribute=attribute[:40],
        )
    if attribute in catalogue.DEFAULT_ON:
        raise Refused(
            _(
                "Het pseudoniem voor de leverancier gaat standaard mee: het staat aan zodra de "
                "privacybijsluiter het noemt."
            ),
            field="attribute",
        )
    if on and attribute not in schedule_attributes(school.board_id, product):
        raise Refused(
            _(
                "‘%(attribute)s’ staat niet in de privacybijsluiter van de overeenkomst van het "
                "bestuur voor dit product."
            ),
            field="attribute",
            attribute=catalogue.CATALOGUE[attribute].label,
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
        raise Refused(
            _("‘%(attribute)s’ is geen gegeven uit de catalogus van regie."),
            field="attribute",
            attribute=attribute[:40],
        )
    if attribute not in catalogue.CONSENT_GATED:
        raise Refused(
            _(
                "Voor ‘%(attribute)s’ is geen toestemming nodig: de schakelaar van de school "
                "beslist."
            ),
            field="attribute",
            attribute=catalogue.CATALOGUE[attribute].label,
        )
    moment = at or timezone.now()
    if moment > timezone.now():
        raise Refused(_("Een besluit over toestemming kan niet in de toekomst liggen."), field="at")
    if decides_own_consent(student, moment.date()):
        if guardian is not None:
            raise Refused(
                _("De leerling is 16 jaar of ouder en beslist zelf over toestemming."),
                field="guardian",
            )
        given_by = ConsentGivenBy.PUPIL
    else:
        if guardian is None:
            raise Refused(
                _("Voor een leerling onder de 16 beslist een ouder of verzorger."),
                field="guardian",
            )
        if not guardian.students.filter(pk=student.pk).exists():
            raise Refused(
                _("Deze ouder of verzorger is geen ouder of verzorger van de leerling."),
                field="guardian",
            )
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
