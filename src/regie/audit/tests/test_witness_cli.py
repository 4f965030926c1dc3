"""``regie witness``: it runs without Django, and every mistake is one clear line with exit 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from regie.audit import signed_note as sn
from regie.conftest import regie_command

ORIGIN = "regie.bestuur-a.example/log"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    # A settings module that does not exist: any Django set-up on the way fails loudly.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "regie.no_such_settings"}
    return subprocess.run(
        regie_command("witness", *args),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("regie witness")
    return line


def test_the_witness_modules_import_no_django() -> None:
    code = (
        "import sys, regie.audit.witness, regie.audit.witness_client\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_init_prints_a_cosignature_key_and_add_log_takes_the_log_key(tmp_path: Path) -> None:
    made = run("init", "--name", "witness.ap.example/w1", "--state", str(tmp_path))
    assert made.returncode == 0, made.stderr
    verifier = sn.verifier_from_vkey(made.stdout.strip())
    assert (verifier.name, verifier.key_type) == ("witness.ap.example/w1", sn.COSIGNATURE_V1)
    log_key = sn.generate_signer(ORIGIN).verifier.vkey
    added = run("add-log", "--origin", ORIGIN, "--key", log_key, "--state", str(tmp_path))
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == f"witnessing {ORIGIN}"


def test_init_refuses_a_directory_that_has_a_witness(tmp_path: Path) -> None:
    assert run("init", "--name", "witness.ap.example/w1", "--state", str(tmp_path)).returncode == 0
    line = one_line_error(run("init", "--name", "other.example/w2", "--state", str(tmp_path)))
    assert "exists already" in line


def test_init_refuses_a_name_with_a_space(tmp_path: Path) -> None:
    line = one_line_error(run("init", "--name", "the witness", "--state", str(tmp_path)))
    assert "name" in line


def test_add_log_before_init_says_to_run_init(tmp_path: Path) -> None:
    log_key = sn.generate_signer(ORIGIN).verifier.vkey
    line = one_line_error(
        run("add-log", "--origin", ORIGIN, "--key", log_key, "--state", str(tmp_path))
    )
    assert "regie witness init" in line


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("not a key", "the log's key is not usable"),
        ("regie.bestuur-a.example/log+00000000+AQ==", "the log's key is not usable"),
        ("cosigner", "must be an Ed25519 note key"),
    ],
)
def test_add_log_refuses_a_key_it_cannot_use(tmp_path: Path, key: str, says: str) -> None:
    assert run("init", "--name", "witness.ap.example/w1", "--state", str(tmp_path)).returncode == 0
    if key == "cosigner":
        key = sn.generate_signer("witness.other.example/w9", cosigner=True).verifier.vkey
    line = one_line_error(
        run("add-log", "--origin", ORIGIN, "--key", key, "--state", str(tmp_path))
    )
    assert says in line


def test_serve_refuses_a_taken_port(tmp_path: Path) -> None:
    assert run("init", "--name", "witness.ap.example/w1", "--state", str(tmp_path)).returncode == 0
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        line = one_line_error(run("serve", "--state", str(tmp_path), "--port", str(port)))
    assert f"port {port} is taken" in line


def test_a_missing_option_is_one_line(tmp_path: Path) -> None:
    line = one_line_error(run("init", "--state", str(tmp_path)))
    assert "--name" in line
