"""Need-to-know on the register pages: anonymous users log in first, teachers get 403 everywhere,
school admins get 403 on board-level pages, and another board's records are a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from regie.roster.tests.exports import client_for

from ..models import AgreementStatus, Processing, ProcessingAgreement
from .register import World, make_agreement, make_product, make_supplier

pytestmark = pytest.mark.django_db

REGISTER = "register"  # every register user: privacy officers, board and school admins
BOARD = "board"  # board-level: privacy officers and board admins only


@dataclass(frozen=True)
class Route:
    name: str
    args: tuple[int | str, ...]
    level: str
    board_a_record: bool = False  # an id of a record of board A (a 404 for board B)
    post_only: bool = False

    @property
    def url(self) -> str:
        return reverse(f"agreements:{self.name}", args=self.args)


class Ids:
    """Board A's draft agreement with a schedule and a processing, and a supplier's offer."""

    def __init__(self, world: World) -> None:
        supplier = make_supplier("Meetwereld B.V. (fictief)", "99000002")
        product = make_product(supplier, "Meetwereld")
        self.agreement = make_agreement(
            world.board_a, supplier, [product], status=AgreementStatus.DRAFT, title="Concept A"
        )
        self.schedule = self.agreement.schedules.get()
        self.processing = self.schedule.processings.get()
        self.offer = make_agreement(None, supplier, [product], title="Aanbod (fictief)")


def routes(world: World, ids: Ids) -> list[Route]:
    supplier, product = world.supplier.pk, world.product.pk
    agreement, schedule = ids.agreement.pk, ids.schedule.pk
    return [
        Route("overview", (), REGISTER),
        Route("suppliers", (), REGISTER),
        Route("supplier", (supplier,), REGISTER),
        Route("supplier-create", (), BOARD),
        Route("supplier-edit", (supplier,), BOARD),
        Route("product-create", (supplier,), BOARD),
        Route("product", (product,), REGISTER),
        Route("product-edit", (product,), BOARD),
        Route("product-dpia", (product,), BOARD),
        Route("agreements", (), BOARD),
        Route("agreement-create", (), BOARD),
        Route("agreement", (agreement,), BOARD, board_a_record=True),
        Route("agreement-edit", (agreement,), BOARD, board_a_record=True),
        Route("deviation-add", (agreement,), BOARD, board_a_record=True),
        Route("schedule-add", (agreement,), BOARD, board_a_record=True),
        Route("processing-add", (schedule,), BOARD, board_a_record=True),
        Route("subprocessor-add", (schedule,), BOARD, board_a_record=True),
        Route("offers", (), REGISTER),
        Route("offer", (ids.offer.pk,), REGISTER),
        Route("agreement-transition", (agreement,), BOARD, board_a_record=True, post_only=True),
        Route("processing-remove", (ids.processing.pk,), BOARD, board_a_record=True),
        Route("agreement-confirm", (agreement, "terminated"), BOARD, board_a_record=True),
        Route("offer-adopt", (ids.offer.pk,), BOARD, post_only=True),
    ]


@pytest.fixture
def ids(world: World) -> Ids:
    return Ids(world)


def unchanged(ids: Ids) -> bool:
    """Nothing a refused request could have touched was changed."""
    agreement = ProcessingAgreement.objects.get(pk=ids.agreement.pk)
    return (
        agreement.status == AgreementStatus.DRAFT
        and Processing.objects.filter(pk=ids.processing.pk).exists()
        and not ProcessingAgreement.objects.filter(adopted_from=ids.offer).exists()
    )


def post(client: Client, route: Route) -> int:
    return client.post(route.url, {"to": AgreementStatus.OFFERED, "name": "x"}).status_code


def test_it_sends_anonymous_users_to_the_login_page(world: World, ids: Ids) -> None:
    client = Client()
    for route in routes(world, ids):
        for response in (client.get(route.url), client.post(route.url, {})):
            assert response.status_code == 302, route.name
            assert response["Location"].startswith(reverse("login")), route.name
    assert unchanged(ids)


def test_it_refuses_teachers_everywhere(world: World, ids: Ids) -> None:
    client = client_for(world.teacher)
    for route in routes(world, ids):
        assert client.get(route.url).status_code == 403, route.name
        assert post(client, route) == 403, route.name
    assert unchanged(ids)


def test_it_refuses_users_without_a_role(world: World, ids: Ids) -> None:
    nobody = User.objects.create_user("niemand", password="fictief-wachtwoord-123")
    client = client_for(nobody)
    for route in routes(world, ids):
        assert client.get(route.url).status_code == 403, route.name


def test_it_refuses_school_admins_the_board_level_pages(world: World, ids: Ids) -> None:
    client = client_for(world.school_admin)
    for route in routes(world, ids):
        if route.level == BOARD:
            assert client.get(route.url).status_code == 403, route.name
            assert post(client, route) == 403, route.name
        else:
            assert client.get(route.url).status_code == 200, route.name
    assert unchanged(ids)
    overview = client.get(reverse("agreements:overview")).content.decode()
    assert reverse("agreements:licences") in overview
    assert reverse("agreements:privacy-statement", args=[world.a1.pk]) in overview
    assert reverse("agreements:privacy-statement", args=[world.a2.pk]) not in overview
    assert reverse("agreements:agreements") not in overview
    assert reverse("agreements:art30", args=["csv"]) not in overview


def test_it_hides_board_as_records_from_board_b(world: World, ids: Ids) -> None:
    client = client_for(world.officer_b)
    for route in routes(world, ids):
        if route.board_a_record:
            assert client.get(route.url).status_code == 404, route.name
            assert post(client, route) == 404, route.name
        elif not route.post_only:
            assert client.get(route.url).status_code == 200, route.name
    assert unchanged(ids)
    for name, args in (
        ("agreements", ()),
        ("overview", ()),
        ("supplier", (world.supplier.pk,)),
        ("product", (world.product.pk,)),
    ):
        page = client.get(reverse(f"agreements:{name}", args=args)).content.decode()
        assert "Concept A" not in page, name
        assert "Stichting A" not in page, name
    # Board B's officer cannot adopt an offer for board A, nor screen a product for it.
    adopt = client.post(
        reverse("agreements:offer-adopt", args=[ids.offer.pk]), {"board": world.board_a.pk}
    )
    assert adopt.status_code == 404
    dpia = client.post(
        reverse("agreements:product-dpia", args=[world.product.pk]),
        {"board": world.board_a.pk, "criteria": ["large_scale"]},
    )
    assert dpia.status_code == 404
    assert unchanged(ids)
    assert not world.product.dpia_screenings.exists()


@pytest.mark.parametrize("persona", ["officer", "board_admin"])
def test_it_lets_the_boards_officer_and_admin_in(world: World, ids: Ids, persona: str) -> None:
    user: User = getattr(world, persona)
    client = client_for(user)
    for route in routes(world, ids):
        if route.post_only:
            assert client.get(route.url).status_code == 405, route.name
        else:
            assert client.get(route.url).status_code == 200, route.name
    overview = client.get(reverse("agreements:overview")).content.decode()
    assert reverse("agreements:art30", args=["json"]) in overview
    assert reverse("agreements:council") in overview
    for route in routes(world, ids):
        if route.post_only and route.name != "offer-adopt":
            response = client.post(route.url, {"to": "bogus"})
            assert response.status_code in {302, 400}, route.name
    adopt = client.post(reverse("agreements:offer-adopt", args=[ids.offer.pk]), {})
    assert adopt.status_code == 302
    assert ProcessingAgreement.objects.get(adopted_from=ids.offer).board == world.board_a
