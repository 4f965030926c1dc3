"""The home page in a real browser: Dutch by default, English on request, the way to the admin.

Runs Debian's Chromium through Playwright against a live server (see ``regie.browser``). With
``REGIE_UPDATE_SCREENSHOT=1`` the Dutch home page is also saved as ``docs/screenshot.png``, the
picture in the README.
"""

from __future__ import annotations

import os
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.browser import VIEWPORT, document_language, unlabelled_controls
from regie.logins import app_for, code_for, type_code_in_browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

SCREENSHOT = settings.BASE_DIR / "docs" / "screenshot.png"


def test_it_shows_the_home_page_in_dutch_by_default(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.url)

    assert document_language(page) == "nl"
    expect(page).to_have_title("regie — Scholen voeren de regie")
    expect(page.get_by_role("heading", level=1)).to_have_text("regie")
    expect(page.get_by_role("heading", name="Nummervoorziening")).to_be_visible()
    expect(page.get_by_role("heading", name="Schoolhub")).to_be_visible()
    expect(page.get_by_label("Taal")).to_have_value("nl")

    if os.environ.get("REGIE_UPDATE_SCREENSHOT") == "1":
        page.screenshot(path=SCREENSHOT, full_page=True)


def test_it_falls_back_to_dutch_for_a_language_it_does_not_offer(
    live_server: LiveServer, browser: Browser
) -> None:
    context = browser.new_context(locale="de-DE", viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(live_server.url)

        assert document_language(page) == "nl"
        expect(page).to_have_title("regie — Scholen voeren de regie")
    finally:
        context.close()


def test_it_switches_to_english_with_the_language_form_and_its_button(
    live_server: LiveServer, page: Page
) -> None:
    page.goto(live_server.url)

    page.get_by_label("Taal").select_option("en")
    assert document_language(page) == "nl"  # choosing alone changes nothing (WCAG 3.2.2)
    expect(page.get_by_role("option", name="English")).to_have_attribute("lang", "en")
    with page.expect_navigation():
        page.get_by_role("button", name="Kies").click()

    assert document_language(page) == "en"
    expect(page).to_have_title("regie — Schools are in control")
    expect(page.get_by_role("heading", name="Number service")).to_be_visible()
    expect(page.get_by_role("heading", name="School hub")).to_be_visible()
    expect(page.get_by_text("Schools are in control of pupil data")).to_be_visible()
    expect(page.get_by_label("Language")).to_have_value("en")

    page.goto(live_server.url)  # the choice is remembered

    assert document_language(page) == "en"

    expect(page.get_by_role("option", name="Nederlands")).to_have_attribute("lang", "nl")
    page.get_by_label("Language").select_option("nl")
    with page.expect_navigation():
        page.get_by_role("button", name="Choose").click()

    assert document_language(page) == "nl"
    expect(page.get_by_role("heading", name="Nummervoorziening")).to_be_visible()


def test_it_leads_from_the_home_page_to_the_admin_login(
    live_server: LiveServer, page: Page, admin_user: AbstractBaseUser
) -> None:
    page.goto(live_server.url)

    page.get_by_role("link", name="Inloggen voor beheerders").click()

    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))
    app = app_for(admin_user)  # an administrator logs in with a second step
    page.locator("#id_username").fill("admin")
    page.locator("#id_password").fill("password")
    page.locator("#login-form [type=submit]").click()
    type_code_in_browser(page, code_for(app))

    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.locator("#user-tools")).to_contain_text("admin")


@pytest.mark.parametrize(
    ("path", "language"),
    [("/", "nl"), ("/admin/login/", "nl")],
)
def test_it_labels_every_form_control_and_names_the_page_language(
    live_server: LiveServer, page: Page, path: str, language: str
) -> None:
    page.goto(live_server.url + path)

    assert document_language(page) == language
    assert unlabelled_controls(page) == []


def test_it_labels_every_form_control_in_english_too(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.url)
    page.get_by_label("Taal").select_option("en")
    with page.expect_navigation():
        page.get_by_role("button", name="Kies").click()

    assert document_language(page) == "en"
    assert unlabelled_controls(page) == []
