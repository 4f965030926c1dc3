"""The accounts' front door: which pupil a login belongs to."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.models import User as AuthUser

from regie.roster.models import Student

from .models import PupilAccount


def student_for(user: AbstractBaseUser | AnonymousUser) -> Student | None:
    """The active enrolment a logged-in pupil acts as, or None for anyone else."""
    if not user.is_authenticated:
        return None
    account = (
        PupilAccount.objects.filter(user_id=user.pk, student__status="active")
        .select_related("student__school")
        .first()
    )
    return account.student if account else None


def create_pupil_login(student: Student, username: str, password: str) -> AuthUser:
    """A local login for a pupil (embedded default and demo)."""
    user = AuthUser.objects.create_user(username=username, password=password)
    PupilAccount.objects.create(user=user, student=student)
    return user
