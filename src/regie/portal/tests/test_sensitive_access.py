"""Sensitive records of ``regie.roster`` (need-to-know within the school; here, because the
personas need the logins of accounts and the portal): every role × every sensitive URL gets
what the table says; every refusal (403, or 404 for another school's pupil) is a
``roster.sensitive.refused`` event, and every page that shows sensitive records a
``roster.sensitive.read`` per record shown — with the category and the role, never content."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from regie.accounts.models import GuardianAccount
from regie.accounts.services import create_pupil_login
from regie.agreements.tests.register import World
from regie.audit.models import AuditEvent
from regie.audit.services import actor_for
from regie.logins import verified_client
from regie.roster import access, sensitive
from regie.roster.demo import PERSONAS, demo_sensitive_record
from regie.roster.models import (
    Guardian,
    SensitiveCategory,
    SensitiveDesignation,
    SensitiveRecord,
    StaffRole,
    Student,
)
from regie.roster.tests.exports import make_staff

pytestmark = pytest.mark.django_db

PASSWORD = "fictief-wachtwoord-123"
SECRET = "Fictieve conclusie: kenmerken van dyslexie"
ROLES = (
    "anonymous",
    "teacher",
    "care",
    "designated",
    "school_admin",
    "officer",
    "board",
    "superuser",
    "guardian",
    "pupil",
)
LOGIN = "login"


class SensitiveWorld(World):
    """The register's world (board A: schools A1, A2; board B) with a care coordinator of A1, a
    teacher of A1 designated for A1, a pupil login, a guardian login and the superuser; one
    psychodiagnostic record about the pupil and one about a pupil of A2."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.care, _ = make_staff(self.board_a, self.a1, StaffRole.CARE_COORDINATOR, username="ib")
        self.designated, staff = make_staff(
            self.board_a, self.a1, StaffRole.TEACHER, username="orthopedagoog"
        )
        staff.groups.add(self.group)  # they teach the pupil: the pupil page links to the records
        SensitiveDesignation.objects.create(
            board=self.board_a, school=self.a1, staff=staff, reason="orthopedagoog van het bestuur"
        )
        self.superuser = User.objects.create_superuser("beheer", "beheer@regie.example", PASSWORD)
        self.pupil_user = create_pupil_login(self.pupil(), "leerling-a", PASSWORD)
        guardian = Guardian.objects.create(
            school=self.a1, las_key="OU-z", achternaam="Ouder", email="ouder-z@ouders.example"
        )
        guardian.students.add(self.pupil())
        self.guardian = User.objects.create_user("ouder-z", password=PASSWORD)
        GuardianAccount.objects.create(
            user=self.guardian, board=self.board_a, email="ouder-z@ouders.example"
        )
        self.record = sensitive.add_record(
            self.pupil(),
            category=SensitiveCategory.PSYCHODIAGNOSTIC,
            title="Onderzoek lezen (fictief)",
            content=SECRET,
            day=timezone.localdate(),
            user=None,
        )
        other = Student.objects.filter(school=self.a2).order_by("pk")[0]
        self.record_a2 = sensitive.add_record(
            other,
            category=SensitiveCategory.CARE_PLAN,
            title="Ontwikkelingsperspectief (fictief)",
            content=SECRET,
            day=timezone.localdate(),
            user=None,
        )

    def user(self, role: str) -> User | None:
        return {
            "anonymous": None,
            "teacher": self.teacher,
            "care": self.care,
            "designated": self.designated,
            "school_admin": self.school_admin,
            "officer": self.officer,
            "board": self.board_admin,
            "superuser": self.superuser,
            "guardian": self.guardian,
            "pupil": self.pupil_user,
        }[role]


@pytest.fixture
def world(rng: random.Random) -> SensitiveWorld:
    return SensitiveWorld(rng)


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    expected: tuple[int | str, ...]  # per role, in the order of ROLES
    reads: int = 0  # read events a 200 records


#                     anon   teach care designated sadm  fg   board super guard pupil
READERS = (LOGIN, 403, 200, 200, 403, 403, 403, 403, 403, 403)
READERS_POST = (LOGIN, 403, 302, 302, 403, 403, 403, 403, 403, 403)
OTHER_SCHOOL = (LOGIN, 403, 404, 404, 403, 403, 403, 403, 403, 403)
DESIGNATORS = (LOGIN, 403, 403, 403, 403, 200, 200, 403, 403, 403)
DESIGNATORS_POST = (LOGIN, 403, 403, 403, 403, 302, 302, 403, 403, 403)

