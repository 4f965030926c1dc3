"""Receipts at ``POST /orders/receipts``: a good one is recorded (202) and moves the order on;
a forged, replayed, mismatched, old or other-pupil receipt is refused (400/409), audited, and
changes nothing."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from joserfc.jwk import ECKey

from regie.agreements.services import Refused
from regie.audit.models import AuditEvent
from regie.orders import services
from regie.orders.jobs import deliver
from regie.orders.models import Order, OrderState, Receipt

from .conftest import World

URL = "/orders/receipts"


def a_sent_order(world: World) -> Order:
    """An order the supplier received, which answered without receipts (it acts later)."""
    order = services.create_order(
        type="erasure",
        supplier=world.supplier,
        students=world.students[:2],
        legal_basis="AVG art. 17 lid 1 sub b",
        deadline=timezone.localdate() + dt.timedelta(days=30),
    )
    services.transition(order, "delivered")
    return Order.objects.get(pk=order.pk)


def receipt(world: World, order: Order, status: str = "accepted", **changes: Any) -> str:
    return world.stub.receipt(json.loads(bytes(order.body)), bytes(order.body), status, **changes)


def post(token: str, content_type: str = "application/jose") -> Any:
    return Client().post(URL, data=token, content_type=content_type)


def test_receipts_move_the_order_to_accepted_and_then_completed(world: World) -> None:
    order = a_sent_order(world)
    assert post(receipt(world, order, "accepted")).status_code == 202
    assert Order.objects.get(pk=order.pk).state == OrderState.ACCEPTED
    assert post(receipt(world, order, "completed")).status_code == 202
    order = Order.objects.get(pk=order.pk)
    assert order.state == OrderState.COMPLETED
    kept = order.receipts.order_by("pk")
    assert [item.status for item in kept] == ["accepted", "completed"]
    assert all(item.client == world.client and item.verified_at for item in kept)
    assert AuditEvent.objects.filter(event_type="orders.receipt.recorded").count() == 2


def refused(world: World, order: Order, token: str, status: int, reason: str) -> None:
    state = Order.objects.get(pk=order.pk).state
    receipts = Receipt.objects.count()
    audited = AuditEvent.objects.filter(event_type="orders.receipt.refused").count()
    response = post(token)
    assert response.status_code == status
    assert response["content-type"] == "application/problem+json"
    assert response.json()["detail"] == reason
    assert "nv.example" not in response.content.decode()
    assert Order.objects.get(pk=order.pk).state == state
    assert Receipt.objects.count() == receipts
    assert AuditEvent.objects.filter(event_type="orders.receipt.refused").count() == audited + 1


def test_a_receipt_with_a_wrong_signature_is_refused(world: World) -> None:
    order = a_sent_order(world)
    forger = ECKey.generate_key("P-256", parameters={"kid": "leverancier-1"}, private=True)
    token = receipt(world, order, private_jwk=forger.as_dict(private=True))
    refused(world, order, token, 400, "signature does not verify")


def test_a_receipt_with_another_orders_digest_is_refused(world: World) -> None:
    order = a_sent_order(world)
    other = a_sent_order(world)
    token = receipt(world, order, order_digest=other.digest)
    refused(world, order, token, 400, "order_digest differs from the order's")


def test_an_old_receipt_is_refused(world: World) -> None:
    order = a_sent_order(world)
    token = receipt(world, order, now=int(time.time()) - 3600)
    refused(world, order, token, 400, "iat outside the tolerance")


def test_a_receipt_about_a_pupil_not_in_the_order_is_refused(world: World) -> None:
    order = a_sent_order(world)
    token = receipt(world, order, subjects=["https://nv.example/lp/1/" + "f" * 128])
    refused(world, order, token, 400, "subjects not in the order")


def test_a_replayed_receipt_is_refused_with_409(world: World) -> None:
    order = a_sent_order(world)
    token = receipt(world, order)
    assert post(token).status_code == 202
    refused(world, order, token, 409, "jti seen already (replay)")


def test_a_receipt_whose_status_does_not_follow_is_refused(world: World) -> None:
    order = a_sent_order(world)
    refused(
        world,
        order,
        receipt(world, order, "completed"),
        400,
        "status does not follow the order's state",
    )


def test_a_receipt_for_an_unknown_order_or_by_another_client_is_refused(world: World) -> None:
    order = a_sent_order(world)
    unknown = json.loads(bytes(order.body)) | {"id": "0b2a5c1e-7f1d-4f3e-9a8b-1c2d3e4f5a6b"}
    token = world.stub.receipt(unknown, bytes(order.body), "accepted")
    refused(world, order, token, 400, "unknown order")
    refused(
        world,
        order,
        receipt(world, order, client_id="someone-else"),
        400,
        "iss is not a registered client of the order's supplier",
    )


def test_garbage_and_other_media_types_are_refused(world: World) -> None:
    order = a_sent_order(world)
    refused(world, order, "not.a.receipt", 400, "receipt is not a compact JWS")
    assert post(receipt(world, order), content_type="application/json").status_code == 415
    assert Client().get(URL).status_code == 405


def test_the_same_receipts_in_a_redelivery_answer_are_simply_recorded_already(
    world: World,
) -> None:
    order = a_sent_order(world)
    Order.objects.filter(pk=order.pk).update(state=OrderState.CREATED, sent_at=None)
    deliver(order=str(order.pk), attempt=1)
    assert Order.objects.get(pk=order.pk).state == OrderState.COMPLETED
    tokens = world.stub.receipts[str(order.pk)]
    for token in tokens:
        assert services.record_receipt(token, via="response").order_id == order.pk
    assert Receipt.objects.filter(order=order).count() == 2
    assert AuditEvent.objects.filter(event_type="orders.receipt.refused").count() == 0


@pytest.mark.parametrize(
    ("state", "event"),
    [("created", "accepted"), ("completed", "refused"), ("cancelled", "retry"), ("sent", "failed")],
)
def test_the_state_machine_refuses_what_does_not_follow(state: str, event: str) -> None:
    with pytest.raises(Refused) as caught:
        services.next_state(state, event)
    assert "kan niet" in caught.value.reason
