"""Fixtures of the gateway's tests: signing keys, and a school whose pupils can launch a product
through a live hub (the number service answers over HTTP on the same live server)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from pytest_django.live_server_helper import LiveServer

from regie.accounts.services import create_pupil_login
from regie.agreements.models import Product, Supplier
from regie.agreements.tests.register import (
    license_group,
    make_agreement,
    make_product,
    make_supplier,
)
from regie.browser import browser, page
from regie.core.models import School
from regie.gateway import keys
from regie.nummervoorziening import services as nv_services
from regie.roster.models import Group, Student
from regie.roster.tests.exports import load_school, make_board

__all__ = ["browser", "page"]

PASSWORD = "fictief-wachtwoord-123"
HUB_OIN = "00000001000000000077"


@pytest.fixture(scope="session")
def oidc_keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("oidc-keys")
    keys.ensure(directory)
    return directory


@pytest.fixture(autouse=True)
def oidc_keys_in_settings(settings: LazySettings, oidc_keys_dir: Path) -> None:
    settings.OIDC_KEYS_DIR = oidc_keys_dir


@dataclass
class Launchable:
    """A school (pupils in ``group`` licensed for ``product``, first name switched on)."""

    base: str
    school: School
    group: Group
    pupil: Student
    pupil_user: User
    supplier: Supplier
    product: Product
    other_supplier: Supplier
    other_product: Product


@pytest.fixture
def launchable(live_server: LiveServer, settings: LazySettings, rng: random.Random) -> Launchable:
    from regie.agreements import services as register

    # The hub's number-service client first: activating the agreements below declares their
    # suppliers to it (after each commit, in transactional tests), as a running hub does.
    _, key = nv_services.register_client(oin=HUB_OIN, name="regie-hub (fictief)", role="hub")
    settings.NV_CLIENT_URL = f"{live_server.url}/nummervoorziening"
    settings.NV_CLIENT_API_KEY = key
    board = make_board()
    school = load_school(board, rng, "99XA", "A")
    group = Group.objects.get(school=school, las_key="A-G5")
    supplier = make_supplier("Rekenwereld B.V. (fictief)", "99000001")
    product = make_product(supplier, "Rekenwereld")
    make_agreement(board, supplier, [product])
    other_supplier = make_supplier("Taalrijk Uitgevers (fictief)", "99000002")
    other_product = make_product(other_supplier, "Taalrijk")
    make_agreement(board, other_supplier, [other_product])
    for item in (product, other_product):
        license_group(item, group)
    register.set_switch(school, product, "groups", True, user=None)
    pupil = group.students.order_by("pk")[0]
    pupil_user = create_pupil_login(pupil, "leerling-a", PASSWORD)
    register.declare_suppliers()  # idempotent; the only declaration in non-transactional tests
    settings.OIDC_ISSUER = f"{live_server.url}/oidc"
    return Launchable(
        live_server.url,
        school,
        group,
        pupil,
        pupil_user,
        supplier,
        product,
        other_supplier,
        other_product,
    )
