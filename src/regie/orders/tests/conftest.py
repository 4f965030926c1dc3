"""Fixtures of the orders' tests: the hub's keys, a board with pupils known to a supplier, the
supplier's registered client (its JWKS signs receipts) and its order endpoint, a live stub."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import LazySettings
from joserfc.jwk import ECKey

from regie.agreements.models import Supplier
from regie.agreements.tests.register import make_supplier
from regie.gateway import keys
from regie.gateway.models import OAuthClient, SupplierPseudonym
from regie.gateway.services import register_client
from regie.roster.models import Student
from regie.roster.tests.exports import load_school, make_board

from ..models import SupplierEndpoint
from .supplier_stub import SupplierStub, serving


@pytest.fixture(scope="session")
def hub_keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("oidc-keys")
    keys.ensure(directory)
    return directory


@pytest.fixture(autouse=True)
def hub_keys_in_settings(settings: LazySettings, hub_keys_dir: Path) -> None:
    settings.OIDC_KEYS_DIR = hub_keys_dir
    settings.ORDER_RETRY_SCHEDULE = [0, 0, 0]
    settings.ORDER_TIMEOUT_SECONDS = 2


@dataclass
class World:
    supplier: Supplier
    client: OAuthClient
    students: list[Student]
    stub: SupplierStub
    endpoint: SupplierEndpoint


def make_world(
    rng: random.Random, stub_factory: type[SupplierStub] = SupplierStub
) -> Iterator[World]:
    board = make_board()
    school = load_school(board, rng, "00AA00", "A", pupils=3)
    supplier = make_supplier()
    supplier_key = ECKey.generate_key("P-256", parameters={"kid": "leverancier-1"}, private=True)
    client, _ = register_client(
        supplier,
        name="Rekenwereld (fictief)",
        redirect_uris=["https://rekenwereld.example/callback"],
        jwks={"keys": [supplier_key.as_dict(private=False)]},
    )
    students = list(Student.objects.filter(school=school).order_by("pk"))
    for number, student in enumerate(students):
        SupplierPseudonym.objects.create(
            student=student,
            supplier=supplier,
            value=f"https://nv.example/lp/1/{number:0128x}",
        )
    stub = stub_factory(
        hub_jwks=keys.public_jwks,
        client_id=client.client_id,
        jwk=supplier_key.as_dict(private=True),
    )
    with serving(stub):
        endpoint = SupplierEndpoint.objects.create(supplier=supplier, url=stub.url)
        yield World(supplier, client, students, stub, endpoint)


@pytest.fixture
def world(db: None, rng: random.Random) -> Iterator[World]:
    yield from make_world(rng)


@pytest.fixture
def live_world(transactional_db: None, rng: random.Random) -> Iterator[World]:
    yield from make_world(rng)
