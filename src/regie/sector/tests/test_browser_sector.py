"""In a real browser: a supervisor logs in on the sector's login page, reads the dashboard and a
supplier's page; axe-core finds no violations at a laptop's and a phone's width, and the pages
keep to the Content-Security-Policy (the ``page`` fixture fails on a violation)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.browser import assert_accessible, browser, page  # noqa: F401  (pytest fixtures)
from regie.sector import services
from regie.sector.intake import receive

from .reports import REKENWERELD, make_report, register, sign

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "fictief-wachtwoord-123"


def test_a_supervisor_reads_the_dashboard_and_a_supplier_page(
    live_server: LiveServer,
    page: Page,  # noqa: F811
) -> None:
    hub, signer = register()
    receive("text/plain; charset=utf-8", sign(make_report(hub.origin, 1), signer))
    services.add_supervisor("ap-toezicht", "ap", PASSWORD)

    page.goto(f"{live_server.url}/sector/")
    expect(page.locator("h1")).to_have_text("Inloggen op het sectordashboard")
    assert_accessible(page)
    page.get_by_label("Gebruikersnaam").fill("ap-toezicht")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()

    expect(page.locator("h1")).to_have_text("Sectordashboard")
    expect(page.locator("table[data-chart=releases]")).to_contain_text("Rekenwereld B.V.")
    assert page.locator("svg.sector-svg").count() == 6
    assert_accessible(page)

    page.get_by_role("link", name="Leveranciers: afspraken").click()
    expect(page.locator("h1")).to_have_text("Leveranciers")
    assert_accessible(page)
    page.get_by_role("link", name="Rekenwereld B.V.").click()
    expect(page.locator("h1")).to_have_text("Rekenwereld B.V.")
    expect(page.locator("main")).to_contain_text(REKENWERELD)
    assert_accessible(page)
