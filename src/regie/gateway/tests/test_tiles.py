"""'Mijn leermiddelen': a pupil's tiles launch by OIDC Core §4 (third-party initiated login), only
for products licensed to them under an active agreement; teachers see their groups' products."""

from __future__ import annotations

import random
from dataclasses import dataclass
from html import escape
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from playwright.sync_api import Page, Route, expect

from regie.accounts.services import create_pupil_login
from regie.agreements import services as register
from regie.agreements.models import (
    AgreementStatus,
    Licence,
    ProcessingAgreement,
    Product,
    Supplier,
)
from regie.agreements.tests.register import (
    license_group,
    make_agreement,
    make_product,
    make_supplier,
    school_year,
)
from regie.browser import unlabelled_controls
from regie.core.models import School
from regie.gateway import services
from regie.gateway.models import OAuthClient
from regie.logins import verified_client
from regie.roster.importing.records import StaffRole
from regie.roster.models import Group, Student
from regie.roster.tests.exports import load_school, make_board, make_staff

from .conftest import PASSWORD, Launchable

ISSUER = "https://hub.regie.example/oidc"
LOGIN_URI = "https://app.rekenwereld.example/login?from=regie"


@dataclass
class Setting:
    school: School
    group: Group
    pupil: Student
    pupil_user: User
    supplier: Supplier
    product: Product
    licence: Licence


@pytest.fixture
def setting(db: None, rng: random.Random, settings: LazySettings) -> Setting:
    settings.OIDC_ISSUER = ISSUER
    board = make_board()
    school = load_school(board, rng, "99XA", "A")
    group = Group.objects.get(school=school, las_key="A-G5")
    supplier = make_supplier("Rekenwereld B.V. (fictief)", "99000001")
    product = make_product(supplier, "Rekenwereld")
    make_agreement(board, supplier, [product])
    licence = license_group(product, group)
    register.set_switch(school, product, "groups", True, user=None)
    pupil = group.students.order_by("pk")[0]
    user = create_pupil_login(pupil, "leerling-a", PASSWORD)
    return Setting(school, group, pupil, user, supplier, product, licence)


def launch_client(supplier: Supplier, product: Product, login_uri: str = LOGIN_URI) -> OAuthClient:
    client, _ = services.register_client(
        supplier,
        name="Rekenwereld SSO",
        product=product,
        redirect_uris=["https://app.rekenwereld.example/callback"],
        auth_method="client_secret_basic",
        initiate_login_uri=login_uri,
    )
    return client


def tiles_page(user: User) -> str:
    client = verified_client(user)  # past the second step, for a school admin
    answer = client.get(reverse("tiles"))
    assert answer.status_code == 200
    return answer.content.decode()


def expected_launch(product: Product, issuer: str = ISSUER, login_uri: str = LOGIN_URI) -> str:
    return f"{login_uri}&{urlencode({'iss': issuer, 'target_link_uri': product.url})}"


def test_it_shows_a_licensed_pupil_a_tile_that_launches_with_iss_and_target_link_uri(
    setting: Setting,
) -> None:
    launch_client(setting.supplier, setting.product)
    page = tiles_page(setting.pupil_user)
    assert "<h1>Mijn leermiddelen</h1>" in page
    assert "Rekenwereld B.V. (fictief)" in page
    url = expected_launch(setting.product)
    assert f'href="{escape(url)}"' in page  # the & between parameters is HTML-escaped
    assert "&iss=" not in page
    query = parse_qs(urlsplit(url).query)
    assert query == {
        "from": ["regie"],
        "iss": [ISSUER],
        "target_link_uri": ["https://rekenwereld.leverancier.example"],
    }
    assert "Rekenwereld openen" in page


def test_its_launch_link_carries_no_pupil_identifier(setting: Setting) -> None:
    launch_client(setting.supplier, setting.product)
    page = tiles_page(setting.pupil_user)
    for secret in (setting.pupil.eck_id, setting.pupil.las_key, setting.pupil.achternaam):
        assert secret
        assert secret not in page


