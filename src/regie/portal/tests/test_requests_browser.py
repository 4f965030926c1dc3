"""In a real browser: a guardian files an erasure request about their child and sees it complete
with both suppliers' signed receipts (delivered over real HTTP to live endpoints); the privacy
officer finds a rectification in the queue and extends its deadline with a reason, which the
guardian then sees. axe-core finds no violations on any of these pages at 1280 and 390 px, and
the Content-Security-Policy holds."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.browser import (
    assert_accessible,
    csp_violations,
)
from regie.logins import PASSWORD, log_in_in_browser
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import make_staff

from .. import requests
from ..models import RequestKind, RequestState, RightsRequest
from .requests_world import World, deliver_all, hub_keys, make_world  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def world(
    transactional_db: None,
    live_server: LiveServer,
    settings: LazySettings,
    hub_keys: Path,  # noqa: F811
    rng: random.Random,
) -> Iterator[World]:
    yield from make_world(settings, hub_keys, rng)


def test_a_guardian_files_an_erasure_request_and_the_officer_extends_a_rectification(
    world: World,
    live_server: LiveServer,
    page: Page,
) -> None:
    base = live_server.url
    log_in_in_browser(page, base, world.guardian.username, PASSWORD)
    page.goto(f"{base}/portaal/kinderen/{world.child.pk}/verzoeken/")
    expect(page.locator("h1")).to_contain_text("Verzoeken over")
    assert_accessible(page)
    page.get_by_label("Verwijdering (art. 17)").check()
    page.get_by_label("Toelichting (niet verplicht)").fill("Wij verhuizen naar het buitenland.")
    page.get_by_role("button", name="Verzoek indienen").click()
    expect(page.locator("h1")).to_contain_text("Verzoek om verwijdering (art. 17)")
    expect(page.locator("main, body").first).to_contain_text("Het verzoek is ontvangen.")
    rr = RightsRequest.objects.get()
    assert rr.state == RequestState.IN_PROGRESS
    assert_accessible(page)

    deliver_all(rr)  # the queued deliveries run: both suppliers answer with signed receipts
    page.reload()
    table = page.locator("table").first
    expect(table).to_contain_text("Rekenwereld (fictief)")
    expect(table).to_contain_text("Alle gegevens over deze leerlingen zijn vernietigd.")
    expect(page.locator("dl")).to_contain_text("in behandeling")  # Oefenplein has no address
    officer = User.objects.create_user("fg-brief", password=PASSWORD)
    requests.refuse_supplier(
        rr, world.released_only, "Per brief gevraagd; de leverancier bevestigde.", officer
    )
    page.reload()
    expect(page.locator("dl")).to_contain_text("afgerond")
    expect(table).to_contain_text("Per brief gevraagd; de leverancier bevestigde.")
    assert_accessible(page)

    rectification = RightsRequest.objects.create(
        board=rr.board,
        student=world.child,
        kind=RequestKind.RECTIFICATION,
        filed_by=world.guardian,
        filed_as="guardian",
        explanation="De achternaam is verkeerd gespeld.",
        received_at=rr.received_at,
        deadline=rr.deadline,
    )
    page.context.clear_cookies()
    make_staff(world.child.school.board, None, StaffRole.PRIVACY_OFFICER, username="fg-a")
    log_in_in_browser(page, base, "fg-a", PASSWORD)
    page.get_by_role("link", name="Verzoeken").first.click()
    expect(page.locator("h1")).to_have_text("Verzoeken van ouders en leerlingen")
    assert_accessible(page)
    page.get_by_role("link", name="correctie (art. 16)").click()
    expect(page.locator("h1")).to_have_text("Verzoek om correctie (art. 16)")
    assert_accessible(page)
    page.get_by_label("Met").select_option("2")
    page.get_by_label("Reden (de aanvrager ziet die)").first.fill("De administratie is dicht.")
    page.get_by_role("button", name="Verlengen").click()
    expect(page.locator("body")).to_contain_text("De termijn is verlengd.")
    rectification.refresh_from_db()
    assert rectification.extension_reason == "De administratie is dicht."
    assert_accessible(page)
    assert csp_violations(page) == []

    page.context.clear_cookies()
    log_in_in_browser(page, base, world.guardian.username, PASSWORD)
    page.goto(f"{base}/portaal/verzoeken/{rectification.pk}/")
    expect(page.locator("dl")).to_contain_text("De administratie is dicht.")
    assert_accessible(page)
