"""The gateway's background jobs: back-channel logout tokens (:mod:`.backchannel`)."""

from __future__ import annotations

from django.db.models import QuerySet

from regie.jobs.services import job

from . import backchannel
from .models import LogoutSession


@job("gateway.backchannel_logout")
def backchannel_logout(session: int) -> None:
    """Deliver the logout token owed for one session record; on a failure, this job again after
    the next wait of :data:`.backchannel.RETRY_WAITS` (then given up)."""
    wait = backchannel.deliver(session)
    if wait is not None:
        backchannel_logout.defer_in(wait, session=session)


@job("gateway.forget_logout_sessions")
def forget_logout_sessions(timestamp: int) -> None:
    """Forget the session records of sessions nobody ended within a month (a periodic job)."""
    backchannel.forget_stale(float(timestamp))


def end_sessions(sessions: QuerySet[LogoutSession]) -> int:
    """End ``sessions`` and owe each client a logout token: one job per session, deferred in the
    caller's transaction (payload: the record's id only). How many."""
    ended = backchannel.end(sessions)
    for pk in ended:
        backchannel_logout.defer(session=pk)
    return len(ended)


def end_hub_session(hub_session: str) -> int:
    """The hub login session ``hub_session`` ended (a logout at the hub)."""
    if not hub_session:
        return 0
    return end_sessions(LogoutSession.objects.filter(hub_session=hub_session))


def end_user_sessions(user_ids: list[int]) -> int:
    """The users lost access (deactivated, deleted, no longer a pupil): end all their sessions."""
    if not user_ids:
        return 0
    return end_sessions(LogoutSession.objects.filter(user_id__in=user_ids))
