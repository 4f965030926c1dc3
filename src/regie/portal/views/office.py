"""The privacy officer's queue of rights requests: the requests of the login's boards by
deadline (overdue flagged; open or all), and one request with the decisions: extend (once, one
or two months, with a reason), refuse (with a reason), refuse for one supplier (with a reason),
mark a rectification done.

For the board's register editors (``roster.access``, :meth:`Access.edits_board_register`):
anyone else gets 403, a request of another board 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from regie.agreements.models import Supplier
from regie.agreements.services import Refused
from regie.roster import services as roster

from .. import presentation, requests
from ..models import OPEN_REQUEST_STATES, RequestKind, RightsRequest

board_register_page = roster.access_required(roster.Access.edits_board_register)

FILTERS = ("open", "soon", "overdue", "all")


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise Http404
    return user


def _requests(request: HttpRequest) -> QuerySet[RightsRequest]:
    return requests.visible_requests(roster.access_for(_user(request)).register_boards)


@board_register_page
def queue(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    shown = _requests(request)
    chosen = request.GET.get("filter", "open")
    if chosen not in FILTERS:
        chosen = "open"
    if chosen == "open":
        shown = shown.filter(state__in=OPEN_REQUEST_STATES)
    elif chosen == "soon":
        shown = requests.due_soon(shown, today)
    elif chosen == "overdue":
        shown = requests.overdue(shown, today)
    shown = shown.annotate(due=Coalesce("extended_to", "deadline")).order_by("due", "received_at")
    visible = set(roster.visible_students(_user(request)).values_list("pk", flat=True))
    rows = [
        {
            "rr": rr,
            "pupil": rr.student if rr.student_id in visible else None,
            "overdue": requests.is_overdue(rr, today),
        }
        for rr in shown[:500]
    ]
    labels = {
        "open": _("open"),
        "soon": _("binnen 7 dagen"),
        "overdue": _("te laat"),
        "all": _("alle"),
    }
    context = {"rows": rows, "filters": [(key, labels[key]) for key in FILTERS], "chosen": chosen}
    return render(request, "portal/office/requests.html", context)


@board_register_page
def detail(request: HttpRequest, request_id: object) -> HttpResponse:
    rr: RightsRequest = get_object_or_404(_requests(request), pk=request_id)
    user = _user(request)
    if request.method == "POST":
        action = request.POST.get("action", "")
        reason = request.POST.get("reason", "")
        try:
            if action == "extend":
                try:
                    months = int(request.POST.get("months", ""))
                except ValueError:
                    months = 0
                requests.extend(rr, months, reason, user)
                messages.success(request, _("De termijn is verlengd."))
            elif action == "refuse":
                requests.refuse(rr, reason, user)
                messages.success(request, _("Het verzoek is geweigerd."))
            elif action == "rectified":
                requests.mark_rectified(rr, user)
                messages.success(request, _("Het verzoek is afgerond."))
            elif action == "refuse-supplier":
                chosen = request.POST.get("supplier", "")
                supplier = get_object_or_404(
                    Supplier,
                    pk=int(chosen) if chosen.isdigit() else 0,
                    pk__in=rr.fan_out.values("supplier_id"),
                )
                requests.refuse_supplier(rr, supplier, reason, user)
                messages.success(request, _("Het besluit over deze leverancier is vastgelegd."))
            else:
                raise Http404
        except Refused as error:
            messages.error(request, error.reason)
        return redirect("requests:detail", request_id=rr.pk)
    visible = roster.visible_students(user).filter(pk=rr.student_id).exists()
    parts = requests.parts(rr)
    is_open = rr.state in OPEN_REQUEST_STATES
    context = {
        "rr": rr,
        "pupil": rr.student if visible else None,
        "parts": parts,
        "steps": presentation.step_lines(rr),
        "hub": presentation.hub_lines(rr),
        "overdue": requests.is_overdue(rr),
        "is_open": is_open,
        "may_extend": is_open and rr.extended_to is None,
        "may_rectify": is_open and rr.kind == RequestKind.RECTIFICATION,
        "open_parts": [part for part in parts if not part.settled],
    }
    return render(request, "portal/office/request.html", context)