def test_it_tells_the_pupil_what_the_supplier_receives(setting: Setting) -> None:
    launch_client(setting.supplier, setting.product)
    page = tiles_page(setting.pupil_user)
    assert "Wat de leverancier over jou krijgt: leverancierspseudoniem, groepen en klassen." in page
    assert "voornaam" not in page  # on the schedule, but not switched on and no consent


def test_it_shows_no_tile_after_the_licence_is_revoked(setting: Setting) -> None:
    launch_client(setting.supplier, setting.product)
    register.revoke_licence(setting.licence, user=None)
    page = tiles_page(setting.pupil_user)
    assert "Rekenwereld" not in page
    assert "nog geen leermiddelen voor jou klaargezet" in page


def test_it_shows_a_licensed_product_without_a_client_as_not_yet_launchable(
    setting: Setting,
) -> None:
    page = tiles_page(setting.pupil_user)
    assert "Rekenwereld" in page
    assert "nog niet te openen" in page
    assert 'class="launch"' not in page


def test_it_does_not_launch_through_a_switched_off_client(setting: Setting) -> None:
    client = launch_client(setting.supplier, setting.product)
    OAuthClient.objects.filter(pk=client.pk).update(is_active=False)
    page = tiles_page(setting.pupil_user)
    assert "nog niet te openen" in page
    assert "app.rekenwereld.example" not in page


def test_it_shows_a_product_licensed_to_the_pupil_by_name(setting: Setting) -> None:
    other_supplier = make_supplier("Taalrijk Uitgevers (fictief)", "99000002")
    other = make_product(other_supplier, "Taalrijk")
    make_agreement(setting.school.board, other_supplier, [other])
    register.grant_licence(
        other, setting.school, school_year(), students=[setting.pupil], user=None
    )
    page = tiles_page(setting.pupil_user)
    assert "Taalrijk Uitgevers (fictief)" in page


def test_it_shows_a_pupil_outside_the_licensed_group_no_tile(setting: Setting) -> None:
    outside = setting.group.students.order_by("pk")[1]
    setting.group.students.remove(outside)  # moved to another group by the next import
    user = create_pupil_login(outside, "leerling-b", PASSWORD)
    page = tiles_page(user)
    assert "Rekenwereld" not in page


def test_it_shows_a_teacher_the_products_of_their_groups_with_a_launch(
    setting: Setting,
) -> None:
    launch_client(setting.supplier, setting.product)
    user, teacher = make_staff(
        setting.school.board, setting.school, StaffRole.TEACHER, username="leerkracht-a"
    )
    teacher.groups.add(setting.group)
    page = tiles_page(user)
    assert "Rekenwereld" in page
    assert setting.group.name in page
    assert escape(expected_launch(setting.product, ISSUER, LOGIN_URI)) in page
    assert "uw eigen code bij de leverancier, uw rol, school, groepen" in page


def test_a_teacher_gets_no_tile_when_the_agreement_is_not_active(setting: Setting) -> None:
    launch_client(setting.supplier, setting.product)
    user, teacher = make_staff(
        setting.school.board, setting.school, StaffRole.TEACHER, username="leerkracht-a"
    )
    teacher.groups.add(setting.group)
    ProcessingAgreement.objects.filter(supplier=setting.supplier).update(
        status=AgreementStatus.TERMINATED
    )
    assert "Rekenwereld" not in tiles_page(user)


def test_a_teacher_sees_a_product_licensed_to_named_pupils_of_their_group(
    setting: Setting,
) -> None:
    launch_client(setting.supplier, setting.product)
    setting.licence.delete()
    named = Licence.objects.create(
        product=setting.product, school=setting.school, school_year=setting.licence.school_year
    )
    named.students.add(setting.pupil)
    user, teacher = make_staff(
        setting.school.board, setting.school, StaffRole.TEACHER, username="leerkracht-a"
    )
    teacher.groups.add(setting.group)
    page = tiles_page(user)
    assert escape(expected_launch(setting.product, ISSUER, LOGIN_URI)) in page
    assert f"Voor: {setting.group.name}" in page


