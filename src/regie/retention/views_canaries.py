"""The canaries page (``/privacy/bewaren/controlegevallen/``): per school how many canaries were
planted and ordered deleted, per supplier how many it received, was ordered to delete, confirmed
deleted, and named after that (a breach of the agreement). Counts only: a canary is never shown
by name. Planting and ordering deletion are POSTs from the same page.

For the board's register editors (:data:`.views.board_register_page`); a school or group of
another board is refused like one that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from regie.agreements.services import Refused
from regie.core.models import School
from regie.roster import services as roster
from regie.roster.models import Group

from . import canaries
from .views import board_register_page


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # access_required lets only logged-in users through
        raise Http404
    return user


def _schools(user: User) -> list[School]:
    return list(roster.register_schools(user).filter(board__in=roster.register_boards(user)))


@board_register_page
def overview(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    boards = [
        {
            "board": board,
            "schools": canaries.school_rows(board),
            "suppliers": canaries.supplier_rows(board),
        }
        for board in roster.register_boards(user).order_by("name")
    ]
    schools = _schools(user)
    groups = (
        Group.objects.filter(school__in=schools, is_active=True)
        .select_related("school")
        .order_by("school__name", "year_level", "name")
    )
    context = {
        "boards": boards,
        "groups": groups,
        "schools": schools,
        "most": canaries.MAX_PER_PLANTING,
    }
    return render(request, "retention/canaries.html", context)


def _number(text: str) -> int | None:
    return int(text) if text.isdecimal() and len(text) < 10 else None


@require_POST
@board_register_page
def plant(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    group_id = _number(request.POST.get("group", ""))
    group = (
        Group.objects.filter(school__in=_schools(user), pk=group_id)
        .select_related("school")
        .first()
        if group_id is not None
        else None
    )
    count = _number(request.POST.get("count", "1")) or 0
    if group is None:
        messages.error(request, _("Kies een groep."))
        return redirect("retention:canaries")
    try:
        planted = canaries.plant(group.school, group, count=count, user=user)
    except Refused as error:
        messages.error(request, error.reason)
    else:
        messages.success(
            request, _("%(count)s controlegevallen geplant.") % {"count": len(planted)}
        )
    return redirect("retention:canaries")


@require_POST
@board_register_page
def order_deleted(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    school_id = _number(request.POST.get("school", ""))
    school = next((school for school in _schools(user) if school.pk == school_id), None)
    if school is None:
        messages.error(request, _("Kies een school."))
        return redirect("retention:canaries")
    sent = canaries.order_school_deleted(school, user=user)
    messages.success(
        request, _("%(count)s opdrachten tot verwijderen verstuurd.") % {"count": sent}
    )
    return redirect("retention:canaries")
