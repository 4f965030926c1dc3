"""The demo's second hub and the sector dashboard in the demo.

``regie demo`` runs one hub (Stichting De Vliet) and, beside it, a second, separate hub for a
small fictional board, *Stichting Het Baken*: its own SQLite database, its own data directory
(``$REGIE_VAR_DIR/demo/hub-b``, with its own keys — the log key in particular), its own board
imported through the real importer, its own register. It uses the first hub's number service over
HTTP, as any hub would use the national one, and does not serve HTTP itself. It runs as child
processes of the demo — ``regie migrate``, ``regie demo-hub`` (its setup), ``regie report make
--send`` — with its own ``REGIE_VAR_DIR`` and ``DATABASE_URL`` and ``REGIE_ROLE=hub``.

The demo process also serves the sector dashboard (``/sector/``). It registers both hubs' log keys
there and makes the supervisor login ``toezicht`` (:func:`regie.sector.demo.load_demo_sector`,
which a second start repeats without changing anything) and, once the first board is loaded, has
both hubs make and send a signed report.

:func:`het_baken_board` is the second board (on the first board's generator, made smaller) and
:func:`load_het_baken` loads it in the second hub's database (what ``regie demo-hub`` does).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
from pathlib import Path

from django.conf import settings
from django.db import connection

from regie.core.models import Board
from regie.lib.logging import get_logger
from regie.roster import demo_board
from regie.roster.demo_board import DemoBoard, generate_demo_board
from regie.roster.importing.records import SchoolRecord
from regie.sector.demo import DEMO_SUPERVISOR, load_demo_sector
from regie.sector.services import SectorError

logger = get_logger(__name__)

# --- the second board: Stichting Het Baken (fictional) ------------------------------------------

HUB_B_DIR = Path("demo") / "hub-b"  # under the demo's REGIE_VAR_DIR
HUB_B_CLIENT = ("00000001000000000003", "regie-hub Het Baken demo (fictief)")
# The second hub's log origin (its log key's name, the `hub` of its reports): made up, at an
# .example domain, since this hub serves no HTTP.
HUB_B_ORIGIN = "hetbaken.regie.example/log"
HUB_B_NAME = "Stichting Het Baken (fictief)"
HUB_B_BESTUURSNUMMER = "99902"  # made up, like the first demo board's
HUB_B_KVK = "99990002"
HUB_B_PUPILS = 40
HUB_B_PGN_PUPILS = 5  # these get their pseudonyms from the first hub's number service
HUB_B_SEED = 2027
HUB_B_EXPORT = "het-baken-oneroster.zip"

# BRINs "99XC" and "99XD": made up as the first board's (DUO does not use "99"; "X" marks it).
HUB_B_SCHOOLS = {
    demo_board.PO_SCHOOL.key: ("99XC", "OBS Het Baken (fictief)"),
    demo_board.VO_SCHOOL.key: ("99XD", "Baken College (fictief)"),
}
HUB_B_DOMAINS = {
    demo_board.BOARD_DOMAIN: "hetbaken.example",
    **dict.fromkeys(demo_board.SCHOOL_DOMAINS.values(), "hetbaken.example"),
}

SUPERVISOR = DEMO_SUPERVISOR  # the sector dashboard's demo login (regie.sector.demo)
FIRST_HUB_NAME = "Stichting Openbaar Onderwijs De Vliet (fictief)"


def _email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local}@{HUB_B_DOMAINS.get(domain, domain)}" if domain else address


def het_baken_board() -> DemoBoard:
    """The second demo board: the first one's generator with another seed, a few dozen pupils,
    and the board's own name, numbers, schools and e-mail domain."""
    demo = generate_demo_board(HUB_B_SEED, pupils=HUB_B_PUPILS, pgn_pupils=HUB_B_PGN_PUPILS)
    export = demo.export
    export.schools = [
        SchoolRecord(
            key=school.key,
            brin=HUB_B_SCHOOLS[school.key][0],
            vestiging=school.vestiging,
            name=HUB_B_SCHOOLS[school.key][1],
            sector=school.sector,
        )
        for school in export.schools
    ]
    export.guardians = [
        dataclasses.replace(guardian, email=_email(guardian.email)) for guardian in export.guardians
    ]
    export.staff = [
        dataclasses.replace(member, email=_email(member.email)) for member in export.staff
    ]
    return DemoBoard(
        name=HUB_B_NAME, bestuursnummer=HUB_B_BESTUURSNUMMER, kvk=HUB_B_KVK, export=export
    )


