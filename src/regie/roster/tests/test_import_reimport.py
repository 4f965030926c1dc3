"""A daily re-import of the same export: the hub's rows as they are now decide what changes.

The comparison reads the hub's rows with plain SQL and writes changed rows with plain SQL
(``plan.sql``); these tests hold it to what the hub holds, whoever changed it since the last
import, in both formats.
"""

from __future__ import annotations

import random
import traceback
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from regie.core.models import Board
from regie.roster import services
from regie.roster.importing.edexml import write_edexml
from regie.roster.importing.oneroster import write_oneroster
from regie.roster.importing.plan import RemovalConsent, apply_export, plan_import
from regie.roster.importing.plan.sql import ImportWriteFailed, update_objects
from regie.roster.importing.records import RosterExport
from regie.roster.models import Guardian, ImportStatus, Student, StudentStatus
from regie.roster.tests.exports import make_board, school_export

pytestmark = pytest.mark.django_db


def apply(export: RosterExport, board: Board) -> None:
    with transaction.atomic():
        apply_export(export, board, actor="test", pseudonyms={}, consent=RemovalConsent(any=True))


def import_file(path: Path, board: Board) -> dict[str, dict[str, int]]:
    """Upload and apply ``path`` as ``regie import`` does; the applied plan's totals."""
    run, export = services.upload_export(path, path.name, board, user=None)
    assert run.status == ImportStatus.PREVIEWED, run.problems
    plan = services.apply(run, user=None, export=export)
    return {
        kind: {change: plan.total(kind, change) for change in ("new", "changed", "unchanged")}
        for kind in ("students", "guardians")
    }


def test_a_hand_edit_since_the_last_import_is_put_back_by_the_next(rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=4)
    apply(export, board)
    # Changed by other means than an import, past the ORM's save (no signal, no updated_at).
    Student.objects.filter(las_key="A-LL-0001").update(achternaam="Elders", year_level="8")
    first_guardian = export.guardians[0]
    Guardian.objects.filter(las_key=first_guardian.key).update(email="ander@ouders.example")
    plan = plan_import(export, board)
    assert plan.total("students", "changed") == 1
    assert plan.total("students", "unchanged") == 3
    assert plan.total("guardians", "changed") == 1
    apply(export, board)
    student = Student.objects.get(las_key="A-LL-0001")
    record = export.students[1]
    assert (student.achternaam, student.year_level) == (record.achternaam, record.year_level)
    assert Guardian.objects.get(las_key=first_guardian.key).email == first_guardian.email


def test_a_group_link_removed_since_the_last_import_is_made_again(rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=3)
    apply(export, board)
    student = Student.objects.get(las_key="A-LL-0000")
    student.groups.clear()
    assert plan_import(export, board).total("students", "changed") == 1
    apply(export, board)
    assert sorted(student.groups.values_list("las_key", flat=True)) == sorted(
        export.students[0].group_keys
    )


def test_a_pupil_deleted_since_the_last_import_comes_back_as_new(rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=3)
    apply(export, board)
    Student.objects.filter(las_key="A-LL-0002").delete()  # as retention deletes a pupil
    plan = plan_import(export, board)
    assert plan.total("students", "new") == 1
    assert plan.total("students", "unchanged") == 2
    apply(export, board)
    assert Student.objects.filter(las_key="A-LL-0002", status=StudentStatus.ACTIVE).exists()


def test_a_pupil_who_left_and_is_in_the_export_again_is_active_again(rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=3)
    apply(export, board)
    Student.objects.filter(las_key="A-LL-0001").update(
        status=StudentStatus.LEFT, left_on=timezone.localdate()
    )
    assert plan_import(export, board).total("students", "changed") == 1
    apply(export, board)
    student = Student.objects.get(las_key="A-LL-0001")
    assert (student.status, student.left_on) == (StudentStatus.ACTIVE, None)


def test_only_the_changed_pupils_are_written(rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=4)
    apply(export, board)
    long_ago = timezone.now() - timedelta(days=30)
    Student.objects.update(updated_at=long_ago)
    renamed = replace(export.students[2], achternaam="Mulder")
    apply(replace(export, students=[*export.students[:2], renamed, *export.students[3:]]), board)
    written = dict(Student.objects.values_list("las_key", "updated_at"))
    assert written.pop(renamed.key) > long_ago
    assert set(written.values()) == {long_ago}
    assert Student.objects.get(las_key=renamed.key).achternaam == "Mulder"


@pytest.mark.parametrize("format_", ["oneroster", "edexml"])
def test_a_re_import_of_a_file_counts_and_applies_only_the_renamed_pupil(
    rng: random.Random, tmp_path: Path, format_: str
) -> None:
    board = make_board()
    export = school_export(rng, pupils=5)
    first, second = tmp_path / f"first.{format_}", tmp_path / f"second.{format_}"
    renamed = replace(export.students[3], achternaam="Koster")
    later = replace(export, students=[*export.students[:3], renamed, export.students[4]])
    for content, target in ((export, first), (later, second)):
        if format_ == "oneroster":
            write_oneroster(content, target)
        else:
            write_edexml(content, content.schools[0].key, target)
    assert import_file(first, board)["students"] == {"new": 5, "changed": 0, "unchanged": 0}
    totals = import_file(second, board)
    assert totals["students"] == {"new": 0, "changed": 1, "unchanged": 4}
    assert totals["guardians"]["changed"] == 0
    assert Student.objects.get(las_key=renamed.key).achternaam == "Koster"
    assert Student.objects.filter(achternaam="Koster").count() == 1


def test_a_refused_update_names_the_table_and_no_value(rng: random.Random) -> None:
    board = make_board()
    apply(school_export(rng, pupils=2), board)
    student = Student.objects.get(las_key="A-LL-0000")
    student.achternaam = "SENTINEL-Zoë"
    student.roepnaam = None  # type: ignore[assignment]  # the column is NOT NULL: refused

    with pytest.raises(ImportWriteFailed) as error, transaction.atomic():
        update_objects([student], ["roepnaam", "achternaam"])

    shown = "".join(traceback.format_exception(error.value))
    assert "roster_student" in str(error.value)
    assert "SENTINEL" not in shown
    assert "Zoë" not in shown
