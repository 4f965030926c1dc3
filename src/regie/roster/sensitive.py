"""Sensitive records of pupils (psychodiagnostics, care plans, special needs, health): reading
them (every read an audit event the guardians see), refusing those without need-to-know (403 and
an event), adding one by hand, and the board's designations. Who may do what is
:mod:`regie.roster.access`'s: this module only records what happened."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from regie.audit.services import actor_for, record
from regie.core.models import School

from . import access, events
from .models import (
    SensitiveCategory,
    SensitiveDesignation,
    SensitiveRecord,
    SensitiveSource,
    Staff,
    Student,
)

ALL_CATEGORIES = "all"  # a refusal or list read about every category of a pupil


def record_reads(user: User, student: Student, records: Iterable[SensitiveRecord]) -> None:
    """One ``roster.sensitive.read`` per record shown (its category, the reader's role)."""
    role, designated = access.sensitive_reader_role(user, student.school_id)
    actor = actor_for(user)
    with transaction.atomic():
        for item in records:
            details: dict[str, object] = {
                "category": item.category,
                "role": role,
                "record": item.pk,
            }
            if designated:
                details["designated"] = True
            record(events.SENSITIVE_READ, actor, f"student:{student.pk}", details)


def refuse(user: User, subject: str, category: str = ALL_CATEGORIES) -> None:
    """Record a refused request for sensitive records (the 403 is the caller's)."""
    roles = sorted(access.access_for(user).roles)
    if user.is_superuser:
        roles.append("superuser")
    record(
        events.SENSITIVE_REFUSED,
        actor_for(user),
        subject,
        {"category": category, "roles": roles},
    )


@transaction.atomic
def add_record(
    student: Student,
    *,
    category: SensitiveCategory | str,
    title: str,
    content: str,
    day: date,
    user: User | None,
    source: SensitiveSource = SensitiveSource.HAND,
) -> SensitiveRecord:
    """Add a sensitive record about ``student`` (the caller checked the user may)."""
    item = SensitiveRecord.objects.create(
        student=student,
        school_id=student.school_id,
        category=str(category),
        title=title,
        content=content,
        date=day,
        source=source,
        recorded_by=user,
    )
    record(
        events.SENSITIVE_RECORDED,
        actor_for(user),
        f"student:{student.pk}",
        {"category": item.category, "source": str(source), "record": item.pk},
    )
    return item


class DesignationRefused(ValueError):
    """A designation that cannot be given (the message is Dutch, for the page)."""


@transaction.atomic
def designate(school: School, staff: Staff, reason: str, *, user: User) -> SensitiveDesignation:
    """Designate ``staff`` to read ``school``'s sensitive records."""
    if staff.board_id != school.board_id or not staff.is_active:
        raise DesignationRefused(staff.pk)
    found = SensitiveDesignation.objects.filter(
        school=school, staff=staff, withdrawn_at__isnull=True
    ).first()
    if found is not None:
        return found
    item = SensitiveDesignation.objects.create(
        board_id=school.board_id, school=school, staff=staff, reason=reason, given_by=user
    )
    record(
        events.SENSITIVE_DESIGNATED,
        actor_for(user),
        f"staff:{staff.pk}",
        {"school": school.pk, "designation": item.pk},
    )
    return item


@transaction.atomic
def withdraw(item: SensitiveDesignation, *, user: User) -> None:
    if item.withdrawn_at is not None:
        return
    item.withdrawn_at = timezone.now()
    item.withdrawn_by = user
    item.save(update_fields=["withdrawn_at", "withdrawn_by"])
    record(
        events.SENSITIVE_DESIGNATION_WITHDRAWN,
        actor_for(user),
        f"staff:{item.staff_id}",
        {"school": item.school_id, "designation": item.pk},
    )
