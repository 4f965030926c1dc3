"""The demo's sector story end to end: a fresh ``regie demo`` has two hubs send signed reports,
and the supervisor login ``toezicht`` sees both on the sector dashboard, with charts.

Needs ``regie report make --send`` (the hub's reports) and ``regie sector add-hub`` /
``add-supervisor`` with the dashboard at ``/sector/`` (the sector app): the demo wires them.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from regie.conftest import free_port, regie_command
from regie.ops import demo_hubs
from regie.ops.tests.test_demo import demo_env, log_in, read_until


def start_and_look(var_dir: Path) -> tuple[str, str]:
    """Start the demo, wait for both reports, read the sector dashboard as ``toezicht``, stop;
    returns the dashboard's page and the demo's output."""
    port = free_port()
    process = subprocess.Popen(
        regie_command("demo", "--port", str(port)),
        env=demo_env(var_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    try:
        assert process.stdout is not None
        banner = read_until(
            process.stdout,
            r"Sectordashboard \(toezichthouders\): (\S+)\s+login: (\S+) / (\S+)",
            seen,
        )
        read_until(process.stdout, r"Demo-schoolbestuur klaar", seen)
        # Both reports sent: "klaar"; otherwise the demo says what failed ("Let op: …").
        read_until(process.stdout, r"Sectordashboard klaar: |Let op: ", seen)
        output = "".join(seen)
        assert "Let op:" not in output, output
        base = f"http://127.0.0.1:{port}"
        assert banner[1] == f"{base}/sector/"
        assert banner[2] == demo_hubs.SUPERVISOR
        supervisor = log_in(base, banner[2], banner[3])
        dashboard = supervisor.get("/sector/")
        assert dashboard.status_code == 200, dashboard.text[:500]
        # A school's login has no business on the sector dashboard.
        school = log_in(base, "fg")
        assert school.get("/sector/").status_code == 403
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
        seen.append(rest)
        assert process.returncode == 0, "".join(seen)
    finally:
        process.kill()
    return dashboard.text, "".join(seen)


@pytest.mark.slow
def test_two_demo_hubs_send_signed_reports_and_the_sector_dashboard_shows_them_with_charts(
    tmp_path: Path,
) -> None:
    page, output = start_and_look(tmp_path)
    assert f"Tweede demohub: {demo_hubs.HUB_B_NAME}: geïmporteerd" in output
    assert f"Rapportage {demo_hubs.FIRST_HUB_NAME}: " in output
    assert f"Rapportage {demo_hubs.HUB_B_NAME}: " in output
    assert demo_hubs.FIRST_HUB_NAME in page
    assert demo_hubs.HUB_B_NAME in page
    assert "<svg" in page  # the charts: server-rendered SVG
    hub_b = tmp_path / "demo" / "hub-b" / "regie.sqlite3"
    assert hub_b.exists()
    first = (reports(tmp_path / "regie.sqlite3"), reports(hub_b))
    assert min(first) >= 1
    assert accepted_at_sector(tmp_path / "regie.sqlite3") == 2
    # A second start keeps the data. The same days give the same report, which was sent already:
    # no second report for one period, nothing accepted twice at the sector.
    page, output = start_and_look(tmp_path)
    assert f"Tweede demohub: {demo_hubs.HUB_B_NAME}: al geladen" in output
    assert demo_hubs.HUB_B_NAME in page
    assert (reports(tmp_path / "regie.sqlite3"), reports(hub_b)) == first
    assert accepted_at_sector(tmp_path / "regie.sqlite3") == 2


def accepted_at_sector(database: Path) -> int:
    """How many reports the sector dashboard (served by the first demo process) accepted."""
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute("SELECT count(*) FROM sector_report").fetchone()
    return int(count)


def reports(database: Path) -> int:
    """How many reports the hub made (kept as ``oversight.AggregateReport``)."""
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute("SELECT count(*) FROM oversight_aggregatereport").fetchone()
    return int(count)
