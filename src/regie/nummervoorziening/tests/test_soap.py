"""The SOAP 1.1 endpoint, called by a client generated from eckid.wsdl (zeep) over real HTTP.

Every zeep call also checks, in :class:`Conformance`, that the response body is valid against the
WSDL's schema (or is a fault) and carries the WS-Addressing headers a WS-A service sends. All
HPgns here are random hex (fictional); no real personal data.
"""

from __future__ import annotations

import gc
import hashlib
import random
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
import zeep
from django.conf import LazySettings
from django.utils import timezone
from lxml import etree
from pytest_django.live_server_helper import LiveServer
from zeep.exceptions import Fault
from zeep.plugins import Plugin
from zeep.transports import Transport
from zeep.wsa import WsAddressingPlugin
from zeep.wsdl.utils import get_or_create_header

from regie.audit.models import AuditEvent
from regie.conftest import SUPPLIER_KVK, make_hpgn
from regie.nummervoorziening import events, services, soap
from regie.nummervoorziening.models import Batch, BatchKind, Client

pytestmark = pytest.mark.django_db(transaction=True)

# sha256 of Kennisnet's eckid.wsdl, computed when the packaged copy was made.
WSDL_SHA256 = "c2e919a7de0ad6295c06fc93e22c5a2816d31a9e803605aedd393e260c6e5784"

SID = "http://ketenid.nl/eck/schemas/v1_0"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://www.w3.org/2005/08/addressing"
BINDING = f"{{{SID}}}EckIDSoapBinding"
PATH = "/nummervoorziening/soap"
CHAIN = "http://purl.edustandaard.nl/begrippenkader/e7ec7d3c-c235-4513-bfb6-e54e66854795"
SECTOR = "http://purl.edustandaard.nl/begrippenkader/512e4729-03a4-43a2-95ba-758071d1b725"
HEX128 = "[0-9a-f]{128}"


class WsaFrom(Plugin):
    """Adds ``wsa:From`` naming the caller's OIN, as ECK iD clients do."""

    def __init__(self, oin: str | None) -> None:
        self.oin = oin

    def egress(
        self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any
    ) -> tuple[Any, Any]:
        if self.oin is not None:
            header = get_or_create_header(envelope)  # type: ignore[no-untyped-call]
            sender = etree.SubElement(header, f"{{{WSA}}}From")
            address = etree.SubElement(sender, f"{{{WSA}}}Address")
            address.text = f"{WSA}/anonymous?oin={self.oin}"
        return envelope, http_headers


class Conformance(Plugin):
    """Checks every response: schema-valid body or a fault, and WS-A Action/RelatesTo."""

    def __init__(self) -> None:
        self.sent: tuple[str, str] | None = None
        self.received: Any = None

    def egress(
        self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any
    ) -> tuple[Any, Any]:
        action = envelope.findtext(f"{{{SOAP_ENV}}}Header/{{{WSA}}}Action")
        message_id = envelope.findtext(f"{{{SOAP_ENV}}}Header/{{{WSA}}}MessageID")
        self.sent = (action, message_id)
        return envelope, http_headers

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        assert self.sent is not None
        action, message_id = self.sent
        self.received = envelope
        [content] = envelope.find(f"{{{SOAP_ENV}}}Body")
        header = envelope.find(f"{{{SOAP_ENV}}}Header")
        assert header.findtext(f"{{{WSA}}}RelatesTo") == message_id
        assert header.findtext(f"{{{WSA}}}MessageID").startswith("urn:uuid:")
        if content.tag == f"{{{SOAP_ENV}}}Fault":
            assert header.findtext(f"{{{WSA}}}Action") == f"{WSA}/soap/fault"
        else:
            assert header.findtext(f"{{{WSA}}}Action") == action + "Response"
            soap.schema().assertValid(content)
        return envelope, http_headers


Connect = Callable[..., Any]


@pytest.fixture(autouse=True)
def _release_connections() -> Iterator[None]:
    """After each test, let go of its HTTP connections.

    A kept-alive connection keeps one of the live server's request threads, and that thread's
    database connection, open; PostgreSQL then cannot drop the test database at the end. Closing
    the session is not enough while a response (held by a traceback, say) still references the
    socket, hence the collection.
    """
    yield
    gc.collect()


