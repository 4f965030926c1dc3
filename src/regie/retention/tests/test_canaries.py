"""Canaries against a live hub: a canary is released over OneRoster like a real pupil, with an
unrelated random pseudonym per supplier and without asking the number service; its deletion is
ordered and confirmed by the suppliers' signed receipts over real HTTP; a supplier that still
names it afterwards — fetching it over OneRoster, posting a result for it, or holding it in an
access answer — is caught with a real token, and a well-behaved one is not."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from django.conf import LazySettings
from django.test import Client
from django.utils import timezone
from joserfc.jwk import ECKey

from regie.agreements.models import Supplier
from regie.audit.models import AuditEvent
from regie.gateway import keys, pseudonyms
from regie.gateway.models import SupplierPseudonym
from regie.gateway.scopes import GRADEBOOK_CREATEPUT, ROSTER_CORE_READ
from regie.gateway.services import register_client
from regie.gateway.tests.conftest import (  # noqa: F401  (fixtures)
    Launchable,
    launchable,
    oidc_keys_dir,
    oidc_keys_in_settings,
)
from regie.gateway.tests.test_gradebook import allow_results, line_item, result_body
from regie.gateway.tests.test_oneroster_rest import make_client, token_for
from regie.nummervoorziening import client as nv
from regie.orders import services as order_services
from regie.orders.jobs import deliver
from regie.orders.models import Order, OrderState, OrderType
from regie.orders.tests.supplier_stub import SupplierStub, serving
from regie.roster.models import Student, StudentStatus

from .. import canaries, dashboard
from ..models import Canary, CanaryChannel, CanaryErasure, CanarySighting

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),  # the number service's batches, for the real pupils
]

ROSTERING = "/ims/oneroster/rostering/v1p2"
GRADEBOOK = "/ims/oneroster/gradebook/v1p2"
SHAPE = re.compile(r"^https?://[^ ]+/lp/\d+/[0-9a-f]{128}$")


@dataclass
class Hub:
    live: Launchable
    stubs: dict[int, SupplierStub]  # supplier pk → its order endpoint

    @property
    def suppliers(self) -> tuple[Supplier, Supplier]:
        return self.live.supplier, self.live.other_supplier


@pytest.fixture
def hub(launchable: Launchable, settings: LazySettings) -> Iterator[Hub]:  # noqa: F811
    """The gateway's live school, each supplier with a receipt-signing client and an order
    endpoint (a stub that acts at once and answers with its signed receipts)."""
    settings.ORDER_RETRY_SCHEDULE = [0, 0, 0]
    settings.ORDER_TIMEOUT_SECONDS = 5
    stubs: dict[int, SupplierStub] = {}
    with ExitStack() as stack:
        for number, supplier in enumerate((launchable.supplier, launchable.other_supplier)):
            key = ECKey.generate_key("P-256", parameters={"kid": f"lev-{number}"}, private=True)
            client, _ = register_client(
                supplier,
                name="Opdrachten (fictief)",
                redirect_uris=[f"https://leverancier-{number}.example/callback"],
                jwks={"keys": [key.as_dict(private=False)]},
            )
            stub = SupplierStub(
                hub_jwks=keys.public_jwks, client_id=client.client_id, jwk=key.as_dict(private=True)
            )
            stack.enter_context(serving(stub))
            order_services.register_endpoint(supplier, stub.url)
            stubs[supplier.pk] = stub
        yield Hub(launchable, stubs)


def roster_api(hub: Hub, *, other: bool = False) -> httpx.Client:
    client, secret = make_client(hub.live, other=other, scopes=(ROSTER_CORE_READ.name,))
    token = token_for(hub.live.base, client, secret, scope=ROSTER_CORE_READ.name)
    return httpx.Client(
        base_url=f"{hub.live.base}{ROSTERING}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def users(api: httpx.Client) -> dict[str, dict[str, Any]]:
    answer = api.get("/users", params={"limit": 1000})
    assert answer.status_code == 200, answer.text
    return {user["sourcedId"]: user for user in answer.json()["users"]}


def pseudonym(student: Student, supplier: Supplier) -> str:
    return SupplierPseudonym.objects.get(student=student, supplier=supplier).value


def plant_one(hub: Hub) -> Canary:
    [canary] = canaries.plant(hub.live.school, hub.live.group)
    return canary


def delete_and_confirm(canary: Canary) -> list[CanaryErasure]:
    """Order the canary deleted and deliver the orders: the stubs answer with completed
    receipts."""
    erasures = canaries.order_deleted(canary)
    for erasure in erasures:
        deliver(order=str(erasure.order_id), attempt=1)
    return list(CanaryErasure.objects.filter(canary=canary).order_by("supplier_id"))


def sightings(supplier: Supplier) -> list[tuple[str, bool]]:
    return sorted(CanarySighting.objects.filter(supplier=supplier).values_list("channel", "breach"))


def test_a_canary_is_released_over_oneroster_like_a_real_pupil(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = hub.live

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the number service was asked about a canary")

    users(roster_api(hub))  # the real pupils' pseudonyms, from the number service, kept
    with monkeypatch.context() as patched:
        for name in ("supplier_pseudonym", "run_batch", "eck_id", "stampseudonym"):
            patched.setattr(nv.NummervoorzieningClient, name, refuse)
        canary = plant_one(hub)
        canary_users = users(roster_api(hub))  # nor does its release
    student = Student.with_canaries.get(pk=canary.student_id)
    assert student.is_canary
    assert not student.stampseudonym
    assert student.groups.get() == live.group
    assert not Student.objects.filter(pk=student.pk).exists()  # the school's manager: real only

    given = {supplier.pk: pseudonym(student, supplier) for supplier in hub.suppliers}
    assert all(SHAPE.match(value) for value in given.values())
    first, second = given.values()
    assert first != second
    assert first.rsplit("/", 1)[1] != second.rsplit("/", 1)[1]  # no shared part

    assert given[live.supplier.pk] in canary_users
    listed = users(roster_api(hub))
    real = pseudonym(live.pupil, live.supplier)  # obtained over the live number service earlier
    assert real in listed, "the real pupil is released"
    assert given[live.supplier.pk] in listed
    mine, theirs = listed[given[live.supplier.pk]], listed[real]
    assert set(mine) == set(theirs)
    assert mine["status"] == theirs["status"] == "active"
    assert mine["roles"] == theirs["roles"]
    assert real.rsplit("/", 1)[0] == first.rsplit("/", 1)[0]  # the same base and key version
    assert mine.get("grades") == theirs.get("grades")  # the group's year level

    listed_other = users(roster_api(hub, other=True))
    assert given[live.other_supplier.pk] in listed_other
    assert given[live.supplier.pk] not in listed_other


def test_the_deletion_is_ordered_at_every_supplier_and_confirmed_by_receipts(hub: Hub) -> None:
    canary = plant_one(hub)
    student = Student.with_canaries.get(pk=canary.student_id)
    erasures = delete_and_confirm(canary)
    assert [erasure.supplier_id for erasure in erasures] == sorted(
        supplier.pk for supplier in hub.suppliers
    )
    for erasure in erasures:
        assert erasure.order is not None
        order = Order.objects.get(pk=erasure.order.pk)
        assert order.state == OrderState.COMPLETED
        assert order.type == OrderType.ERASURE
        body = json.loads(bytes(order.body))
        assert body["subjects"] == [pseudonym(student, erasure.supplier)]
        assert body["details"] == {"reason": "retention"}  # as for a pupil who left
        assert erasure.confirmed_at is not None
    canary.refresh_from_db()
    assert canary.deletion_ordered_at is not None
    assert Student.with_canaries.get(pk=student.pk).status == StudentStatus.LEFT
    assert canaries.order_deleted(canary) == []  # never twice
    # The roster now lists it as to be deleted, as it does a pupil who left.
    listed = users(roster_api(hub))
    assert listed[pseudonym(student, hub.live.supplier)]["status"] == "tobedeleted"
    assert AuditEvent.objects.filter(event_type="retention.canary.deletion_confirmed").count() == 2
    rows = {row.supplier.pk: row for row in canaries.supplier_rows(canary.board)}
    assert {(row.released, row.ordered, row.confirmed, row.breaches) for row in rows.values()} == {
        (1, 1, 1, 0)
    }


def test_a_supplier_that_still_fetches_a_deleted_canary_is_caught_and_a_good_one_is_not(
    hub: Hub,
) -> None:
    live = hub.live
    canary = plant_one(hub)
    student = Student.with_canaries.get(pk=canary.student_id)
    misbehaving, well_behaved = roster_api(hub), roster_api(hub, other=True)
    before = misbehaving.get(f"/users/{pseudonym(student, live.supplier).rsplit('/', 1)[1]}")
    assert before.status_code == 200  # before the order: ordinary use, nothing recorded
    assert not CanarySighting.objects.exists()
    delete_and_confirm(canary)

    users(well_behaved)  # the full sync lists it as tobedeleted: the hub names it, not the supplier
    assert sightings(live.other_supplier) == []

    value = pseudonym(student, live.supplier)
    misbehaving.get(f"/users/{value.rsplit('/', 1)[1]}")
    misbehaving.get("/users", params={"filter": f"sourcedId='{value}'"})
    assert sightings(live.supplier) == [(CanaryChannel.ONEROSTER, True)]
    seen = CanarySighting.objects.get(supplier=live.supplier)
    assert seen.times == 2
    event = AuditEvent.objects.get(event_type="retention.canary.sighted")
    assert event.details == {"canary": canary.pk, "channel": "oneroster", "breach": True}
    assert value not in json.dumps(event.details)
    assert value not in event.subject
    [row] = [row for row in canaries.supplier_rows(canary.board) if row.supplier == live.supplier]
    assert row.flagged
    assert row.breaches == 1
    assert canaries.breaching_suppliers(canary.board) == [live.supplier]
    assert dashboard.breaching_suppliers([canary.board_id]) == 1  # the dashboard's line


def test_a_supplier_that_posts_a_result_for_a_deleted_canary_is_caught(hub: Hub) -> None:
    live = hub.live
    allow_results(live)
    canary = plant_one(hub)
    student = Student.with_canaries.get(pk=canary.student_id)
    client, secret = make_client(live, scopes=(GRADEBOOK_CREATEPUT.name,))
    token = token_for(live.base, client, secret, scope=GRADEBOOK_CREATEPUT.name)
    api = httpx.Client(
        base_url=f"{live.base}{GRADEBOOK}", headers={"Authorization": f"Bearer {token}"}
    )
    assert line_item(api, client, live.group).status_code == 201
    value = pseudonym(student, live.supplier)
    assert api.put("/results/r-1", json=result_body(value)).status_code == 201  # still allowed
    delete_and_confirm(canary)

    late = api.put("/results/r-2", json=result_body(value))
    assert late.status_code == 404  # no longer released: unknown, and caught
    assert sightings(live.supplier) == [(CanaryChannel.RESULTS, True)]
    assert sightings(live.other_supplier) == []


def test_an_access_answer_holding_a_deleted_canary_is_caught(hub: Hub) -> None:
    live = hub.live
    canary = plant_one(hub)
    student = Student.with_canaries.get(pk=canary.student_id)
    delete_and_confirm(canary)
    value = pseudonym(student, live.supplier)
    stub = hub.stubs[live.supplier.pk]
    assert pseudonyms.for_student(live.pupil, live.supplier)  # the real pupil was released
    order = order_services.create_order(
        type=OrderType.ACCESS,
        supplier=live.supplier,
        students=[live.pupil],
        legal_basis="AVG art. 15",
        deadline=timezone.localdate() + dt.timedelta(days=30),
    )
    order_services.transition(order, "delivered")
    order = Order.objects.get(pk=order.pk)
    body = bytes(order.body)
    for status, data in (("accepted", {}), ("completed", {"pupils": [{"id": value}]})):
        token = stub.receipt(json.loads(body), body, status, data=data)
        answer = Client().post("/orders/receipts", data=token, content_type="application/jose")
        assert answer.status_code == 202, answer.content
    assert sightings(live.supplier) == [(CanaryChannel.ACCESS_ANSWER, True)]


def test_a_canary_seen_before_the_deletion_is_confirmed_is_no_breach(hub: Hub) -> None:
    live = hub.live
    canary = plant_one(hub)
    student = Student.with_canaries.get(pk=canary.student_id)
    canaries.order_deleted(canary)  # not delivered yet: nothing confirmed
    value = pseudonym(student, live.supplier)
    roster_api(hub).get(f"/users/{value.rsplit('/', 1)[1]}")
    assert sightings(live.supplier) == [(CanaryChannel.ONEROSTER, False)]
    assert canaries.breaching_suppliers(canary.board) == []
    assert dashboard.breaching_suppliers([canary.board_id]) == 0
