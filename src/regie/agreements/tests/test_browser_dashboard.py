"""The privacy officer opens the dashboard in a real browser, follows a count to its filtered
list, and finds the picture of what goes where with its table beside it."""

from __future__ import annotations

import random

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.browser import document_language, unlabelled_controls
from regie.logins import log_in_in_browser

from .. import services
from .register import World

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


def test_the_officer_sees_what_needs_doing_and_what_goes_where(
    live_server: LiveServer, page: Page, rng: random.Random
) -> None:
    world = World(rng)
    services.screen_dpia(
        world.board_a, world.other_product, ["vulnerable_subjects", "large_scale"], user=None
    )
    log_in_in_browser(page, live_server.url, "fg-a")
    page.goto(live_server.url + "/privacy/overzicht/")
    expect(page.locator("h1")).to_have_text("Overzicht privacy")
    assert document_language(page) == "nl"
    assert unlabelled_controls(page) == []

    picture = page.get_by_role("img", name="Leveranciers en de soorten gegevens die zij krijgen")
    expect(picture).to_be_visible()
    table = page.locator("#waarheen-tabel")
    expect(table.get_by_role("rowheader", name="Rekenwereld B.V. (fictief)")).to_be_visible()

    row = page.get_by_role("row").filter(has_text="zonder vastgelegde DPIA")
    expect(row.locator("td")).to_have_text("1")
    row.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text("DPIA's")
    expect(page.get_by_role("rowheader", name="Taalwereld")).to_be_visible()
    expect(page.get_by_label("Stand van zaken")).to_have_value("missing")
