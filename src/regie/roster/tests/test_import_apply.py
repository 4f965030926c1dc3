"""Applying an export as a diff: new, changed, leaving; idempotent re-import; deltas; all or nothing."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.db import transaction
from django.utils import timezone

from regie.audit.models import AuditEvent
from regie.core.models import Board, School, Sector
from regie.roster import events, services
from regie.roster.importing.edexml import write_edexml
from regie.roster.importing.oneroster import write_oneroster
from regie.roster.importing.plan import RemovalConsent, apply_export, plan_import
from regie.roster.importing.records import RosterExport, without_student
from regie.roster.models import (
    Group,
    Guardian,
    ImportRun,
    ImportStatus,
    Staff,
    Student,
    StudentStatus,
)
from regie.roster.tests.exports import make_board, school_export

pytestmark = pytest.mark.django_db


def apply(export: RosterExport, board: Board) -> None:
    """Apply with consent to any removal: these tests are about the diff (the safety stop has
    test_import_safety.py)."""
    plan = plan_import(export, board)
    assert plan.problems == []
    with transaction.atomic():
        apply_export(export, board, actor="test", pseudonyms={}, consent=RemovalConsent(any=True))


def snapshot() -> list[object]:
    """Every roster row and link, to compare the database before and after."""
    return [
        sorted(School.objects.values_list()),
        sorted(Group.objects.values_list()),
        sorted(Student.objects.values_list("id", "las_key", "achternaam", "status", "eck_id")),
        sorted(Student.groups.through.objects.values_list("student_id", "group_id")),
        sorted(Guardian.objects.values_list()),
        sorted(Guardian.students.through.objects.values_list("guardian_id", "student_id")),
        sorted(Staff.objects.values_list("id", "las_key", "roles", "is_active")),
        sorted(Staff.groups.through.objects.values_list("staff_id", "group_id")),
    ]


def test_it_creates_the_school_and_everyone_in_it(rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=6)
    plan = plan_import(export, board)
    assert [(school.code, school.is_new) for school in plan.schools] == [("99XA", True)]
    assert plan.total("students", "new") == 6
    assert plan.total("groups", "new") == 2
    apply(export, board)
    school = School.objects.get(brin="99XA")
    assert school.board == board
    assert school.sector == Sector.PO
    assert Student.objects.filter(school=school, status=StudentStatus.ACTIVE).count() == 6
    first = Student.objects.get(las_key="A-LL-0000")
    record = export.students[0]
    assert first.eck_id == record.eck_id
    assert (first.roepnaam, first.voorvoegsel, first.achternaam) == (
        record.roepnaam,
        record.voorvoegsel,
        record.achternaam,
    )
    assert first.birth_date == record.birth_date
    assert first.gender == record.gender
    assert first.created_at is not None
    assert first.created_at == first.updated_at
    assert first.previous is None
    assert sorted(first.groups.values_list("las_key", flat=True)) == ["A-G5", "A-PK"]
    assert first.guardians.get().email == "ouder0.a@ouders.example"
    teacher = Staff.objects.get(las_key="A-MW-1")
    assert teacher.roles == ["teacher"]
    assert list(teacher.groups.values_list("las_key", flat=True)) == ["A-G5"]


def test_applying_the_same_export_again_changes_nothing(rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=5)
    apply(export, board)
    before = snapshot()
    events_before = AuditEvent.objects.count()
    plan = plan_import(export, board)
    assert not plan.has_changes
    assert plan.total("students", "unchanged") == 5
    apply(export, board)
    assert snapshot() == before
    assert AuditEvent.objects.count() == events_before


def test_it_counts_and_applies_a_changed_pupil_and_group_membership(rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=4)
    apply(export, board)
    renamed = replace(export.students[1], achternaam="Mulder", group_keys=("A-G5", "A-PK"))
    changed = replace(export, students=[export.students[0], renamed, *export.students[2:]])
    plan = plan_import(changed, board)
    assert plan.total("students", "changed") == 1
    assert plan.total("students", "unchanged") == 3
    apply(changed, board)
    student = Student.objects.get(las_key=renamed.key)
    assert student.achternaam == "Mulder"
    assert sorted(student.groups.values_list("las_key", flat=True)) == ["A-G5", "A-PK"]


def test_a_pupil_missing_from_a_bulk_export_leaves_with_an_event(rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=4)
    apply(export, board)
    later = without_student(export, "A-LL-0002")
    plan = plan_import(later, board)
    assert plan.total("students", "leaving") == 1
    assert plan.total("guardians", "leaving") == 1
    apply(later, board)
    student = Student.objects.get(las_key="A-LL-0002")
    assert student.status == StudentStatus.LEFT
    assert student.left_on is not None
    assert not student.groups.exists()
    event = AuditEvent.objects.get(event_type=events.STUDENT_LEFT.name)
    assert event.subject == f"student:{student.pk}"
    # The record is kept for retention to act on; coming back makes the pupil active again.
    apply(export, board)
    student.refresh_from_db()
    assert student.status == StudentStatus.ACTIVE
    assert student.left_on is None


def test_a_delta_export_touches_only_what_it_names(rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=4)
    apply(export, board)
    changed = replace(export.students[0], roepnaam="Sophie")
    delta = RosterExport(
        source_format="test",
        schools=export.schools,
        students=[changed],
        delta=True,
        deleted={"students": {"A-LL-0003"}},
    )
    plan = plan_import(delta, board)
    assert plan.total("students", "changed") == 1
    assert plan.total("students", "leaving") == 1
    assert plan.total("groups", "leaving") == 0
    apply(delta, board)
    assert Student.objects.get(las_key="A-LL-0000").roepnaam == "Sophie"
    assert Student.objects.get(las_key="A-LL-0003").status == StudentStatus.LEFT
    assert Student.objects.filter(status=StudentStatus.ACTIVE).count() == 3
    assert Group.objects.filter(is_active=True).count() == 2


def test_it_refuses_a_school_of_another_board_and_changes_nothing(rng: random.Random) -> None:
    owner, other = make_board("41001"), make_board("41002", "Stichting Elders (fictief)")
    apply(school_export(rng), owner)
    before = snapshot()
    plan = plan_import(school_export(rng), other)
    assert [problem.text for problem in plan.problems] == [
        "school 99XA hoort bij een ander bestuur"
    ]
    assert snapshot() == before


def test_it_refuses_a_new_school_without_a_sector(rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng)
    export.schools = [replace(export.schools[0], sector=None)]
    plan = plan_import(export, board)
    assert len(plan.problems) == 1
    assert plan.problems[0].field == "sector"
    assert "nieuw voor de hub" in plan.problems[0].text


def test_an_upload_left_unapplied_is_deleted_after_its_time(
    rng: random.Random, tmp_path: Path, settings: LazySettings
) -> None:
    board = make_board()
    path = tmp_path / "export.zip"
    write_oneroster(school_export(rng), path)
    run = services.upload(path, "export.zip", board, user=None)
    stored = Path(settings.IMPORT_DIR) / f"{run.pk}.upload"
    assert stored.exists()
    assert services.purge_expired_uploads() == 0
    ImportRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - timedelta(hours=settings.IMPORT_UPLOAD_TTL_HOURS, minutes=1)
    )
    assert services.purge_expired_uploads() == 1
    assert not stored.exists()
    run.refresh_from_db()
    assert run.status == ImportStatus.DISCARDED
    with pytest.raises(services.ExportRefused):
        services.apply(run, user=None)
    assert not Student.objects.exists()


def test_problems_name_the_file_as_it_was_uploaded(rng: random.Random, tmp_path: Path) -> None:
    board = make_board()
    export = school_export(rng)
    stored = tmp_path / "upload"  # as the upload page keeps it
    write_edexml(export, export.schools[0].key, stored)
    text = stored.read_text(encoding="utf-8")
    stored.write_text(text.replace("<geboortedatum>2017-", "<geboortedatum>2017-13-", 1))
    run = services.upload(stored, "de-vlieger.xml", board, user=None)
    assert run.status == ImportStatus.REFUSED
    assert {problem["file"] for problem in run.problems} == {"de-vlieger.xml"}
