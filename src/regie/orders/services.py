"""Orders to suppliers: making an order, its state machine, recording receipts, chasing.

- :func:`create_order` stores the order (its body signed later, at every attempt, by
  ``jobs.deliver``) and defers the first delivery in the same transaction.
- :func:`transition` is the state machine, in one place: created → sent → accepted → completed |
  refused; failed after the last attempt; overdue when the deadline passes first (a late
  completed or refused receipt still closes it); a failed order may be retried, an order not
  yet accepted cancelled.
- :func:`record_receipt` verifies a supplier's signed receipt (:mod:`regie.lib.supplier_orders`)
  and binds it to its order; a forged, replayed, mismatched, old or other-pupil receipt is
  refused and audited, and changes nothing.
- :func:`chase` marks orders past their deadline overdue.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.contrib.auth.models import User as AuthUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from regie.agreements.models import Supplier
from regie.agreements.services import Refused, TodoLine
from regie.agreements.services import User as Login
from regie.audit.services import SYSTEM, actor_for, client_actor, record
from regie.gateway import pseudonyms
from regie.gateway.models import OAuthClient
from regie.lib import supplier_orders
from regie.lib.logging import get_logger
from regie.roster import services as roster
from regie.roster.models import Student

from . import events
from .models import (
    FINAL_STATES,
    OPEN_STATES,
    Order,
    OrderState,
    OrderType,
    Receipt,
    SupplierEndpoint,
)
from .signals import order_changed

logger = get_logger(__name__)

# The state machine: event → {from: to}. Nothing else changes an order's state.
TRANSITIONS: dict[str, dict[str, str]] = {
    "delivered": {OrderState.CREATED: OrderState.SENT, OrderState.OVERDUE: OrderState.OVERDUE},
    "accepted": {OrderState.SENT: OrderState.ACCEPTED, OrderState.OVERDUE: OrderState.OVERDUE},
    "completed": {
        OrderState.ACCEPTED: OrderState.COMPLETED,
        OrderState.OVERDUE: OrderState.COMPLETED,
    },
    "refused": {
        OrderState.SENT: OrderState.REFUSED,
        OrderState.ACCEPTED: OrderState.REFUSED,
        OrderState.OVERDUE: OrderState.REFUSED,
    },
    "failed": {OrderState.CREATED: OrderState.FAILED, OrderState.OVERDUE: OrderState.FAILED},
    "overdue": {
        OrderState.CREATED: OrderState.OVERDUE,
        OrderState.SENT: OrderState.OVERDUE,
        OrderState.ACCEPTED: OrderState.OVERDUE,
    },
    "retry": {OrderState.FAILED: OrderState.CREATED},
    "cancel": {
        OrderState.CREATED: OrderState.CANCELLED,
        OrderState.SENT: OrderState.CANCELLED,
        OrderState.FAILED: OrderState.CANCELLED,
    },
}
EVENT_LABELS = {
    "delivered": _("afleveren"),
    "accepted": _("aanvaarden"),
    "completed": _("uitvoeren"),
    "refused": _("weigeren"),
    "failed": _("mislukken"),
    "overdue": _("te laat raken"),
    "retry": _("opnieuw proberen"),
    "cancel": _("annuleren"),
}


def next_state(state: str, event: str) -> str:
    """The state an order in ``state`` reaches on ``event``, or :class:`Refused`."""
    following = TRANSITIONS[event].get(state)
    if following is None:
        raise Refused(
            _("Een opdracht met de status '%(state)s' kan niet %(action)s."),
            state=OrderState(state).label,
            action=EVENT_LABELS[event],
        )
    return following


def transition(order: Order, event: str, *, actor: str = SYSTEM, why: str = "") -> Order:
    """Move ``order`` on ``event`` (locked, audited); :class:`Refused` when it does not follow."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        following = next_state(locked.state, event)
        previous = locked.state
        changes: dict[str, Any] = {"state": following, "updated_at": timezone.now()}
        if event == "delivered" and locked.sent_at is None:
            changes["sent_at"] = timezone.now()
        if following in FINAL_STATES or following == OrderState.FAILED:
            changes["done_at"] = timezone.now()
        elif event == "retry":
            changes["done_at"] = None
        Order.objects.filter(pk=locked.pk).update(**changes)
        if following != locked.state:
            record(
                events.ORDER_STATE_CHANGED,
                actor,
                subject=f"order:{locked.pk}",
                details={"from": locked.state, "to": following, "event": event, "why": why},
            )
        locked.refresh_from_db()
        if following != previous:
            order_changed.send(sender=Order, order=locked, previous=previous)
        return locked


def receipts_url() -> str:
    """The absolute URL of the receipt endpoint, next to the issuer (``…/oidc`` → ``…/orders``)."""
    return urljoin(settings.OIDC_ISSUER.rstrip("/") + "/", "../orders/receipts")