CASES = (
    Case("list", "get", READERS, reads=1),
    Case("record", "get", READERS, reads=1),
    Case("add", "get", READERS),
    Case("add", "post", READERS_POST),
    Case("list-a2", "get", OTHER_SCHOOL),
    Case("record-a2", "get", OTHER_SCHOOL),
    Case("add-a2", "get", OTHER_SCHOOL),
    Case("designations", "get", DESIGNATORS),
    Case("designations", "post", DESIGNATORS_POST),
)


def url(world: SensitiveWorld, name: str) -> str:
    a2 = world.record_a2.student_id
    return {
        "list": reverse("roster:sensitive-list", args=[world.pupil().pk]),
        "record": reverse("roster:sensitive-record", args=[world.record.pk]),
        "add": reverse("roster:sensitive-add", args=[world.pupil().pk]),
        "list-a2": reverse("roster:sensitive-list", args=[a2]),
        "record-a2": reverse("roster:sensitive-record", args=[world.record_a2.pk]),
        "add-a2": reverse("roster:sensitive-add", args=[a2]),
        "designations": reverse("roster:sensitive-designations"),
    }[name]


def post_data(world: SensitiveWorld, name: str) -> dict[str, str]:
    if name == "designations":
        staff = world.teacher.staff_memberships.get()
        return {"action": "give", "school": str(world.a1.pk), "staff": str(staff.pk), "reason": "x"}
    return {
        "category": SensitiveCategory.SPECIAL_NEEDS.value,
        "title": "Arrangement (fictief)",
        "day": timezone.localdate().isoformat(),
        "content": SECRET,
    }


def events_of(user: User | None, event_type: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(actor=actor_for(user), event_type=event_type))


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_what_the_table_says_on_every_sensitive_url(
    world: SensitiveWorld, role: str
) -> None:
    user = world.user(role)
    client = Client() if user is None else verified_client(user)
    for column, case in [(ROLES.index(role), case) for case in CASES]:
        expected = case.expected[column]
        target = url(world, case.name)
        before_refused = len(events_of(user, "roster.sensitive.refused"))
        before_read = len(events_of(user, "roster.sensitive.read"))
        if case.method == "post":
            response = client.post(target, post_data(world, case.name))
        else:
            response = client.get(target)
        where = f"{role} {case.method} {case.name}"
        if expected == LOGIN:
            assert response.status_code == 302, where
            assert response["Location"].startswith(reverse("login")), where
            continue
        assert response.status_code == expected, where
        refused = events_of(user, "roster.sensitive.refused")[before_refused:]
        read = events_of(user, "roster.sensitive.read")[before_read:]
        if expected in (403, 404):
            assert len(refused) == 1, where
            assert SECRET not in str(refused[0].details), where
            assert set(refused[0].details) == {"category", "roles"}, where
            assert read == [], where
        else:
            assert refused == [], where
            assert len(read) == case.reads, where
        for event in read:
            assert event.subject == f"student:{world.pupil().pk}"
            assert event.details["category"] == SensitiveCategory.PSYCHODIAGNOSTIC.value
            assert event.details["record"] == world.record.pk
            expected_role = "care_coordinator" if role == "care" else "teacher"
            assert event.details["role"] == expected_role
            assert bool(event.details.get("designated")) == (role == "designated")
        if expected == 200 and case.name == "record":
            assert SECRET in response.content.decode()
        elif response.status_code != 302:
            assert SECRET not in response.content.decode(), where


def test_a_refusal_names_the_pupil_and_the_category_of_the_record_asked_for(
    world: SensitiveWorld,
) -> None:
    response = verified_client(world.teacher).get(
        reverse("roster:sensitive-record", args=[world.record.pk])
    )
    assert response.status_code == 403
    (event,) = events_of(world.teacher, "roster.sensitive.refused")
    assert event.subject == f"student:{world.pupil().pk}"
    assert event.details == {
        "category": SensitiveCategory.PSYCHODIAGNOSTIC.value,
        "roles": ["teacher"],
    }


