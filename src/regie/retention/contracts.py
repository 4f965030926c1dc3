"""End of contract: when an agreement is terminated, its supplier is ordered to destroy the data
of the board's pupils — and, through it, its subprocessors as the agreement lists them — and the
agreement reaches "data destroyed" only with the proof of it.

- :func:`on_agreement_status_changed` (``agreements.signals.agreement_status_changed``, in the
  termination's transaction) calls :func:`order_destruction`: one ``end-of-contract-destruction``
  order about every pupil of the board the supplier was given a pseudonym of, with
  ``details.products`` (the products of the agreement's schedules) and
  ``details.subprocessors`` (name, country), due on the termination day plus the longest
  ``destruction_days`` of the schedules. The :class:`~.models.ContractDestruction` records it —
  or that the supplier has no order address (the agreement stays terminated; the officer may
  send it later, or record a statement received otherwise), or that nothing was ever released
  (the agreement may move on, :func:`close_nothing_released`).
- :func:`on_order_changed` (``orders.signals.order_changed``, in the receipt's transaction):
  the order completed — which only the supplier's verified, signed completed receipt does —
  moves the agreement to "data destroyed" as the system, with the proof ``order:<id>``; a
  refused order is recorded (the reason is the refused receipt's statement) and the agreement
  stays terminated. An overdue order is the order's own state (``orders.services.chase``).
- :func:`record_statement`: a statement of destruction received otherwise (no order address,
  a failed or refused order), with its text, audited; the proof ``statement:<id>``.

The proofs are checked by :func:`register_proofs` (registered in ``RetentionConfig.ready``) for
``agreements.services.transition``: a proof string names a record here, and the record must say
so; a forged receipt never completes the order (``orders.services.record_receipt`` refuses it),
so it changes nothing here either.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib.auth.models import User as AuthUser
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from regie.agreements import services as register
from regie.agreements.models import AgreementStatus, ProcessingAgreement, Subprocessor
from regie.agreements.services import Refused
from regie.audit.services import SYSTEM, actor_for, record
from regie.core.models import School
from regie.gateway import pseudonyms
from regie.orders import services as orders
from regie.orders.models import Order, OrderState, OrderType
from regie.roster.models import Student

from . import clock, events
from .models import ContractDestruction, ContractState

ORDER_TYPE = OrderType.END_OF_CONTRACT_DESTRUCTION
LEGAL_BASIS = "AVG art. 28 lid 3 sub g (einde van de verwerkersovereenkomst)"
DEFAULT_DESTRUCTION_DAYS = 90  # an agreement without schedules: the schedule's own default
NO_ADDRESS = "no_address"

# Proof kinds (``<kind>:<id>``) this module vouches for, for "data destroyed".
PROOF_ORDER = "order"
PROOF_STATEMENT = "statement"
PROOF_NOTHING_RELEASED = "nothing-released"

# A statement received otherwise may be recorded when the order did not reach the supplier or
# the supplier refused it; while an order is open, its receipt is the proof.
STATEMENT_STATES = (ContractState.NOT_SENT, ContractState.REFUSED)


def released_pupils(agreement: ProcessingAgreement) -> list[Student]:
    """The board's pupils the agreement's supplier was given a pseudonym of (so may hold data
    about), oldest first."""
    if agreement.board_id is None:  # an offer: no board, no pupils
        return []
    schools = School.objects.filter(board_id=agreement.board_id).values_list("pk", flat=True)
    held = pseudonyms.kept(agreement.supplier, schools)
    return list(Student.objects.filter(pk__in=list(held)).select_related("school").order_by("pk"))


def order_details(agreement: ProcessingAgreement) -> dict[str, Any]:
    """``details`` of the order: the products of the schedules and the subprocessors they list
    (name and country, each once), by name."""
    schedules = agreement.schedules.select_related("product").order_by("product__name")
    subprocessors = {
        (item.name, item.location)
        for item in Subprocessor.objects.filter(schedule__agreement=agreement)
    }
    return {
        "products": [schedule.product.name for schedule in schedules],
        "subprocessors": [
            {"name": name, "country": country} for name, country in sorted(subprocessors)
        ],
    }


def destruction_days(agreement: ProcessingAgreement) -> int:
    longest = agreement.schedules.aggregate(days=Max("destruction_days"))["days"]
    return DEFAULT_DESTRUCTION_DAYS if longest is None else int(longest)


def _deadline(agreement: ProcessingAgreement, again: bool) -> dt.date:
    """The termination day plus the longest destruction period; for an order sent later (an
    order address registered since), today plus that period."""
    start = agreement.terminated_on or clock.today()
    if again:
        start = max(start, clock.today())
    return start + dt.timedelta(days=destruction_days(agreement))


@transaction.atomic
def order_destruction(
    agreement: ProcessingAgreement, *, user: AuthUser | None = None
) -> ContractDestruction:
    """Order the supplier of the terminated ``agreement`` to destroy what it holds of the board's
    pupils (once: an order sent, or nothing released, is returned as it is); a supplier without
    an order address is recorded, and this may be called again once it has one — or once the
    officer cancelled the order."""
    agreement = ProcessingAgreement.objects.select_related("supplier").get(pk=agreement.pk)
    if agreement.status != AgreementStatus.TERMINATED or agreement.board_id is None:
        raise Refused(
            _("Alleen bij een beëindigde overeenkomst gaat er een opdracht tot vernietiging.")
        )
    existing = (
        ContractDestruction.objects.select_for_update(of=("self",))
        .filter(agreement=agreement)
        .first()
    )
    if existing is not None and not may_send_again(existing):
        return existing
    destruction = existing or ContractDestruction(agreement=agreement)
    students = released_pupils(agreement)
    destruction.pupils = len(students)
    destruction.deadline = _deadline(agreement, again=existing is not None)
    destruction.recorded_by = user
    subject = f"agreement:{agreement.pk}"
    if not students:
        destruction.state = ContractState.NOTHING_RELEASED
        destruction.problem = ""
        destruction.save()
        record(events.CONTRACT_NOTHING_RELEASED, actor_for(user), subject, {"pupils": 0})
        return destruction
    if orders.endpoint_for(agreement.supplier) is None:
        destruction.state = ContractState.NOT_SENT
        destruction.problem = NO_ADDRESS
        destruction.save()
        record(
            events.CONTRACT_NOT_SENT,
            actor_for(user),
            subject,
            {"reason": NO_ADDRESS, "supplier": agreement.supplier_id, "pupils": len(students)},
        )
        return destruction
    order = orders.create_order(
        type=ORDER_TYPE,
        supplier=agreement.supplier,
        students=students,
        legal_basis=LEGAL_BASIS,
        deadline=destruction.deadline,
        details=order_details(agreement),
        user=user,
    )
    destruction.order = order
    destruction.state = ContractState.ORDERED
    destruction.problem = ""
    destruction.save()
    record(
        events.CONTRACT_ORDERED,
        actor_for(user),
        subject,
        {
            "order": str(order.pk),
            "supplier": agreement.supplier_id,
            "pupils": len(students),
            "deadline": destruction.deadline.isoformat(),
        },
    )
    return destruction


def _destroyed_on(agreement: ProcessingAgreement) -> dt.date:
    """The day of "data destroyed": the retention day, never before the termination."""
    today = clock.today()
    ended = agreement.terminated_on
    return max(today, ended) if ended is not None else today


def _to_data_destroyed(agreement: ProcessingAgreement, proof: str, user: AuthUser | None) -> None:
    register.transition(
        agreement,
        AgreementStatus.DATA_DESTROYED,
        user=user,
        on=_destroyed_on(agreement),
        proof=proof,
    )


# --- receivers ---------------------------------------------------------------------------------


def on_agreement_status_changed(
    sender: object, agreement: ProcessingAgreement, before: str, to: str, **kwargs: object
) -> None:
    """A terminated agreement of a board: order the destruction (in the same transaction)."""
    if to == AgreementStatus.TERMINATED and agreement.board_id is not None:
        order_destruction(agreement)


def on_order_changed(sender: object, order: Order, previous: str, **kwargs: object) -> None:
    """The destruction order completed → "data destroyed"; refused → recorded, stays terminated.

    In the receipt's transaction: if the agreement's step fails, the receipt is not recorded
    either (and the supplier sends it again)."""
    if order.type != ORDER_TYPE or order.state not in (OrderState.COMPLETED, OrderState.REFUSED):
        return
    destruction = (
        ContractDestruction.objects.select_for_update(of=("self",))
        .select_related("agreement")
        .filter(order=order)
        .first()
    )
    if destruction is None or destruction.state != ContractState.ORDERED:
        return
    agreement = destruction.agreement
    if order.state == OrderState.REFUSED:
        destruction.state = ContractState.REFUSED
        destruction.save(update_fields=["state", "updated_at"])
        record(
            events.CONTRACT_REFUSED,
            SYSTEM,
            f"agreement:{agreement.pk}",
            {"order": str(order.pk), "supplier": agreement.supplier_id},
        )
        return
    destruction.state = ContractState.DESTROYED
    destruction.save(update_fields=["state", "updated_at"])
    if agreement.status == AgreementStatus.TERMINATED:
        _to_data_destroyed(agreement, f"{PROOF_ORDER}:{order.pk}", None)


# --- what the privacy officer records ------------------------------------------------------------


def may_send_again(destruction: ContractDestruction) -> bool:
    """Whether the order may be sent (again): none could be sent, or the officer cancelled it."""
    order = destruction.order
    return destruction.state == ContractState.NOT_SENT or (
        destruction.state == ContractState.ORDERED
        and order is not None
        and order.state == OrderState.CANCELLED
    )


def may_record_statement(destruction: ContractDestruction) -> bool:
    """Whether a statement received otherwise may be recorded: the order could not be sent, was
    refused, failed to be delivered after every attempt, or was cancelled."""
    if destruction.agreement.status != AgreementStatus.TERMINATED:
        return False
    if destruction.state in STATEMENT_STATES:
        return True
    order = destruction.order
    return destruction.state == ContractState.ORDERED and (
        order is not None and order.state in (OrderState.FAILED, OrderState.CANCELLED)
    )


@transaction.atomic
def record_statement(
    destruction: ContractDestruction, text: str, *, user: AuthUser | None
) -> ContractDestruction:
    """Record the supplier's statement of destruction received otherwise (its text), audited,
    and move the agreement to "data destroyed" with it; :class:`Refused` with the reason."""
    text = text.strip()
    if not text:
        raise Refused(
            _("Neem de tekst van de verklaring van de leverancier over: zonder tekst geen bewijs."),
            field="statement",
        )
    destruction = (
        ContractDestruction.objects.select_for_update(of=("self",))
        .select_related("agreement", "order")
        .get(pk=destruction.pk)
    )
    if not may_record_statement(destruction):
        raise Refused(
            _(
                "Hier volgt de status ‘gegevens vernietigd’ op het ontvangstbewijs van de "
                "leverancier. Een verklaring die u op een andere manier kreeg, legt u alleen vast "
                "als de opdracht niet verstuurd kon worden, mislukte of werd geweigerd."
            )
        )
    destruction.state = ContractState.STATEMENT
    destruction.statement = text
    destruction.recorded_by = user
    destruction.save()
    record(
        events.CONTRACT_STATEMENT,
        actor_for(user),
        f"agreement:{destruction.agreement_id}",
        {
            "statement": text,
            "order": str(destruction.order_id) if destruction.order_id else None,
        },
    )
    _to_data_destroyed(destruction.agreement, f"{PROOF_STATEMENT}:{destruction.pk}", user)
    return destruction


@transaction.atomic
def close_nothing_released(
    destruction: ContractDestruction, *, user: AuthUser | None
) -> ContractDestruction:
    """The supplier was never given data of the board's pupils: the agreement moves on to "data
    destroyed" with that record as its proof (checked again now)."""
    destruction = (
        ContractDestruction.objects.select_for_update(of=("self",))
        .select_related("agreement")
        .get(pk=destruction.pk)
    )
    if destruction.state != ContractState.NOTHING_RELEASED or released_pupils(
        destruction.agreement
    ):
        raise Refused(
            _(
                "De leverancier kreeg wel gegevens van leerlingen van het bestuur: de status "
                "‘gegevens vernietigd’ volgt op haar ontvangstbewijs."
            )
        )
    _to_data_destroyed(destruction.agreement, f"{PROOF_NOTHING_RELEASED}:{destruction.pk}", user)
    return destruction


