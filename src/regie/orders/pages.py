"""The privacy officer's pages about orders to suppliers: the list, one order (its attempts and
verified receipts, retry and cancel) and sending an erasure order for one pupil.

For the board's register editors (privacy officers and board admins, ``roster.access``):
anyone else gets 403, an order or pupil of another board 404. Pupils appear by name, for those
the login may see, and as a count; never a pseudonym.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from regie.agreements.models import Supplier
from regie.agreements.services import Refused
from regie.gateway import pseudonyms
from regie.roster import services as roster

from . import services
from .models import Order, OrderState, OrderType

board_register_page = roster.access_required(roster.Access.edits_board_register)

ERASURE_LEGAL_BASIS = "AVG art. 17 lid 1"


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # access_required lets only logged-in users through
        raise Http404
    return user


def _orders(request: HttpRequest) -> QuerySet[Order]:
    return services.visible_orders(roster.access_for(_user(request)).register_boards)


def _order_or_404(request: HttpRequest, order_id: object) -> Order:
    order: Order = get_object_or_404(_orders(request), pk=order_id)
    return order


@board_register_page
def order_list(request: HttpRequest) -> HttpResponse:
    orders = _orders(request)
    state = request.GET.get("status", "")
    if state not in {services.OPEN_FILTER, *OrderState.values}:
        state = ""
    shown = services.filtered(orders, state) if state else orders
    context = {
        "orders": shown.prefetch_related("students")[:500],
        "states": [(services.OPEN_FILTER, _("lopend")), *OrderState.choices],
        "state": state,
        "counts": services.counts(orders),
    }
    return render(request, "orders/orders.html", context)


@board_register_page
def order_detail(request: HttpRequest, order_id: object) -> HttpResponse:
    order = _order_or_404(request, order_id)
    visible = roster.visible_students(_user(request))
    context = {
        "order": order,
        "pupils": order.students.filter(pk__in=visible.values("pk")).order_by(
            "achternaam", "voornamen"
        ),
        "pupil_count": order.students.count(),
        "attempts": order.attempts.order_by("number"),
        "receipts": order.receipts.select_related("client").order_by("issued_at", "pk"),
        "may_retry": order.state == OrderState.FAILED,
        "may_cancel": order.state in services.TRANSITIONS["cancel"],
    }
    return render(request, "orders/order.html", context)


def _confirm(request: HttpRequest, order_id: object, action: str) -> HttpResponse:
    order = _order_or_404(request, order_id)
    if request.method == "POST":
        try:
            if action == "retry":
                services.retry(order, user=_user(request))
                messages.success(request, _("De opdracht wordt opnieuw verstuurd."))
            else:
                services.cancel(order, user=_user(request))
                messages.success(request, _("De opdracht is geannuleerd."))
        except Refused as error:
            messages.error(request, error.reason)
        return redirect("orders:detail", order_id=order.pk)
    return render(request, "orders/confirm.html", {"order": order, "action": action})


@board_register_page
def order_retry(request: HttpRequest, order_id: object) -> HttpResponse:
    return _confirm(request, order_id, "retry")


@board_register_page
def order_cancel(request: HttpRequest, order_id: object) -> HttpResponse:
    return _confirm(request, order_id, "cancel")


@board_register_page
def erasure(request: HttpRequest, student_id: int, supplier_id: int) -> HttpResponse:
    """GET: what an erasure order to this supplier means; POST: send it."""
    user = _user(request)
    student = get_object_or_404(
        roster.register_students(user)
        .filter(school__board_id__in=roster.access_for(user).register_boards)
        .select_related("school"),
        pk=student_id,
    )
    supplier = get_object_or_404(Supplier, pk=supplier_id)
    if not pseudonyms.stored(supplier, [student.pk]):
        raise Http404
    deadline = timezone.localdate() + dt.timedelta(days=settings.ORDER_DEADLINE_DAYS)
    if request.method == "POST":
        try:
            order = services.create_order(
                type=OrderType.ERASURE,
                supplier=supplier,
                students=[student],
                legal_basis=ERASURE_LEGAL_BASIS,
                deadline=deadline,
                user=user,
            )
        except Refused as error:
            messages.error(request, error.reason)
            return redirect("pupil-data", student_id=student.pk)
        messages.success(request, _("De opdracht tot verwijderen is verstuurd."))
        return redirect("orders:detail", order_id=order.pk)
    context = {
        "student": student,
        "supplier": supplier,
        "legal_basis": ERASURE_LEGAL_BASIS,
        "deadline": deadline,
        "has_endpoint": services.endpoint_for(supplier) is not None,
    }
    return render(request, "orders/erasure.html", context)