def load_het_baken(directory: Path) -> tuple[Board, bool]:
    """Import the second board through the real importer (pseudonyms for its PGN pupils from the
    number service in ``REGIE_NV_URL``), once; returns the board and whether it was loaded now.
    Raises :class:`regie.roster.services.ExportRefused` when the import is refused."""
    from regie.roster import services
    from regie.roster.importing.oneroster import write_oneroster
    from regie.roster.models import ImportRun, ImportStatus

    demo = het_baken_board()
    board, _ = Board.objects.get_or_create(
        bestuursnummer=demo.bestuursnummer, defaults={"name": demo.name, "kvk": demo.kvk}
    )
    if ImportRun.objects.filter(
        board=board, file_name=HUB_B_EXPORT, status=ImportStatus.APPLIED
    ).exists():
        return board, False
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / HUB_B_EXPORT
    write_oneroster(demo.export, path)
    run, export = services.upload_export(path, path.name, board, user=None)
    if run.status != ImportStatus.PREVIEWED:
        raise services.ExportRefused(services.problems_from_json(run.problems))
    services.apply(run, user=None, export=export)
    return board, True


# --- the demo's side: child processes -----------------------------------------------------------


class DemoHubFailed(Exception):
    """A child process of the demo's sector story failed; the message says which and why."""


def regie_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "regie", *args]


def _clean_environment() -> dict[str, str]:
    """The demo's environment without regie's settings (a child gets only those it is given)."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("REGIE_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }


def hub_b_environment(
    var_dir: Path, *, nv_url: str, nv_key: str, oversight_url: str
) -> dict[str, str]:
    """The second hub's settings: its own data directory, database and log; the first hub's
    number service; the sector's intake."""
    return {
        **_clean_environment(),
        "REGIE_VAR_DIR": str(var_dir),
        "DATABASE_URL": f"sqlite:///{var_dir / 'regie.sqlite3'}",
        "REGIE_ROLE": "hub",
        "REGIE_LOG_ORIGIN": HUB_B_ORIGIN,
        "REGIE_NV_URL": nv_url,
        "REGIE_NV_API_KEY": nv_key,
        "REGIE_OVERSIGHT_URL": oversight_url,
        "PYTHONUNBUFFERED": "1",
    }


