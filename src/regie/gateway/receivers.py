"""What ends a supplier's session (OIDC Back-Channel Logout 1.0, :mod:`.backchannel`): the
signals the gateway listens to, connected in :meth:`.apps.GatewayConfig.ready`.

- a logout at the hub (its own logout page, RP-initiated logout, a fresh login a launch asked
  for): the hub login session ends;
- a user deactivated or deleted, a pupil's account deleted, a pupil written as left (by hand or
  by an import): every session of that user ends.

Each defers the logout tokens in the transaction that made the change: a rollback sends none.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from regie.accounts.models import PupilAccount
from regie.roster.models import Student, StudentStatus

from . import backchannel, jobs


def logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_out``: the hub login session ends (the session still holds its id)."""
    if request is not None and hasattr(request, "session"):
        jobs.end_hub_session(str(request.session.get(backchannel.HUB_SESSION) or ""))


def user_saved(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """``post_save`` of a user: deactivated, every session ends."""
    if instance.is_active or (update_fields is not None and "is_active" not in update_fields):
        return
    jobs.end_user_sessions([instance.pk])


def user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``pre_delete`` of a user: every session ends (the records outlive the user)."""
    jobs.end_user_sessions([instance.pk])


def account_deleted(sender: Any, instance: PupilAccount, **kwargs: Any) -> None:
    """``post_delete`` of a pupil's account: the user is no pupil any more."""
    jobs.end_user_sessions([instance.user_id])


def student_saved(sender: Any, instance: Student, **kwargs: Any) -> None:
    """``post_save`` of a pupil: written as left, their logins' sessions end."""
    if instance.status == StudentStatus.LEFT:
        students_left(sender, [instance.pk])


def students_left(sender: Any, student_ids: list[int], **kwargs: Any) -> None:
    """``roster.signals.students_left`` (an import wrote pupils as left)."""
    users = PupilAccount.objects.filter(student_id__in=student_ids).values_list(
        "user_id", flat=True
    )
    jobs.end_user_sessions(list(users))
