"""A world for the rights-request tests: a board with one school, a guardian's login for the first
pupil, two suppliers that hold the pupil's pseudonym, each with its registered client (whose key
signs receipts) and a live order endpoint over real HTTP (the orders' supplier stub), and a third
supplier that only appears in the pupil's release events (no pseudonym, no endpoint).

The test modules import the fixtures from here (``world``, ``hub_keys``)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from joserfc.jwk import ECKey

from regie.accounts.models import GuardianAccount
from regie.agreements.models import Supplier
from regie.agreements.tests.register import make_supplier
from regie.audit.services import record
from regie.gateway import events as gateway_events
from regie.gateway import keys
from regie.gateway.models import OAuthClient, SupplierPseudonym
from regie.gateway.services import register_client
from regie.orders.jobs import deliver
from regie.orders.models import Order, SupplierEndpoint
from regie.orders.tests.supplier_stub import SupplierStub, serving
from regie.roster.models import Student
from regie.roster.tests.exports import load_school, make_board

from ..models import RightsRequest

STATEMENT = "Wij moeten de facturen zeven jaar bewaren (fiscale bewaarplicht)."


class Stub(SupplierStub):
    """The orders' stub, with two more answers: ``later`` (delivered, no receipts yet: the
    supplier acts later) and ``refuse`` (accepted, then refused with a reasoned statement)."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if self.mode not in ("later", "refuse"):
            return super().__call__(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        order = json.loads(body)
        with self.lock:
            self.received[order["id"]] += 1
        tokens = []
        if self.mode == "refuse":
            tokens = [
                self.receipt(order, body, "accepted"),
                self.receipt(order, body, "refused", statement=STATEMENT),
            ]
        start_response("200 OK", [("content-type", "application/json")])
        return [json.dumps({"receipts": tokens}).encode()]


@dataclass
class Party:
    supplier: Supplier
    client: OAuthClient
    stub: Stub


@dataclass
class World:
    child: Student
    other_child: Student
    guardian: User
    parties: list[Party]
    released_only: Supplier  # in the child's release events, without pseudonym or endpoint


@pytest.fixture(scope="session")
def hub_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("oidc-keys")
    keys.ensure(directory)
    return directory


def guardian_login(child: Student, username: str = "ouder-a") -> User:
    guardian = child.guardians.order_by("pk").first()
    assert guardian is not None
    assert guardian.email
    user = User.objects.create_user(username=username, password="fictief-wachtwoord-123")
    GuardianAccount.objects.create(
        user=user, board=child.school.board, email=guardian.email.lower()
    )
    return user


def make_world(settings: LazySettings, hub_keys: Path, rng: random.Random) -> Iterator[World]:
    settings.OIDC_KEYS_DIR = hub_keys
    settings.ORDER_RETRY_SCHEDULE = [0, 0, 0]
    settings.ORDER_TIMEOUT_SECONDS = 2
    board = make_board()
    school = load_school(board, rng, "00AA00", "A", pupils=2)
    child, other_child = list(Student.objects.filter(school=school).order_by("pk"))
    parties = []
    with ExitStack() as stack:
        for number, (name, kvk) in enumerate(
            [("Rekenwereld (fictief)", "11111111"), ("Taalrijk (fictief)", "22222222")]
        ):
            supplier = make_supplier(name=name, kvk=kvk)
            key = ECKey.generate_key("P-256", parameters={"kid": f"lev-{number}"}, private=True)
            client, _ = register_client(
                supplier,
                name=name,
                redirect_uris=[f"https://lev{number}.example/callback"],
                jwks={"keys": [key.as_dict(private=False)]},
            )
            for index, student in enumerate((child, other_child)):
                SupplierPseudonym.objects.create(
                    student=student,
                    supplier=supplier,
                    value=f"https://nv.example/lp/{number}/{index:0128x}",
                )
            stub = Stub(
                hub_jwks=keys.public_jwks,
                client_id=client.client_id,
                jwk=key.as_dict(private=True),
            )
            stack.enter_context(serving(stub))
            SupplierEndpoint.objects.create(supplier=supplier, url=stub.url)
            parties.append(Party(supplier, client, stub))
        released_only = make_supplier(name="Oefenplein (fictief)", kvk="33333333")
        record(
            gateway_events.RELEASE,
            "client:test",
            f"student:{child.pk}",
            {"channel": "oidc", "supplier": released_only.pk, "product": None, "attributes": []},
        )
        yield World(child, other_child, guardian_login(child), parties, released_only)


def deliver_all(rr: RightsRequest) -> None:
    """Each of the request's orders is delivered once, as a worker runs the queued job."""
    for line in rr.fan_out.exclude(order=None):
        assert line.order is not None
        deliver(order=str(line.order_id), attempt=1)


def order_of(rr: RightsRequest, party: Party) -> Order:
    line = rr.fan_out.get(supplier=party.supplier)
    assert line.order is not None
    return Order.objects.get(pk=line.order.pk)


def receipt(party: Party, order: Order, status: str, **changes: Any) -> str:
    return party.stub.receipt(json.loads(bytes(order.body)), bytes(order.body), status, **changes)
