"""In a real browser: the care coordinator opens a pupil, follows the link to the sensitive
records, reads a psychodiagnostic result; the pupil's guardian then sees in the portal that it
was read, when, and by which role (not by whom). axe-core finds no violation on these pages."""

from __future__ import annotations

import random

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.browser import assert_accessible
from regie.logins import log_in_in_browser
from regie.roster import sensitive
from regie.roster.models import SensitiveCategory, StaffRole
from regie.roster.tests.exports import make_staff

from .people import PortalWorld

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

CONCLUSION = "Fictieve conclusie: kenmerken van dyslexie."


def test_the_care_coordinator_reads_a_result_and_the_guardian_sees_the_read(
    live_server: LiveServer, page: Page, rng: random.Random
) -> None:
    world = PortalWorld(rng)
    care, _staff = make_staff(world.board_a, world.a1, StaffRole.CARE_COORDINATOR, username="ib-b")
    sensitive.add_record(
        world.child_a,
        category=SensitiveCategory.PSYCHODIAGNOSTIC,
        title="Onderzoek lezen (fictief)",
        content=CONCLUSION,
        day=timezone.localdate(),
        user=None,
    )
    log_in_in_browser(page, live_server.url, care.username)
    page.goto(f"{live_server.url}/school/leerlingen/{world.child_a.pk}/")
    page.get_by_role("link", name="Zorg en gevoelige gegevens").click()
    expect(page.locator("h1")).to_have_text(f"Zorg en gevoelige gegevens: {world.child_a}")
    assert_accessible(page)
    page.get_by_role("link", name="Onderzoek lezen (fictief)").click()
    expect(page.locator("h1")).to_have_text("Onderzoek lezen (fictief)")
    expect(page.get_by_text(CONCLUSION)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Terug naar de gevoelige gegevens").click()
    page.get_by_role("link", name="Een gegeven toevoegen").click()
    expect(page.locator("h1")).to_contain_text("Gevoelig gegeven toevoegen")
    assert_accessible(page)

    page.context.clear_cookies()
    log_in_in_browser(page, live_server.url, world.user_a.username)
    page.goto(f"{live_server.url}/portaal/kinderen/{world.child_a.pk}/")
    reads = page.get_by_role("table", name="Gelezen gevoelige gegevens")
    expect(reads.get_by_role("row").nth(1)).to_contain_text("Psychodiagnostisch onderzoek")
    expect(reads.get_by_role("row").nth(1)).to_contain_text("intern begeleider")
    expect(reads).not_to_contain_text("Visser")
    expect(page.get_by_text(CONCLUSION)).to_have_count(0)
    assert_accessible(page)
