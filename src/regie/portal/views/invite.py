"""The school's side of guardians' invitations: the guardians this login sees (school-wide roles
and board admins, through ``regie.roster``'s need-to-know) with where each address stands, and
sending an invitation to one or to all not yet invited.

A guardian this login may not see is a 404; a role without guardians is a 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from regie.accounts import invitations
from regie.accounts.models import Invitation
from regie.roster import services as roster
from regie.roster.models import Guardian

from ..notifications import notify

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # access_required lets only logged-in users through
        raise Http404
    return user


def _guardians(user: User) -> QuerySet[Guardian]:
    return (
        roster.visible_guardians(user)
        .filter(is_active=True)
        .select_related("school__board")
        .order_by("achternaam", "voornamen", "pk")
    )


@roster.access_required(roster.Access.sees_whole_school)
@require_GET
def guardian_list(request: HttpRequest) -> HttpResponse:
    guardians = list(_guardians(_user(request)))
    statuses = invitations.statuses(guardians)
    rows = [(guardian, statuses[guardian.pk]) for guardian in guardians]
    not_invited = len({_key(g) for g, status in rows if status.state == "not_invited"})
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "not_invited": not_invited,
        "days": invitations.expiry_days(),
        "pager_query": "",
    }
    return render(request, "portal/invitations.html", context)


def _key(guardian: Guardian) -> tuple[int, str]:
    return guardian.school.board_id, invitations.normalised(guardian.email)


def _invite(request: HttpRequest, guardian: Guardian) -> None:
    board = guardian.school.board

    def send(token: str, invitation: Invitation) -> None:
        link = request.build_absolute_uri(reverse("portal:accept", args=[token]))
        notify(
            "invitation",
            invitation.email,
            {
                "link": link,
                "board": board.name,
                "school": guardian.school.name,
                "expires": timezone.localtime(invitation.expires_at),
            },
        )

    invitations.invite(guardian.email, board, _user(request), send=send)


@roster.access_required(roster.Access.sees_whole_school)
@require_POST
def send(request: HttpRequest) -> HttpResponse:
    """Invite one guardian (``guardian``: a record's id), or all not yet invited (``all``)."""
    guardians = _guardians(_user(request))
    if request.POST.get("all"):
        chosen = [g for g, s in _states(guardians) if s == "not_invited"]
    else:
        try:
            guardian_id = int(request.POST.get("guardian", ""))
        except ValueError:
            raise Http404 from None
        chosen = [get_object_or_404(guardians, pk=guardian_id)]
    sent, refused, seen = 0, [], set()
    for guardian in chosen:
        if _key(guardian) in seen:
            continue  # one address on two records (two schools of the board): one invitation
        seen.add(_key(guardian))
        try:
            _invite(request, guardian)
        except invitations.InvitationRefused as refusal:
            refused.append(refusal.message)
        else:
            sent += 1
    if sent:
        messages.success(
            request,
            ngettext("%(count)d uitnodiging verstuurd.", "%(count)d uitnodigingen verstuurd.", sent)
            % {"count": sent},
        )
    for message in dict.fromkeys(refused):
        messages.error(request, message)
    if not sent and not refused:
        messages.info(request, _("Er was niemand meer om uit te nodigen."))
    return redirect("invitations:list")


def _states(guardians: QuerySet[Guardian]) -> list[tuple[Guardian, str]]:
    rows = list(guardians)
    statuses = invitations.statuses(rows)
    return [(guardian, statuses[guardian.pk].state) for guardian in rows]
