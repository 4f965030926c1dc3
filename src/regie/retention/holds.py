"""Legal holds: a privacy officer keeps a pupil's data from deletion, with a reason, until the hold
is lifted (with a reason). While a hold is in force nothing of the pupil goes: not at the hub,
not at a supplier (:mod:`.due` reads the holds; :mod:`.sweeps` too).

Both steps are audited (``retention.hold.placed`` / ``retention.hold.lifted``, subject
``student:<pk>``). The reasons are kept on the hold only: a reason may well name the pupil, and
the log's details hold no names.
"""

from __future__ import annotations

from django.contrib.auth.models import User as AuthUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from regie.agreements.services import Refused
from regie.audit.services import actor_for, record
from regie.roster.models import Student

from . import clock, events
from .models import LegalHold

MAX_REASON = 2000


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise Refused(_("Vul een reden in."), field="reason")
    if len(text) > MAX_REASON:
        raise Refused(
            _("De reden is te lang (ten hoogste %(max)s tekens)."), field="reason", max=MAX_REASON
        )
    return text


def in_force(student: Student) -> LegalHold | None:
    return LegalHold.objects.filter(student=student, lifted_at__isnull=True).first()


def place(student: Student, reason: str, *, user: AuthUser | None) -> LegalHold:
    """Put ``student``'s data on hold; :class:`Refused` without a reason, or when a hold is in
    force already (one per pupil)."""
    text = _reason(reason)
    try:
        with transaction.atomic():
            if LegalHold.objects.filter(student=student, lifted_at__isnull=True).exists():
                raise Refused(_("Voor deze leerling geldt al een bewaarplicht."), field="student")
            hold = LegalHold.objects.create(
                board_id=student.school.board_id,
                student=student,
                reason=text,
                placed_by=user,
                placed_at=clock.now(),
            )
            record(
                events.HOLD_PLACED,
                actor_for(user),
                f"student:{student.pk}",
                {"hold": hold.pk, "board": hold.board_id},
            )
    except IntegrityError as error:  # placed at the same moment by someone else
        raise Refused(
            _("Voor deze leerling geldt al een bewaarplicht."), field="student"
        ) from error
    return hold


def lift(hold: LegalHold, reason: str, *, user: AuthUser | None) -> LegalHold:
    """Lift ``hold``; :class:`Refused` without a reason, or when it was lifted already."""
    text = _reason(reason)
    with transaction.atomic():
        lifted = LegalHold.objects.filter(pk=hold.pk, lifted_at__isnull=True).update(
            lifted_at=clock.now(), lifted_by=user, lift_reason=text
        )
        if not lifted:
            raise Refused(_("Deze bewaarplicht is al opgeheven."), field="hold")
        record(
            events.HOLD_LIFTED,
            actor_for(user),
            f"student:{hold.student_id}",
            {"hold": hold.pk, "board": hold.board_id},
        )
    hold.refresh_from_db()
    return hold
