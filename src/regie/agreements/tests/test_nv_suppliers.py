"""The hub keeps its suppliers at the number service in step with its agreements.

A real number service answers over HTTP (pytest-django's live server); a number service that is
down is a port that refuses connections until a forwarder to the live server opens on it.
"""

from __future__ import annotations

import gc
import html
import io
import random
import select
import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.management import CommandError, call_command
from pytest_django.live_server_helper import LiveServer

from regie.audit.models import AuditEvent
from regie.conftest import free_port, make_hpgn
from regie.jobs import services as jobs
from regie.jobs.tests.workers import wait_until, workers
from regie.nummervoorziening import client as nv
from regie.nummervoorziening import services as nv_services
from regie.nummervoorziening.models import Client
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import client_for, make_board, make_staff

from .. import events
from ..jobs import declare_suppliers_job
from ..models import AgreementStatus, ProcessingAgreement, Product, Supplier
from ..services import declarations
from .register import destruction_proof, make_agreement, make_product, make_supplier

pytestmark = pytest.mark.django_db(transaction=True)

HUB_OIN = "00000001000000000088"
CHAIN = "http://purl.edustandaard.nl/begrippenkader/e7ec7d3c-c235-4513-bfb6-e54e66854795"
PO = "http://purl.edustandaard.nl/begrippenkader/512e4729-03a4-43a2-95ba-758071d1b725"
DOWN_MESSAGE = "De nummervoorziening kon niet worden bijgewerkt met de leveranciers van het bestuur"


class Forwarder:
    """A local port that refuses connections until :meth:`open`; then it forwards each connection
    to ``target`` (the number service, back after an outage)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.server: socketserver.ThreadingTCPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/nummervoorziening"

    def open(self) -> None:
        target = self.target

        class Pump(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with socket.create_connection(target) as upstream:
                    ends = [self.request, upstream]
                    while True:
                        readable, _, _ = select.select(ends, [], [], 30)
                        if not readable:
                            return
                        for end in readable:
                            data = end.recv(65536)
                            if not data:
                                return
                            (upstream if end is self.request else self.request).sendall(data)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Pump)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def hub_at_nv(live_server: LiveServer, settings: LazySettings) -> Iterator[Client]:
    """The hub's registration at the number service (a hub, no suppliers yet), configured."""
    client, key = nv_services.register_client(oin=HUB_OIN, name="regie-hub (fictief)", role="hub")
    settings.NV_CLIENT_URL = f"{live_server.url}/nummervoorziening"
    settings.NV_CLIENT_API_KEY = key
    yield client
    nv.get_client().close()
    gc.collect()


def declared_at_nv() -> list[str]:
    return Client.objects.get(oin=HUB_OIN).supplier_ids()


def hub_declarations() -> list[tuple[list[str], list[str], str]]:
    return [
        (event.details["added"], event.details["removed"], event.details["why"])
        for event in AuditEvent.objects.filter(event_type=events.SUPPLIERS_DECLARED.name).order_by(
            "id"
        )
    ]


def supplier_with_product(name: str, kvk: str) -> tuple[Supplier, list[Product]]:
    supplier = make_supplier(f"{name} (fictief)", kvk)
    return supplier, [make_product(supplier, name)]


@pytest.mark.usefixtures("hub_at_nv")
def test_signing_and_activating_agreements_declare_their_suppliers_only() -> None:
    board = make_board()
    rekenwereld, rekenwereld_products = supplier_with_product("Rekenwereld", "99000001")
    taalrijk, taalrijk_products = supplier_with_product("Taalrijk", "99000002")
    offerer, offerer_products = supplier_with_product("Aanbieder", "99000003")
    drafter, drafter_products = supplier_with_product("Concept", "99000004")

    make_agreement(board, rekenwereld, rekenwereld_products, status=AgreementStatus.SIGNED)
    assert declared_at_nv() == ["99000001"]
    make_agreement(board, taalrijk, taalrijk_products)  # active
    make_agreement(None, offerer, offerer_products)  # a published offer: no board
    make_agreement(board, drafter, drafter_products, status=AgreementStatus.OFFERED)

    assert declared_at_nv() == ["99000001", "99000002"]
    assert declarations.declared_suppliers() == ["99000001", "99000002"]
    assert hub_declarations() == [
        (["99000001"], [], "transition"),
        (["99000002"], [], "transition"),
    ]
    # at the number service, each change is recorded with the hub's OIN as the actor
    assert (
        AuditEvent.objects.filter(
            event_type="nummervoorziening.client.suppliers_changed", actor=f"nv-client:{HUB_OIN}"
        ).count()
        == 2
    )


