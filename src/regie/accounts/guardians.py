"""Whose rights a login exercises: the one rule the parents' and pupils' portal asks (DESIGN §1.5).

- A **guardian's login** (:class:`.models.GuardianAccount`) acts for the pupils linked to an
  active guardian record of its board with its (proven) e-mail address — at every school of the
  board — as long as the pupil is under 16 (or the school holds no birth date).
- From the **16th birthday** the pupil exercises their own rights (AVG art. 8 with UAVG art. 5,
  and art. 12–21 for a pupil who can judge their own interest): a pupil's own login
  (:class:`.models.PupilAccount`) acts for their own enrolment from that day, and the guardian's
  login no longer does. The guardian still sees that the child is linked, and why the portal
  stopped showing them (:func:`linked_children`).

Read from the roster every time: the next import that removes a guardian, or their link to a
pupil, ends their access at once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from regie.roster.models import Guardian, Student

from .models import GuardianAccount, PupilAccount

AGE_OF_OWN_RIGHTS = 16


def account_of(user: Any) -> GuardianAccount | None:
    """The guardian login of ``user``, or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return GuardianAccount.objects.filter(user_id=user.pk).select_related("board").first()


def guardian_records(account: GuardianAccount) -> QuerySet[Guardian]:
    """The active guardian records of the account's board with its e-mail address."""
    return Guardian.objects.filter(
        school__board_id=account.board_id, email__iexact=account.email, is_active=True
    )


def linked_children(account: GuardianAccount) -> QuerySet[Student]:
    """Every pupil linked to one of the account's guardian records, of any age."""
    return (
        Student.objects.filter(guardians__in=guardian_records(account))
        .select_related("school__board")
        .distinct()
        .order_by("roepnaam", "voornamen", "pk")
    )


def decides_own_rights(student: Student, day: date | None = None) -> bool:
    age = student.age_on(day or timezone.localdate())
    return age is not None and age >= AGE_OF_OWN_RIGHTS


def represented(user: Any, day: date | None = None) -> list[Student]:
    """The pupils whose rights ``user`` exercises today: a guardian's children under 16, or a
    pupil of 16 or older themselves. Empty for anyone else."""
    day = day or timezone.localdate()
    account = account_of(user)
    if account is not None:
        return [child for child in linked_children(account) if not decides_own_rights(child, day)]
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    own = (
        PupilAccount.objects.filter(user_id=user.pk)
        .select_related("student__school__board")
        .order_by("pk")
    )
    return [account.student for account in own if decides_own_rights(account.student, day)]


def guardian_for(user: Any, student: Student) -> Guardian | None:
    """The guardian record through which ``user`` acts for ``student`` (for consent), or None."""
    account = account_of(user)
    if account is None:
        return None
    return guardian_records(account).filter(students=student).order_by("pk").first()


def is_guardian(user: Any) -> bool:
    return account_of(user) is not None
