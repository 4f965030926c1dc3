"""Faults: an import killed half-way leaves the database as it was, and can simply be run again."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from regie.conftest import kill_at, regie_command, subprocess_env
from regie.roster.demo_board import generate_demo_board
from regie.roster.importing.oneroster import write_oneroster
from regie.roster.models import Group, Guardian, Staff, Student
from regie.roster.tests.exports import make_board

DOOMED_APPLICATION = "regie-test-doomed-import"


def counts() -> tuple[int, ...]:
    return (
        Student.objects.count(),
        Student.groups.through.objects.count(),
        Group.objects.count(),
        Guardian.objects.count(),
        Staff.objects.count(),
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_import_killed_half_way_changes_nothing_and_can_be_run_again(
    keys_dir: Path, tmp_path: Path
) -> None:
    demo = generate_demo_board(seed=7, pupils=20_000, pgn_pupils=0)
    make_board(demo.bestuursnummer, demo.name)
    export_file = tmp_path / "export.zip"
    write_oneroster(demo.export, export_file)
    env = subprocess_env(keys_dir, REGIE_IMPORT_DIR=str(tmp_path / "imports"))
    command = regie_command("import", str(export_file), "--board", demo.bestuursnummer)

    # Killed once one school is written and the other not yet.
    returncode, output = kill_at(command, env, "roster.import.school_applied", DOOMED_APPLICATION)
    assert "roster.import.school_applied" in output, output
    assert returncode == -signal.SIGKILL
    assert "roster.import.applied" not in output
    assert counts() == (0, 0, 0, 0, 0)

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert Student.objects.count() == len(demo.export.students)
    assert Guardian.objects.count() >= len(demo.export.guardians)
