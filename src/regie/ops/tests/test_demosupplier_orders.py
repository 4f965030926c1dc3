"""The demo supplier receives the hub's signed orders (``POST /orders``) over real HTTP: it
verifies them against the hub's JWKS, acts on what it holds, answers with two receipts signed with
its own registered key, does nothing twice for a repeated order, and refuses what does not verify.

The hub's side is a small JWKS server (the edge) for most tests, signing with a test key through
``regie.lib.supplier_orders``; the last test uses the live hub, its own order key and a pupil who
really signed in at the supplier."""

from __future__ import annotations

import html
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import OKPKey

from regie.demosupplier import server
from regie.demosupplier.suppliers import REKENWERELD
from regie.gateway import keys
from regie.gateway.models import OAuthClient
from regie.gateway.tests.conftest import Launchable
from regie.lib import supplier_orders
from regie.ops import supplier_registration as registration
from regie.ops.tests.test_demosupplier import (
    hub_session,
    launch,
    pseudonym_of,
)
from regie.ops.tests.test_demosupplier_rostering import allow_results, csrf_of

CLIENT_ID = "rekenwereld-demo-client"
PUPIL = "https://nv.example/lp/1/pupil-one"
OTHER = "https://nv.example/lp/1/pupil-two"


class HubStub(ThreadingHTTPServer):
    """The hub's ``/oidc/jwks`` and nothing else; counts the fetches."""

    jwks: dict[str, Any]
    fetches: int


class JwksHandler(BaseHTTPRequestHandler):
    server: HubStub

    def do_GET(self) -> None:
        if self.path != "/oidc/jwks":
            self.send_error(404)
            return
        self.server.fetches += 1
        body = json.dumps(self.server.jwks).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def public_jwk(private: Ed25519PrivateKey, kid: str) -> dict[str, Any]:
    key = OKPKey.import_key(private)
    return {**key.as_dict(private=False), "kid": kid, "use": "sig", "alg": "EdDSA"}


@dataclass
class Channel:
    hub: HubStub
    supplier: server.Running
    key: Ed25519PrivateKey
    kid: str
    issuer: str
    sent: list[httpx.Response] = field(default_factory=list)

    def order(
        self, kind: str = "erasure", subjects: list[str] | None = None, **extra: Any
    ) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "type": kind,
            "issuer": self.issuer,
            "subjects": subjects or [PUPIL],
            "legal_basis": "AVG art. 17 lid 1 sub b",
            "deadline": "2026-12-31",
            "created": "2026-06-01T09:00:00Z",
            "receipts": f"{self.issuer}/receipts",
            "details": {},
            **extra,
        }

    def send(
        self,
        order: dict[str, Any],
        *,
        key: Ed25519PrivateKey | None = None,
        kid: str | None = None,
        now: int | None = None,
        body: bytes | None = None,
        change: dict[str, str] | None = None,
        order_id: str | None = None,
    ) -> httpx.Response:
        signed_body = supplier_orders.order_body(order)
        headers = supplier_orders.sign_order_request(
            url=self.supplier.app.order_endpoint,
            body=signed_body,
            order_id=order_id or order["id"],
            private_key=key or self.key,
            key_id=kid or self.kid,
            now=int(time.time()) if now is None else now,
        )
        headers.update(change or {})
        return httpx.post(
            self.supplier.app.order_endpoint,
            content=signed_body if body is None else body,
            headers=headers,
            timeout=30,
        )

    def receipts(self, answer: httpx.Response, order: dict[str, Any]) -> list[dict[str, Any]]:
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/json"
        tokens = answer.json()["receipts"]
        jwks = self.supplier.app.parties[""].public_jwks()
        claims = [
            supplier_orders.read_receipt(
                token, jwks=jwks, audience=self.issuer, now=int(time.time())
            )
            for token in tokens
        ]
        digest = supplier_orders.content_digest(supplier_orders.order_body(order))
        for item in claims:
            assert item["iss"] == CLIENT_ID
            assert item["order"] == order["id"]
            assert item["order_digest"] == digest
            assert item["subjects"] == order["subjects"]
        return claims