def test_the_pupil_page_links_to_the_records_only_for_those_who_may_read(
    world: SensitiveWorld,
) -> None:
    link = reverse("roster:sensitive-list", args=[world.pupil().pk])
    page = reverse("roster:student", args=[world.pupil().pk])
    for user, shown in (
        (world.care, True),
        (world.designated, True),
        (world.teacher, False),
        (world.school_admin, False),
        (world.officer, False),
        (world.board_admin, False),
    ):
        response = verified_client(user).get(page)
        assert response.status_code == 200
        assert (link in response.content.decode()) is shown, user.username


def test_a_withdrawn_designation_reads_no_more_and_both_acts_are_in_the_log(
    world: SensitiveWorld,
) -> None:
    officer = verified_client(world.officer)
    teacher_staff = world.teacher.staff_memberships.get()
    page = reverse("roster:sensitive-designations")
    given = officer.post(
        page,
        {"action": "give", "school": world.a1.pk, "staff": teacher_staff.pk, "reason": "zorgteam"},
    )
    assert given.status_code == 302
    designation = SensitiveDesignation.objects.get(staff=teacher_staff)
    listing = reverse("roster:sensitive-list", args=[world.pupil().pk])
    assert verified_client(world.teacher).get(listing).status_code == 200
    assert (
        officer.post(page, {"action": "withdraw", "designation": designation.pk}).status_code == 302
    )
    designation.refresh_from_db()
    assert designation.withdrawn_at is not None
    assert designation.withdrawn_by == world.officer
    assert verified_client(world.teacher).get(listing).status_code == 403
    types = set(
        AuditEvent.objects.filter(actor=actor_for(world.officer)).values_list(
            "event_type", flat=True
        )
    )
    assert {"roster.sensitive.designated", "roster.sensitive.designation_withdrawn"} <= types
    # The privacy officer manages designations but does not read.
    assert verified_client(world.officer).get(listing).status_code == 403


def test_a_designation_at_another_board_cannot_be_given_or_withdrawn(
    world: SensitiveWorld,
) -> None:
    officer = verified_client(world.officer)
    _user, staff_b = make_staff(world.board_b, world.b1, StaffRole.TEACHER)
    page = reverse("roster:sensitive-designations")
    response = officer.post(
        page, {"action": "give", "school": world.b1.pk, "staff": staff_b.pk, "reason": "x"}
    )
    assert response.status_code == 200  # the form refuses a school and staff of another board
    assert not SensitiveDesignation.objects.filter(staff=staff_b).exists()
    other = SensitiveDesignation.objects.create(
        board=world.board_b, school=world.b1, staff=staff_b, reason="bestuur B"
    )
    assert officer.post(page, {"action": "withdraw", "designation": other.pk}).status_code == 404
    other.refresh_from_db()
    assert other.withdrawn_at is None


def test_a_record_added_by_hand_is_the_readers_and_logged_without_content(
    world: SensitiveWorld,
) -> None:
    client = verified_client(world.care)
    response = client.post(
        reverse("roster:sensitive-add", args=[world.pupil().pk]), post_data(world, "add")
    )
    assert response.status_code == 302
    added = SensitiveRecord.objects.get(title="Arrangement (fictief)")
    assert added.recorded_by == world.care
    assert added.school_id == world.a1.pk
    event = AuditEvent.objects.get(event_type="roster.sensitive.recorded", details__record=added.pk)
    assert SECRET not in str(event.details)


def test_the_access_of_readers_is_one_query(
    world: SensitiveWorld, django_assert_num_queries: object
) -> None:
    with django_assert_num_queries(1):  # type: ignore[operator]
        found = access.access_for(world.designated)
    assert found.sensitive_schools == {world.a1.pk}
    assert found.reads_sensitive()
    assert not found.designates()


def test_the_demo_record_is_made_once_and_only_the_care_coordinator_reads_it(
    world: SensitiveWorld,
) -> None:
    assert ("ib", StaffRole.CARE_COORDINATOR) in [(name, role) for name, role, _who in PERSONAS]
    made = demo_sensitive_record(world.pupil())
    assert demo_sensitive_record(world.pupil()) == made
    assert made.category == SensitiveCategory.PSYCHODIAGNOSTIC
    target = reverse("roster:sensitive-record", args=[made.pk])
    assert verified_client(world.care).get(target).status_code == 200
    assert verified_client(world.teacher).get(target).status_code == 403
