"""A privacy officer plants canaries and orders their deletion on the canaries page, in a real
browser: the page shows counts (never a canary's name), and axe finds nothing at both widths."""

from __future__ import annotations

import random

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.agreements.tests.register import (
    license_group,
    make_agreement,
    make_product,
    make_supplier,
)
from regie.browser import assert_accessible, browser, page  # noqa: F401  (fixtures)
from regie.logins import log_in_in_browser
from regie.roster.importing.records import StaffRole
from regie.roster.models import Group, Student, StudentStatus
from regie.roster.tests.exports import load_school, make_board, make_staff

from ..models import Canary

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


def test_the_officer_plants_canaries_and_orders_their_deletion(
    live_server: LiveServer,
    page: Page,  # noqa: F811
    rng: random.Random,
) -> None:
    board = make_board()
    school = load_school(board, rng, "99XA", "A")
    group = Group.objects.get(school=school, las_key="A-G5")
    supplier = make_supplier("Rekenwereld B.V. (fictief)", "99000001")
    product = make_product(supplier, "Rekenwereld")
    make_agreement(board, supplier, [product])
    license_group(product, group)
    make_staff(board, school, StaffRole.PRIVACY_OFFICER, username="fg-99xa")

    log_in_in_browser(page, live_server.url, "fg-99xa")
    page.goto(f"{live_server.url}/privacy/bewaren/controlegevallen/")
    expect(page.get_by_role("heading", name="Controlegevallen", level=1)).to_be_visible()
    expect(page.get_by_text("Nog geen controlegevallen.")).to_be_visible()
    page.get_by_label("Groep").select_option(label=f"{school.name} · {group.name}")
    page.get_by_label("Aantal").fill("2")
    page.get_by_role("button", name="Planten").click()
    expect(page.get_by_text("2 controlegevallen geplant.")).to_be_visible()
    assert Canary.objects.count() == 2
    rows = page.locator("tbody tr")
    expect(rows.filter(has_text=school.name).first).to_contain_text("2")
    expect(rows.filter(has_text=supplier.name)).to_be_visible()
    for student in Student.with_canaries.filter(is_canary=True):
        expect(page.get_by_text(student.achternaam, exact=True)).to_have_count(0)
    assert_accessible(page)

    page.get_by_label("School").select_option(label=school.name)
    page.get_by_role("button", name="Verwijderen vragen").click()
    expect(page.get_by_text("0 opdrachten tot verwijderen verstuurd.")).to_be_visible()
    assert not Student.with_canaries.filter(is_canary=True, status=StudentStatus.ACTIVE).exists()
    assert_accessible(page)
