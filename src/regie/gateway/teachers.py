"""Teachers' launches: which products a teacher may open, and what the supplier then receives.

The release policy (:mod:`regie.agreements.policy`) is about pupils. A teacher may launch a
product when, this school year, a licence of it covers one of the groups they teach (a group
licence, or a named-pupil licence for pupils in those groups) at a school whose board has an
active agreement for it. The supplier then receives:

- ``sub``: the teacher's keyed id at the supplier (:func:`regie.gateway.identifiers.staff_id`),
  the same value as their OneRoster ``sourcedId``; pairwise, so two suppliers cannot link it;
- ``role`` = ``teacher``, the ``school`` (BRIN and name) and the names of the licensed ``groups``
  they teach — organisational facts the supplier needs to show the teacher their classes.

Names and e-mail addresses of staff are not released: no data schedule covers staff data yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from regie.agreements import policy
from regie.agreements.models import Licence, Product
from regie.roster.models import Group, Staff, StaffRole

from . import identifiers

# What a teacher's launch releases besides the keyed id (attribute names for the audit log).
TEACHER_ATTRIBUTES = ("staff_id", "role", "school", "groups")


@dataclass(frozen=True)
class TeacherLaunch:
    staff: Staff
    groups: tuple[str, ...]  # names of the licensed groups they teach

    def claims(self, product: Product) -> dict[str, Any]:
        school = self.staff.school
        assert school is not None  # noqa: S101 (teaching() keeps school memberships only)
        return {
            "sub": identifiers.staff_id(product.supplier, self.staff.pk),
            "role": "teacher",
            "school": {"brin": school.code, "name": school.name},
            "groups": list(self.groups),
        }


def teaching(user: AbstractBaseUser | AnonymousUser) -> list[Staff]:
    """The user's active school memberships with the teacher role, oldest first."""
    if not user.is_authenticated:
        return []
    memberships = (
        Staff.objects.filter(user_id=user.pk, is_active=True, school__isnull=False)
        .select_related("school__board")
        .order_by("pk")
    )
    return [staff for staff in memberships if staff.has_role(StaffRole.TEACHER)]


def this_year(day: date) -> Q:
    """Licences of the school year ``day`` falls in."""
    return this_year_of("", day)


def this_year_of(prefix: str, day: date) -> Q:
    """:func:`this_year` through a relation (``prefix`` like ``"licences__"``)."""
    return Q(**{f"{prefix}school_year__start__lte": day, f"{prefix}school_year__end__gte": day})


def licensed_group_names(staff: Staff, licences: QuerySet[Licence]) -> set[str]:
    """Names of ``staff``'s active groups that ``licences`` cover (by group, or by active pupils
    named on a licence), in one query."""
    covered = Q(licences__in=licences) | Q(
        students__licences__in=licences, students__status="active"
    )
    found = Group.objects.filter(covered, teachers=staff, is_active=True)
    return set(found.values_list("name", flat=True).distinct())


def decide(
    product: Product, memberships: list[Staff], day: date | None = None
) -> TeacherLaunch | policy.Condition:
    """The teacher launch for ``product``, or the first condition that failed."""
    day = day or timezone.localdate()
    failed = policy.Condition.NO_LICENCE
    for staff in memberships:
        assert staff.school is not None  # noqa: S101 (see teaching())
        if policy.active_agreement(staff.school.board_id, product, day) is None:
            failed = policy.Condition.NO_ACTIVE_AGREEMENT
            continue
        licences = Licence.objects.filter(this_year(day), product=product, school=staff.school)
        names = licensed_group_names(staff, licences)
        if names:
            return TeacherLaunch(staff, tuple(sorted(names)))
    return failed
