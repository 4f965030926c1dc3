"""Pupil logins: which pupil a login acts as, the demo pupil logins, and the read-only admin."""

from __future__ import annotations

import random

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from regie.core.models import Board, School
from regie.logins import verified_client
from regie.roster.importing.records import StaffRole
from regie.roster.models import Student
from regie.roster.tests.exports import load_school, make_board, make_staff

from ..backends import AccountBackend
from ..demo import DEMO_PUPILS, demo_pupil_logins
from ..models import PupilAccount
from ..services import create_pupil_login, student_for

pytestmark = pytest.mark.django_db

PASSWORD = "fictief-wachtwoord-123"


@pytest.fixture
def board() -> Board:
    return make_board()


@pytest.fixture
def school(board: Board, rng: random.Random) -> School:
    return load_school(board, rng, "99XA", "A")


def a_login_request() -> HttpRequest:
    """Logins are throttled per address, so authentication needs the request."""
    return RequestFactory().post("/inloggen/")


def a_pupil(school: School) -> Student:
    return Student.objects.filter(school=school).order_by("pk")[0]


def test_it_finds_the_pupil_of_a_pupil_login(school: School) -> None:
    pupil = a_pupil(school)
    user = create_pupil_login(pupil, "leerling-a", PASSWORD)
    assert student_for(user) == pupil
    assert authenticate(a_login_request(), username="leerling-a", password=PASSWORD) == user


def test_it_finds_no_pupil_for_staff_or_anonymous_visitors(board: Board, school: School) -> None:
    user, _ = make_staff(board, school, StaffRole.TEACHER)
    assert student_for(user) is None
    assert student_for(AnonymousUser()) is None


def test_it_finds_no_pupil_for_the_login_of_a_pupil_who_left(school: School) -> None:
    pupil = a_pupil(school)
    user = create_pupil_login(pupil, "leerling-a", PASSWORD)
    Student.objects.filter(pk=pupil.pk).update(status="left")
    assert student_for(user) is None


def test_the_session_user_comes_with_its_pupil_account(board: Board, school: School) -> None:
    """The backend reads a pupil's account with the user: who the pupil is costs no query, and a
    pupil who left is no pupil at the next request (the user is read again)."""
    pupil = a_pupil(school)
    user = create_pupil_login(pupil, "leerling-a", PASSWORD)
    staff, _ = make_staff(board, school, StaffRole.TEACHER)
    backend = AccountBackend()
    with CaptureQueriesContext(connection) as asked:
        read = backend.get_user(user.pk)
        assert student_for(read) == pupil
        assert student_for(backend.get_user(staff.pk)) is None
    assert len(asked) == 2
    Student.objects.filter(pk=pupil.pk).update(status="left")
    assert student_for(read) == pupil  # as read with the user, before the pupil left
    assert student_for(backend.get_user(user.pk)) is None


def test_it_replaces_a_demo_pupil_who_left(board: Board, school: School) -> None:
    demo_pupil_logins(board, PASSWORD)
    left = PupilAccount.objects.get(user__username="leerling2").student
    Student.objects.filter(pk=left.pk).update(status="left")
    demo_pupil_logins(board, PASSWORD)
    replaced = PupilAccount.objects.get(user__username="leerling2").student
    assert replaced != left
    assert replaced.is_active
    assert PupilAccount.objects.count() == len(DEMO_PUPILS)


def test_it_never_turns_a_staff_login_into_a_demo_pupil(board: Board, school: School) -> None:
    make_staff(board, school, StaffRole.TEACHER, username="leerling1")
    logins = demo_pupil_logins(board, PASSWORD)
    assert [username for username, _ in logins] == ["leerling2", "leerling3"]
    assert not PupilAccount.objects.filter(user__username="leerling1").exists()


def test_it_gives_a_board_without_a_primary_school_no_demo_pupils() -> None:
    assert demo_pupil_logins(make_board("41009", "Stichting Leeg (fictief)"), PASSWORD) == []


def test_the_admin_lists_pupil_logins_read_only_without_identifiers(school: School) -> None:
    pupil = a_pupil(school)
    account_user = create_pupil_login(pupil, "leerling-a", PASSWORD)
    superuser = User.objects.create_superuser("beheer", "beheer@regie.example", PASSWORD)
    client = verified_client(superuser)
    listing = client.get(reverse("admin:accounts_pupilaccount_changelist")).content.decode()
    assert "leerling-a" in listing
    assert school.name in listing
    for identifier in (pupil.eck_id, pupil.achternaam, pupil.las_key):
        assert identifier not in listing
    account = PupilAccount.objects.get(user=account_user)
    detail = client.get(reverse("admin:accounts_pupilaccount_change", args=[account.pk]))
    assert detail.status_code == 200
    assert pupil.eck_id not in detail.content.decode()
    assert client.get(reverse("admin:accounts_pupilaccount_add")).status_code == 403


def test_a_pupil_lands_on_their_learning_materials_and_a_teacher_on_their_groups(
    db: None, rng: random.Random
) -> None:
    board = make_board("41009", "Stichting Landing (fictief)")
    school = load_school(board, rng, "99XD", "D")
    pupil = school.students.order_by("pk")[0]
    create_pupil_login(pupil, "leerling-landing", "fictief-wachtwoord-123")
    make_staff(board, school, StaffRole.TEACHER, username="leerkracht-landing")
    for username, landing in (
        ("leerling-landing", "/leermiddelen/"),
        ("leerkracht-landing", "/school/groepen/"),
    ):
        client = Client()
        answer = client.post(
            "/inloggen/", {"username": username, "password": "fictief-wachtwoord-123"}, follow=True
        )
        assert answer.redirect_chain[-1][0] == landing