@pytest.fixture
def connect(live_server: LiveServer) -> Iterator[Connect]:
    """A zeep service for the packaged WSDL, bound to the live server."""
    sessions: list[requests.Session] = []

    def connect(*, api_key: str | None, oin: str | None, **headers: str) -> Any:
        session = requests.Session()
        sessions.append(session)
        if api_key is not None:
            session.headers["Authorization"] = f"Bearer {api_key}"
        session.headers.update(headers)
        client = zeep.Client(  # type: ignore[no-untyped-call]
            wsdl=str(soap.WSDL_PATH),
            settings=zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True),
            transport=Transport(session=session),  # type: ignore[no-untyped-call]
            plugins=[WsAddressingPlugin(), WsaFrom(oin), Conformance()],
        )
        return client.create_service(BINDING, live_server.url + PATH)  # type: ignore[no-untyped-call]

    yield connect
    for session in sessions:
        session.close()


@pytest.fixture
def las(connect: Connect, las_client: tuple[Client, str]) -> Any:
    client, api_key = las_client
    return connect(api_key=api_key, oin=client.oin)


def fault_of(call: Callable[[], object]) -> Fault:
    with pytest.raises(Fault) as caught:
        call()
    return caught.value


def assert_fault(fault: Fault, name: str, code: str = "soap:Client") -> str:
    """The fault is ``name`` the way clients know it; returns its message."""
    assert fault.code == code
    assert fault.message.startswith(f"{name}: ")
    message: str = fault.message.removeprefix(f"{name}: ")
    assert message
    [detail] = list(fault.detail)
    assert detail.tag == f"{{{SID}}}{name}"
    assert detail.text == message
    return message


def process_batches() -> None:
    while services.process_next_chunk("test"):
        pass


def post_raw(live_server: LiveServer, body: bytes, **headers: str) -> requests.Response:
    return requests.post(
        live_server.url + PATH,
        data=body,
        headers={"Content-Type": "text/xml; charset=utf-8", **headers},
        timeout=10,
    )


