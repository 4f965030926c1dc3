"""Rights requests (AVG art. 15–21): filing, the legal deadline, the fan-out to suppliers as
orders, closing, extension, refusal and the overdue flag.

- :func:`deadline_for`: one month after the day of receipt (Amsterdam date): the same day number
  next month, or that month's last day when it has none (31 January → 28/29 February).
  :func:`extended_deadline`: one or two more months counted the same way from the deadline.
- :func:`file`: identity is the login. A request is filed only about a pupil whose rights the
  login exercises today (:func:`regie.accounts.guardians.represented`), at most
  ``settings.PORTAL_REQUESTS_PER_DAY`` per login in 24 hours. It fans out: access, erasure,
  restriction and objection become an order (:func:`regie.orders.services.create_order`) to every
  supplier that received data about the pupil (:func:`regie.portal.services.recipients`); a
  supplier the hub cannot send to gets a line with the reason. Rectification sends no order: the
  school corrects it in its pupil administration. Erasure at the hub erases the results suppliers
  sent and keeps what the law requires, saying why (``hub_outcome``).
- :func:`reevaluate` (run on every change of a linked order, :mod:`regie.portal.receivers`):
  a request closes only when every supplier's part is settled: its order completed or refused by
  the supplier, or the privacy officer's reasoned decision recorded for that supplier — which is
  the only way to settle a supplier the hub could not send an order to.
- :func:`extend`, :func:`refuse`, :func:`refuse_supplier`, :func:`mark_rectified`: the privacy
  officer's decisions, audited, each a step the requester sees.
- :func:`flag_overdue`: open requests past their deadline are flagged once and the requester told.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from regie.accounts import guardians
from regie.agreements.models import Supplier
from regie.agreements.services import Refused, TodoLine
from regie.agreements.services import User as Login
from regie.audit.services import SYSTEM, actor_for, record
from regie.gateway import pseudonyms
from regie.gateway.models import Result
from regie.orders import services as orders
from regie.orders.models import Order, OrderState, Receipt
from regie.roster import services as roster
from regie.roster.models import Student

from . import events
from .models import (
    OPEN_REQUEST_STATES,
    NotificationKind,
    RequestKind,
    RequestOrder,
    RequestState,
    RequestStep,
    RightsRequest,
)
from .notifications import notify
from .services import recipients

# The order each kind fans out to suppliers, with its legal basis; rectification sends none.
ORDER_TYPES: dict[str, tuple[str, str]] = {
    RequestKind.ACCESS: ("access", "AVG art. 15"),
    RequestKind.ERASURE: ("erasure", "AVG art. 17"),
    RequestKind.RESTRICTION: ("restriction", "AVG art. 18"),
    RequestKind.OBJECTION: ("objection", "AVG art. 21"),
}
MAX_EXTENSION_MONTHS = 2
DUE_SOON_DAYS = 7
RECTIFIED = _("gecorrigeerd in de leerlingadministratie")

# Why no order went to a supplier (``RequestOrder.not_sent_reason``, a code shown translated).
NO_ENDPOINT = "no_endpoint"
NO_PSEUDONYM = "no_pseudonym"
NOT_SENT_REASONS: dict[str, str | Promise] = {
    NO_ENDPOINT: _(
        "Deze leverancier heeft geen adres voor opdrachten. De functionaris "
        "gegevensbescherming neemt zelf contact op."
    ),
    NO_PSEUDONYM: _(
        "De hub kent deze leerling bij deze leverancier niet onder een pseudoniem. De "
        "functionaris gegevensbescherming neemt zelf contact op."
    ),
}

# A step recording the privacy officer's refusal for one supplier: "supplier_refusal:<id>".
SUPPLIER_REFUSAL = "supplier_refusal:"

# What the hub itself does on an erasure: what it erases and what it keeps, and why.
HUB_OUTCOME_TEXTS: dict[str, str | Promise] = {
    "results": _("Resultaten die leveranciers over de leerling naar de hub stuurden"),
    "enrolment": _("De inschrijving van de leerling (naam, groep, geboortedatum)"),
    "consents": _("Gegeven en ingetrokken toestemmingen"),
    "log": _("Het logboek van wat de hub verstrekte, en de opdrachten en ontvangstbewijzen"),
}
HUB_OUTCOME_WHY: dict[str, str | Promise] = {
    "erased": _("Verwijderd."),
    "school_duty": _(
        "Bewaard: de school moet dit bijhouden zolang de leerling op school zit (wettelijke plicht "
        "van de leerlingadministratie). Het wordt verwijderd volgens de bewaartermijn daarna."
    ),
    "proof": _(
        "Bewaard: de wet vraagt dat de school kan aantonen wat er is gebeurd (AVG art. 5 lid 2 "
        "en art. 7 lid 1). Dit bevat geen resultaten of andere inhoud."
    ),
}


# --- deadlines -----------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day number ``months`` later, or that month's last day when it has none."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def deadline_for(received: dt.date) -> dt.date:
    """The legal deadline of a request received on ``received``: one month (AVG art. 12(3))."""
    return add_months(received, 1)


def extended_deadline(deadline: dt.date, months: int) -> dt.date:
    """``deadline`` extended by ``months`` (1 or 2), counted from the original deadline."""
    if months not in range(1, MAX_EXTENSION_MONTHS + 1):
        raise Refused(_("Verlengen kan met één of twee maanden."))
    return add_months(deadline, months)


# --- filing --------------------------------------------------------------------------------------


def site_url(path: str) -> str:
    """An absolute URL of the hub for ``path`` (the origin of the issuer), for e-mail."""
    parts = urlsplit(settings.OIDC_ISSUER)
    return f"{parts.scheme}://{parts.netloc}{path}"


def _step(rr: RightsRequest, what: str, text: str = "") -> RequestStep:
    return RequestStep.objects.create(request=rr, at=timezone.now(), what=what, text=text)


def requester_address(rr: RightsRequest) -> str | None:
    """Where mail about ``rr`` goes: the filing guardian's address; none for a pupil's login."""
    account = guardians.account_of(rr.filed_by)
    return account.email if account is not None else None


def _notify(rr: RightsRequest, kind: str) -> None:
    address = requester_address(rr)
    if address is None:
        return
    link = site_url(reverse("portal:request", kwargs={"request_id": rr.pk}))
    notify(kind, address, {"rr": rr, "link": link}, request=rr)


def _recent(user: Any) -> int:
    since = timezone.now() - dt.timedelta(hours=24)
    return RightsRequest.objects.filter(filed_by_id=user.pk, received_at__gte=since).count()


def file(student: Student, kind: str, user: Any, explanation: str = "") -> RightsRequest:
    """File a request of ``kind`` about ``student`` as ``user``; :class:`Refused` (nothing
    stored) for a pupil the login does not act for, an unknown kind or too many requests."""
    if kind not in RequestKind.values:
        raise Refused(_("Kies een recht."))
    if student.pk not in {child.pk for child in guardians.represented(user)}:
        raise Refused(_("Met dit account kan geen verzoek over deze leerling worden ingediend."))
    limit = int(settings.PORTAL_REQUESTS_PER_DAY)
    with transaction.atomic():
        if _recent(user) >= limit:
            raise Refused(
                _(
                    "Met dit account zijn in de afgelopen 24 uur al %(limit)s verzoeken "
                    "ingediend. Probeer het morgen opnieuw, of neem contact op met de school."
                ),
                limit=limit,
            )
        now = timezone.now()
        rr = RightsRequest.objects.create(
            board_id=student.school.board_id,
            student=student,
            kind=kind,
            filed_by=user,
            filed_as="guardian" if guardians.is_guardian(user) else "pupil",
            explanation=explanation.strip()[:5000],
            received_at=now,
            deadline=deadline_for(timezone.localdate(now)),
        )
        _step(rr, "received")
        sent = _fan_out(rr, user)
        if kind == RequestKind.ERASURE:
            rr.hub_outcome = erase_at_hub(student)
        if sent:
            rr.state = RequestState.IN_PROGRESS
        rr.save()
        record(
            events.REQUEST_FILED,
            actor_for(user),
            f"request:{rr.pk}",
            {"kind": kind, "orders": sent, "deadline": rr.deadline.isoformat()},
        )
        _notify(rr, NotificationKind.REQUEST_RECEIVED)
        if kind != RequestKind.RECTIFICATION:
            reevaluate(rr)
    rr.refresh_from_db()
    return rr


def _fan_out(rr: RightsRequest, user: Any) -> int:
    """An order to every recipient (or a line saying why none went); the number sent."""
    if rr.kind not in ORDER_TYPES:
        return 0
    order_type, legal_basis = ORDER_TYPES[rr.kind]
    sent = 0
    for supplier in recipients(rr.student):
        reason = ""
        order = None
        if orders.endpoint_for(supplier) is None:
            reason = NO_ENDPOINT
        elif not pseudonyms.stored(supplier, [rr.student_id]):
            reason = NO_PSEUDONYM
        else:
            order = orders.create_order(
                type=order_type,
                supplier=supplier,
                students=[rr.student],
                legal_basis=legal_basis,
                deadline=rr.deadline,
                details={"rights_request": str(rr.pk)},
                user=user,
            )
            sent += 1
        RequestOrder.objects.create(
            request=rr, supplier=supplier, order=order, not_sent_reason=reason
        )
        _step(rr, "order_sent" if order else "order_not_sent", supplier.name)
    return sent


def erase_at_hub(student: Student) -> list[dict[str, Any]]:
    """Erase what the hub may erase about ``student`` now; what it keeps, and why."""
    erased, _ = Result.objects.filter(student=student).delete()
    return [
        {"what": "results", "done": True, "why": "erased", "count": erased},
        {"what": "enrolment", "done": False, "why": "school_duty"},
        {"what": "consents", "done": False, "why": "proof"},
        {"what": "log", "done": False, "why": "proof"},
    ]


# --- the parts of a request and closing it -------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One supplier's part of a request, as the requester and the privacy officer see it."""

    supplier: Supplier
    order: Order | None
    not_sent: str | Promise  # why no order went ("" when one did)
    statement: str  # the supplier's statement on its final receipt
    officer_refusal: str  # the privacy officer's reason for not pursuing this supplier
    settled: bool
    late: bool  # the order is overdue or failed: the supplier has not answered
    data: dict[str, Any]  # the supplier's answer to an access order


