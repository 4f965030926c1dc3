"""An import changes only what its format carries: roles the hub assigns are not the export's to
take away.

EDEXML knows only teachers (``leerkracht``): it may make a member a teacher, or no longer one, and
nothing else. OneRoster's ``role`` column names one role: it may add that role and say whether
the member teaches; only regie's extension column ``metadata.regie.roles``, which lists all of a
member's roles, replaces them.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from regie.roster import services
from regie.roster.importing.edexml import write_edexml
from regie.roster.importing.oneroster import write_oneroster
from regie.roster.importing.records import RosterExport, StaffRecord, StaffRole
from regie.roster.models import ImportStatus, Staff
from regie.roster.tests.exports import make_board, school_export

pytestmark = pytest.mark.django_db

HUB_ROLES = [
    StaffRole.PRIVACY_OFFICER,
    StaffRole.BOARD_ADMIN,
    StaffRole.SCHOOL_ADMIN,
    StaffRole.CARE_COORDINATOR,
]


def import_file(path: Path, board: object) -> None:
    run, export = services.upload_export(path, path.name, board, user=None)  # type: ignore[arg-type]
    assert run.status == ImportStatus.PREVIEWED, run.problems
    services.apply(run, user=None, export=export)


def edexml(export: RosterExport, directory: Path) -> Path:
    path = directory / "school.xml"
    write_edexml(export, export.schools[0].key, path)
    return path


def oneroster(export: RosterExport, directory: Path) -> Path:
    path = directory / "school.zip"
    write_oneroster(export, path)
    return path


def roles_of(key: str) -> list[str]:
    return sorted(Staff.objects.get(las_key=key).roles)


def with_staff(export: RosterExport, *members: StaffRecord) -> RosterExport:
    return replace(export, staff=list(members))


@pytest.mark.parametrize("role", HUB_ROLES)
def test_an_edexml_reimport_keeps_the_roles_the_hub_assigned(
    tmp_path: Path, rng: random.Random, role: StaffRole
) -> None:
    board = make_board()
    export = school_export(rng, pupils=2)
    import_file(edexml(export, tmp_path), board)
    teacher = export.staff[0].key
    member = Staff.objects.get(las_key=teacher)
    member.roles = sorted([*member.roles, str(role)])
    member.save()

    import_file(edexml(export, tmp_path), board)

    assert roles_of(teacher) == sorted(["teacher", str(role)])
    assert Staff.objects.get(las_key=teacher).is_active


def test_an_edexml_import_without_a_member_takes_only_the_teacher_role_away(
    tmp_path: Path, rng: random.Random
) -> None:
    board = make_board()
    export = school_export(rng, pupils=2)
    import_file(edexml(export, tmp_path), board)
    teacher = export.staff[0].key
    Staff.objects.filter(las_key=teacher).update(roles=["privacy_officer", "teacher"])
    plain = replace(export.staff[0], key="A-MW-2", email="twee@school.example")
    import_file(edexml(with_staff(export, export.staff[0], plain), tmp_path), board)

    run, _ = services.upload_export(edexml(with_staff(export), tmp_path), "s.xml", board, user=None)
    counts = run.plan["schools"][0]["counts"]["staff"]
    assert (counts["changed"], counts["leaving"]) == (1, 1)
    services.apply(run, user=None)

    officer = Staff.objects.get(las_key=teacher)
    assert (officer.roles, officer.is_active) == (["privacy_officer"], True)
    assert not officer.groups.exists()
    assert not Staff.objects.get(las_key="A-MW-2").is_active


def test_a_oneroster_row_adds_its_role_and_keeps_the_hubs(
    tmp_path: Path, rng: random.Random
) -> None:
    board = make_board()
    export = school_export(rng, pupils=2)
    import_file(oneroster(export, tmp_path), board)
    teacher = export.staff[0].key
    Staff.objects.filter(las_key=teacher).update(roles=["privacy_officer", "teacher"])

    import_file(oneroster(export, tmp_path), board)
    assert roles_of(teacher) == ["privacy_officer", "teacher"]

    # The LAS now calls the member a counselor: they teach no more, and become IB'er.
    counselor = replace(export.staff[0], roles=(StaffRole.CARE_COORDINATOR,), group_keys=())
    path = oneroster(with_staff(export, counselor), tmp_path)
    import_file(path, board)
    assert roles_of(teacher) == ["care_coordinator", "privacy_officer"]


def test_oneroster_with_regie_roles_states_all_roles(tmp_path: Path, rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=2)
    import_file(oneroster(export, tmp_path), board)
    teacher = export.staff[0].key
    Staff.objects.filter(las_key=teacher).update(roles=["privacy_officer", "teacher"])

    listed = replace(
        export.staff[0], roles=(StaffRole.TEACHER, StaffRole.SCHOOL_ADMIN), all_roles=True
    )
    import_file(oneroster(with_staff(export, listed), tmp_path), board)

    assert roles_of(teacher) == ["school_admin", "teacher"]


def test_a_member_absent_from_a_oneroster_export_leaves(tmp_path: Path, rng: random.Random) -> None:
    """OneRoster lists every member of staff: one no longer listed has left the school."""
    board = make_board()
    export = school_export(rng, pupils=2)
    import_file(oneroster(export, tmp_path), board)
    teacher = export.staff[0].key
    Staff.objects.filter(las_key=teacher).update(roles=["privacy_officer", "teacher"])

    import_file(oneroster(with_staff(export), tmp_path), board)

    assert not Staff.objects.get(las_key=teacher).is_active


def test_the_preview_counts_a_kept_role_as_no_change(tmp_path: Path, rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=2)
    import_file(edexml(export, tmp_path), board)
    Staff.objects.filter(las_key=export.staff[0].key).update(roles=["school_admin", "teacher"])

    run, _ = services.upload_export(edexml(export, tmp_path), "s.xml", board, user=None)

    counts = run.plan["schools"][0]["counts"]["staff"]
    assert (counts["changed"], counts["unchanged"]) == (0, 1)
