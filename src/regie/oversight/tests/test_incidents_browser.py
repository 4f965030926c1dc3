"""The privacy officer registers a data breach and decides on it in a real browser: from the menu
to the register, the form (the affected pupils computed from the log), the 72-hour clock and the
banner, the ENISA factors, the decision with its reasons (refused without), the time the AP was
notified — each page with axe-core at 0 violations."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.agreements.tests.register import World
from regie.audit.services import record
from regie.browser import assert_accessible, browser, document_language, page, unlabelled_controls
from regie.gateway.events import RELEASE
from regie.logins import log_in_in_browser
from regie.roster.models import Student

from ..models import Decision, Incident

__all__ = ["browser", "page"]  # the fixtures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def world(rng: random.Random) -> World:
    return World(rng)


def test_an_officer_registers_a_breach_and_decides_to_notify_the_ap(
    live_server: LiveServer, page: Page, world: World
) -> None:
    pupils = list(Student.objects.filter(school=world.a1).order_by("pk")[:3])
    start = timezone.localtime(timezone.now() - dt.timedelta(hours=2))
    for pupil in pupils:
        record(
            RELEASE,
            "client:1",
            f"student:{pupil.pk}",
            {
                "channel": "id_token",
                "supplier": world.supplier.pk,
                "product": world.product.pk,
                "attributes": ["supplier_pseudonym", "first_name"],
            },
        )
    log_in_in_browser(page, live_server.url, world.officer.get_username())
    page.get_by_role("navigation").get_by_role("link", name="Datalekken").click()
    expect(page.locator("h1")).to_have_text("Datalekken")
    assert_accessible(page)
    page.get_by_role("link", name="Datalek registreren").click()
    assert document_language(page) == "nl"
    assert unlabelled_controls(page) == []
    assert_accessible(page)
    page.locator("#id_supplier").select_option(str(world.supplier.pk))
    page.locator("#id_description").fill("Een lijst met voornamen stond open (fictief).")
    now = timezone.localtime()
    page.locator("#id_detected_at").fill(now.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_window_from").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_window_to").fill((now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Registreren").click()
    expect(page.locator("h1")).to_contain_text("Datalek van")
    expect(page.locator("main")).to_contain_text("3 leerlingen, berekend uit het logboek")
    expect(page.locator("main")).to_contain_text("nog 71 uur om te melden")
    expect(page.locator("main")).to_contain_text("1 datalek wacht op een besluit")
    for pupil in pupils:
        expect(page.locator("main")).to_contain_text(str(pupil))
    assert unlabelled_controls(page) == []
    assert_accessible(page)

    page.locator("#id_confidentiality").select_option("0.5")
    page.get_by_role("button", name="Ernst opslaan").click()
    expect(page.locator("main")).to_contain_text("Score 1,5: laag.")

    page.locator("#id_decision_0").check()
    page.get_by_role("button", name="Besluit opslaan").click()
    expect(page.locator("#id_reasons:invalid")).to_have_count(1)  # reasons are required
    assert Incident.objects.get().decision == Decision.UNDECIDED
    page.locator("#id_decision_0").check()
    page.locator("#id_reasons").fill("Voornamen van kinderen bij onbekenden.")
    page.get_by_role("button", name="Besluit opslaan").click()
    expect(page.get_by_role("status").first).to_contain_text("Het besluit is opgeslagen.")
    page.locator("#id_notified_at").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Tijd van de melding opslaan").click()
    expect(page.locator("main")).to_contain_text("gemeld bij de AP, binnen 72 uur")
    expect(page.locator("main")).not_to_contain_text("datalek wacht op een besluit")
    assert_accessible(page)
    incident = Incident.objects.get()
    assert incident.decision == Decision.NOTIFY
    assert incident.notified_ap_at is not None

    page.get_by_role("link", name="Tekst voor de melding bij de AP").click()
    expect(page.locator("main")).to_contain_text("Leerlingen: 3")
    assert_accessible(page)
    page.get_by_role("link", name="Terug naar het datalek").click()
    page.get_by_role("link", name="Bericht aan de ouders").click()
    expect(page.locator("h1")).to_have_text("Bericht aan de ouders")
    assert_accessible(page)