def _officer_refusals(rr: RightsRequest) -> dict[int, str]:
    found: dict[int, str] = {}
    for step in rr.steps.filter(what__startswith=SUPPLIER_REFUSAL):
        found[int(step.what[len(SUPPLIER_REFUSAL) :])] = step.text
    return found


def parts(rr: RightsRequest) -> list[Part]:
    refusals = _officer_refusals(rr)
    result = []
    for line in rr.fan_out.select_related("supplier", "order").order_by("supplier__name", "pk"):
        order = line.order
        receipt: Receipt | None = None
        if order is not None and order.state in (OrderState.COMPLETED, OrderState.REFUSED):
            receipt = (
                order.receipts.filter(status=order.state).order_by("-issued_at", "-pk").first()
            )
        refusal = refusals.get(line.supplier_id, "")
        # A supplier the hub could not send an order to received data all the same: its part
        # is settled only by the privacy officer's recorded decision, never by default.
        settled = bool(refusal) or (
            order is not None and order.state in (OrderState.COMPLETED, OrderState.REFUSED)
        )
        result.append(
            Part(
                supplier=line.supplier,
                order=order,
                not_sent=NOT_SENT_REASONS.get(line.not_sent_reason, line.not_sent_reason),
                statement=receipt.statement if receipt else "",
                officer_refusal=refusal,
                settled=settled,
                late=order is not None
                and order.state in (OrderState.OVERDUE, OrderState.FAILED)
                and not refusal,
                data=receipt.data if receipt and order and order.type == "access" else {},
            )
        )
    return result


