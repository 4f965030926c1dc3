"""In a real browser: a pupil who types the wrong password too often sees the lockout page, and a
privacy officer sets up an authenticator app, logs out, and logs in again with password and code,
with a wrong code refused and a recovery code accepted once."""

from __future__ import annotations

import random
import re
from base64 import b32decode

import pytest
from django.contrib.auth.models import User
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.browser import document_language, unlabelled_controls
from regie.logins import PASSWORD, code_for, type_code_in_browser, wait_out_the_back_off
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import load_school, make_board, make_staff

from ..services import create_pupil_login

OVERVIEW = "Overzicht privacy"  # where a privacy officer lands: the dashboard

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


def accessible(page: Page) -> None:
    assert unlabelled_controls(page) == [], page.url
    assert document_language(page) == "nl"


def type_password(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/inloggen/")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_url(re.compile(r"/$"))


def test_a_pupil_who_guesses_too_often_sees_until_when_and_whom_to_ask(
    live_server: LiveServer, page: Page
) -> None:
    school = load_school(make_board(), random.Random(5), "99XA", "A")
    create_pupil_login(school.students.order_by("pk")[0], "leerling-a", PASSWORD)
    for _ in range(4):
        type_password(page, live_server.url, "leerling-a", "verkeerd-wachtwoord")
        expect(page.get_by_role("alert")).to_have_text("Gebruikersnaam of wachtwoord klopt niet.")

    type_password(page, live_server.url, "leerling-a", "verkeerd-wachtwoord")

    expect(page.get_by_role("heading", level=1)).to_have_text("Even niet inloggen")
    expect(page.get_by_role("alert")).to_contain_text(
        re.compile(r"kan er tot \d\d:\d\d uur niet mee worden ingelogd, ook niet met het goede")
    )
    expect(page.get_by_text("Vraag de beheerder van de school")).to_be_visible()
    accessible(page)

    type_password(page, live_server.url, "leerling-a", PASSWORD)  # the right one, too late
    expect(page.get_by_role("heading", level=1)).to_have_text("Even niet inloggen")
    page.get_by_role("link", name="Terug naar Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")


# An image's width once it has loaded (0 when it cannot): visible is not yet loaded.
LOADED_WIDTH = """image => image.complete ? image.naturalWidth : new Promise(done => {
    image.addEventListener("load", () => done(image.naturalWidth));
    image.addEventListener("error", () => done(0));
})"""


def test_an_officer_sets_up_an_app_and_logs_in_with_password_and_code(
    live_server: LiveServer, page: Page
) -> None:
    board = make_board()
    school = load_school(board, random.Random(5), "99XA", "A")
    officer, _ = make_staff(board, school, StaffRole.PRIVACY_OFFICER, username="fg-a")
    base = live_server.url

    type_password(page, base, "fg-a", PASSWORD)

    expect(page.get_by_role("heading", level=1)).to_have_text("Tweestapsverificatie instellen")
    accessible(page)
    qr = page.get_by_role("img", name="QR-code om regie aan uw authenticator-app toe te voegen")
    expect(qr).to_be_visible()
    assert qr.evaluate(LOADED_WIDTH) > 100  # the SVG loaded
    expect(page.get_by_role("navigation")).to_have_count(0)  # no menu before the second step
    secret = page.locator("#secret").inner_text().replace(" ", "")
    key = b32decode(secret)
    assert key == TOTPDevice.objects.get(user=officer).bin_key
    page.get_by_label("Code uit de app").fill(f"{(totp(key) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="Bevestigen").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Deze code klopt niet. Vul de code in die uw app nu laat zien, of een herstelcode."
    )
    wait_out_the_back_off(TOTPDevice.objects.get(user=officer))
    page.get_by_label("Code uit de app").fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Bevestigen").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Herstelcodes")
    accessible(page)
    codes = page.get_by_role("list", name="Uw herstelcodes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    recovery = codes.first.inner_text()
    page.get_by_role("link", name="Ik heb de codes bewaard, verder").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(OVERVIEW)

    log_out(page)
    type_password(page, base, "fg-a", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tweede stap")
    accessible(page)
    app = TOTPDevice.objects.get(user=officer)
    right = code_for(app)
    type_code_in_browser(page, f"{(int(right) + 1) % 1_000_000:06d}")
    expect(page.get_by_role("alert")).to_contain_text("Deze code klopt niet")
    wait_out_the_back_off(app)
    type_code_in_browser(page, right)
    expect(page.get_by_role("heading", level=1)).to_have_text(OVERVIEW)

    log_out(page)
    type_password(page, base, "fg-a", PASSWORD)
    type_code_in_browser(page, recovery)
    expect(page.get_by_role("heading", level=1)).to_have_text(OVERVIEW)
    # the dashboard has statuses of its own: the notice is the one that says so
    notice = page.get_by_role("status").filter(has_text="herstelcode gebruikt")
    expect(notice).to_contain_text("u hebt er nog 9")

    log_out(page)
    type_password(page, base, "fg-a", PASSWORD)
    type_code_in_browser(page, recovery)  # used up
    expect(page.get_by_role("alert")).to_contain_text("Deze code klopt niet")
    assert User.objects.get(pk=officer.pk).is_active
