"""A failed step of logging in keeps what the visitor typed that is no secret: a wrong password
keeps the user name (and where they were going), never the password; a wrong code at the second
step keeps where they were going, never the code (a code works once)."""

from __future__ import annotations

import random
import re

import pytest
from django.test import Client

from regie.logins import PASSWORD, app_for
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import load_school, make_board, make_staff

from ..services import create_pupil_login

pytestmark = pytest.mark.django_db

WRONG = "niet-het-wachtwoord"
GOING_TO = "/school/groepen/"


def field(html: str, name: str) -> str:
    """The whole <input> tag of the field ``name``."""
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert found is not None, html
    return found[0]


def test_a_wrong_password_keeps_the_user_name_and_where_to_go_but_not_the_password(
    rng: random.Random,
) -> None:
    school = load_school(make_board(), rng, "99XA", "A")
    create_pupil_login(school.students.order_by("pk")[0], "leerling-a", PASSWORD)
    response = Client().post(
        "/inloggen/", {"username": "leerling-a", "password": WRONG, "next": GOING_TO}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Gebruikersnaam of wachtwoord klopt niet." in html
    assert 'value="leerling-a"' in field(html, "username")
    assert "autofocus" in field(html, "password")  # the visitor types the password again
    assert "value" not in field(html, "password")
    assert WRONG not in html
    login_form = html[html.index('name="username"') :]
    assert f'value="{GOING_TO}"' in field(login_form, "next")


def test_the_user_name_on_the_page_is_escaped() -> None:
    typed = '"><b>vet</b>'
    html = Client().post("/inloggen/", {"username": typed, "password": WRONG}).content.decode()
    assert "<b>vet</b>" not in html
    assert 'value="&quot;&gt;&lt;b&gt;vet&lt;/b&gt;"' in field(html, "username")


def test_a_first_visit_has_an_empty_user_name_with_the_focus() -> None:
    html = Client().get("/inloggen/").content.decode()
    assert "value" not in field(html, "username")
    assert "autofocus" in field(html, "username")


def test_a_wrong_code_at_the_second_step_keeps_where_to_go_but_not_the_code(
    rng: random.Random,
) -> None:
    board = make_board()
    school = load_school(board, rng, "99XA", "A")
    user, _ = make_staff(board, school, StaffRole.SCHOOL_ADMIN, username="beheer-a")
    app_for(user)
    client = Client()
    response = client.post(
        "/inloggen/", {"username": "beheer-a", "password": PASSWORD, "next": GOING_TO}
    )
    assert response["Location"] == GOING_TO
    verify = client.get(GOING_TO)["Location"]  # the second step stands in the way
    assert verify.startswith("/inloggen/tweede-stap/")
    response = client.post(verify, {"code": "000000", "next": GOING_TO})
    html = response.content.decode()
    assert "Deze code klopt niet." in html
    assert "value" not in field(html, "code")
    code_form = html[html.index('name="code"') :]
    assert f'value="{GOING_TO}"' in field(code_form, "next")
