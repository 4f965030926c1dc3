"""Who may obtain what, over real HTTP (the hub's client against pytest-django's live server).

A LAS client obtains stampseudonyms and ECK iDs (and substitutions), never supplier pseudonyms; a
hub client obtains supplier pseudonyms only for the suppliers in its registration, which it
declares itself. Every refusal is a 403 problem detail and an audit event; every change of a
hub's suppliers is an audit event naming the supplier ids added and removed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import httpx
import pytest
from pytest_django.live_server_helper import LiveServer

from regie.audit.models import AuditEvent
from regie.conftest import HUB_OIN, SUPPLIER_KVK, UNDECLARED_KVK, make_hpgn
from regie.nummervoorziening import events, services
from regie.nummervoorziening.client import (
    InvalidInput,
    NummervoorzieningClient,
    OperationNotPermitted,
    Registration,
    SupplierNotDeclared,
)
from regie.nummervoorziening.models import Batch, Client, ClientSupplier

pytestmark = pytest.mark.django_db(transaction=True)

CHAIN = "http://purl.edustandaard.nl/begrippenkader/e7ec7d3c-c235-4513-bfb6-e54e66854795"
PO = "http://purl.edustandaard.nl/begrippenkader/512e4729-03a4-43a2-95ba-758071d1b725"
SUPPLIER_OIN = "00000004000000000123"


@pytest.fixture
def las(
    live_server: LiveServer, las_client: tuple[Client, str]
) -> Iterator[NummervoorzieningClient]:
    with NummervoorzieningClient(
        f"{live_server.url}/nummervoorziening", las_client[1], 10
    ) as client:
        yield client


@pytest.fixture
def hub(
    live_server: LiveServer, hub_client: tuple[Client, str]
) -> Iterator[NummervoorzieningClient]:
    with NummervoorzieningClient(
        f"{live_server.url}/nummervoorziening", hub_client[1], 10
    ) as client:
        yield client


def eck_id_of(client: NummervoorzieningClient, rng: random.Random) -> str:
    return client.eck_id(client.stampseudonym(make_hpgn(rng)), CHAIN, PO)


def refusals() -> list[dict[str, str]]:
    return [
        {"actor": event.actor, **event.details}
        for event in AuditEvent.objects.filter(event_type=events.REQUEST_REFUSED.name).order_by(
            "id"
        )
    ]


def supplier_changes() -> list[tuple[str, list[str], list[str]]]:
    return [
        (event.actor, event.details["added"], event.details["removed"])
        for event in AuditEvent.objects.filter(
            event_type=events.CLIENT_SUPPLIERS_CHANGED.name
        ).order_by("id")
    ]


# --- A LAS client --------------------------------------------------------------------------------


@pytest.mark.usefixtures("worker")
def test_a_las_client_obtains_stampseudonyms_eck_ids_and_substitutions(
    las: NummervoorzieningClient, rng: random.Random
) -> None:
    old, new = make_hpgn(rng), make_hpgn(rng)
    stampseudonym = las.stampseudonym(old)
    assert las.eck_id(stampseudonym, CHAIN, PO).startswith("https://")
    assert las.replace_stampseudonym(new, old) == stampseudonym
    result = las.run_batch(
        "eckid", [stampseudonym], chain_id=CHAIN, sector_id=PO, max_wait_seconds=120
    )
    assert list(result.success) == [0]
    assert las.registration().role == "las"
    assert las.registration().suppliers == ()


def test_a_las_client_is_refused_supplier_pseudonyms(
    las: NummervoorzieningClient, las_client: tuple[Client, str], rng: random.Random
) -> None:
    eck_id = eck_id_of(las, rng)
    with pytest.raises(OperationNotPermitted) as single:
        las.supplier_pseudonym(eck_id, SUPPLIER_KVK, PO)
    with pytest.raises(OperationNotPermitted) as batch:
        las.submit_supplier_pseudonym_batch([eck_id], SUPPLIER_KVK, PO)
    with pytest.raises(OperationNotPermitted):
        las.run_batch("supplier", [eck_id], supplier_id=SUPPLIER_KVK, sector_id=PO)
    assert (single.value.status, single.value.code) == (403, "operation-not-permitted")
    assert batch.value.code == "operation-not-permitted"
    assert eck_id not in str(single.value)
    assert not Batch.objects.filter(kind="supplier").exists()
    actor = las_client[0].audit_actor
    assert refusals() == [
        {"actor": actor, "operation": "supplier-pseudonym", "reason": "operation-not-permitted"},
        {"actor": actor, "operation": "supplier-batch", "reason": "operation-not-permitted"},
        {"actor": actor, "operation": "supplier-batch", "reason": "operation-not-permitted"},
    ]


def test_a_las_client_cannot_declare_suppliers(
    las: NummervoorzieningClient, las_client: tuple[Client, str]
) -> None:
    with pytest.raises(OperationNotPermitted) as refused:
        las.declare_suppliers([SUPPLIER_KVK])
    assert refused.value.status == 403
    assert not ClientSupplier.objects.exists()
    assert supplier_changes() == []
    assert refusals() == [
        {
            "actor": las_client[0].audit_actor,
            "operation": "declare-suppliers",
            "reason": "operation-not-permitted",
        }
    ]


def test_a_refusal_is_an_rfc_9457_problem(
    live_server: LiveServer, las_client: tuple[Client, str], hub_client: tuple[Client, str]
) -> None:
    body = {
        "eckId": "https://nv.example/1/" + "0" * 128,
        "supplierId": SUPPLIER_KVK,
        "sectorId": PO,
    }
    url = f"{live_server.url}/nummervoorziening/api/v1/supplier-pseudonyms"
    for key, code in (
        (las_client[1], "operation-not-permitted"),
        (hub_client[1], "supplier-not-declared"),
    ):
        if code == "supplier-not-declared":
            body["supplierId"] = UNDECLARED_KVK
        response = httpx.post(url, json=body, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 403
        assert response.headers["Content-Type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"] == f"urn:regie:problem:{code}"
        assert problem["status"] == 403
        assert problem["title"]
        assert problem["detail"]
        assert "0" * 128 not in response.text


# --- A hub client --------------------------------------------------------------------------------


def test_a_hub_client_obtains_pseudonyms_of_a_declared_supplier(
    hub: NummervoorzieningClient, rng: random.Random
) -> None:
    eck_id = eck_id_of(hub, rng)
    pseudonym = hub.supplier_pseudonym(eck_id, SUPPLIER_KVK, PO)
    assert pseudonym == services.get_deriver().supplier_pseudonym(eck_id, SUPPLIER_KVK, PO)
    batch_id = hub.submit_supplier_pseudonym_batch([eck_id], SUPPLIER_KVK, PO)
    while services.process_next_chunk("test"):
        pass
    assert hub.retrieve_batch(batch_id).success == {0: pseudonym}
    assert refusals() == []


def test_a_hub_client_is_refused_an_undeclared_supplier(
    hub: NummervoorzieningClient, hub_client: tuple[Client, str], rng: random.Random
) -> None:
    eck_id = eck_id_of(hub, rng)
    with pytest.raises(SupplierNotDeclared) as single:
        hub.supplier_pseudonym(eck_id, UNDECLARED_KVK, PO)
    with pytest.raises(SupplierNotDeclared):
        hub.submit_supplier_pseudonym_batch([eck_id], UNDECLARED_KVK, PO)
    assert (single.value.status, single.value.code) == (403, "supplier-not-declared")
    assert eck_id not in str(single.value)
    assert not Batch.objects.filter(kind="supplier").exists()
    actor = hub_client[0].audit_actor
    assert refusals() == [
        {
            "actor": actor,
            "operation": operation,
            "reason": "supplier-not-declared",
            "supplier": UNDECLARED_KVK,
        }
        for operation in ("supplier-pseudonym", "supplier-batch")
    ]


def test_a_hub_declares_its_suppliers_and_obtains_pseudonyms_for_those_only(
    hub: NummervoorzieningClient, hub_client: tuple[Client, str], rng: random.Random
) -> None:
    eck_id = eck_id_of(hub, rng)
    declared = hub.declare_suppliers([UNDECLARED_KVK, SUPPLIER_OIN, UNDECLARED_KVK])
    assert declared.suppliers == (SUPPLIER_OIN, UNDECLARED_KVK)
    assert declared.added == (SUPPLIER_OIN, UNDECLARED_KVK)
    assert declared.removed == (SUPPLIER_KVK,)
    registration = hub.registration()
    assert (registration.oin, registration.role) == (HUB_OIN, "hub")
    assert registration.suppliers == (SUPPLIER_OIN, UNDECLARED_KVK)

    assert hub.supplier_pseudonym(eck_id, UNDECLARED_KVK, PO)
    assert hub.supplier_pseudonym(eck_id, SUPPLIER_OIN, PO)
    with pytest.raises(SupplierNotDeclared):
        hub.supplier_pseudonym(eck_id, SUPPLIER_KVK, PO)

    again = hub.declare_suppliers([SUPPLIER_OIN, UNDECLARED_KVK])
    assert (again.added, again.removed) == ((), ())
    actor = hub_client[0].audit_actor
    assert supplier_changes() == [
        ("system", [SUPPLIER_KVK], []),  # the registration (fixture)
        (actor, [SUPPLIER_OIN, UNDECLARED_KVK], [SUPPLIER_KVK]),  # no event without a change
    ]


def test_a_bad_declaration_changes_nothing(
    hub: NummervoorzieningClient, hub_client: tuple[Client, str]
) -> None:
    with pytest.raises(InvalidInput) as invalid:
        hub.declare_suppliers([UNDECLARED_KVK, "acme"])
    assert (invalid.value.status, invalid.value.code) == (400, "invalid-supplier-id")
    assert "supplier 2" in invalid.value.detail
    assert hub_client[0].supplier_ids() == [SUPPLIER_KVK]
    assert len(supplier_changes()) == 1  # the registration only


def test_a_supplier_batch_is_not_handed_out_once_its_supplier_is_removed(
    hub: NummervoorzieningClient, hub_client: tuple[Client, str], rng: random.Random
) -> None:
    eck_id = eck_id_of(hub, rng)
    batch_id = hub.submit_supplier_pseudonym_batch([eck_id], SUPPLIER_KVK, PO)
    while services.process_next_chunk("test"):
        pass
    hub.declare_suppliers([])
    with pytest.raises(SupplierNotDeclared):
        hub.retrieve_batch(batch_id)
    assert Batch.objects.get(pk=batch_id).status == "open"  # nothing handed out
    assert refusals()[-1]["operation"] == "retrieve-supplier-batch"
    hub.declare_suppliers([SUPPLIER_KVK])
    assert list(hub.retrieve_batch(batch_id).success) == [0]


def test_a_client_that_stops_being_a_hub_loses_its_suppliers(
    hub: NummervoorzieningClient, hub_client: tuple[Client, str], rng: random.Random
) -> None:
    services.set_role(hub_client[0], "las", actor="user:1")
    with pytest.raises(OperationNotPermitted):
        hub.supplier_pseudonym(eck_id_of(hub, rng), SUPPLIER_KVK, PO)
    assert hub.registration() == Registration(HUB_OIN, "regie-hub (fictief)", "las", ())
    assert supplier_changes()[-1] == ("user:1", [], [SUPPLIER_KVK])
    change = AuditEvent.objects.filter(event_type=events.CLIENT_CHANGED.name).get()
    assert change.details == {"role": ["hub", "las"]}


# --- Self-healing --------------------------------------------------------------------------------


@pytest.mark.usefixtures("worker")
def test_the_client_declares_and_asks_once_more_when_a_supplier_is_not_declared(
    live_server: LiveServer, hub_client: tuple[Client, str], rng: random.Random
) -> None:
    declarations: list[list[str]] = []

    def declarer(client: NummervoorzieningClient) -> None:
        declarations.append([SUPPLIER_KVK, UNDECLARED_KVK])
        client.declare_suppliers(declarations[-1])

    url = f"{live_server.url}/nummervoorziening"
    with NummervoorzieningClient(url, hub_client[1], 10, supplier_declarer=declarer) as client:
        eck_id = eck_id_of(client, rng)
        single = client.supplier_pseudonym(eck_id, UNDECLARED_KVK, PO)
        assert len(declarations) == 1
        client.declare_suppliers([SUPPLIER_KVK])  # lost again
        batch = client.run_batch(
            "supplier", [eck_id], supplier_id=UNDECLARED_KVK, sector_id=PO, max_wait_seconds=120
        )
        assert len(declarations) == 2
    assert batch.success == {0: single}
    assert hub_client[0].supplier_ids() == [SUPPLIER_KVK, UNDECLARED_KVK]


def test_the_client_asks_only_once_more(
    live_server: LiveServer, hub_client: tuple[Client, str], rng: random.Random
) -> None:
    declarations: list[list[str]] = []

    def declarer(client: NummervoorzieningClient) -> None:
        declarations.append([SUPPLIER_KVK])  # the hub has no agreement with this supplier
        client.declare_suppliers(declarations[-1])

    url = f"{live_server.url}/nummervoorziening"
    with NummervoorzieningClient(url, hub_client[1], 10, supplier_declarer=declarer) as client:
        eck_id = eck_id_of(client, rng)
        with pytest.raises(SupplierNotDeclared):
            client.supplier_pseudonym(eck_id, UNDECLARED_KVK, PO)
    assert len(declarations) == 1
    assert [refusal["operation"] for refusal in refusals()] == ["supplier-pseudonym"] * 2


def test_without_a_declarer_the_refusal_is_raised(
    hub: NummervoorzieningClient, hub_client: tuple[Client, str], rng: random.Random
) -> None:
    with pytest.raises(SupplierNotDeclared):
        hub.supplier_pseudonym(eck_id_of(hub, rng), UNDECLARED_KVK, PO)
    assert hub_client[0].supplier_ids() == [SUPPLIER_KVK]
