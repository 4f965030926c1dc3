"""The privacy officer makes a report on the reports page and reads it, in a real browser: the
list, "make now" (no sector address: made, signed, not sent), the report's tables; axe finds
nothing on either page."""

from __future__ import annotations

import random

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.browser import assert_accessible, browser, page  # noqa: F401  (fixtures)
from regie.logins import log_in_in_browser
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import make_staff

from ..models import AggregateReport
from .world import make_world

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


def test_the_officer_makes_a_report_and_reads_it(
    live_server: LiveServer,
    page: Page,  # noqa: F811
    rng: random.Random,
) -> None:
    world = make_world(rng, pupils=6)
    make_staff(world.board, None, StaffRole.PRIVACY_OFFICER, username="fg-rapport")

    log_in_in_browser(page, live_server.url, "fg-rapport")
    page.get_by_role("navigation").get_by_role("link", name="Rapportages").click()
    expect(page.get_by_role("heading", name="Rapportages voor het sectordashboard")).to_be_visible()
    expect(page.get_by_text("Nog geen rapportages gemaakt.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Nu maken en versturen").click()
    expect(page.get_by_role("heading", name="Rapportage 1", level=1)).to_be_visible()
    expect(
        page.get_by_text("De rapportage is gemaakt, maar er is geen adres om haar heen te sturen.")
    ).to_be_visible()
    expect(page.get_by_role("heading", name=f"{world.board.name} (41017)")).to_be_visible()
    enrolled = page.get_by_role("table", name="Leerlingen")
    expect(enrolled.get_by_role("row", name="ingeschreven 6")).to_be_visible()
    agreements = page.get_by_role("table", name="Verwerkersovereenkomsten")
    expect(agreements).to_contain_text(world.supplier.name)
    for student in world.students:
        expect(page.get_by_text(student.achternaam)).to_have_count(0)
    assert AggregateReport.objects.get().sequence == 1
    assert_accessible(page)

    page.get_by_role("link", name="Terug naar de rapportages").click()
    expect(page.get_by_role("link", name="1", exact=True)).to_be_visible()
    assert_accessible(page)