@pytest.mark.usefixtures("hub_at_nv")
def test_ending_an_agreement_removes_its_supplier_unless_another_board_still_has_one() -> None:
    board_a, board_b = make_board("41001", "Stichting A (fictief)"), make_board("41002", "B")
    supplier, products = supplier_with_product("Rekenwereld", "99000001")
    at_a = make_agreement(board_a, supplier, products)
    at_b = make_agreement(board_b, supplier, products)
    assert declared_at_nv() == ["99000001"]

    from .. import services

    services.transition(at_a, AgreementStatus.TERMINATED, user=None)
    assert declared_at_nv() == ["99000001"]
    at_b = services.transition(at_b, AgreementStatus.TERMINATED, user=None)
    assert declared_at_nv() == []
    services.transition(
        at_b, AgreementStatus.DATA_DESTROYED, user=None, proof=destruction_proof(at_b)
    )
    assert declared_at_nv() == []
    assert hub_declarations() == [
        (["99000001"], [], "transition"),
        ([], ["99000001"], "transition"),
    ]


def test_a_number_service_that_is_down_does_not_stop_the_transition_and_a_worker_declares_later(
    live_server: LiveServer, settings: LazySettings, keys_dir: Path, tmp_path: Path
) -> None:
    board = make_board()
    officer, _ = make_staff(board, None, StaffRole.PRIVACY_OFFICER, username="fg-a")
    supplier, products = supplier_with_product("Rekenwereld", "99000001")
    agreement = make_agreement(board, supplier, products, status=AgreementStatus.SIGNED)
    _, key = nv_services.register_client(oin=HUB_OIN, name="regie-hub (fictief)", role="hub")
    host, port = live_server.thread.host, live_server.thread.port
    number_service = Forwarder((host, port))
    settings.NV_CLIENT_URL = number_service.url  # refuses connections: the service is down
    settings.NV_CLIENT_API_KEY = key
    try:
        response = client_for(officer).post(
            f"/privacy/overeenkomsten/{agreement.pk}/status/", {"to": "active"}, follow=True
        )
        assert response.status_code == 200
        page = html.unescape(response.content.decode())
        assert "De status is nu: actief." in page
        assert DOWN_MESSAGE in page
        agreement.refresh_from_db()
        assert agreement.status == AgreementStatus.ACTIVE
        assert declared_at_nv() == []
        assert jobs.queued(declare_suppliers_job, {"why": "transition"}) == 1

        number_service.open()  # the number service is back; a worker runs the queued job
        env = {"REGIE_NV_URL": number_service.url, "REGIE_NV_API_KEY": key}
        with workers(1, keys_dir, tmp_path, **env):
            wait_until(lambda: declared_at_nv() == ["99000001"], "the worker's declaration")
        assert hub_declarations() == [(["99000001"], [], "retry")]
    finally:
        nv.get_client().close()
        number_service.close()
        gc.collect()


def test_the_declaration_job_fails_while_the_number_service_is_down_so_the_queue_retries_it(
    live_server: LiveServer, settings: LazySettings
) -> None:
    board = make_board()
    supplier, products = supplier_with_product("Rekenwereld", "99000001")
    _, key = nv_services.register_client(oin=HUB_OIN, name="regie-hub (fictief)", role="hub")
    number_service = Forwarder((live_server.thread.host, live_server.thread.port))
    settings.NV_CLIENT_URL = number_service.url
    settings.NV_CLIENT_API_KEY = key
    try:
        make_agreement(board, supplier, products)  # declared at once: fails, the service is down
        assert declarations.declaration_pending()
        # A job per transition (to signed, to active): each declares the whole list.
        assert jobs.queued(declare_suppliers_job, {"why": "transition"}) == 2
        # What the queue does with the job: it raises, so it is retried, 6 ** attempt s later.
        with pytest.raises(nv.NummervoorzieningClientError):
            declare_suppliers_job(why="transition")
        assert [declare_suppliers_job.retry_wait(n) for n in (1, 2, 6, 7)] == [6, 36, 46656, None]
        assert declared_at_nv() == []

        number_service.open()
        declare_suppliers_job(why="transition")
        assert declared_at_nv() == ["99000001"]
        declare_suppliers_job(why="transition")  # a second run (at least once) changes nothing
        assert hub_declarations() == [(["99000001"], [], "retry")]
    finally:
        nv.get_client().close()
        number_service.close()
        gc.collect()


