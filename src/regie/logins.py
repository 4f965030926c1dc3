"""Logging in as privileged staff in tests, through the real second step.

Privacy officers, board and school admins and administrators pass a second step after their
password (:mod:`regie.accounts.second_factor`). Tests log them in the same way:

- :func:`verify_second_factor` marks a test client's session as having passed the step with the
  user's app, through django-otp's own ``login`` (what the verify page does after a right code);
- :func:`log_in_in_browser` and :func:`pass_second_step_over_http` type the password and then a
  code that the test computes from the app's secret, as a person reads it from their phone.

The app (:func:`app_for`) is a confirmed TOTP device, set up once per test as at a first login.
"""

from __future__ import annotations

import re
import time
from typing import Any

import django_otp
import httpx
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, User
from django.http import HttpRequest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page

from regie.accounts.second_factor import APP_DEVICE, is_privileged

PASSWORD = "fictief-wachtwoord-123"


def app_for(user: AbstractBaseUser) -> TOTPDevice:
    """The user's authenticator app (a confirmed TOTP device), set up when they have none."""
    device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name=APP_DEVICE, confirmed=True)


def code_for(device: TOTPDevice) -> str:
    """The code the app shows now, or the next one when the hub already accepted this one (a code
    works once): computed from the device's secret as the app does (RFC 6238)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    while totp.t() <= device.last_t:
        if totp.t() + device.tolerance > device.last_t:
            totp.time += device.step  # the next code, which the hub accepts already
        else:
            time.sleep(1)  # two codes used in this step already: wait for the next one
            totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def wait_out_the_back_off(device: TOTPDevice) -> None:
    """After a wrong code, django-otp accepts the next one only after a wait (one second after the
    first wrong code, doubling with each next one): wait until it would."""
    device.refresh_from_db()
    while not device.verify_is_allowed()[0]:
        time.sleep(0.2)
        device.refresh_from_db()


def verify_second_factor(client: Client, user: User) -> None:
    """Pass the second step in ``client``'s session (logged in already) with ``user``'s app, as
    the verify page does after a right code; nothing for a login that has no second step."""
    if not is_privileged(user):
        return
    request = HttpRequest()
    request.session = client.session
    request.user = user
    django_otp.login(request, app_for(user))
    request.session.save()


def verified_client(user: User) -> Client:
    """A test client logged in as ``user``, past the second step."""
    client = Client()
    client.force_login(user)
    verify_second_factor(client, user)
    return client


def _user(username: str) -> Any:
    return get_user_model()._default_manager.get(username=username)


def log_in_in_browser(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    """Log in on the hub's login page, and type the app's code at the second step when the login
    has one; returns once the browser has left the login pages (a navigation started before
    would cancel the login's own, leaving the browser logged out)."""
    user = _user(username)
    app = app_for(user) if is_privileged(user) else None
    page.goto(f"{base}/inloggen/")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
    if app is not None:
        type_code_in_browser(page, code_for(app))
    page.wait_for_url(_OUTSIDE_LOGIN)


def type_code_in_browser(page: Page, code: str) -> None:
    page.get_by_role("heading", name="Tweede stap").wait_for()
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Verder").click()


_OUTSIDE_LOGIN = re.compile(r"^(?!.*/inloggen/).*$")
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def pass_second_step_over_http(session: httpx.Client, username: str) -> httpx.Response:
    """In an HTTP session logged in with a password: type the app's code at the second step."""
    app = app_for(_user(username))
    page = session.get("/inloggen/tweede-stap/")
    token = _CSRF.search(page.text)
    assert token is not None, page.text
    return session.post(
        "/inloggen/tweede-stap/",
        data={"code": code_for(app), "csrfmiddlewaretoken": token[1]},
    )