@pytest.fixture
def channel() -> Iterator[Channel]:
    hub = HubStub(("127.0.0.1", 0), JwksHandler)
    key = Ed25519PrivateKey.generate()
    kid = "ed25519-1-test"
    hub.jwks = {"keys": [public_jwk(key, kid)]}
    hub.fetches = 0
    thread = threading.Thread(target=hub.serve_forever, daemon=True)
    thread.start()
    issuer = f"http://127.0.0.1:{hub.server_address[1]}/oidc"
    supplier = server.start(REKENWERELD, issuer, port=0)
    supplier.app.parties[""].client_id = CLIENT_ID  # as the hub's registration sets it
    try:
        yield Channel(hub, supplier, key, kid, issuer)
    finally:
        supplier.stop()
        hub.shutdown()
        hub.server_close()


def hold_something(channel: Channel, sub: str) -> None:
    holdings = channel.supplier.app.holdings
    holdings.signed_in(sub, "Rekenwereld", {"sub": sub, "groups": ["Groep 5"]})
    holdings.roster_copy({"class-1": "Groep 5"}, {sub: ["class-1"]})
    holdings.result_sent(sub, {"class": "class-1", "score": 8.0, "date": "2026-05-01"})


def test_an_erasure_order_deletes_what_the_supplier_holds_and_gets_two_signed_receipts(
    channel: Channel,
) -> None:
    hold_something(channel, PUPIL)
    hold_something(channel, OTHER)
    order = channel.order("erasure", [PUPIL])
    accepted, completed = channel.receipts(channel.send(order), order)
    assert (accepted["status"], completed["status"]) == ("accepted", "completed")
    assert completed["statement"].startswith("Vernietigingsverklaring")
    assert completed["data"] == {}
    assert accepted["jti"] != completed["jti"]
    holdings = channel.supplier.app.holdings
    assert not holdings.holds(PUPIL)
    assert holdings.holds(OTHER)  # only what the order names

    page = httpx.get(f"{channel.supplier.url}/opdrachten")
    assert page.status_code == 200
    row = re.search(rf'<tr data-order="{order["id"]}">(.*?)</tr>', page.text)
    assert row is not None
    assert "Wissen" in row[1]
    assert "Vernietigingsverklaring" in row[1]
    assert 'href="/opdrachten"' in httpx.get(f"{channel.supplier.url}/").text


def test_an_access_order_is_answered_with_what_the_supplier_holds(channel: Channel) -> None:
    hold_something(channel, PUPIL)
    order = channel.order("access", [PUPIL, OTHER])
    _accepted, completed = channel.receipts(channel.send(order), order)
    assert completed["status"] == "completed"
    held = completed["data"][PUPIL]
    assert held["received_at_sign_in"] == {"Rekenwereld": {"sub": PUPIL, "groups": ["Groep 5"]}}
    assert held["roster_classes"] == [{"sourcedId": "class-1", "title": "Groep 5"}]
    assert held["results_sent"] == [{"class": "class-1", "score": 8.0, "date": "2026-05-01"}]
    assert completed["data"][OTHER]["received_at_sign_in"] == {}  # nothing held, and said so
    assert channel.supplier.app.holdings.holds(PUPIL)  # an access order deletes nothing


def test_a_repeated_order_gets_the_same_receipts_and_nothing_is_done_again(
    channel: Channel,
) -> None:
    hold_something(channel, PUPIL)
    order = channel.order("erasure", [PUPIL])
    first = channel.send(order)
    channel.receipts(first, order)
    hold_something(channel, PUPIL)  # the pupil signs in again after the erasure
    again = channel.send(order, now=int(time.time()) + 5)  # the hub's next attempt
    assert again.status_code == 200
    assert again.json() == first.json()
    assert channel.supplier.app.holdings.holds(PUPIL)  # the erasure was not done twice
    row = re.search(
        rf'<tr data-order="{order["id"]}">(.*?)</tr>',
        httpx.get(f"{channel.supplier.url}/opdrachten").text,
    )
    assert row is not None
    assert row[1].endswith("<td>2</td>")  # received twice, acted on once