def reevaluate(rr: RightsRequest) -> RightsRequest:
    """Close ``rr`` (completed) when every supplier's part is settled; rectification waits for
    the school. Locks the request, so two receipts at once cannot both miss the last one."""
    with transaction.atomic():
        locked = RightsRequest.objects.select_for_update().get(pk=rr.pk)
        if locked.state not in OPEN_REQUEST_STATES or locked.kind == RequestKind.RECTIFICATION:
            return locked
        if not all(part.settled for part in parts(locked)):
            return locked
        _close(locked, RequestState.COMPLETED, "", SYSTEM)
    return locked


def _close(rr: RightsRequest, state: str, decision: str, actor: str) -> None:
    rr.state = state
    rr.decision = decision
    rr.closed_at = timezone.now()
    rr.save(update_fields=["state", "decision", "closed_at"])
    _step(rr, "completed" if state == RequestState.COMPLETED else "refused", decision)
    record(events.REQUEST_CLOSED, actor, f"request:{rr.pk}", {"state": state})
    _notify(rr, NotificationKind.REQUEST_COMPLETED)


def order_changed(order: Order, previous: str) -> None:
    """A linked order changed: a late supplier is a step the requester sees (once per state),
    and the request may close."""
    line = RequestOrder.objects.filter(order=order).select_related("request", "supplier").first()
    if line is None:
        return
    rr = line.request
    told = (OrderState.OVERDUE, OrderState.FAILED, OrderState.COMPLETED, OrderState.REFUSED)
    if order.state in told and rr.state in OPEN_REQUEST_STATES:
        _step(rr, f"supplier_{order.state}", line.supplier.name)
    reevaluate(rr)


