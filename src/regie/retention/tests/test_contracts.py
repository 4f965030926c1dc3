"""End of contract: a terminated agreement's supplier is ordered to destroy the data (delivered for
real, over HTTP, to a test supplier endpoint that answers with signed receipts), and the agreement
reaches "data destroyed" only with the supplier's completed receipt — or a statement recorded
otherwise when no order could go. A refusal is recorded and shown, a forged receipt changes
nothing, an overdue order is flagged, and nothing released lets the agreement move on."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from joserfc.jwk import ECKey

from regie.agreements import events as agreement_events
from regie.agreements import services as register
from regie.agreements.models import AgreementStatus, ProcessingAgreement
from regie.agreements.tests.register import make_agreement, make_product, make_supplier
from regie.audit.models import AuditEvent
from regie.jobs.services import queued
from regie.orders import services as orders
from regie.orders.jobs import deliver
from regie.orders.models import Order, OrderState, OrderType, Receipt
from regie.orders.tests.conftest import (  # noqa: F401  (the hub's keys: fixtures)
    World,
    hub_keys_dir,
    hub_keys_in_settings,
    make_world,
)
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import client_for, make_board, make_staff

from .. import clock, events
from ..models import ContractDestruction, ContractState

PAGE = "/privacy/bewaren/contracten/"
REFUSAL = "Wij bewaren deze gegevens zeven jaar: fiscale bewaarplicht (fictief)."


@dataclass
class Contract:
    world: World
    agreement: ProcessingAgreement
    officer: User
    client: Client

    def destruction(self) -> ContractDestruction:
        return ContractDestruction.objects.select_related("order").get(agreement=self.agreement)

    def status(self) -> str:
        self.agreement.refresh_from_db()
        return self.agreement.status


def signatures() -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "board_signatory": "A. Bestuurder",
        "board_signatory_role": "voorzitter college van bestuur",
        "board_signed_on": today - dt.timedelta(days=30),
        "supplier_signatory": "B. Directeur",
        "supplier_signatory_role": "directeur",
        "supplier_signed_on": today - dt.timedelta(days=31),
        "start_date": today - dt.timedelta(days=30),
    }


def active_agreement(world: World) -> ProcessingAgreement:
    """The supplier's agreement with the board: two products (destroyed within 30 and 120 days)
    and two subprocessors, one listed by both schedules."""
    board = world.students[0].school.board
    rekenen = make_product(world.supplier, "Rekenwereld")
    lezen = make_product(world.supplier, "Leeswereld")
    agreement = make_agreement(board, world.supplier, [rekenen, lezen], status="draft")
    first = register.save_schedule(agreement, rekenen, destruction_days=30, user=None)
    second = register.save_schedule(agreement, lezen, destruction_days=120, user=None)
    for schedule in (first, second):
        register.add_subprocessor(
            schedule, name="Wolkenhuis Hosting B.V. (fictief)", location="NL", user=None
        )
    register.add_subprocessor(
        second,
        name="Cloudcompute Inc. (fictief)",
        location="US",
        transfer_mechanism="scc",
        user=None,
    )
    agreement = register.transition(agreement, AgreementStatus.OFFERED, user=None)
    register.update_agreement(agreement, signatures(), user=None)
    agreement = register.transition(agreement, AgreementStatus.SIGNED, user=None)
    return register.transition(agreement, AgreementStatus.ACTIVE, user=None)


@pytest.fixture
def contract(db: None, rng: random.Random, settings: LazySettings) -> Iterator[Contract]:
    settings.SIMULATED_CLOCK = True
    for world in make_world(rng):
        agreement = active_agreement(world)
        board = world.students[0].school.board
        officer, _staff = make_staff(
            board, None, StaffRole.PRIVACY_OFFICER, username="fg-contracten"
        )
        yield Contract(world, agreement, officer, client_for(officer))


def terminate(contract: Contract) -> ContractDestruction:
    """The officer terminates the agreement on its confirmation page."""
    url = reverse("agreements:agreement-confirm", args=[contract.agreement.pk, "terminated"])
    assert contract.client.post(url).status_code == 302
    assert contract.status() == AgreementStatus.TERMINATED
    return contract.destruction()


def delivered(order: Order) -> Order:
    """The queued first attempt runs, as a worker runs it: the order goes to the supplier."""
    assert queued(deliver, {"order": str(order.pk), "attempt": 1}) == 1
    deliver(order=str(order.pk), attempt=1)
    return Order.objects.get(pk=order.pk)


def sent_without_receipts(order: Order) -> Order:
    """The supplier took the order and answers later, at the receipt endpoint."""
    return orders.transition(order, "delivered")


def receipt(contract: Contract, order: Order, status: str, **changes: Any) -> str:
    body = bytes(order.body)
    return contract.world.stub.receipt(json.loads(body), body, status, **changes)


def post_receipt(token: str) -> int:
    return (
        Client().post("/orders/receipts", data=token, content_type="application/jose").status_code
    )


def status_events(agreement: ProcessingAgreement) -> list[dict[str, Any]]:
    return [
        event.details
        for event in AuditEvent.objects.filter(
            event_type=agreement_events.AGREEMENT_STATUS_CHANGED.name,
            subject=f"agreement:{agreement.pk}",
        ).order_by("pk")
    ]


def page(contract: Contract) -> str:
    response = contract.client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "nv.example" not in html  # never a pseudonym
    return html


# --- the order, delivered, completed -------------------------------------------------------------


def test_termination_orders_destruction_and_the_completed_receipt_destroys(
    contract: Contract,
) -> None:
    destruction = terminate(contract)

    assert destruction.state == ContractState.ORDERED
    assert destruction.pupils == 3
    order = destruction.order
    assert order is not None
    assert order.type == OrderType.END_OF_CONTRACT_DESTRUCTION
    assert order.supplier == contract.world.supplier
    assert set(order.students.all()) == set(contract.world.students)
    terminated_on = contract.agreement.terminated_on
    assert terminated_on is not None
    assert order.deadline == terminated_on + dt.timedelta(days=120)  # the longest
    body = json.loads(bytes(order.body))
    assert len(body["subjects"]) == 3
    assert body["details"] == {
        "products": ["Leeswereld", "Rekenwereld"],
        "subprocessors": [
            {"name": "Cloudcompute Inc. (fictief)", "country": "US"},
            {"name": "Wolkenhuis Hosting B.V. (fictief)", "country": "NL"},
        ],
    }
    ordered = AuditEvent.objects.get(event_type=events.CONTRACT_ORDERED.name)
    assert ordered.subject == f"agreement:{contract.agreement.pk}"
    assert ordered.details["order"] == str(order.pk)
    assert "nv.example" not in json.dumps(ordered.details)
    assert "Opdracht tot vernietiging: aangemaakt" in page(contract)

    order = delivered(order)  # the supplier answers with its accepted and completed receipts

    assert contract.world.stub.handled[str(order.pk)] == 1
    assert order.state == OrderState.COMPLETED
    assert [item.status for item in order.receipts.order_by("pk")] == ["accepted", "completed"]
    assert contract.status() == AgreementStatus.DATA_DESTROYED
    assert contract.agreement.data_destroyed_on == clock.today()
    assert contract.destruction().state == ContractState.DESTROYED
    last = AuditEvent.objects.filter(
        event_type=agreement_events.AGREEMENT_STATUS_CHANGED.name
    ).last()
    assert last is not None
    assert last.actor == "system"
    assert last.details["proof"] == f"order:{order.pk}"
    html = page(contract)
    assert "Alle gegevens over deze leerlingen zijn vernietigd." in html
    assert reverse("orders:detail", args=[order.pk]) in html
    assert Order.objects.filter(type=OrderType.END_OF_CONTRACT_DESTRUCTION).count() == 1


def test_the_hand_step_to_data_destroyed_is_refused_while_the_order_runs(
    contract: Contract,
) -> None:
    destruction = terminate(contract)
    assert destruction.order is not None
    url = reverse("agreements:agreement-confirm", args=[contract.agreement.pk, "data_destroyed"])

    response = contract.client.post(url)

    assert response.status_code == 400
    assert "volgt op het bewijs van de leverancier" in response.content.decode()
    # the order's id is no proof before the supplier completed it
    with pytest.raises(register.Refused, match="hoort niet bij deze overeenkomst"):
        register.transition(
            contract.agreement,
            AgreementStatus.DATA_DESTROYED,
            user=None,
            proof=f"order:{destruction.order.pk}",
        )
    assert contract.status() == AgreementStatus.TERMINATED
    send = reverse("retention:contract-send", args=[contract.agreement.pk])
    assert contract.client.post(send).status_code == 302  # nothing sent twice
    assert Order.objects.filter(type=OrderType.END_OF_CONTRACT_DESTRUCTION).count() == 1


def test_a_cancelled_order_may_be_sent_again(contract: Contract) -> None:
    destruction = terminate(contract)
    assert destruction.order is not None
    first = orders.cancel(destruction.order, user=contract.officer)
    assert "Opdracht tot vernietiging versturen" in page(contract)

    send = reverse("retention:contract-send", args=[contract.agreement.pk])
    assert contract.client.post(send).status_code == 302

    again = contract.destruction().order
    assert again is not None
    assert again.pk != first.pk
    assert Order.objects.filter(type=OrderType.END_OF_CONTRACT_DESTRUCTION).count() == 2
    delivered(again)
    assert contract.status() == AgreementStatus.DATA_DESTROYED
    assert status_events(contract.agreement)[-1]["proof"] == f"order:{again.pk}"


# --- refused -------------------------------------------------------------------------------------


def test_a_refusal_is_recorded_with_the_suppliers_reason_and_the_agreement_stays_terminated(
    contract: Contract,
) -> None:
    destruction = terminate(contract)
    assert destruction.order is not None
    order = sent_without_receipts(destruction.order)
    assert post_receipt(receipt(contract, order, "accepted")) == 202

    assert post_receipt(receipt(contract, order, "refused", statement=REFUSAL)) == 202

    assert Order.objects.get(pk=order.pk).state == OrderState.REFUSED
    assert contract.destruction().state == ContractState.REFUSED
    assert contract.status() == AgreementStatus.TERMINATED
    refused = AuditEvent.objects.get(event_type=events.CONTRACT_REFUSED.name)
    assert refused.details["order"] == str(order.pk)
    html = page(contract)
    assert "De leverancier weigerde de opdracht tot vernietiging" in html
    assert REFUSAL in html

    # Later the supplier destroys after all and says so in a letter: recorded, with its text.
    url = reverse("retention:contract-statement", args=[contract.agreement.pk])
    empty = contract.client.post(url, {"statement": "  "})
    assert empty.status_code == 302
    assert "zonder tekst geen bewijs" in contract.client.get(empty["Location"]).content.decode()
    assert contract.status() == AgreementStatus.TERMINATED
    letter = "Brief van 3 maart: alle gegevens zijn alsnog vernietigd (fictief)."
    assert contract.client.post(url, {"statement": letter}).status_code == 302
    assert contract.status() == AgreementStatus.DATA_DESTROYED
    statement = AuditEvent.objects.get(event_type=events.CONTRACT_STATEMENT.name)
    assert statement.actor == f"user:{contract.officer.pk}"
    assert statement.details["statement"] == letter
    assert status_events(contract.agreement)[-1]["proof"] == (
        f"statement:{contract.destruction().pk}"
    )
    assert letter in page(contract)


# --- no order address ----------------------------------------------------------------------------


def test_a_supplier_without_an_order_address_leaves_the_agreement_terminated(
    contract: Contract,
) -> None:
    contract.world.endpoint.delete()

    destruction = terminate(contract)

    assert destruction.state == ContractState.NOT_SENT
    assert destruction.order is None
    assert not Order.objects.filter(type=OrderType.END_OF_CONTRACT_DESTRUCTION).exists()
    assert AuditEvent.objects.get(event_type=events.CONTRACT_NOT_SENT.name).details["reason"] == (
        "no_address"
    )
    html = page(contract)
    assert "kon niet worden verstuurd: de leverancier heeft geen adres voor opdrachten" in html
    send = reverse("retention:contract-send", args=[contract.agreement.pk])
    response = contract.client.post(send)  # still no address: said so, nothing sent
    assert (
        "nog geen adres voor opdrachten"
        in contract.client.get(response["Location"]).content.decode()
    )
    assert not Order.objects.filter(type=OrderType.END_OF_CONTRACT_DESTRUCTION).exists()

    orders.register_endpoint(contract.world.supplier, contract.world.stub.url)
    assert contract.client.post(send).status_code == 302

    destruction = contract.destruction()
    assert destruction.state == ContractState.ORDERED
    assert destruction.order is not None
    delivered(destruction.order)
    assert contract.status() == AgreementStatus.DATA_DESTROYED


def test_without_an_address_a_statement_received_otherwise_is_the_proof(
    contract: Contract,
) -> None:
    contract.world.endpoint.delete()
    destruction = terminate(contract)
    other = make_supplier("Taalrijk Uitgevers (fictief)", "99000002")
    ended = make_agreement(contract.agreement.board, other, [make_product(other, "Taalrijk")])
    ended = register.transition(ended, AgreementStatus.TERMINATED, user=None)
    elsewhere = ContractDestruction.objects.get(agreement=ended)

    # another agreement's destruction is no proof here, nor a statement not yet recorded
    for proof in (f"statement:{elsewhere.pk}", f"statement:{destruction.pk}", "statement:x"):
        with pytest.raises(register.Refused):
            register.transition(
                contract.agreement, AgreementStatus.DATA_DESTROYED, user=None, proof=proof
            )

    url = reverse("retention:contract-statement", args=[contract.agreement.pk])
    assert (
        contract.client.post(url, {"statement": "Verklaring per post (fictief)."}).status_code
        == 302
    )

    assert contract.status() == AgreementStatus.DATA_DESTROYED
    assert contract.destruction().state == ContractState.STATEMENT
    assert contract.destruction().recorded_by == contract.officer


# --- nothing released ----------------------------------------------------------------------------


def test_nothing_released_is_recorded_and_the_agreement_may_move_on(contract: Contract) -> None:
    other = make_supplier("Taalrijk Uitgevers (fictief)", "99000002")
    agreement = make_agreement(contract.agreement.board, other, [make_product(other, "Taalrijk")])

    agreement = register.transition(agreement, AgreementStatus.TERMINATED, user=None)

    destruction = ContractDestruction.objects.get(agreement=agreement)
    assert destruction.state == ContractState.NOTHING_RELEASED
    assert destruction.order is None
    assert AuditEvent.objects.filter(event_type=events.CONTRACT_NOTHING_RELEASED.name).exists()
    assert "nooit gegevens van leerlingen van het bestuur" in page(contract)
    # the supplier with pupils cannot borrow that record as its proof
    contract_destruction = terminate(contract)
    with pytest.raises(register.Refused):
        register.transition(
            contract.agreement,
            AgreementStatus.DATA_DESTROYED,
            user=None,
            proof=f"nothing-released:{destruction.pk}",
        )
    close = reverse("retention:contract-nothing-released", args=[contract.agreement.pk])
    contract.client.post(close)
    assert contract.status() == AgreementStatus.TERMINATED
    assert contract_destruction.state == contract.destruction().state == ContractState.ORDERED

    url = reverse("retention:contract-nothing-released", args=[agreement.pk])
    assert contract.client.post(url).status_code == 302

    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.DATA_DESTROYED
    assert status_events(agreement)[-1]["proof"] == f"nothing-released:{destruction.pk}"


# --- forged ------------------------------------------------------------------------------------


def test_a_forged_receipt_changes_nothing(contract: Contract) -> None:
    destruction = terminate(contract)
    assert destruction.order is not None
    order = sent_without_receipts(destruction.order)
    assert post_receipt(receipt(contract, order, "accepted")) == 202
    forger = ECKey.generate_key("P-256", parameters={"kid": "leverancier-1"}, private=True)
    events_before = AuditEvent.objects.filter(
        event_type=agreement_events.AGREEMENT_STATUS_CHANGED.name
    ).count()

    forged = receipt(contract, order, "completed", private_jwk=forger.as_dict(private=True))
    assert post_receipt(forged) == 400
    other_order = receipt(contract, order, "completed", order_digest="sha-256=:AAAA:")
    assert post_receipt(other_order) == 400

    assert Order.objects.get(pk=order.pk).state == OrderState.ACCEPTED
    assert not Receipt.objects.filter(order=order, status="completed").exists()
    assert contract.status() == AgreementStatus.TERMINATED
    assert contract.destruction().state == ContractState.ORDERED
    assert (
        AuditEvent.objects.filter(event_type=agreement_events.AGREEMENT_STATUS_CHANGED.name).count()
        == events_before
    )
    # the genuine receipt still does it
    assert post_receipt(receipt(contract, order, "completed")) == 202
    assert contract.status() == AgreementStatus.DATA_DESTROYED


# --- overdue ------------------------------------------------------------------------------------


def test_an_overdue_order_is_flagged_and_a_late_receipt_still_closes_it(
    contract: Contract,
) -> None:
    destruction = terminate(contract)
    assert destruction.order is not None
    order = sent_without_receipts(destruction.order)
    assert post_receipt(receipt(contract, order, "accepted")) == 202
    assert "Te laat" not in page(contract)

    clock.advance(121)
    assert orders.chase(clock.today()) == 1

    assert Order.objects.get(pk=order.pk).state == OrderState.OVERDUE
    html = page(contract)
    assert "Te laat: de leverancier had de opdracht uiterlijk op" in html
    assert "1 opdracht is te laat." in html
    assert contract.status() == AgreementStatus.TERMINATED

    assert post_receipt(receipt(contract, order, "completed")) == 202
    assert contract.status() == AgreementStatus.DATA_DESTROYED
    assert contract.agreement.data_destroyed_on == clock.today()
    assert "Te laat:" not in page(contract)


# --- who sees it -------------------------------------------------------------------------------


def test_another_boards_officer_sees_none_of_it(contract: Contract) -> None:
    terminate(contract)
    other_board = make_board("41009", "Stichting Elders (fictief)")
    officer, _staff = make_staff(other_board, None, StaffRole.PRIVACY_OFFICER, username="fg-elders")
    client = client_for(officer)

    html = client.get(PAGE).content.decode()

    assert contract.agreement.title not in html
    assert "Er zijn geen beëindigde overeenkomsten." in html
    url = reverse("retention:contract-statement", args=[contract.agreement.pk])
    assert client.post(url, {"statement": "Nep (fictief)."}).status_code == 404
    assert contract.status() == AgreementStatus.TERMINATED