def test_the_same_order_id_with_another_body_is_a_conflict(channel: Channel) -> None:
    order = channel.order("access")
    channel.receipts(channel.send(order), order)
    answer = channel.send({**order, "type": "erasure"})
    assert answer.status_code == 409
    assert answer.json()["detail"] == "this order id was used for another order"


@pytest.mark.parametrize(
    ("kind", "statement", "effect"),
    [
        ("restriction", "Gemarkeerd", {"processing_restricted": True}),
        ("objection", "Gemarkeerd", {"objection_received": True}),
        ("rectification-notice", "Genoteerd", {"processing_restricted": False}),
        ("legacy-conversion", "Vernietigingsverklaring", {"processing_restricted": False}),
    ],
)
def test_the_other_order_types_are_completed_with_what_was_done(
    channel: Channel, kind: str, statement: str, effect: dict[str, Any]
) -> None:
    hold_something(channel, PUPIL)
    order = channel.order(kind, [PUPIL])
    _accepted, completed = channel.receipts(channel.send(order), order)
    assert completed["statement"].startswith(statement)
    held = channel.supplier.app.holdings.data([PUPIL])[PUPIL]
    assert {name: held[name] for name in effect} == effect
    assert held["received_at_sign_in"]  # kept
    assert channel.supplier.app.holdings.may_process(PUPIL) is (
        kind not in {"restriction", "objection"}
    )
    if kind == "rectification-notice":
        assert len(held["notes"]) == 1


def test_the_end_of_the_contract_destroys_everything(channel: Channel) -> None:
    hold_something(channel, PUPIL)
    hold_something(channel, OTHER)
    order = channel.order("end-of-contract-destruction", [PUPIL])
    _accepted, completed = channel.receipts(channel.send(order), order)
    assert "alle gegevens vernietigd" in completed["statement"]
    assert not channel.supplier.app.holdings.holds(PUPIL)
    assert not channel.supplier.app.holdings.holds(OTHER)
    assert "subverwerker" not in completed["statement"]  # the order listed none


def test_the_end_of_contract_statement_names_the_subprocessors_it_passed_the_order_to(
    channel: Channel,
) -> None:
    hold_something(channel, PUPIL)
    details = {
        "products": ["Rekenwereld"],
        "subprocessors": [
            {"name": "Wolkenhuis Hosting B.V. (fictief)", "country": "NL"},
            {"name": "Cloudcompute Inc. (fictief)", "country": "US"},
        ],
    }
    order = channel.order("end-of-contract-destruction", [PUPIL], details=details)
    _accepted, completed = channel.receipts(channel.send(order), order)
    assert "doorgegeven aan de subverwerkers" in completed["statement"]
    assert "Wolkenhuis Hosting B.V. (fictief) (NL)" in completed["statement"]
    assert "Cloudcompute Inc. (fictief) (US)" in completed["statement"]
    assert not channel.supplier.app.holdings.holds(PUPIL)


