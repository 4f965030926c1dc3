"""Need-to-know: the wrong role or the wrong board gets nothing (404), on every roster page."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from django.urls import reverse

from regie.core.models import Board, School, Sector
from regie.roster import services
from regie.roster.importing.oneroster import write_oneroster
from regie.roster.importing.plan import apply_export
from regie.roster.importing.records import RosterExport, StaffRole
from regie.roster.models import Group, ImportRun, ImportStatus, Staff, Student
from regie.roster.tests.exports import client_for, make_board, make_staff, school_export

pytestmark = pytest.mark.django_db


def load(export: RosterExport, board: Board) -> None:
    with transaction.atomic():
        apply_export(export, board, actor="test", pseudonyms={})


class World:
    """Board A (schools 99XA and 99XB) and board B (99XC), each with pupils and a few personas."""

    def __init__(self, rng: random.Random) -> None:
        self.board_a = make_board("41001", "Stichting A (fictief)")
        self.board_b = make_board("41002", "Stichting B (fictief)")
        export_a1 = school_export(rng, code="99XA", prefix="A", pupils=6)
        # In 99XA a second group 6 with its own pupils, which the teacher does not teach.
        group6 = replace(export_a1.groups[0], key="A-G6", name="Groep 6", year_level="6")
        export_a1.groups.append(group6)
        export_a1.students = [
            replace(student, group_keys=("A-G6",)) if index >= 4 else student
            for index, student in enumerate(export_a1.students)
        ]
        load(export_a1, self.board_a)
        load(school_export(rng, code="99XB", prefix="B", sector=Sector.VO), self.board_a)
        load(school_export(rng, code="99XC", prefix="C"), self.board_b)
        self.a1, self.a2, self.b1 = (
            School.objects.get(brin=code) for code in ("99XA", "99XB", "99XC")
        )
        self.teacher, staff = make_staff(
            self.board_a, self.a1, StaffRole.TEACHER, username="leerkracht-a"
        )
        staff.groups.add(Group.objects.get(school=self.a1, las_key="A-G5"))
        self.officer, _ = make_staff(
            self.board_a, self.a1, StaffRole.PRIVACY_OFFICER, username="fg-a"
        )
        self.board_admin, _ = make_staff(
            self.board_a, None, StaffRole.BOARD_ADMIN, username="bestuur-a"
        )
        self.officer_b, _ = make_staff(
            self.board_b, self.b1, StaffRole.PRIVACY_OFFICER, username="fg-b"
        )
        self.nobody = User.objects.create_user("niemand", password="fictief-wachtwoord-123")


@pytest.fixture
def world(rng: random.Random) -> World:
    return World(rng)


def pupils_seen(user: User) -> set[str]:
    return set(services.visible_students(user).values_list("las_key", flat=True))


def test_a_teacher_sees_only_the_pupils_of_the_groups_they_teach(world: World) -> None:
    assert pupils_seen(world.teacher) == {f"A-LL-{n:04d}" for n in range(4)}
    client = client_for(world.teacher)
    taught = Student.objects.get(las_key="A-LL-0000")
    other_group = Student.objects.get(las_key="A-LL-0005")
    page = client.get(reverse("roster:student", args=[taught.pk]))
    assert page.status_code == 200
    assert taught.eck_id not in page.content.decode()  # pseudonyms are never shown on a page
    assert client.get(reverse("roster:student", args=[other_group.pk])).status_code == 404
    listing = client.get(reverse("roster:students")).content.decode()
    assert str(taught) in listing
    assert "A-LL-0005" not in listing
    g6 = Group.objects.get(las_key="A-G6")
    assert client.get(reverse("roster:group", args=[g6.pk])).status_code == 404
    # Teachers do not get the school's guardian list, and cannot import: no business there (403).
    assert services.visible_guardians(world.teacher).count() == 0
    assert client.get(reverse("roster:guardians")).status_code == 403
    assert client.get(reverse("roster:import")).status_code == 403


def test_school_roles_see_their_school_and_the_board_admin_sees_the_board(world: World) -> None:
    a1 = {f"A-LL-{n:04d}" for n in range(6)}
    a2 = {f"B-LL-{n:04d}" for n in range(6)}
    assert pupils_seen(world.officer) == a1
    assert pupils_seen(world.board_admin) == a1 | a2
    assert set(services.visible_schools(world.board_admin)) == {world.a1, world.a2}
    assert services.visible_guardians(world.officer).count() == 6


def test_nobody_sees_another_board(world: World) -> None:
    other_pupil = Student.objects.get(las_key="C-LL-0000")
    other_group = Group.objects.get(las_key="C-G5")
    for user in (world.teacher, world.officer, world.board_admin):
        client = client_for(user)
        assert client.get(reverse("roster:student", args=[other_pupil.pk])).status_code == 404
        assert client.get(reverse("roster:group", args=[other_group.pk])).status_code == 404
        listing = client.get(reverse("roster:students") + "?q=C-LL-0000").content.decode()
        assert "School 99XC" not in listing
        assert "Geen leerlingen gevonden" in listing
        assert world.b1 not in services.visible_schools(user)
    assert pupils_seen(world.officer_b) == {f"C-LL-{n:04d}" for n in range(6)}


def test_a_user_without_a_role_sees_nothing(world: World) -> None:
    assert pupils_seen(world.nobody) == set()
    client = client_for(world.nobody)
    refused = client.get(reverse("roster:schools"))
    assert refused.status_code == 403
    assert "Geen toegang" in refused.content.decode()  # a page in plain Dutch, not a bare 403
    assert client.get(reverse("roster:import")).status_code == 403
    assert Staff.objects.filter(user=world.nobody).count() == 0


def test_pages_need_a_login(world: World) -> None:
    pupil = Student.objects.get(las_key="A-LL-0000")
    for url in (reverse("roster:students"), reverse("roster:student", args=[pupil.pk])):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_an_import_of_another_board_is_not_found(world: World, tmp_path: Path) -> None:
    run = ImportRun.objects.create(
        id="00000000-0000-4000-8000-000000000001",
        board=world.board_b,
        file_name="export.zip",
        status=ImportStatus.REFUSED,
    )
    for name in ("roster:import-run", "roster:import-problems"):
        assert client_for(world.officer).get(reverse(name, args=[run.pk])).status_code == 404
        assert client_for(world.officer_b).get(reverse(name, args=[run.pk])).status_code == 200
    response = client_for(world.officer).post(reverse("roster:import-apply", args=[run.pk]))
    assert response.status_code == 404


def test_an_officer_may_not_import_for_another_school_of_the_board(
    world: World, rng: random.Random
) -> None:
    export = school_export(rng, code="99XB", prefix="B", sector=Sector.VO)
    problems = services.may_import_export(world.officer, world.board_a, export)
    assert [problem.text for problem in problems] == ["u mag niet importeren voor school 99XB"]
    assert services.may_import_export(world.board_admin, world.board_a, export) == []


def test_an_officer_may_not_apply_a_board_wide_import_of_the_board_admin(
    world: World, rng: random.Random, tmp_path: Path
) -> None:
    path = tmp_path / "bestuur.zip"
    write_oneroster(school_export(rng, code="99XB", prefix="B", sector=Sector.VO), path)
    run = services.upload(path, "bestuur.zip", world.board_a, user=world.board_admin)
    assert run.status == ImportStatus.PREVIEWED
    with pytest.raises(services.ExportRefused, match="u mag niet importeren voor school 99XB"):
        services.apply(run, user=world.officer)
    run.refresh_from_db()
    assert run.status == ImportStatus.PREVIEWED
