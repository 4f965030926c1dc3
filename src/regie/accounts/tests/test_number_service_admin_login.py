"""The number service deployed alone (``regie serve --role nummervoorziening``) has only the admin
site: its administrators pass the same second step and meet the same lockout, on pages that need
none of the hub's."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User

from regie.conftest import start_server
from regie.logins import PASSWORD, pass_second_step_over_http

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def admin_login(session: httpx.Client, password: str) -> httpx.Response:
    form = session.get("/admin/login/")
    token = _CSRF.search(form.text)
    assert token is not None, form.text[:500]
    return session.post(
        "/admin/login/?next=/admin/",
        data={"username": "beheer", "password": password, "csrfmiddlewaretoken": token[1]},
    )


def test_the_number_services_admin_has_the_second_step_and_the_lockout(
    keys_dir: Path, tmp_path: Path, settings: LazySettings
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # the server's
    User.objects.create_superuser("beheer", "beheer@regie.example", PASSWORD)
    process, url = start_server(keys_dir, tmp_path / "server.log", role="nummervoorziening")
    try:
        with httpx.Client(base_url=url, follow_redirects=True, timeout=30) as session:
            logged_in = admin_login(session, PASSWORD)
            assert logged_in.url.path == "/inloggen/tweede-stap/instellen/", logged_in.text[:500]
            assert logged_in.status_code == 200
            passed = pass_second_step_over_http(session, "beheer")
            assert passed.url.path == "/admin/", passed.text[:500]
            assert "Nummervoorziening" in passed.text

        with httpx.Client(base_url=url, follow_redirects=True, timeout=30) as guesser:
            statuses = [admin_login(guesser, "verkeerd").status_code for _ in range(5)]
            assert statuses == [200] * 4 + [429]
            locked = admin_login(guesser, PASSWORD)
            assert locked.status_code == 429
            assert 'href="/admin/login/"' in locked.text
    finally:
        process.terminate()
        process.wait(30)
