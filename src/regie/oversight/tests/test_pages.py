"""The privacy officer's report pages: who may see them (403 for others), the list, one report's
tables with suppressed counts in words, the signed note to download, and "make and send now"."""

from __future__ import annotations

import random

import pytest
from django.test import override_settings

from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import client_for, make_staff
from regie.transparency import keys

from .. import reports
from ..models import AggregateReport, SectorAnswer
from .world import Sector, World, make_world, sector_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(rng: random.Random) -> World:
    return make_world(rng, pupils=6)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (StaffRole.PRIVACY_OFFICER, 200),
        (StaffRole.BOARD_ADMIN, 200),
        (StaffRole.TEACHER, 403),
        (StaffRole.SCHOOL_ADMIN, 403),
        (StaffRole.CARE_COORDINATOR, 403),
    ],
)
def test_only_register_editors_of_a_board_see_the_reports(
    world: World, role: StaffRole, status: int
) -> None:
    school = world.students[0].school
    user, _ = make_staff(world.board, None if role == StaffRole.BOARD_ADMIN else school, role)
    client = client_for(user)
    with override_settings(OVERSIGHT_URL=""):
        made = client.post("/privacy/rapportages/maken/")
    assert made.status_code == (302 if status == 200 else 403)
    assert client.get("/privacy/rapportages/").status_code == status
    if status == 200:
        assert client.get("/privacy/rapportages/1/").status_code == 200
        assert client.get("/privacy/rapportages/1/rapportage.txt").status_code == 200
    else:
        assert AggregateReport.objects.count() == 0


def test_anonymous_visitors_go_to_the_login(world: World) -> None:
    from django.test import Client

    response = Client().get("/privacy/rapportages/")
    assert response.status_code == 302
    assert response["Location"].startswith("/inloggen/")


def test_make_and_send_now_shows_the_report_and_the_answer(world: World) -> None:
    from regie.roster.models import Student

    Student.objects.filter(pk__in=[s.pk for s in world.students]).update(
        eck_id="https://nv.example/1/y"
    )
    Student.objects.filter(pk__in=[s.pk for s in world.students[:2]]).update(eck_id="")
    user, _ = make_staff(world.board, None, StaffRole.PRIVACY_OFFICER)
    client = client_for(user)
    sector: Sector
    with sector_server() as sector, override_settings(OVERSIGHT_URL=sector.url):
        response = client.post("/privacy/rapportages/maken/", follow=True)
    report = AggregateReport.objects.get()
    assert report.answer == SectorAnswer.ACCEPTED
    assert sector.bodies == [report.note.encode()]
    page = response.content.decode()
    assert "De rapportage is verstuurd en aangenomen." in page
    assert "Rapportage 1" in page
    assert "Verstrekt naast het pseudoniem" in page
    assert "<td>minder dan 5</td>" in page  # 4 with an ECK iD: suppressed
    assert "<td>6</td>" in page  # 6 pupils enrolled: given exactly
    note = client.get("/privacy/rapportages/1/rapportage.txt")
    assert note["Content-Type"] == "text/plain; charset=utf-8"
    assert reports.verify(note.content.decode(), keys.verifier())["sequence"] == 1
    listing = client.get("/privacy/rapportages/").content.decode()
    assert "aangenomen" in listing


def test_a_refusal_is_shown_with_the_sector_reason(world: World) -> None:
    user, _ = make_staff(world.board, None, StaffRole.PRIVACY_OFFICER)
    client = client_for(user)
    with sector_server() as sector, override_settings(OVERSIGHT_URL=sector.url):
        sector.status = 400
        response = client.post("/privacy/rapportages/maken/", follow=True)
    page = response.content.decode()
    assert "Het sectordashboard weigerde de rapportage: Refused: the sector says no" in page


def test_an_unknown_report_is_404(world: World) -> None:
    user, _ = make_staff(world.board, None, StaffRole.PRIVACY_OFFICER)
    assert client_for(user).get("/privacy/rapportages/7/").status_code == 404
