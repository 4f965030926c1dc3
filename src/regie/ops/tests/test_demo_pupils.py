"""The demo's pupil logins with the demo register loaded: pupils of a group licensed for
Rekenwereld, so they can launch it (the accounts app alone knows nothing of licences)."""

from __future__ import annotations

import random

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.test import RequestFactory

from regie.accounts.demo import DEMO_PUPILS, demo_pupil_logins
from regie.accounts.models import PupilAccount
from regie.agreements.demo import load_demo_register
from regie.agreements.models import Licence
from regie.core.models import Board, School
from regie.roster.tests.exports import load_school, make_board

pytestmark = pytest.mark.django_db

PASSWORD = "fictief-wachtwoord-123"


@pytest.fixture
def board() -> Board:
    return make_board()


@pytest.fixture
def school(board: Board, rng: random.Random) -> School:
    return load_school(board, rng, "99XA", "A")


def test_it_gives_demo_pupils_of_a_licensed_group_a_login_once(
    board: Board, school: School
) -> None:
    load_demo_register(board)
    first = demo_pupil_logins(board, PASSWORD)
    assert [username for username, _ in first] == list(DEMO_PUPILS)
    assert all(description.startswith("leerling ") for _, description in first)
    pupils = {account.user.username: account.student for account in PupilAccount.objects.all()}
    licensed = Licence.objects.filter(product__name="Rekenwereld", group__isnull=False)
    for pupil in pupils.values():
        assert pupil.school == school
        assert pupil.eck_id
        assert any(licence.covers(pupil) for licence in licensed)
    assert len(set(pupils.values())) == len(DEMO_PUPILS)

    User.objects.filter(username="leerling1").update(password="")
    again = demo_pupil_logins(board, PASSWORD)
    assert again == first
    assert PupilAccount.objects.count() == len(DEMO_PUPILS)
    assert {account.user.username: account.student for account in PupilAccount.objects.all()} == (
        pupils
    )
    assert (
        authenticate(RequestFactory().post("/inloggen/"), username="leerling1", password=PASSWORD)
        is not None
    )
