"""``regie demo`` (``make demo``) on a taken port: one line that says which port and how to choose
another, before anything is set up or printed — no banner, no traceback."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError

from regie.conftest import free_port, regie_command
from regie.lib import locks
from regie.lib.serving import port_taken
from regie.ops.management.commands.demo import check_ports

from .test_demo import demo_env


def listening() -> socket.socket:
    """A socket that holds a free loopback port, as another program's server would."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder


def test_it_names_the_taken_port_in_one_line_and_sets_nothing_up(tmp_path: Path) -> None:
    with listening() as holder:
        port = holder.getsockname()[1]
        result = subprocess.run(
            regie_command("demo", "--port", str(port)),
            env=demo_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output
    assert result.stdout == ""  # no banner
    [line] = result.stderr.strip().splitlines()
    assert f"port {port} is taken" in line
    assert "make demo PORT=" in line
    assert "--port" in line
    assert not (tmp_path / "regie.sqlite3").exists()  # nothing was set up


def test_a_taken_demo_supplier_port_is_a_notice_not_a_refusal() -> None:
    # The port below the held one is the hub's; another program on this machine may hold it (the
    # test does not own it): then another free port is held instead.
    for _ in range(20):
        with listening() as holder:
            supplier_port = holder.getsockname()[1]
            if port_taken("127.0.0.1", supplier_port - 1):
                continue
            notices = check_ports(supplier_port - 1)
        break
    assert notices == [
        f"port {supplier_port} is taken: demo supplier Rekenwereld gets another free port"
    ]


def test_it_refuses_a_port_that_leaves_no_room_for_the_demo_suppliers() -> None:
    with pytest.raises(
        CommandError, match="port 65534 is out of range: choose one from 1 to 65533"
    ):
        check_ports(65534)


def test_it_suggests_free_ports_for_the_hub_and_both_demo_suppliers() -> None:
    with listening() as holder:
        port = holder.getsockname()[1]
        with pytest.raises(CommandError) as refused:
            check_ports(port)
    suggested = int(str(refused.value).split("PORT=")[1].split("`")[0])
    assert suggested != port
    assert f"the demo suppliers then use {suggested + 1} and {suggested + 2}" in str(refused.value)


def test_a_second_demo_on_the_same_data_stops_in_one_line_and_leaves_the_first_alone(
    tmp_path: Path,
) -> None:
    """A second demo would issue new API keys under the first: the data directory is one demo's."""
    first = locks.hold(tmp_path / "demo.lock", "port 8600, process 4242")  # a demo that runs
    assert first is not None
    try:
        result = subprocess.run(
            regie_command("demo", "--port", str(free_port())),
            env=demo_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        first.close()
    assert result.returncode != 0
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert f"a demo already runs with the data in {tmp_path} (port 8600, process 4242)" in line
    assert "REGIE_VAR_DIR=" in line
    assert not (tmp_path / "regie.sqlite3").exists()  # nothing was set up or issued