def endpoint_for(supplier: Supplier) -> SupplierEndpoint | None:
    return SupplierEndpoint.objects.filter(supplier=supplier, is_active=True).first()


def register_endpoint(supplier: Supplier, url: str) -> SupplierEndpoint:
    """Register (or move, and make active) ``supplier``'s order endpoint; ``ValidationError`` for
    a URL that is not https (or plain http on the loopback address)."""
    endpoint = SupplierEndpoint.objects.filter(supplier=supplier).first() or SupplierEndpoint(
        supplier=supplier
    )
    endpoint.url = url
    endpoint.is_active = True
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def create_order(
    *,
    type: str,
    supplier: Supplier,
    students: Sequence[Student],
    legal_basis: str,
    deadline: dt.date,
    details: dict[str, Any] | None = None,
    user: AuthUser | None = None,
) -> Order:
    """Store an order about ``students`` to ``supplier`` (as its pseudonyms) and defer its
    delivery, in one transaction."""
    from .jobs import deliver

    OrderType(type)
    if endpoint_for(supplier) is None:
        raise Refused(_("Deze leverancier heeft geen adres voor opdrachten."))
    if not students:
        raise Refused(_("Een opdracht gaat over ten minste één leerling."))
    boards = {student.school.board_id for student in students}
    if len(boards) != 1:
        raise Refused(_("Een opdracht gaat over leerlingen van één bestuur."))
    known = dict(pseudonyms.stored(supplier, [student.pk for student in students]))
    if len(known) != len({student.pk for student in students}):
        raise Refused(_("De leverancier heeft van deze leerling geen gegevens gekregen."))
    schools = {student.school_id for student in students}
    order_id = uuid.uuid4()
    created = timezone.now().astimezone(dt.UTC).replace(microsecond=0)
    body = supplier_orders.order_body(
        {
            "id": str(order_id),
            "type": type,
            "issuer": settings.OIDC_ISSUER,
            "subjects": sorted(set(known.values())),
            "legal_basis": legal_basis,
            "deadline": deadline.isoformat(),
            "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "receipts": receipts_url(),
            "details": details or {},
        }
    )
    with transaction.atomic():
        order = Order.objects.create(
            id=order_id,
            type=type,
            supplier=supplier,
            board_id=boards.pop(),
            school_id=schools.pop() if len(schools) == 1 else None,
            legal_basis=legal_basis,
            deadline=deadline,
            body=body,
            digest=supplier_orders.content_digest(body),
            created_by=user,
        )
        order.students.set(students)
        record(
            events.ORDER_CREATED,
            actor_for(user) if user else SYSTEM,
            subject=f"order:{order.pk}",
            details={
                "type": type,
                "supplier": supplier.pk,
                "pupils": len(known),
                "deadline": deadline.isoformat(),
            },
        )
        deliver.defer(order=str(order.pk), attempt=1)
    return order


def order_subjects(order: Order) -> list[str]:
    """The pseudonyms the order is about (from its signed body)."""
    subjects: list[str] = json.loads(bytes(order.body))["subjects"]
    return subjects


def retry(order: Order, *, user: AuthUser | None) -> Order:
    """A failed order gets one more attempt (now)."""
    from .jobs import deliver

    with transaction.atomic():
        order = transition(order, "retry", actor=actor_for(user), why="retry")
        last = order.attempts.order_by("-number").values_list("number", flat=True).first() or 0
        deliver.defer(order=str(order.pk), attempt=last + 1)
    return order


def cancel(order: Order, *, user: AuthUser | None) -> Order:
    """An order not yet accepted is cancelled: no more attempts, no receipt accepted."""
    return transition(order, "cancel", actor=actor_for(user), why="cancel")


def chase(today: dt.date | None = None) -> int:
    """Orders past their deadline that are not completed or refused become overdue."""
    today = today or timezone.localdate()
    late = Order.objects.filter(state__in=OPEN_STATES, deadline__lt=today)
    count = 0
    for order in late:
        try:
            transition(order, "overdue", why="deadline")
        except Refused:  # changed in between (a receipt came)
            continue
        count += 1
    return count


# --- receipts ------------------------------------------------------------------------------------


