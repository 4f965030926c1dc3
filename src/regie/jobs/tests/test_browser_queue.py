"""The queue's page in the admin, in a real browser: axe finds no violations at a desktop's and a
phone's width (the page itself and its confirmation), the policy holds, and the administrator
retries a dead job and cancels a waiting one through the confirmation pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.browser import (
    assert_accessible,
    document_language,
    unlabelled_controls,
)
from regie.jobs import services
from regie.jobs.tests.failing import fail_next_job
from regie.jobs.tests.schedule import fails, fails_slowly
from regie.logins import PASSWORD, log_in_in_browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


def test_the_administrator_retries_and_cancels_failed_jobs_on_an_accessible_page(
    live_server: LiveServer, page: Page
) -> None:
    fails.defer(run_id=1)
    dead = fail_next_job()
    fails_slowly.defer(run_id=2)
    waiting = fail_next_job()
    User.objects.create_superuser("beheerder", "beheer@regie.example", PASSWORD)
    log_in_in_browser(page, live_server.url, "beheerder")

    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Wachtrij").first.click()
    expect(page.locator("h1")).to_have_text("Wachtrij van achtergrondtaken")
    expect(page.locator("#content-main")).to_contain_text("jobs.test_fails_slowly")
    assert document_language(page) == "nl"
    assert_accessible(page)

    page.get_by_role("link", name=f"Opnieuw proberen (taak {dead})").click()
    expect(page.locator("h1")).to_have_text(f"Taak {dead} opnieuw proberen?")
    assert unlabelled_controls(page) == []
    assert_accessible(page)
    assert services.overview().dead == 1  # asking changed nothing
    page.get_by_role("button", name="Ja, opnieuw proberen").click()
    expect(page.locator(".messagelist")).to_contain_text("De taak staat weer in de wachtrij.")
    assert services.overview().dead == 0

    page.get_by_role("link", name=f"Annuleren (taak {waiting})").click()
    page.get_by_role("button", name="Ja, annuleren").click()
    expect(page.locator(".messagelist")).to_contain_text("De taak is geannuleerd.")
    assert [failure.id for failure in services.failures()] == [dead]  # waits for its retry