def test_an_order_that_does_not_verify_is_refused_with_401_and_changes_nothing(
    channel: Channel,
) -> None:
    hold_something(channel, PUPIL)
    order = channel.order("erasure", [PUPIL])
    other_key = Ed25519PrivateKey.generate()
    tampered = supplier_orders.order_body({**order, "subjects": [OTHER]})
    refusals = {
        "signature does not verify": channel.send(order, key=other_key),
        "content-digest does not match the body": channel.send(order, body=tampered),
        "signature too old": channel.send(order, now=int(time.time()) - 3600),
        "signature created in the future": channel.send(order, now=int(time.time()) + 3600),
        "webhook-id differs from the order id": channel.send(order, order_id=str(uuid.uuid4())),
        "no signature labelled regie": channel.send(order, change={"signature": "other=:AAAA:"}),
        "signature headers missing": httpx.post(
            channel.supplier.app.order_endpoint, content=supplier_orders.order_body(order)
        ),
    }
    body = supplier_orders.order_body(order)
    headers = supplier_orders.sign_order_request(
        url=channel.supplier.app.order_endpoint,
        body=body,
        order_id=order["id"],
        private_key=channel.key,
        key_id=channel.kid,
        now=int(time.time()),
    )
    headers["signature-input"] = headers["signature-input"].replace(' "webhook-timestamp"', "")
    refusals["signature does not cover the required components"] = httpx.post(
        channel.supplier.app.order_endpoint, content=body, headers=headers
    )
    for reason, answer in refusals.items():
        assert answer.status_code == 401, (reason, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["detail"] == reason
    assert channel.supplier.app.holdings.holds(PUPIL)
    assert channel.supplier.app.orders.received() == []


def test_an_order_it_cannot_read_is_refused_with_400(channel: Channel) -> None:
    cases = {
        "unknown order type": channel.order("delete-everything"),
        "the order comes from another hub": channel.order(issuer="https://other.example/oidc"),
        "subjects must be a list of pseudonyms": channel.order(subjects=[]),
    }
    cases["subjects must be a list of pseudonyms"]["subjects"] = []
    for reason, order in cases.items():
        answer = channel.send(order)
        assert answer.status_code == 400, (reason, answer.text)
        assert answer.json()["detail"] == reason
    not_an_order = channel.order()
    del not_an_order["legal_basis"]
    answer = channel.send(not_an_order)
    assert answer.status_code == 400
    assert answer.json()["detail"] == "body is not an order"
    assert httpx.get(channel.supplier.app.order_endpoint).status_code == 405
    assert channel.supplier.app.orders.received() == []


def test_the_hubs_jwks_is_cached_and_read_again_once_for_an_unknown_key_id(
    channel: Channel,
) -> None:
    first = channel.order("access")
    channel.receipts(channel.send(first), first)
    second = channel.order("access")
    channel.receipts(channel.send(second), second)
    assert channel.hub.fetches == 1  # cached

    rotated = Ed25519PrivateKey.generate()  # the hub rotates its key: a kid not seen yet
    channel.hub.jwks = {"keys": [*channel.hub.jwks["keys"], public_jwk(rotated, "ed25519-2-test")]}
    third = channel.order("access")
    channel.receipts(channel.send(third, key=rotated, kid="ed25519-2-test"), third)
    assert channel.hub.fetches == 2

    stranger = Ed25519PrivateKey.generate()  # a kid the hub never published
    for _ in range(2):
        answer = channel.send(channel.order("access"), key=stranger, kid="ed25519-9-forged")
        assert answer.status_code == 401
        assert answer.json()["detail"] == "unknown key id"
    assert channel.hub.fetches == 3  # read once for it, not on every forged request


def test_a_supplier_not_yet_registered_asks_the_hub_to_come_back(channel: Channel) -> None:
    channel.supplier.app.parties[""].client_id = None
    answer = channel.send(channel.order("access"))
    assert answer.status_code == 503  # a failed attempt: the hub tries again later
    assert channel.supplier.app.orders.received() == []


def hub_order(issuer: str, kind: str, subjects: list[str], endpoint: str) -> httpx.Response:
    """An order signed with the live hub's own order key (published in its JWKS)."""
    order: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "type": kind,
        "issuer": issuer,
        "subjects": subjects,
        "legal_basis": "AVG art. 18" if kind == "restriction" else "AVG art. 15",
        "deadline": "2026-12-31",
        "created": "2026-06-01T09:00:00Z",
        "receipts": f"{issuer}/receipts",
        "details": {},
    }
    body = supplier_orders.order_body(order)
    kid, private = keys.order_signing_key()
    headers = supplier_orders.sign_order_request(
        url=endpoint,
        body=body,
        order_id=order["id"],
        private_key=private,
        key_id=kid,
        now=int(time.time()),
    )
    return httpx.post(endpoint, content=body, headers=headers, timeout=30)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("worker")
