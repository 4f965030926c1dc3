"""In a real browser: a guardian logs in, lands on their children, opens a child's page with its
releases and proofs, gives consent and sees it in the history; the printable version and the
check-this-yourself page; a pupil under 16 reads what changes at 16. axe-core finds no violation
on any of these pages at 1280 and 390 CSS px, and no page breaks the Content-Security-Policy."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.browser import (
    assert_accessible,
    document_language,
)
from regie.logins import log_in_in_browser

from .people import PortalWorld, make_pupil_login, release

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


def test_a_guardian_sees_a_childs_releases_and_gives_consent(
    live_server: LiveServer, page: Page, rng: random.Random
) -> None:
    world = PortalWorld(rng)
    release(world.child_a, world, ("supplier_pseudonym", "groups"))
    log_in_in_browser(page, live_server.url, world.user_a.username)
    expect(page.locator("h1")).to_have_text("Privacy en rechten")
    assert_accessible(page)
    assert document_language(page) == "nl"

    page.get_by_role("link", name=str(world.child_a)).click()
    expect(page.locator("h1")).to_have_text(f"Gegevens van {world.child_a}")
    expect(page.get_by_role("heading", name="Rekenwereld (Rekenwereld B.V. (fictief))").first)
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Bewijs downloaden").first.click()
    proof = json.loads(Path(download.value.path()).read_bytes())
    assert proof["event"]["subject"] == f"student:{world.child_a.pk}"

    page.get_by_role("link", name="Afdrukbare versie").click()
    expect(page.locator("h1")).to_have_text(f"Gegevens van {world.child_a}")
    assert_accessible(page)
    page.go_back()

    page.get_by_role("link", name="Toestemming geven of intrekken").click()
    expect(page.locator("h1")).to_have_text("Toestemming")
    assert_accessible(page)
    page.get_by_role("button", name="Toestemming geven voor voornaam bij Rekenwereld").click()
    expect(page.get_by_role("status")).to_contain_text("Toestemming gegeven voor voornaam")
    expect(page.get_by_text("Het gaat nu mee.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="gegeven").last).to_contain_text("u")
    assert_accessible(page)

    page.get_by_role("link", name="Terug naar de gegevens").click()
    page.get_by_role("link", name="Zo controleert u een bewijs zelf").click()
    expect(page.locator("h1")).to_have_text("Het logboek zelf controleren")
    assert_accessible(page)


def test_a_pupil_under_16_reads_what_changes_at_16(
    live_server: LiveServer, page: Page, rng: random.Random
) -> None:
    world = PortalWorld(rng)
    pupil = make_pupil_login(world.child_a)
    log_in_in_browser(page, live_server.url, pupil.username)
    page.goto(live_server.url + "/portaal/")
    expect(page.get_by_role("heading", name="Wat verandert er als je 16 wordt?")).to_be_visible()
    assert_accessible(page)