class ReceiptRefused(Exception):
    """A receipt the hub refused (audited, nothing changed). ``status`` is the HTTP status the
    receipt endpoint answers (400, or 409 for a replay); ``reason`` is short and names no
    value."""

    def __init__(self, reason: str, *, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def _refuse(reason: str, *, order: Order | None = None, status: int = 400) -> ReceiptRefused:
    record(
        events.RECEIPT_REFUSED,
        SYSTEM,
        subject=f"order:{order.pk}" if order else "",
        details={"reason": reason},
    )
    logger.info("orders.receipt.refused", reason=reason)
    return ReceiptRefused(reason, status=status)


def _order_of(claims: dict[str, Any]) -> Order | None:
    try:
        order_id = uuid.UUID(str(claims.get("order")))
    except ValueError:
        return None
    return Order.objects.select_related("supplier").filter(pk=order_id).first()


def record_receipt(token: str, *, via: str = "endpoint", now: int | None = None) -> Receipt:
    """Verify ``token`` (a supplier's receipt) and keep it, moving its order on; or
    :class:`ReceiptRefused` (audited; nothing changed). A receipt already recorded that comes
    again in a re-delivery's answer (``via="response"``) is returned as it is."""
    now = int(time.time()) if now is None else now
    try:
        unverified = supplier_orders.receipt_claims_unverified(token)
    except supplier_orders.ReceiptError as error:
        raise _refuse(error.reason) from error
    order = _order_of(unverified)
    if order is None:
        raise _refuse("unknown order")
    client = OAuthClient.objects.filter(
        client_id=str(unverified.get("iss")), supplier=order.supplier, is_active=True
    ).first()
    if client is None:
        raise _refuse("iss is not a registered client of the order's supplier", order=order)
    try:
        claims = supplier_orders.read_receipt(
            token, jwks=client.jwks, audience=settings.OIDC_ISSUER, now=now
        )
    except supplier_orders.ReceiptError as error:
        raise _refuse(error.reason, order=order) from error
    if claims["order_digest"] != order.digest:
        raise _refuse("order_digest differs from the order's", order=order)
    if not set(claims["subjects"]) <= set(order_subjects(order)):
        raise _refuse("subjects not in the order", order=order)
    seen = Receipt.objects.filter(supplier=order.supplier, jti=claims["jti"]).first()
    if seen is not None:
        if via == "response" and seen.token == token.strip():
            return seen
        raise _refuse("jti seen already (replay)", order=order, status=409)
    try:
        with transaction.atomic():
            transition(order, claims["status"], actor=client_actor(client), why="receipt")
            receipt = Receipt.objects.create(
                order=order,
                supplier=order.supplier,
                client=client,
                status=claims["status"],
                jti=claims["jti"],
                token=token.strip(),
                statement=claims["statement"],
                data=claims["data"],
                subject_count=len(claims["subjects"]),
                issued_at=dt.datetime.fromtimestamp(claims["iat"], tz=dt.UTC),
                verified_at=timezone.now(),
                received_via=via,
            )
            record(
                events.RECEIPT_RECORDED,
                client_actor(client),
                subject=f"order:{order.pk}",
                details={
                    "status": claims["status"],
                    "client": client.client_id,
                    "pupils": len(claims["subjects"]),
                    "via": via,
                },
            )
    except Refused as error:
        raise _refuse("status does not follow the order's state", order=order) from error
    except IntegrityError as error:
        raise _refuse("jti seen already (replay)", order=order, status=409) from error
    return receipt


# --- what the privacy officer sees ---------------------------------------------------------------


def visible_orders(boards: Iterable[int]) -> QuerySet[Order]:
    """Orders of ``boards`` (the boards whose register a login keeps)."""
    return Order.objects.filter(board_id__in=list(boards)).select_related("supplier")


@dataclass(frozen=True)
class Counts:
    outstanding: int
    overdue: int
    failed: int


def counts(orders: QuerySet[Order]) -> Counts:
    """How many of ``orders`` wait on a supplier, are overdue, or failed."""
    return Counts(
        outstanding=orders.filter(state__in=OPEN_STATES).count(),
        overdue=orders.filter(state=OrderState.OVERDUE).count(),
        failed=orders.filter(state=OrderState.FAILED).count(),
    )


OPEN_FILTER = "open"  # the orders list's filter for every state of OPEN_STATES


def filtered(orders: QuerySet[Order], state: str) -> QuerySet[Order]:
    """``orders`` in ``state``, or waiting on a supplier for :data:`OPEN_FILTER`."""
    if state == OPEN_FILTER:
        return orders.filter(state__in=OPEN_STATES)
    return orders.filter(state=state)


def dashboard_lines(user: Login) -> list[TodoLine]:
    """The privacy officer's dashboard: orders outstanding, overdue and failed, each linked to
    the orders list with that filter (registered in :class:`regie.orders.apps.OrdersConfig`)."""
    found = counts(visible_orders(roster.access_for(user).register_boards))
    url = reverse("orders:list")
    return [
        TodoLine(
            _("Opdrachten aan leveranciers die nog lopen"),
            f"{url}?status={OPEN_FILTER}",
            found.outstanding,
        ),
        TodoLine(
            _("Opdrachten aan leveranciers die te laat zijn"),
            f"{url}?status={OrderState.OVERDUE.value}",
            found.overdue,
        ),
        TodoLine(
            _("Mislukte opdrachten aan leveranciers"),
            f"{url}?status={OrderState.FAILED.value}",
            found.failed,
        ),
    ]


def attempt_due(order: Order) -> bool:
    """Whether the order still waits to be delivered (created, or overdue before delivery)."""
    return order.state == OrderState.CREATED or (
        order.state == OrderState.OVERDUE and order.sent_at is None
    )