def test_the_back_office_roster_and_results_are_held_shown_on_access_and_stop_on_restriction(
    launchable: Launchable,
) -> None:
    issuer = f"{launchable.base}/oidc"
    allow_results(launchable)
    rekenwereld = server.start(REKENWERELD, issuer, port=0)
    try:
        registration.register_clients(
            rekenwereld.app, launchable.supplier, {"": launchable.product}
        )
        browser = httpx.Client(base_url=rekenwereld.url, follow_redirects=False, timeout=60)
        page = browser.get("/rooster")
        assert (
            browser.post("/rooster/ophalen", data={"csrf": csrf_of(page.text)}).status_code == 303
        )
        page = browser.get("/rooster")
        group = re.search(r'<tr data-class="([^"]+)"><td>Groep 5</td>', page.text)
        assert group is not None
        pupil = pseudonym_of(launchable.pupil, launchable.supplier)
        form = {"csrf": csrf_of(page.text), "class": html.unescape(group[1]), "student": pupil}
        assert browser.post("/rooster/resultaat", data=form).status_code == 303

        access = hub_order(issuer, "access", [pupil], rekenwereld.app.order_endpoint)
        assert access.status_code == 200, access.text
        client = OAuthClient.objects.get(name=registration.client_name(launchable.product))
        completed = supplier_orders.read_receipt(
            access.json()["receipts"][1], jwks=client.jwks, audience=issuer, now=int(time.time())
        )
        held = completed["data"][pupil]
        classes = {item["title"]: item["sourcedId"] for item in held["roster_classes"]}
        assert classes["Groep 5"] == html.unescape(group[1])  # and the Plusklas it is also in
        assert [item["score"] for item in held["results_sent"]] == [8.0]

        restriction = hub_order(issuer, "restriction", [pupil], rekenwereld.app.order_endpoint)
        assert restriction.status_code == 200, restriction.text
        refused = browser.post("/rooster/resultaat", data=form)
        assert refused.status_code == 400
        assert "niet meer te verwerken" in refused.text

        erasure = hub_order(issuer, "erasure", [pupil], rekenwereld.app.order_endpoint)
        assert erasure.status_code == 200, erasure.text
        assert f'<tr data-student="{html.escape(pupil)}">' not in browser.get("/rooster").text
        assert not rekenwereld.app.holdings.holds(pupil)
        orders_page = browser.get("/opdrachten").text
        for label in ("Inzage", "Beperking van de verwerking", "Wissen"):
            assert label in orders_page
    finally:
        rekenwereld.stop()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_live_hubs_erasure_order_erases_a_signed_in_pupil_at_the_supplier(
    launchable: Launchable,
) -> None:
    issuer = f"{launchable.base}/oidc"
    rekenwereld = server.start(REKENWERELD, issuer, port=0)
    try:
        registration.register_clients(
            rekenwereld.app, launchable.supplier, {"": launchable.product}
        )
        session = hub_session(launchable.base, launchable.pupil_user.username)
        page = launch(session, rekenwereld, issuer)
        assert page.status_code == 200
        assert "Wat Rekenwereld van regie ontving" in page.text
        sub = pseudonym_of(launchable.pupil, launchable.supplier)
        assert rekenwereld.app.holdings.holds(sub)

        order: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "type": "erasure",
            "issuer": issuer,
            "subjects": [sub],
            "legal_basis": "AVG art. 17 lid 1 sub b",
            "deadline": "2026-12-31",
            "created": "2026-06-01T09:00:00Z",
            "receipts": f"{launchable.base}/receipts",
            "details": {},
        }
        body = supplier_orders.order_body(order)
        kid, private = keys.order_signing_key()  # the hub's own key, in its published JWKS
        headers = supplier_orders.sign_order_request(
            url=rekenwereld.app.order_endpoint,
            body=body,
            order_id=order["id"],
            private_key=private,
            key_id=kid,
            now=int(time.time()),
        )
        answer = httpx.post(rekenwereld.app.order_endpoint, content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        client = OAuthClient.objects.get(name=registration.client_name(launchable.product))
        statuses = [
            supplier_orders.read_receipt(
                token, jwks=client.jwks, audience=issuer, now=int(time.time())
            )["status"]
            for token in answer.json()["receipts"]
        ]
        assert statuses == ["accepted", "completed"]  # verified with the registered JWKS
        assert not rekenwereld.app.holdings.holds(sub)
        # The pupil's own page at the supplier no longer has anything to show.
        gone = session.get(f"{rekenwereld.url}/ontvangen")
        assert gone.status_code == 303
        assert gone.headers["location"] == f"{rekenwereld.url}/"
    finally:
        rekenwereld.stop()