@pytest.mark.usefixtures("hub_at_nv")
def test_a_transition_with_the_number_service_up_shows_no_warning() -> None:
    board = make_board()
    officer, _ = make_staff(board, None, StaffRole.PRIVACY_OFFICER, username="fg-a")
    supplier, products = supplier_with_product("Rekenwereld", "99000001")
    agreement = make_agreement(board, supplier, products, status=AgreementStatus.SIGNED)
    response = client_for(officer).post(
        f"/privacy/overeenkomsten/{agreement.pk}/status/", {"to": "active"}, follow=True
    )
    assert "De status is nu: actief." in html.unescape(response.content.decode())
    assert DOWN_MESSAGE not in html.unescape(response.content.decode())
    assert declared_at_nv() == ["99000001"]


def test_nv_suppliers_sync_declares_and_status_compares(
    hub_at_nv: Client, settings: LazySettings
) -> None:
    board = make_board()
    supplier, products = supplier_with_product("Rekenwereld", "99000001")
    settings.NV_CLIENT_API_KEY, key = None, settings.NV_CLIENT_API_KEY
    make_agreement(board, supplier, products)  # no key: nothing declared after the transition
    settings.NV_CLIENT_API_KEY = key
    assert declared_at_nv() == []
    nv_services.add_suppliers(hub_at_nv, ["99000009"])  # an operator's stale entry

    out = io.StringIO()
    call_command("nv_suppliers", "status", stdout=out)
    assert "99000001  missing: run sync" in out.getvalue()
    assert "99000009  no agreement: run sync" in out.getvalue()
    assert "not in step" in out.getvalue()

    out = io.StringIO()
    call_command("nv_suppliers", "sync", stdout=out)
    assert out.getvalue().strip() == "declared 1 suppliers (added: 99000001; removed: 99000009)"
    assert declared_at_nv() == ["99000001"]
    assert hub_declarations() == [(["99000001"], ["99000009"], "sync")]

    out = io.StringIO()
    call_command("nv_suppliers", "status", stdout=out)
    assert f"client {HUB_OIN} (regie-hub (fictief)), role hub" in out.getvalue()
    assert "in step: 1 suppliers" in out.getvalue()


def test_nv_suppliers_sync_says_when_the_number_service_is_down(
    settings: LazySettings,
) -> None:
    settings.NV_CLIENT_URL = f"http://127.0.0.1:{free_port()}/nummervoorziening"
    settings.NV_CLIENT_API_KEY = "nv_000000000000_fictief"
    try:
        with pytest.raises(CommandError, match="cannot be reached"):
            call_command("nv_suppliers", "sync", stdout=io.StringIO())
    finally:
        nv.get_client().close()


def test_a_hub_heals_itself_when_a_supplier_is_refused_as_undeclared(
    hub_at_nv: Client, settings: LazySettings, rng: random.Random
) -> None:
    """The declaration after the transition was lost (here: no key at the time); the first
    supplier pseudonym the hub asks for is refused, the hub declares and asks once more."""
    board = make_board()
    supplier, products = supplier_with_product("Rekenwereld", "99000001")
    settings.NV_CLIENT_API_KEY, key = None, settings.NV_CLIENT_API_KEY
    make_agreement(board, supplier, products)
    settings.NV_CLIENT_API_KEY = key
    assert declared_at_nv() == []

    service = nv.get_client()
    eck_id = service.eck_id(service.stampseudonym(make_hpgn(rng)), CHAIN, PO)
    pseudonym = service.supplier_pseudonym(eck_id, supplier.kvk, PO)
    assert pseudonym == nv_services.get_deriver().supplier_pseudonym(eck_id, supplier.kvk, PO)
    assert declared_at_nv() == ["99000001"]
    assert hub_declarations() == [(["99000001"], [], "refused")]

    # A supplier none of the boards has an agreement with stays refused (declared once more).
    with pytest.raises(nv.SupplierNotDeclared):
        service.supplier_pseudonym(eck_id, "99000002", PO)
    assert declared_at_nv() == ["99000001"]
    refused = AuditEvent.objects.filter(event_type="nummervoorziening.request.refused")
    assert [event.details.get("supplier") for event in refused.order_by("id")] == [
        "99000001",
        "99000002",
        "99000002",
    ]


def test_the_declared_list_follows_signed_and_active_agreements_only() -> None:
    board = make_board()
    statuses = list(AgreementStatus.values)
    for index, status in enumerate(statuses):
        supplier, products = supplier_with_product(f"Leverancier{index}", f"9900010{index}")
        make_agreement(board, supplier, products, status=status)
    by_status = dict(
        ProcessingAgreement.objects.values_list("status", "supplier__kvk").order_by("status")
    )
    assert declarations.declared_suppliers() == sorted(
        [by_status[AgreementStatus.SIGNED], by_status[AgreementStatus.ACTIVE]]
    )