def first_hub_environment(**extra: str) -> dict[str, str]:
    """The demo's own settings (its data directory and database), for a ``regie`` child that works
    on the first hub's database (its report: ``regie report make --send``)."""
    env = dict(os.environ)
    env.update(REGIE_VAR_DIR=str(settings.VAR_DIR), REGIE_ROLE="all", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


CHILD_NICENESS = 10
_running: set[subprocess.Popen[str]] = set()
_running_lock = threading.Lock()


def run(what: str, args: list[str], env: dict[str, str]) -> str:
    """Run ``regie ARGS`` and return its output; raise :class:`DemoHubFailed` saying ``what``
    failed and the last lines it wrote."""
    with subprocess.Popen(  # noqa: S603 (our own command, no shell)
        regie_command(*args),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        # Below the demo's own priority: the first hub's board import comes first.
        os.setpriority(os.PRIO_PROCESS, process.pid, CHILD_NICENESS)
        with _running_lock:
            _running.add(process)
        try:
            output, _ = process.communicate()
        finally:
            with _running_lock:
                _running.discard(process)
    if process.returncode != 0:
        tail = " | ".join(output.strip().splitlines()[-3:])
        raise DemoHubFailed(f"{what} failed (exit {process.returncode}): {tail}")
    return output


def stop_children() -> None:
    """Stop the child processes that still run (the demo stops before they are done)."""
    with _running_lock:
        running = list(_running)
    for process in running:
        process.terminate()


def last_line(output: str) -> str:
    lines = output.strip().splitlines()
    return lines[-1] if lines else ""


@dataclasses.dataclass
class SecondHub:
    """The second demo hub once set up: where its data is, how to run it, its log key."""

    var_dir: Path
    env: dict[str, str]
    vkey: str
    summary: str  # what ``regie demo-hub`` said about the board


def set_up_second_hub(var_dir: Path, *, nv_url: str, nv_key: str, oversight_url: str) -> SecondHub:
    """Migrate the second hub's database and run its setup (``regie demo-hub``), as child
    processes; returns the hub with its log key (vkey). Idempotent: a second run keeps the data."""
    var_dir.mkdir(parents=True, exist_ok=True)
    env = hub_b_environment(var_dir, nv_url=nv_url, nv_key=nv_key, oversight_url=oversight_url)
    run("migrating the second hub's database", ["migrate", "--verbosity", "0"], env)
    output = run("setting up the second hub (regie demo-hub)", ["demo-hub"], env)
    vkey = last_line(output).removeprefix("vkey: ")
    if not vkey.startswith(HUB_B_ORIGIN + "+"):
        raise DemoHubFailed(f"regie demo-hub printed no log key: {last_line(output)}")
    lines = output.strip().splitlines()
    return SecondHub(var_dir, env, vkey, lines[-2] if len(lines) > 1 else "")


def send_report(name: str, env: dict[str, str]) -> str:
    """Have a hub make, sign and send its report (``regie report make --send``)."""
    output = run(f"the report of {name}", ["report", "make", "--send"], env)
    return last_line(output)


class DemoSector:
    """The demo's sector story, beside the first hub's board loading and never delaying it.

    :meth:`start` sets up, in a thread, the supervisor login, the first hub's registration, the
    second hub and its registration. :meth:`send_reports` (once the first board is loaded) waits
    for that and has both hubs send a report; it returns the lines for the demo's output.
    """

    def __init__(
        self,
        *,
        base: str,
        password: str,
        first_hub_vkey: str,
        first_hub_env: dict[str, str],
        nv_key: str,
    ) -> None:
        self.base = base
        self.password = password
        self.first_hub_vkey = first_hub_vkey
        self.first_hub_env = first_hub_env
        self.nv_key = nv_key
        self.var_dir = Path(settings.VAR_DIR) / HUB_B_DIR
        self.hub: SecondHub | None = None
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._set_up, name="regie-demo-hub-b", daemon=True)

    @property
    def oversight_url(self) -> str:
        return f"{self.base}/sector/api/reports"

    def start(self) -> None:
        self.thread.start()

    def _register(self, name: str, vkey: str) -> None:
        """Register a hub's log key (and the supervisor login) at the sector dashboard."""
        try:
            load_demo_sector([(name, vkey)], self.password)
        except SectorError as error:
            logger.warning("demo.sector_step_failed", error=str(error))
            self.problems.append(f"registering {name} at the sector dashboard: {error}")
        finally:
            connection.close()  # this runs in the setup thread

    def _set_up(self) -> None:
        self._register(FIRST_HUB_NAME, self.first_hub_vkey)
        if self.stopping.is_set():
            return
        try:
            self.hub = set_up_second_hub(
                self.var_dir,
                nv_url=f"{self.base}/nummervoorziening",
                nv_key=self.nv_key,
                oversight_url=self.oversight_url,
            )
        except DemoHubFailed as error:
            logger.warning("demo.second_hub_failed", error=str(error))
            self.problems.append(str(error))
            return
        self._register(HUB_B_NAME, self.hub.vkey)

    def send_reports(self) -> list[str]:
        """Wait for the setup, then have both hubs send a signed report; the lines to print."""
        self.thread.join()
        lines = []
        hubs = [(FIRST_HUB_NAME, self.first_hub_env)]
        if self.hub is not None:
            hubs.append((HUB_B_NAME, self.hub.env))
        for name, env in hubs:
            if self.stopping.is_set():
                break
            try:
                lines.append(f"  Rapportage {name}: {send_report(name, env)}")
            except DemoHubFailed as error:
                self.problems.append(str(error))
        if self.hub is not None:
            lines.insert(
                0, f"  Tweede demohub: {self.hub.summary}; gegevens in {self.hub.var_dir}/"
            )
        lines += [f"  Let op: {problem}" for problem in self.problems]
        return lines

    def stop(self) -> None:
        """Start no further step and stop the one that runs (the demo is stopping)."""
        self.stopping.set()
        stop_children()

    @property
    def ok(self) -> bool:
        """Whether every step worked (after :meth:`send_reports`)."""
        return self.hub is not None and not self.problems
