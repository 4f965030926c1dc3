"""The ``regie`` command lists every command it runs, the witness (which starts without Django)
included."""

from __future__ import annotations

import subprocess

from regie.conftest import regie_command


def test_regie_help_lists_the_management_commands_and_the_witness() -> None:
    listed = subprocess.run(
        regie_command("help"), capture_output=True, text=True, timeout=120, check=True
    ).stdout
    for command in ("demo", "serve", "worker", "audit", "log"):
        assert f"\n    {command}\n" in listed, command
    assert listed.rstrip().endswith("witness")
    witness = subprocess.run(
        regie_command("witness", "--help"), capture_output=True, text=True, timeout=120
    )
    assert witness.returncode == 0, witness.stderr
