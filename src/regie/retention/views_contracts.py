"""``/privacy/bewaren/contracten/``: the end of contracts, for the board's register editors.

Per terminated agreement (and per agreement whose data is destroyed since): the destruction order
sent to the supplier and its state, the statements of the supplier's receipts, overdue flagged,
the link to the order's page — or why no order went, with what the officer may do about it: send
it once the supplier has an order address, record a statement of destruction received otherwise,
or close an agreement under which nothing was released. Counts only; no pupil appears here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from regie.agreements.models import AgreementStatus, ProcessingAgreement
from regie.agreements.services import Refused
from regie.orders.models import OPEN_STATES, Order, OrderState, Receipt
from regie.roster import services as roster

from . import clock, contracts
from .models import ContractDestruction, ContractState
from .views import board_register_page

ENDED = (AgreementStatus.TERMINATED, AgreementStatus.DATA_DESTROYED)


@dataclass(frozen=True)
class ContractRow:
    """One ended agreement as the page shows it."""

    agreement: ProcessingAgreement
    destruction: ContractDestruction | None
    order: Order | None
    receipts: list[Receipt]
    overdue: bool
    may_send: bool
    may_record_statement: bool
    may_close: bool


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # access_required lets only logged-in users through
        raise Http404
    return user


def _agreements(request: HttpRequest) -> QuerySet[ProcessingAgreement]:
    boards = roster.access_for(_user(request)).register_boards
    return ProcessingAgreement.objects.filter(board_id__in=boards, status__in=ENDED)


def _row(
    agreement: ProcessingAgreement, destruction: ContractDestruction | None, today: dt.date
) -> ContractRow:
    order = destruction.order if destruction is not None else None
    receipts = list(order.receipts.order_by("issued_at", "pk")) if order is not None else []
    overdue = order is not None and (
        order.state == OrderState.OVERDUE or (order.state in OPEN_STATES and order.deadline < today)
    )
    terminated = agreement.status == AgreementStatus.TERMINATED
    return ContractRow(
        agreement=agreement,
        destruction=destruction,
        order=order,
        receipts=receipts,
        overdue=overdue,
        may_send=terminated and (destruction is None or contracts.may_send_again(destruction)),
        may_record_statement=destruction is not None
        and contracts.may_record_statement(destruction),
        may_close=terminated
        and destruction is not None
        and destruction.state == ContractState.NOTHING_RELEASED,
    )


@board_register_page
def contract_list(request: HttpRequest) -> HttpResponse:
    agreements = list(
        _agreements(request)
        .select_related("board", "supplier")
        .order_by("-terminated_on", "title", "pk")
    )
    destructions = {
        item.agreement_id: item
        for item in ContractDestruction.objects.filter(
            agreement__in=[agreement.pk for agreement in agreements]
        ).select_related("order", "agreement")
    }
    today = clock.today()
    rows = [_row(agreement, destructions.get(agreement.pk), today) for agreement in agreements]
    context = {
        "rows": rows,
        "today": today,
        "waiting": sum(1 for row in rows if row.agreement.status == AgreementStatus.TERMINATED),
        "overdue": sum(1 for row in rows if row.overdue),
    }
    return render(request, "retention/contracts.html", context)


def _agreement_or_404(request: HttpRequest, agreement_id: int) -> ProcessingAgreement:
    agreement: ProcessingAgreement = get_object_or_404(
        ProcessingAgreement.objects.filter(
            board_id__in=roster.access_for(_user(request)).register_boards
        ),
        pk=agreement_id,
    )
    return agreement


def _destruction_or_refuse(agreement: ProcessingAgreement) -> ContractDestruction:
    destruction = ContractDestruction.objects.filter(agreement=agreement).first()
    if destruction is None:
        raise Refused(_("Voor deze overeenkomst is nog geen opdracht tot vernietiging gemaakt."))
    return destruction


def _back() -> HttpResponse:
    return redirect("retention:contracts")


@board_register_page
@require_POST
def contract_send(request: HttpRequest, agreement_id: int) -> HttpResponse:
    """Send the destruction order (again): the supplier has an order address now."""
    agreement = _agreement_or_404(request, agreement_id)
    try:
        destruction = contracts.order_destruction(agreement, user=_user(request))
    except Refused as error:
        messages.error(request, error.reason)
        return _back()
    if destruction.state == ContractState.ORDERED:
        messages.success(request, _("De opdracht tot vernietiging is verstuurd."))
    elif destruction.state == ContractState.NOT_SENT:
        messages.error(
            request,
            _(
                "De opdracht is niet verstuurd: de leverancier heeft nog geen adres voor "
                "opdrachten."
            ),
        )
    else:
        messages.info(request, destruction.get_state_display())
    return _back()


@board_register_page
@require_POST
def contract_statement(request: HttpRequest, agreement_id: int) -> HttpResponse:
    """Record the supplier's statement of destruction received otherwise (its text)."""
    agreement = _agreement_or_404(request, agreement_id)
    try:
        contracts.record_statement(
            _destruction_or_refuse(agreement),
            request.POST.get("statement", ""),
            user=_user(request),
        )
    except Refused as error:
        messages.error(request, error.reason)
        return _back()
    messages.success(
        request,
        _("De verklaring is vastgelegd. De overeenkomst heeft nu de status ‘gegevens vernietigd’."),
    )
    return _back()


@board_register_page
@require_POST
def contract_nothing_released(request: HttpRequest, agreement_id: int) -> HttpResponse:
    """Nothing was released under the agreement: it moves on to "data destroyed"."""
    agreement = _agreement_or_404(request, agreement_id)
    try:
        contracts.close_nothing_released(_destruction_or_refuse(agreement), user=_user(request))
    except Refused as error:
        messages.error(request, error.reason)
        return _back()
    messages.success(
        request, _("De overeenkomst heeft nu de status ‘gegevens vernietigd’ (niets verstrekt).")
    )
    return _back()
