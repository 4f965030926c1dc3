"""The privacy officer's retention work in a real browser: from the menu to the rules, a rule in
words that cannot be read (refused with the reason, nothing changed), one that can; then a legal
hold placed for a pupil who left, by name, and lifted with a reason."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.agreements.tests.register import World
from regie.audit.models import AuditEvent
from regie.browser import browser, document_language, page, unlabelled_controls
from regie.logins import log_in_in_browser
from regie.retention import events, rules
from regie.retention.models import HubDataKind, HubRule, LegalHold
from regie.roster.models import Student, StudentStatus

__all__ = ["browser", "page"]  # the fixtures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def world(rng: random.Random) -> World:
    return World(rng)


def test_an_officer_changes_a_rule_in_words_and_places_and_lifts_a_hold(
    live_server: LiveServer, page: Page, world: World
) -> None:
    pupil = world.pupil()
    Student.objects.filter(pk=pupil.pk).update(
        status=StudentStatus.LEFT, left_on=dt.date.today() - dt.timedelta(days=30)
    )
    log_in_in_browser(page, live_server.url, world.officer.get_username())
    page.get_by_role("navigation").get_by_role("link", name="Bewaren").click()
    expect(page.locator("h1")).to_have_text("Bewaartermijnen")
    assert document_language(page) == "nl"
    assert unlabelled_controls(page) == []

    page.locator("#id_results-rule").fill("een paar maanden")
    page.locator("#id_results-rule").press("Enter")
    expect(page.get_by_role("alert").first).to_contain_text("Niet opgeslagen")
    expect(page.locator("main")).to_contain_text("Deze bewaartermijn is niet te lezen.")
    assert not HubRule.objects.exists()

    page.locator("#id_results-rule").fill("3 jaar")
    page.locator("#id_results-rule").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("3 jaar na het einde van het schooljaar")
    assert rules.hub_rule(world.board_a, HubDataKind.RESULTS).period == 3

    page.get_by_role("link", name="Bewaarplichten (legal holds)").click()
    page.get_by_label("Leerling").select_option(label=f"{pupil} ({pupil.school.name})")
    page.get_by_label("Reden:", exact=True).fill("Een lopende procedure (fictief).")
    page.get_by_role("button", name="Bewaarplicht vastleggen").click()
    expect(page.get_by_role("status")).to_contain_text("is vastgelegd")
    hold = LegalHold.objects.get()
    assert (hold.student_id, hold.lifted_at) == (pupil.pk, None)
    expect(page.locator("main")).to_contain_text("Een lopende procedure (fictief).")

    page.get_by_label("Reden van opheffen").fill("De procedure is afgerond.")
    page.get_by_role("button", name="Opheffen").click()
    expect(page.get_by_role("status")).to_contain_text("De bewaarplicht is opgeheven.")
    hold.refresh_from_db()
    assert hold.lift_reason == "De procedure is afgerond."
    assert (
        AuditEvent.objects.filter(
            event_type__in=[events.HOLD_PLACED.name, events.HOLD_LIFTED.name],
            subject=f"student:{pupil.pk}",
        ).count()
        == 2
    )