def test_it_shows_a_teacher_of_other_groups_nothing(setting: Setting) -> None:
    user, _ = make_staff(setting.school.board, setting.school, StaffRole.TEACHER)
    page = tiles_page(user)
    assert "Rekenwereld" not in page
    assert "nog geen leermiddelen klaargezet voor de groepen" in page


def test_it_refuses_a_login_that_is_neither_pupil_nor_teacher_in_plain_dutch(
    setting: Setting,
) -> None:
    client = Client()
    client.force_login(User.objects.create_user("beheer", password=PASSWORD))
    answer = client.get(reverse("tiles"))
    assert answer.status_code == 403  # no business there (see test_access_map)
    page = answer.content.decode()
    assert "Geen toegang" in page
    assert "Rekenwereld" not in page


def tiles_queries(user: User) -> int:
    client = Client()
    client.force_login(user)
    client.get(reverse("tiles"))  # the first request of a process loads the URLs
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("tiles")).status_code == 200
    return len(queries)


def more_products(setting: Setting, count: int) -> None:
    """``count`` more products of suppliers with an active agreement, licensed for the group."""
    for number in range(count):
        supplier = make_supplier(f"Uitgever {number} (fictief)", f"9900010{number}")
        product = make_product(supplier, f"Leermiddel{number}")
        make_agreement(setting.school.board, supplier, [product])
        license_group(product, setting.group)
        register.set_switch(setting.school, product, "groups", True, user=None)
        launch_client(supplier, product, f"https://app{number}.leverancier.example/login")


# Per product on a pupil's page: the release policy's decision (its facts, the school's switches
# and the pupil's consents) and the product's launch client; nothing read beside the policy.
PUPIL_QUERIES_PER_PRODUCT = 4
# On a teacher's page: the policy's staff facts (the governing agreement, their licensed groups)
# and the launch client.
TEACHER_QUERIES_PER_PRODUCT = 3


def test_the_page_asks_the_release_policy_once_per_product(setting: Setting) -> None:
    launch_client(setting.supplier, setting.product)
    user, teacher = make_staff(
        setting.school.board, setting.school, StaffRole.TEACHER, username="leerkracht-a"
    )
    teacher.groups.add(setting.group)
    pupil_before, teacher_before = tiles_queries(setting.pupil_user), tiles_queries(user)
    more_products(setting, 2)
    assert tiles_page(setting.pupil_user).count('class="launch"') == 3
    assert tiles_page(user).count('class="launch"') == 3
    assert tiles_queries(setting.pupil_user) - pupil_before == 2 * PUPIL_QUERIES_PER_PRODUCT
    assert tiles_queries(user) - teacher_before == 2 * TEACHER_QUERIES_PER_PRODUCT


def test_it_sends_an_anonymous_visitor_to_the_login(db: None) -> None:
    answer = Client().get(reverse("tiles"))
    assert answer.status_code == 302
    assert answer["Location"] == f"{reverse('login')}?next={reverse('tiles')}"


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.django_db(transaction=True)
def test_a_pupil_logs_in_and_launches_from_the_tiles(launchable: Launchable, page: Page) -> None:
    base = launchable.base
    login_uri = "https://app.rekenwereld.example/login?from=regie"
    launch_client(launchable.supplier, launchable.product, login_uri)
    expected = expected_launch(launchable.product, f"{base}/oidc", login_uri)

    def supplier_site(route: Route) -> None:  # the supplier's site, offline
        route.fulfill(status=200, content_type="text/html", body="<h1>Rekenwereld</h1>")

    page.route("https://app.rekenwereld.example/**", supplier_site)
    page.goto(f"{base}/leermiddelen/")
    page.get_by_label("Gebruikersnaam").fill("leerling-a")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mijn leermiddelen")
    assert page.url == f"{base}/leermiddelen/"
    assert unlabelled_controls(page) == []
    link = page.get_by_role("link", name="Rekenwereld openen")
    assert link.get_attribute("href") == expected
    expect(page.get_by_role("link", name="Taalrijk openen")).to_have_count(0)
    expect(page.get_by_text("nog niet te openen")).to_have_count(1)  # Taalrijk has no client
    link.click()
    page.wait_for_url(expected)
    expect(page.get_by_role("heading", level=1)).to_have_text("Rekenwereld")
