"""The last two suppliers' receipts arrive at once, each in its own transaction (two threads, two
database connections): the request still closes, exactly once.

On PostgreSQL both transactions are held at the same point — each has moved its own order to
completed and neither has committed — before the request is re-evaluated: without the lock on the
request, each would see the other's order still open and the request would never close. SQLite
runs writers one after another (``BEGIN IMMEDIATE``), so there the two simply take turns.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.db import connection, connections

from regie.orders import services as orders
from regie.orders.signals import order_changed

from .. import receivers, requests
from ..models import Notification, RequestKind, RequestState, RightsRequest
from .requests_world import (  # noqa: F401  (hub_keys is a fixture)
    World,
    deliver_all,
    hub_keys,
    make_world,
    order_of,
    receipt,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(
    transactional_db: None,
    settings: LazySettings,
    hub_keys: Path,  # noqa: F811
    rng: random.Random,
) -> Iterator[World]:
    yield from make_world(settings, hub_keys, rng)


def test_two_last_receipts_at_once_close_the_request_exactly_once(world: World) -> None:
    for party in world.parties:
        party.stub.mode = "later"
    rr = requests.file(world.child, RequestKind.ERASURE, world.guardian, "")
    officer = User.objects.create_user("fg-brief", password="fictief-wachtwoord-123")
    requests.refuse_supplier(rr, world.released_only, "Per brief gevraagd.", officer)
    deliver_all(rr)
    tokens = []
    for party in world.parties:
        order = order_of(rr, party)
        orders.record_receipt(receipt(party, order, "accepted"))
        tokens.append(receipt(party, order, "completed"))

    both_moved = threading.Barrier(2, timeout=30)
    held = connection.vendor == "postgresql"

    def hold(sender: Any, **kwargs: Any) -> None:
        if held:
            both_moved.wait()

    # the hold runs before the portal's receiver: after the order changed, before re-evaluation
    order_changed.disconnect(dispatch_uid="portal.follow_order")
    order_changed.connect(hold, dispatch_uid="test.hold")
    order_changed.connect(receivers.order_changed, dispatch_uid="portal.follow_order")
    errors: list[BaseException] = []

    def send(token: str) -> None:
        try:
            orders.record_receipt(token)
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    try:
        threads = [threading.Thread(target=send, args=(token,)) for token in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        order_changed.disconnect(dispatch_uid="test.hold")
    assert errors == []
    rr = RightsRequest.objects.get(pk=rr.pk)
    assert rr.state == RequestState.COMPLETED
    assert rr.steps.filter(what="completed").count() == 1
    assert Notification.objects.filter(kind="request_completed", request=rr).count() == 1