# --- the proofs, for agreements.services.transition ----------------------------------------------


def _destruction(agreement: ProcessingAgreement, value: str) -> ContractDestruction | None:
    if not value.isdigit() or len(value) > 18:
        return None
    return (
        ContractDestruction.objects.select_related("order")
        .filter(pk=int(value), agreement_id=agreement.pk)
        .first()
    )


def order_proves(agreement: ProcessingAgreement, value: str) -> bool:
    """``order:<id>``: the agreement's destruction order, completed — which only the supplier's
    verified completed receipt does (``orders.services.record_receipt``, which stores the receipt
    right after, in the same transaction)."""
    try:
        order_id = uuid.UUID(value)
    except ValueError:
        return False
    return ContractDestruction.objects.filter(
        agreement_id=agreement.pk,
        order_id=order_id,
        state=ContractState.DESTROYED,
        order__type=ORDER_TYPE,
        order__state=OrderState.COMPLETED,
    ).exists()


def statement_proves(agreement: ProcessingAgreement, value: str) -> bool:
    """``statement:<id>``: a statement of destruction recorded for this agreement."""
    destruction = _destruction(agreement, value)
    return destruction is not None and destruction.state == ContractState.STATEMENT


def nothing_released_proves(agreement: ProcessingAgreement, value: str) -> bool:
    """``nothing-released:<id>``: the supplier was never given a pupil of the board."""
    destruction = _destruction(agreement, value)
    return (
        destruction is not None
        and destruction.state == ContractState.NOTHING_RELEASED
        and not released_pupils(agreement)
    )


def register_proofs() -> None:
    register.register_proof(PROOF_ORDER, order_proves)
    register.register_proof(PROOF_STATEMENT, statement_proves)
    register.register_proof(PROOF_NOTHING_RELEASED, nothing_released_proves)
