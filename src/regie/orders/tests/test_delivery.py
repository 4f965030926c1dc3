"""Delivering an order to a live supplier endpoint (real HTTP, the real queue's jobs run here):
delivered with receipts → completed; down, 500, garbage or slow → retried; after the schedule →
failed; a finished attempt is never sent again."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from regie.agreements.tests.register import make_supplier
from regie.audit.models import AuditEvent
from regie.conftest import free_port
from regie.gateway.models import SupplierPseudonym
from regie.jobs.services import queued
from regie.orders import services
from regie.orders.jobs import deliver
from regie.orders.models import DeliveryAttempt, Order, OrderState

from .conftest import World


def an_erasure(world: World) -> Order:
    return services.create_order(
        type="erasure",
        supplier=world.supplier,
        students=world.students[:1],
        legal_basis="AVG art. 17 lid 1 sub b",
        deadline=timezone.localdate() + dt.timedelta(days=30),
    )


def run(order: Order, attempt: int) -> Order:
    """The queued attempt runs (as a worker runs it), and the order as it is after."""
    assert queued(deliver, {"order": str(order.pk), "attempt": attempt}) == 1
    deliver(order=str(order.pk), attempt=attempt)
    return Order.objects.get(pk=order.pk)


def test_an_order_is_stored_with_its_signed_body_and_its_delivery_deferred(world: World) -> None:
    order = an_erasure(world)
    body = json.loads(bytes(order.body))
    assert body["id"] == str(order.pk)
    assert body["subjects"] == ["https://nv.example/lp/1/" + "0" * 128]
    assert body["receipts"] == "http://127.0.0.1:8000/orders/receipts"
    assert order.state == OrderState.CREATED
    assert list(order.students.all()) == world.students[:1]
    assert queued(deliver, {"order": str(order.pk), "attempt": 1}) == 1
    # the job's payload and the audit carry the order's id, never a pseudonym
    event = AuditEvent.objects.get(event_type="orders.order.created")
    assert "nv.example" not in json.dumps(event.details) + event.subject


def test_an_order_names_the_pupils_only_by_that_suppliers_own_pseudonyms(world: World) -> None:
    # The same pupils are known to another supplier under other pseudonyms (DESIGN §1: nothing a
    # supplier receives links a pupil across suppliers): none of those may reach this supplier.
    other = make_supplier(name="Taalrijk Uitgevers (fictief)", kvk="87654321")
    for number, student in enumerate(world.students):
        SupplierPseudonym.objects.create(
            student=student, supplier=other, value=f"https://nv.example/lp/1/{number + 1000:0128x}"
        )
    order = services.create_order(
        type="erasure",
        supplier=world.supplier,
        students=world.students,
        legal_basis="AVG art. 17 lid 1 sub b",
        deadline=timezone.localdate() + dt.timedelta(days=30),
    )
    own = set(
        SupplierPseudonym.objects.filter(supplier=world.supplier).values_list("value", flat=True)
    )
    others = set(SupplierPseudonym.objects.filter(supplier=other).values_list("value", flat=True))
    subjects = json.loads(bytes(order.body))["subjects"]
    assert set(subjects) == own
    assert not others & set(subjects)
    assert not any(value in bytes(order.body).decode() for value in others)


def test_a_delivered_order_with_both_receipts_is_completed(world: World) -> None:
    order = run(an_erasure(world), 1)
    assert order.state == OrderState.COMPLETED
    assert [receipt.status for receipt in order.receipts.order_by("issued_at", "pk")] == [
        "accepted",
        "completed",
    ]
    assert world.stub.handled == {str(order.pk): 1}
    attempt = DeliveryAttempt.objects.get(order=order)
    assert (attempt.number, attempt.delivered, attempt.status_code) == (1, True, 200)


def test_a_finished_attempt_is_never_sent_again(world: World) -> None:
    order = run(an_erasure(world), 1)
    deliver(order=str(order.pk), attempt=1)
    assert world.stub.received == {str(order.pk): 1}


def test_a_supplier_that_is_down_gets_the_next_attempt_and_completes_when_back(
    world: World,
) -> None:
    world.endpoint.url = f"http://127.0.0.1:{free_port()}/orders"  # nobody listens there
    world.endpoint.save()
    order = run(an_erasure(world), 1)
    assert order.state == OrderState.CREATED
    assert DeliveryAttempt.objects.get(order=order, number=1).outcome == "ConnectError"
    world.endpoint.url = world.stub.url
    world.endpoint.save()
    order = run(order, 2)
    assert order.state == OrderState.COMPLETED
    assert world.stub.handled == {str(order.pk): 1}


@pytest.mark.parametrize(
    ("mode", "outcome"),
    [("error", "HTTP 500"), ("garbage", "unreadable answer"), ("slow", "ReadTimeout")],
)
def test_a_bad_answer_is_retried(world: World, mode: str, outcome: str) -> None:
    world.stub.mode = mode
    order = run(an_erasure(world), 1)
    assert order.state == OrderState.CREATED
    assert DeliveryAttempt.objects.get(order=order, number=1).outcome == outcome
    world.stub.mode = "ok"
    world.stub.release.set()
    order = run(order, 2)
    assert order.state == OrderState.COMPLETED


def test_after_the_last_attempt_the_order_has_failed_and_may_be_retried(world: World) -> None:
    world.stub.mode = "error"
    order = an_erasure(world)
    for attempt in (1, 2, 3):
        order = run(order, attempt)
    assert order.state == OrderState.FAILED
    assert queued(deliver, {"order": str(order.pk), "attempt": 4}) == 0
    assert AuditEvent.objects.filter(event_type="orders.attempt.failed").count() == 3

    world.stub.mode = "ok"
    services.retry(order, user=None)
    assert run(order, 4).state == OrderState.COMPLETED


def test_a_cancelled_order_is_not_sent(world: World) -> None:
    order = an_erasure(world)
    services.cancel(order, user=None)
    deliver(order=str(order.pk), attempt=1)
    assert world.stub.received == {}
    assert Order.objects.get(pk=order.pk).state == OrderState.CANCELLED


def test_an_order_past_its_deadline_is_overdue_and_a_late_receipt_still_completes_it(
    world: World,
) -> None:
    world.stub.mode = "error"
    order = run(an_erasure(world), 1)
    Order.objects.filter(pk=order.pk).update(deadline=timezone.localdate() - dt.timedelta(days=1))
    assert services.chase() == 1
    assert Order.objects.get(pk=order.pk).state == OrderState.OVERDUE
    world.stub.mode = "ok"
    assert run(order, 2).state == OrderState.COMPLETED