def envelope(body: str, header: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{SOAP_ENV}" xmlns:sid="{SID}" xmlns:wsa="{WSA}">'
        f"<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def raw_fault(response: requests.Response) -> tuple[str, str]:
    """faultcode and faultstring of a raw response, after checking it is a SOAP 1.1 fault."""
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/xml")
    document = etree.fromstring(response.content)
    fault = document.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None
    return fault.findtext("faultcode") or "", fault.findtext("faultstring") or ""


# --- The WSDL ------------------------------------------------------------------------------------


def test_it_ships_the_shared_wsdl_unchanged() -> None:
    content = soap.WSDL_PATH.read_bytes()
    assert hashlib.sha256(content).hexdigest() == WSDL_SHA256
    assert b"Licensed under the Apache License, Version 2.0" in content


def test_it_serves_the_wsdl_with_its_own_address(live_server: LiveServer) -> None:
    with requests.Session() as session:
        response = session.get(live_server.url + PATH + "?wsdl", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    document = etree.fromstring(response.content)
    [address] = document.iterfind(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address.get("location") == live_server.url + PATH
    assert b"Stichting Kennisnet" in response.content

    with requests.Session() as session:
        client = zeep.Client(  # type: ignore[no-untyped-call]
            wsdl=live_server.url + PATH + "?wsdl",
            transport=Transport(session=session),  # type: ignore[no-untyped-call]
        )
        port = client.wsdl.services["EckIDService"].ports["EckIDSoap10"]
        assert port.binding_options["address"] == live_server.url + PATH
        assert client.service.ping().available is True


def test_it_accepts_only_wsdl_gets_and_posts(live_server: LiveServer) -> None:
    with requests.Session() as session:
        assert session.put(live_server.url + PATH, data=b"", timeout=10).status_code == 405
        plain = session.get(live_server.url + PATH, timeout=10)
    assert plain.status_code == 400
    assert "?wsdl" in plain.text


# --- Operations ----------------------------------------------------------------------------------


def test_it_answers_ping_without_authentication(connect: Connect) -> None:
    result = connect(api_key=None, oin=None).ping()
    assert result.available is True
    assert result.applicationVersion == services.APPLICATION_VERSION
    assert abs(result.systemTime - timezone.now()) < timedelta(minutes=1)


def test_it_derives_one_stampseudonym_per_hpgn(
    las: Any, rng: random.Random, settings: LazySettings
) -> None:
    hpgn, other = make_hpgn(rng), make_hpgn(rng)
    stampseudonym = las.retrieveStampseudonym(hpgn=hpgn)
    assert re.fullmatch(f"{re.escape(settings.NV_PSEUDONYM_BASE)}/sp/1/{HEX128}", stampseudonym)
    assert las.retrieveStampseudonym(hpgn=hpgn) == stampseudonym
    assert las.retrieveStampseudonym(hpgn=other) != stampseudonym


def test_it_faults_on_an_invalid_hpgn_without_echoing_it(las: Any, rng: random.Random) -> None:
    not_an_hpgn = make_hpgn(rng).upper()
    fault = fault_of(lambda: las.retrieveStampseudonym(hpgn=not_an_hpgn))
    message = assert_fault(fault, "InvalidRequestException")
    assert not_an_hpgn not in message


def test_it_derives_eck_ids_per_chain_and_sector(
    las: Any, rng: random.Random, settings: LazySettings
) -> None:
    stampseudonym = las.retrieveStampseudonym(hpgn=make_hpgn(rng))
    eck_id = las.retrieveEckId(stampseudonym=stampseudonym, chainId=CHAIN, sectorId=SECTOR)
    assert re.fullmatch(f"{re.escape(settings.NV_PSEUDONYM_BASE)}/1/{HEX128}", eck_id)
    assert las.retrieveEckId(stampseudonym=stampseudonym, chainId=CHAIN, sectorId=SECTOR) == eck_id
    other_sector = las.retrieveEckId(
        stampseudonym=stampseudonym, chainId=CHAIN, sectorId="urn:regie:sector:vo"
    )
    assert other_sector != eck_id


def test_it_faults_on_unknown_chains_sectors_and_bad_stampseudonyms(
    las: Any, rng: random.Random
) -> None:
    stampseudonym = las.retrieveStampseudonym(hpgn=make_hpgn(rng))
    unknown_chain = fault_of(
        lambda: las.retrieveEckId(stampseudonym=stampseudonym, chainId="urn:x", sectorId=SECTOR)
    )
    assert_fault(unknown_chain, "UnknownChainException")
    unknown_sector = fault_of(
        lambda: las.retrieveEckId(stampseudonym=stampseudonym, chainId=CHAIN, sectorId="urn:x")
    )
    assert_fault(unknown_sector, "UnknownSectorException")
    forged = stampseudonym.rsplit("/", 1)[0] + "/" + "g" * 128
    invalid = fault_of(
        lambda: las.retrieveEckId(stampseudonym=forged, chainId=CHAIN, sectorId=SECTOR)
    )
    assert forged not in assert_fault(invalid, "InvalidRequestException")


def test_it_processes_a_stampseudonym_batch(las: Any, rng: random.Random) -> None:
    first, second, invalid = make_hpgn(rng), make_hpgn(rng), "not-an-hpgn-" + make_hpgn(rng)
    batch_id = las.submitStampseudonymBatch(
        hpgnList=[
            {"index": 7, "hPgn": first},
            {"index": 8, "hPgn": invalid},
            {"index": 9, "hPgn": second},
        ]
    )
    assert Batch.objects.filter(pk=batch_id).exists()

    not_finished = fault_of(lambda: las.retrieveBatch(batchIdentifier=batch_id))
    assert_fault(not_finished, "NotFinishedException", code="soap:Server")

    process_batches()
    result = las.retrieveBatch(batchIdentifier=batch_id)
    assert [(item.index, item.value) for item in result.success] == [
        (7, las.retrieveStampseudonym(hpgn=first)),
        (9, las.retrieveStampseudonym(hpgn=second)),
    ]
    [failure] = result.failed
    assert failure.index == 8
    assert failure.errorMessage
    assert invalid not in failure.errorMessage

    again = fault_of(lambda: las.retrieveBatch(batchIdentifier=batch_id))
    assert_fault(again, "ContentAlreadyRetrievedException")


def test_it_processes_an_eck_id_batch(las: Any, rng: random.Random) -> None:
    stampseudonyms = [las.retrieveStampseudonym(hpgn=make_hpgn(rng)) for _ in range(3)]
    batch_id = las.submitEckIdBatch(
        stampseudonymList=[
            {"index": 0, "stampseudonym": stampseudonyms[0]},
            {"index": 1, "stampseudonym": "urn:not-a-stampseudonym"},
            {"index": 2, "stampseudonym": stampseudonyms[2]},
        ],
        chainId=CHAIN,
        sectorId=SECTOR,
    )
    process_batches()
    result = las.retrieveBatch(batchIdentifier=batch_id)

    def eck_id(stampseudonym: str) -> str:
        found: str = las.retrieveEckId(stampseudonym=stampseudonym, chainId=CHAIN, sectorId=SECTOR)
        return found

    assert [(item.index, item.value) for item in result.success] == [
        (0, eck_id(stampseudonyms[0])),
        (2, eck_id(stampseudonyms[2])),
    ]
    assert [item.index for item in result.failed] == [1]


def test_it_refuses_an_eck_id_batch_for_an_unknown_sector(las: Any, rng: random.Random) -> None:
    stampseudonym = las.retrieveStampseudonym(hpgn=make_hpgn(rng))
    fault = fault_of(
        lambda: las.submitEckIdBatch(
            stampseudonymList=[{"index": 0, "stampseudonym": stampseudonym}],
            chainId=CHAIN,
            sectorId="urn:x",
        )
    )
    assert_fault(fault, "UnknownSectorException")


def test_it_refuses_a_batch_with_a_duplicate_index(las: Any, rng: random.Random) -> None:
    items = [{"index": 1, "hPgn": make_hpgn(rng)}, {"index": 1, "hPgn": make_hpgn(rng)}]
    fault = fault_of(lambda: las.submitStampseudonymBatch(hpgnList=items))
    assert "index" in assert_fault(fault, "InvalidRequestException")


def test_it_reports_an_expired_batch_as_removed(las: Any, rng: random.Random) -> None:
    batch_id = las.submitStampseudonymBatch(hpgnList=[{"index": 0, "hPgn": make_hpgn(rng)}])
    process_batches()
    Batch.objects.filter(pk=batch_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    fault = fault_of(lambda: las.retrieveBatch(batchIdentifier=batch_id))
    assert_fault(fault, "ContentRemovedException")


def test_it_reports_an_unknown_batch(
    las: Any, connect: Connect, other_client: tuple[Client, str]
) -> None:
    unknown = fault_of(lambda: las.retrieveBatch(batchIdentifier="no-such-batch"))
    assert_fault(unknown, "BatchNotFoundException")
    client, api_key = other_client
    foreign_id = connect(api_key=api_key, oin=client.oin).submitStampseudonymBatch(
        hpgnList=[{"index": 0, "hPgn": "0" * 64}]
    )
    foreign = fault_of(lambda: las.retrieveBatch(batchIdentifier=foreign_id))
    assert_fault(foreign, "BatchNotFoundException")


def test_it_enforces_the_daily_batch_quota(
    las: Any, las_client: tuple[Client, str], rng: random.Random
) -> None:
    Client.objects.filter(pk=las_client[0].pk).update(daily_batch_quota=1)
    las.submitStampseudonymBatch(hpgnList=[{"index": 0, "hPgn": make_hpgn(rng)}])
    fault = fault_of(
        lambda: las.submitStampseudonymBatch(hpgnList=[{"index": 0, "hPgn": make_hpgn(rng)}])
    )
    assert_fault(fault, "LimitDailyBatchSubmissionsExceededException")


def test_it_refuses_a_temporarily_blocked_client(
    las: Any, las_client: tuple[Client, str], rng: random.Random
) -> None:
    Client.objects.filter(pk=las_client[0].pk).update(
        blocked_until=timezone.now() + timedelta(hours=1)
    )
    fault = fault_of(lambda: las.retrieveStampseudonym(hpgn=make_hpgn(rng)))
    assert_fault(fault, "TemporaryBlockedException")


def test_it_replaces_a_stampseudonym(las: Any, rng: random.Random) -> None:
    old, new = make_hpgn(rng), make_hpgn(rng)
    kept = las.retrieveStampseudonym(hpgn=old)
    assert las.retrieveStampseudonym(hpgn=new) != kept
    assert las.replaceStampseudonym(hpgnOld=old, hpgnNew=new) == kept
    assert las.retrieveStampseudonym(hpgn=new) == kept

    conflict = fault_of(lambda: las.replaceStampseudonym(hpgnOld=make_hpgn(rng), hpgnNew=new))
    assert_fault(conflict, "SubstitutionException")


def test_it_waits_for_a_future_effective_date(las: Any, rng: random.Random) -> None:
    old, new = make_hpgn(rng), make_hpgn(rng)
    own = las.retrieveStampseudonym(hpgn=new)
    tomorrow = timezone.now() + timedelta(days=1)
    kept = las.replaceStampseudonym(hpgnOld=old, hpgnNew=new, effectiveDate=tomorrow)
    assert kept == las.retrieveStampseudonym(hpgn=old)
    assert las.retrieveStampseudonym(hpgn=new) == own


def test_it_lists_chains_and_sectors(las: Any) -> None:
    chains = las.retrieveChains()
    assert CHAIN in [chain.id for chain in chains]
    assert all(chain.name and chain.lastEdited.tzinfo for chain in chains)
    sectors = las.retrieveSectors()
    assert SECTOR in [sector.id for sector in sectors]
    assert all(sector.name and sector.description for sector in sectors)


# --- Roles ---------------------------------------------------------------------------------------


def test_a_hub_client_has_every_operation_of_the_wsdl_too(
    connect: Connect, hub_client: tuple[Client, str], rng: random.Random
) -> None:
    client, api_key = hub_client
    hub = connect(api_key=api_key, oin=client.oin)
    old, new = make_hpgn(rng), make_hpgn(rng)
    stampseudonym = hub.retrieveStampseudonym(hpgn=old)
    assert hub.retrieveEckId(stampseudonym=stampseudonym, chainId=CHAIN, sectorId=SECTOR)
    assert hub.replaceStampseudonym(hpgnOld=old, hpgnNew=new) == stampseudonym
    batch_id = hub.submitEckIdBatch(
        chainId=CHAIN,
        sectorId=SECTOR,
        stampseudonymList=[{"index": 0, "stampseudonym": stampseudonym}],
    )
    process_batches()
    assert [item.index for item in hub.retrieveBatch(batchIdentifier=batch_id).success] == [0]


def test_a_supplier_batch_is_refused_over_soap_once_the_client_may_not_have_it(
    connect: Connect, hub_client: tuple[Client, str], rng: random.Random
) -> None:
    """Supplier batches are submitted over JSON; retrieveBatch hands them out over SOAP only while
    the supplier is in the hub's registration and the client is a hub."""
    client, api_key = hub_client
    hub = connect(api_key=api_key, oin=client.oin)
    stampseudonym = hub.retrieveStampseudonym(hpgn=make_hpgn(rng))
    eck_id = hub.retrieveEckId(stampseudonym=stampseudonym, chainId=CHAIN, sectorId=SECTOR)
    batches = [
        str(services.submit_batch(client, BatchKind.SUPPLIER, [(0, eck_id)], **target).pk)
        for target in [{"supplier_id": SUPPLIER_KVK, "sector_id": SECTOR}] * 2
    ]
    process_batches()

    services.remove_suppliers(client, [SUPPLIER_KVK])
    removed = fault_of(lambda: hub.retrieveBatch(batchIdentifier=batches[0]))
    assert "not among the suppliers declared" in assert_fault(removed, "AuthorizationException")
    services.add_suppliers(client, [SUPPLIER_KVK])
    [item] = hub.retrieveBatch(batchIdentifier=batches[0]).success
    assert item.value == services.get_deriver().supplier_pseudonym(eck_id, SUPPLIER_KVK, SECTOR)

    services.set_role(client, "las")
    las = fault_of(lambda: hub.retrieveBatch(batchIdentifier=batches[1]))
    assert "for a hub client only" in assert_fault(las, "AuthorizationException")
    assert [
        (event.details["operation"], event.details["reason"])
        for event in AuditEvent.objects.filter(event_type=events.REQUEST_REFUSED.name).order_by(
            "id"
        )
    ] == [
        ("retrieve-supplier-batch", "supplier-not-declared"),
        ("retrieve-supplier-batch", "operation-not-permitted"),
    ]
    assert Batch.objects.get(pk=batches[1]).status == "open"


# --- Authentication ------------------------------------------------------------------------------


def test_it_requires_the_callers_oin_in_wsa_from(
    connect: Connect, las_client: tuple[Client, str], rng: random.Random
) -> None:
    _, api_key = las_client
    hpgn = make_hpgn(rng)
    missing = fault_of(lambda: connect(api_key=api_key, oin=None).retrieveStampseudonym(hpgn=hpgn))
    assert "From" in assert_fault(missing, "AuthenticationException")
    malformed = fault_of(
        lambda: connect(api_key=api_key, oin="12345").retrieveStampseudonym(hpgn=hpgn)
    )
    assert_fault(malformed, "AuthenticationException")


def test_it_refuses_another_clients_oin(
    connect: Connect,
    las_client: tuple[Client, str],
    other_client: tuple[Client, str],
    rng: random.Random,
) -> None:
    las = connect(api_key=las_client[1], oin=other_client[0].oin)
    fault = fault_of(lambda: las.retrieveStampseudonym(hpgn=make_hpgn(rng)))
    message = assert_fault(fault, "AuthenticationException")
    assert other_client[0].oin not in message


def test_it_requires_a_valid_api_key(
    connect: Connect, las_client: tuple[Client, str], rng: random.Random
) -> None:
    client, api_key = las_client
    without = fault_of(
        lambda: connect(api_key=None, oin=client.oin).retrieveStampseudonym(hpgn=make_hpgn(rng))
    )
    assert_fault(without, "AuthenticationException")
    forged = api_key[:-4] + ("aaaa" if not api_key.endswith("aaaa") else "bbbb")
    wrong = fault_of(
        lambda: connect(api_key=forged, oin=client.oin).retrieveStampseudonym(hpgn=make_hpgn(rng))
    )
    assert forged not in assert_fault(wrong, "AuthenticationException")
    chains = fault_of(lambda: connect(api_key="nv_x_y", oin=client.oin).retrieveChains())
    assert_fault(chains, "AuthenticationException")


def test_it_authenticates_by_client_certificate_behind_the_proxy(
    connect: Connect,
    las_client: tuple[Client, str],
    settings: LazySettings,
    rng: random.Random,
) -> None:
    settings.NV_AUTH = "mtls"
    client, _ = las_client
    subject = {settings.NV_MTLS_SUBJECT_HEADER: f"CN=Demo LAS,serialNumber={client.oin},C=NL"}
    service = connect(api_key=None, oin=client.oin, **subject)
    assert service.retrieveStampseudonym(hpgn=make_hpgn(rng))
    without = fault_of(
        lambda: connect(api_key=None, oin=client.oin).retrieveStampseudonym(hpgn=make_hpgn(rng))
    )
    assert_fault(without, "AuthenticationException")


# --- Malformed requests --------------------------------------------------------------------------


def test_it_faults_on_malformed_xml_without_echoing_it(
    live_server: LiveServer, rng: random.Random
) -> None:
    hpgn = make_hpgn(rng)
    body = envelope(f"<sid:retrieveStampseudonymRequest><sid:hpgn>{hpgn}</sid:hpgnx>")
    code, message = raw_fault(post_raw(live_server, body))
    assert code == "soap:Client"
    assert message.startswith("InvalidRequestException: the request is not well-formed XML")
    assert hpgn not in message

    for junk in (b"", b"{}", hpgn.encode()):
        code, message = raw_fault(post_raw(live_server, junk))
        assert code == "soap:Client"
        assert "well-formed XML" in message
        assert hpgn not in message


def test_it_faults_on_a_body_invalid_against_the_schema(
    live_server: LiveServer, las_client: tuple[Client, str], rng: random.Random
) -> None:
    client, api_key = las_client
    hpgn = make_hpgn(rng)
    auth = {"Authorization": f"Bearer {api_key}"}
    sender = f"<wsa:From><wsa:Address>{WSA}/anonymous?oin={client.oin}</wsa:Address></wsa:From>"

    extra = envelope(
        f"<sid:retrieveStampseudonymRequest><sid:hpgn>{hpgn}</sid:hpgn>"
        f"<sid:hpgn>{hpgn}</sid:hpgn></sid:retrieveStampseudonymRequest>",
        sender,
    )
    code, message = raw_fault(post_raw(live_server, extra, **auth))
    assert code == "soap:Client"
    assert "does not match eckid.wsdl's schema" in message
    assert "retrieveStampseudonymRequest/hpgn" in message
    assert hpgn not in message

    bad_index = envelope(
        f"<sid:submitStampseudonymBatchRequest><sid:hpgnList><sid:index>{hpgn}</sid:index>"
        f"<sid:hPgn>{hpgn}</sid:hPgn></sid:hpgnList></sid:submitStampseudonymBatchRequest>",
        sender,
    )
    code, message = raw_fault(post_raw(live_server, bad_index, **auth))
    assert code == "soap:Client"
    assert "hpgnList/index: not a valid xsd:int" in message
    assert hpgn not in message

    missing = envelope(
        "<sid:retrieveEckIdRequest><sid:chainId/></sid:retrieveEckIdRequest>", sender
    )
    code, message = raw_fault(post_raw(live_server, missing, **auth))
    assert "missing element" in message or "unexpected element" in message


def test_it_faults_on_what_is_not_a_soap_11_request(live_server: LiveServer) -> None:
    code, message = raw_fault(
        post_raw(live_server, b"<sid:pingRequest xmlns:sid='" + SID.encode() + b"'/>")
    )
    assert (code, "not a SOAP 1.1 envelope" in message) == ("soap:Client", True)

    soap12 = b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>'
    code, message = raw_fault(post_raw(live_server, soap12))
    assert code == "soap:VersionMismatch"

    code, message = raw_fault(
        post_raw(live_server, envelope("<sid:retrieveSupplierPseudonymRequest/>"))
    )
    assert code == "soap:Client"
    assert "not a request of eckid.wsdl" in message

    unqualified = envelope("<pingRequest/>")
    code, message = raw_fault(post_raw(live_server, unqualified))
    assert f"must be in namespace {SID}" in message

    code, message = raw_fault(
        post_raw(live_server, envelope("<sid:pingRequest/><sid:pingRequest/>"))
    )
    assert "exactly one request element" in message

    doctype = b'<!DOCTYPE s [<!ENTITY x "y">]>' + envelope("<sid:pingRequest/>").split(b"?>", 1)[1]
    code, message = raw_fault(post_raw(live_server, doctype))
    assert "document type declaration" in message

    security = '<x:Security xmlns:x="urn:example" s:mustUnderstand="1"/>'
    code, message = raw_fault(post_raw(live_server, envelope("<sid:pingRequest/>", security)))
    assert code == "soap:MustUnderstand"

    code, message = raw_fault(
        post_raw(
            live_server, envelope("<sid:pingRequest/>"), **{"Content-Type": "application/json"}
        )
    )
    assert "text/xml" in message


def test_it_answers_a_raw_ping_with_ws_addressing(live_server: LiveServer) -> None:
    message_id = "urn:uuid:00000000-0000-4000-8000-000000000001"
    header = (
        f"<wsa:Action>{SID}/ping</wsa:Action><wsa:MessageID>{message_id}</wsa:MessageID>"
        f"<wsa:To>{live_server.url}{PATH}</wsa:To>"
    )
    response = post_raw(live_server, envelope("<sid:pingRequest/>", header))
    assert response.status_code == 200
    document = etree.fromstring(response.content)
    assert document.findtext(f"{{{SOAP_ENV}}}Header/{{{WSA}}}Action") == f"{SID}/pingResponse"
    assert document.findtext(f"{{{SOAP_ENV}}}Header/{{{WSA}}}RelatesTo") == message_id
    [content] = document.find(f"{{{SOAP_ENV}}}Body")  # type: ignore[misc]
    soap.schema().assertValid(content)
    assert content.findtext(f"{{{SID}}}available") == "true"


def test_it_hides_unexpected_errors(
    las: Any, monkeypatch: pytest.MonkeyPatch, rng: random.Random
) -> None:
    hpgn = make_hpgn(rng)

    def broken(*args: object) -> str:
        raise RuntimeError(f"something failed for {hpgn}")

    monkeypatch.setattr(services, "retrieve_stampseudonym", broken)
    fault = fault_of(lambda: las.retrieveStampseudonym(hpgn=hpgn))
    assert fault.code == "soap:Server"
    assert assert_fault(fault, "InternalErrorException", code="soap:Server") == "internal error"
