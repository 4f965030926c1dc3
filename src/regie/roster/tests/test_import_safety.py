"""The safety stop, and what the preview tells before anything changes.

A well-formed bulk export with no pupils used to mark every pupil of the school as left, and drop
every guardian link and group membership, in one step. An export that removes more than
``REGIE_IMPORT_MASS_REMOVAL_PERCENT`` of a school's pupils (or all of them) now needs an explicit
confirmation: a checkbox in the preview that names the numbers, ``--allow-mass-removal`` on the
command line. The preview also names a legacy encoding and counts the pupils without any national
number or ECK iD (no pseudonym: no supplier receives anything about them).
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse

from regie.core.models import Board
from regie.roster import services
from regie.roster.importing.edexml import write_edexml
from regie.roster.importing.oneroster import write_oneroster
from regie.roster.importing.plan import (
    ExportRefused,
    ImportPlan,
    RemovalConsent,
    apply_export,
    plan_import,
)
from regie.roster.importing.records import RosterExport, StaffRole
from regie.roster.models import Guardian, ImportRun, ImportStatus, Student, StudentStatus
from regie.roster.tests.exports import (
    client_for,
    make_board,
    make_staff,
    run_the_apply_job,
    school_export,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _share(settings: LazySettings) -> None:
    settings.IMPORT_MASS_REMOVAL_PERCENT = 20


def applied(export: RosterExport, board: Board) -> None:
    with transaction.atomic():
        apply_export(export, board, actor="test", pseudonyms={})


def active_pupils() -> int:
    return Student.objects.filter(status=StudentStatus.ACTIVE).count()


def linked() -> tuple[int, int]:
    return (
        Student.groups.through.objects.count(),
        Guardian.students.through.objects.count(),
    )


def without_pupils(export: RosterExport, keep: int = 0) -> RosterExport:
    kept = export.students[:keep]
    keys = {student.key for student in kept}
    guardians = [g for g in export.guardians if set(g.student_keys) <= keys]
    return replace(export, students=kept, guardians=guardians)


# --- the rule ----------------------------------------------------------------------------------


def test_an_export_without_pupils_is_refused_without_confirmation(rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=10)
    applied(export, board)
    before = (active_pupils(), linked())

    empty = without_pupils(export)
    plan = plan_import(empty, board)
    (school,) = plan.mass_removals(20)
    assert (school.code, school.counts["students"].leaving, school.active_students) == (
        "99XA",
        10,
        10,
    )
    with pytest.raises(ExportRefused) as refused, transaction.atomic():
        apply_export(empty, board, actor="test", pseudonyms={})

    (problem,) = refused.value.problems
    assert "schrijft 10 van de 10 leerlingen van school School 99XA (fictief) (99XA) uit" in (
        problem.text
    )
    assert "--allow-mass-removal" in problem.text
    assert (active_pupils(), linked()) == before


def test_a_confirmed_removal_is_applied(rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=10)
    applied(export, board)
    empty = without_pupils(export)
    (school,) = plan_import(empty, board).mass_removals(20)

    with transaction.atomic():
        apply_export(
            empty,
            board,
            actor="test",
            pseudonyms={},
            consent=RemovalConsent(confirmed=frozenset({school.removal_key})),
        )

    assert active_pupils() == 0


def test_a_confirmation_of_other_numbers_does_not_count(rng: random.Random) -> None:
    """The hub may have changed between preview and apply: a confirmation is of the numbers."""
    board = make_board()
    export = school_export(rng, pupils=10)
    applied(export, board)
    (school,) = plan_import(without_pupils(export, keep=5), board).mass_removals(20)

    with pytest.raises(ExportRefused), transaction.atomic():
        apply_export(
            without_pupils(export),
            board,
            actor="test",
            pseudonyms={},
            consent=RemovalConsent(confirmed=frozenset({school.removal_key})),
        )
    assert active_pupils() == 10


@pytest.mark.parametrize(
    ("percent", "kept", "stops"),
    [(20, 8, False), (20, 7, True), (20, 0, True), (50, 7, False), (50, 4, True), (0, 9, True)],
)
def test_the_share_that_needs_confirmation_is_a_setting(
    rng: random.Random, settings: LazySettings, percent: int, kept: int, stops: bool
) -> None:
    settings.IMPORT_MASS_REMOVAL_PERCENT = percent
    board = make_board()
    export = school_export(rng, pupils=10)
    applied(export, board)
    consent = RemovalConsent()
    removing = without_pupils(export, keep=kept)
    if stops:
        with pytest.raises(ExportRefused), transaction.atomic():
            apply_export(removing, board, actor="test", pseudonyms={}, consent=consent)
        assert active_pupils() == 10
    else:
        with transaction.atomic():
            apply_export(removing, board, actor="test", pseudonyms={}, consent=consent)
        assert active_pupils() == kept


def test_all_pupils_leaving_always_needs_confirmation(rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=1)
    applied(export, board)
    assert plan_import(without_pupils(export), board).mass_removals(100)
    assert not plan_import(export, board).mass_removals(0)


# --- through the web ---------------------------------------------------------------------------


def upload(client: Client, board: Board, path: Path) -> ImportRun:
    with path.open("rb") as handle:
        content = handle.read()
    response = client.post(
        reverse("roster:import"),
        {"board": board.pk, "file": SimpleUploadedFile(path.name, content)},
    )
    assert response.status_code == 302
    return ImportRun.objects.latest("created_at")


def test_the_preview_asks_for_confirmation_and_apply_without_it_changes_nothing(
    rng: random.Random, tmp_path: Path
) -> None:
    board = make_board()
    user, _ = make_staff(board, None, StaffRole.BOARD_ADMIN)
    client = client_for(user)
    export = school_export(rng, pupils=10)
    applied(export, board)
    before = (active_pupils(), linked())
    path = tmp_path / "leeg.zip"
    write_oneroster(without_pupils(export), path)

    run = upload(client, board, path)
    page = client.get(reverse("roster:import-run", args=[run.pk])).content.decode()
    assert "Deze export schrijft 10 van de 10 leerlingen van School 99XA (fictief) uit" in page
    assert 'name="confirm_removal"' in page

    response = client.post(reverse("roster:import-apply", args=[run.pk]))
    assert response.status_code == 302
    errors = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("schrijft 10 van de 10 leerlingen" in error for error in errors)
    run.refresh_from_db()
    assert run.status == ImportStatus.PREVIEWED
    assert (active_pupils(), linked()) == before

    key = ImportPlan.from_json(run.plan).mass_removals(20)[0].removal_key
    response = client.post(reverse("roster:import-apply", args=[run.pk]), {"confirm_removal": key})
    run.refresh_from_db()
    assert run.status == ImportStatus.QUEUED
    assert run.removal_consent == [key]
    run_the_apply_job(run)
    assert run.status == ImportStatus.APPLIED
    assert active_pupils() == 0


def test_an_over_long_name_is_a_refusal_on_the_page_not_an_error(
    rng: random.Random, tmp_path: Path
) -> None:
    board = make_board()
    user, _ = make_staff(board, None, StaffRole.BOARD_ADMIN)
    client = client_for(user)
    export = school_export(rng, pupils=2)
    export.students = [replace(export.students[0], achternaam="Lang" * 60), export.students[1]]
    path = tmp_path / "lang.zip"
    write_oneroster(export, path)

    run = upload(client, board, path)
    page = client.get(reverse("roster:import-run", args=[run.pk]))

    assert page.status_code == 200
    assert run.status == ImportStatus.REFUSED
    assert "langer dan 200 tekens" in page.content.decode()
    assert "LangLang" not in page.content.decode()
    assert not Student.objects.exists()


def test_the_preview_names_a_legacy_encoding_and_counts_pupils_without_identifiers(
    rng: random.Random, tmp_path: Path
) -> None:
    board = make_board()
    user, _ = make_staff(board, None, StaffRole.BOARD_ADMIN)
    client = client_for(user)
    export = school_export(rng, pupils=3)
    export.students = [
        replace(export.students[0], eck_id="", voornamen="Zoë"),
        replace(export.students[1], eck_id=""),
        export.students[2],
    ]
    path = tmp_path / "school.xml"
    write_edexml(export, export.schools[0].key, path)
    text = path.read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="windows-1252"')
    path.write_bytes(text.encode("cp1252"))

    run = upload(client, board, path)
    page = client.get(reverse("roster:import-run", args=[run.pk])).content.decode()

    assert run.status == ImportStatus.PREVIEWED
    assert run.plan["schools"][0]["without_identifier"] == 2
    assert "school.xml is gelezen als Windows-1252" in page
    assert "2 leerlingen hebben geen BSN, onderwijsnummer of ECK iD" in page
    services.apply(run, user=user)
    assert Student.objects.get(las_key=export.students[0].key).voornamen == "Zoë"


# --- on the command line -----------------------------------------------------------------------


def test_the_command_refuses_a_mass_removal_without_its_flag(
    rng: random.Random, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    board = make_board()
    export = school_export(rng, pupils=10)
    applied(export, board)
    path = tmp_path / "leeg.zip"
    write_oneroster(without_pupils(export), path)

    with pytest.raises(CommandError) as error:
        call_command("import", str(path), "--board", board.bestuursnummer)

    assert error.value.returncode == 2
    output = capsys.readouterr()
    assert "removes 10 of 10 pupils of school School 99XA (fictief) (99XA)" in output.err
    assert active_pupils() == 10

    call_command("import", str(path), "--board", board.bestuursnummer, "--allow-mass-removal")
    assert active_pupils() == 0


def test_the_command_counts_pupils_without_identifiers(
    rng: random.Random, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    board = make_board()
    export = school_export(rng, pupils=2)
    export.students = [replace(export.students[0], eck_id=""), export.students[1]]
    path = tmp_path / "school.zip"
    write_oneroster(export, path)

    call_command("import", str(path), "--board", board.bestuursnummer, "--dry-run")

    assert "pupils without BSN, onderwijsnummer or ECK iD" in capsys.readouterr().out
