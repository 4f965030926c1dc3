"""In a real browser: the login page's button for the school's identity provider goes to the
provider (a real OpenID Connect provider on its own port) and back, and lands a teacher on the
school pages and a pupil on their learning materials; an unknown person gets a clear page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.browser import document_language, unlabelled_controls

from ..models import Audience, UpstreamIdentity
from . import upstream_op
from .conftest import TEACHER_EMAIL, AtSchool, make_provider

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


def test_a_teacher_logs_in_with_the_schools_button(
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    page: Page,
) -> None:
    make_provider(at_school.board, school_idp, live_server.url, name="Inloggen met Entree")
    school_idp.app.person = {"sub": "medewerker-1", "email": TEACHER_EMAIL}
    page.goto(f"{live_server.url}/inloggen/")
    assert unlabelled_controls(page) == []
    assert document_language(page) == "nl"
    expect(page.get_by_role("heading", name="Via de school")).to_be_visible()

    page.get_by_role("button", name="Inloggen met Entree").click()

    page.wait_for_url(f"{live_server.url}/school/groepen/")  # a teacher lands on their groups
    expect(page.get_by_role("heading", level=1)).to_have_text("Groepen")
    expect(page.get_by_role("link", name="Mijn groepen")).to_have_attribute("aria-current", "page")
    assert unlabelled_controls(page) == []


def test_a_pupil_logs_in_with_the_schools_button_and_an_unknown_person_is_told_why_not(
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    page: Page,
) -> None:
    provider = make_provider(
        at_school.board,
        school_idp,
        live_server.url,
        name="Inloggen met Entree",
        audience=Audience.PUPILS,
        subject_claim="sub",
    )
    UpstreamIdentity.objects.create(
        provider=provider, subject="entree-leerling-a", user=at_school.pupil_user
    )
    school_idp.app.person = {"sub": "entree-onbekend"}
    page.goto(f"{live_server.url}/leermiddelen/")
    page.get_by_role("button", name="Inloggen met Entree").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Bekend bij de school, maar niet in regie"
    )
    expect(page.get_by_role("alert")).to_contain_text("Inloggen met Entree heeft bevestigd")
    assert document_language(page) == "nl"

    school_idp.app.person = {"sub": "entree-leerling-a"}
    page.get_by_role("link", name="Terug naar Inloggen").click()
    page.get_by_role("button", name="Inloggen met Entree").click()
    page.wait_for_url(f"{live_server.url}/leermiddelen/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mijn leermiddelen")