# --- the privacy officer's decisions -------------------------------------------------------------


def _open_locked(rr: RightsRequest) -> RightsRequest:
    locked = RightsRequest.objects.select_for_update().get(pk=rr.pk)
    if locked.state not in OPEN_REQUEST_STATES:
        raise Refused(_("Dit verzoek is al afgehandeld."))
    return locked


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise Refused(_("Geef een reden; de aanvrager ziet die."))
    return reason[:2000]


def extend(rr: RightsRequest, months: int, reason: str, user: Any) -> RightsRequest:
    """Extend the deadline once by one or two months, with a reason the requester sees."""
    reason = _reason(reason)
    with transaction.atomic():
        locked = _open_locked(rr)
        if locked.extended_to is not None:
            raise Refused(_("Dit verzoek is al verlengd; dat kan maar één keer."))
        locked.extended_to = extended_deadline(locked.deadline, months)
        locked.extension_reason = reason
        locked.save(update_fields=["extended_to", "extension_reason"])
        _step(locked, "extended", reason)
        record(
            events.REQUEST_EXTENDED,
            actor_for(user),
            f"request:{locked.pk}",
            {"months": months, "to": locked.extended_to.isoformat()},
        )
        _notify(locked, NotificationKind.REQUEST_EXTENDED)
    return locked


def refuse(rr: RightsRequest, reason: str, user: Any) -> RightsRequest:
    """Refuse the whole request, with a reason the requester sees (e.g. a legal duty to keep)."""
    reason = _reason(reason)
    with transaction.atomic():
        locked = _open_locked(rr)
        _close(locked, RequestState.REFUSED, reason, actor_for(user))
    return locked


def refuse_supplier(rr: RightsRequest, supplier: Supplier, reason: str, user: Any) -> RightsRequest:
    """Settle one supplier's part with a reasoned refusal; the request may close."""
    reason = _reason(reason)
    with transaction.atomic():
        locked = _open_locked(rr)
        if not locked.fan_out.filter(supplier=supplier).exists():
            raise Refused(_("Deze leverancier hoort niet bij dit verzoek."))
        if supplier.pk in _officer_refusals(locked):
            raise Refused(_("Voor deze leverancier is al een besluit vastgelegd."))
        _step(locked, f"{SUPPLIER_REFUSAL}{supplier.pk}", reason)
        record(
            events.REQUEST_SUPPLIER_REFUSED,
            actor_for(user),
            f"request:{locked.pk}",
            {"supplier": supplier.pk},
        )
        return reevaluate(locked)


def mark_rectified(rr: RightsRequest, user: Any) -> RightsRequest:
    """A rectification is done: the school corrected it in its pupil administration."""
    with transaction.atomic():
        locked = _open_locked(rr)
        if locked.kind != RequestKind.RECTIFICATION:
            raise Refused(_("Alleen een verzoek om correctie wordt zo afgerond."))
        _close(locked, RequestState.COMPLETED, str(RECTIFIED), actor_for(user))
    return locked


# --- deadlines passing ---------------------------------------------------------------------------


def overdue(requests: QuerySet[RightsRequest], today: dt.date) -> QuerySet[RightsRequest]:
    """Open requests whose (extended) deadline has passed."""
    return requests.filter(state__in=OPEN_REQUEST_STATES).filter(
        Q(extended_to__lt=today) | Q(extended_to__isnull=True, deadline__lt=today)
    )


def due_soon(requests: QuerySet[RightsRequest], today: dt.date) -> QuerySet[RightsRequest]:
    """Open requests due today or within :data:`DUE_SOON_DAYS` days."""
    until = today + dt.timedelta(days=DUE_SOON_DAYS)
    return requests.filter(state__in=OPEN_REQUEST_STATES).filter(
        Q(extended_to__gte=today, extended_to__lte=until)
        | Q(extended_to__isnull=True, deadline__gte=today, deadline__lte=until)
    )


def is_overdue(rr: RightsRequest, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return rr.state in OPEN_REQUEST_STATES and rr.due_on < today


def flag_overdue(today: dt.date | None = None) -> int:
    """Flag each open request past its deadline once (a step), and tell the requester."""
    today = today or timezone.localdate()
    count = 0
    for rr in overdue(RightsRequest.objects.exclude(steps__what="overdue"), today):
        with transaction.atomic():
            locked = RightsRequest.objects.select_for_update().get(pk=rr.pk)
            if locked.steps.filter(what="overdue").exists():
                continue
            _step(locked, "overdue")
            record(
                events.REQUEST_OVERDUE,
                SYSTEM,
                f"request:{locked.pk}",
                {"due": locked.due_on.isoformat()},
            )
            _notify(locked, NotificationKind.REQUEST_OVERDUE)
        count += 1
    return count


# --- what the privacy officer sees ---------------------------------------------------------------


def visible_requests(boards: Iterable[int]) -> QuerySet[RightsRequest]:
    """Requests about pupils of ``boards`` (the boards whose register a login keeps)."""
    return RightsRequest.objects.filter(board_id__in=list(boards)).select_related("student__school")


def dashboard_lines(user: Login) -> list[TodoLine]:
    """The privacy officer's dashboard: requests open, due within a week, overdue."""
    boards = roster.access_for(user).register_boards
    if not boards:
        return []
    requests = visible_requests(boards)
    today = timezone.localdate()
    url = reverse("requests:list")
    return [
        TodoLine(
            _("Verzoeken van ouders en leerlingen die open staan"),
            f"{url}?filter=open",
            requests.filter(state__in=OPEN_REQUEST_STATES).count(),
        ),
        TodoLine(
            _("Verzoeken die binnen 7 dagen af moeten"),
            f"{url}?filter=soon",
            due_soon(requests, today).count(),
        ),
        TodoLine(
            _("Verzoeken die te laat zijn"),
            f"{url}?filter=overdue",
            overdue(requests, today).count(),
        ),
    ]
