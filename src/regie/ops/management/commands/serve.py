"""``regie serve``: the web server (waitress, or granian with ``--server granian``), with the
in-process background worker.

Serves the role asked for (hub, nummervoorziening, oversight or all). Refuses to start, saying
why, when a key file is missing or unreadable or when migrations are not applied.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from regie.lib.logging import get_logger
from regie.lib.serving import (
    limit_malloc_arenas,
    port_taken,
    run_until_stopped,
    stop_serving,
    wake,
)

logger = get_logger(__name__)


# Request threads per process when REGIE_SERVER_THREADS and --threads leave it to the role.
# More threads in one process contend for the interpreter lock: an SSO launch costs 9–11 ms of CPU
# with 2, 14–15 ms with 16, and PostgreSQL's round trips are covered by 2 (docs/performance.md).
# The embedded role (all) serves the number service too: a hub request waits on a request of the
# same process, so there must be threads to spare for it.
THREADS = 2
EMBEDDED_THREADS = 16


def threads_for(role: str, configured: int | None, setting: int) -> int:
    """The request threads of one ``regie serve`` process for ``role``: ``configured``
    (``--threads``), else ``setting`` (REGIE_SERVER_THREADS) unless 0, else the role's own."""
    embedded = role == "all"
    if configured is not None:
        threads = configured
    else:
        threads = setting or (EMBEDDED_THREADS if embedded else THREADS)
    if threads < 1:
        raise CommandError(f"--threads {threads}: a process needs at least 1 request thread")
    if threads < 2 and embedded:
        raise CommandError(
            "1 request thread for --role all: a hub request waits on the number service in the "
            "same process, which needs a thread of its own; give at least 2"
        )
    return threads


def request_threads(role: str, configured: int | None = None) -> int:
    """:func:`threads_for` with this process's REGIE_SERVER_THREADS."""
    return threads_for(role, configured, settings.SERVER_THREADS)


def check_ready(role: str) -> None:
    """Raise CommandError when this process cannot serve ``role``."""
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CommandError("the database has unapplied migrations: run `regie migrate` first")
    if role in {"all", "nummervoorziening"}:
        from regie.nummervoorziening.keys import KeyringError
        from regie.nummervoorziening.registry import get_registry
        from regie.nummervoorziening.services import get_deriver

        try:
            get_deriver()
        except KeyringError as error:
            raise CommandError(f"the number service cannot start: {error}") from None
        get_registry()


def recover_at_start() -> None:
    """What a crash may have left half-done, finished before serving or working: audit events
    recorded but not yet in the audit log's tree are integrated (``regie.audit.log``)."""
    from regie.audit.log import integrate

    integrate()


def start_worker_threads(
    stop: threading.Event, role: str, worker_id: str | None = None
) -> list[threading.Thread]:
    """The background loops of ``role``, each in a thread until ``stop`` is set: the hub's jobs
    (``regie.jobs``, with the periodic jobs of ``regie.ops.schedule``) and the number service's
    batch loop."""
    loops = []
    if role in {"all", "nummervoorziening"}:
        loops.append(("regie-worker-nv", number_service_loop))
    if role in {"all", "hub"}:
        loops.append(("regie-worker-jobs", job_loop))
    threads = [
        threading.Thread(target=loop, args=(stop, worker_id), name=name, daemon=True)
        for name, loop in loops
    ]
    for thread in threads:
        thread.start()
    return threads


def number_service_loop(stop: threading.Event, worker_id: str | None) -> None:
    from regie.nummervoorziening.services import run_worker

    try:
        run_worker(stop, worker_id=worker_id)
    finally:
        connection.close()


def job_loop(stop: threading.Event, worker_id: str | None) -> None:
    from django.utils.module_loading import import_string

    from regie.jobs.services import run_worker

    try:
        # regie.ops.schedule.SCHEDULE, unless REGIE_JOBS_SCHEDULE names another (tests).
        run_worker(stop, import_string(settings.JOBS_SCHEDULE), worker=worker_id)
    finally:
        connection.close()


class Command(BaseCommand):
    help = "Serve regie over HTTP, with the background worker in-process by default."
    # The checks import the URL map, which depends on the role: run them once the role is set.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--role",
            choices=("all", "hub", "nummervoorziening", "oversight"),
            default=None,
            help="What to serve (default: REGIE_ROLE, 'all').",
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="Request threads per process (default: REGIE_SERVER_THREADS, else by role).",
        )
        parser.add_argument(
            "--server",
            choices=("waitress", "granian"),
            default=None,
            help="The HTTP server (default: REGIE_SERVER, 'granian').",
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="granian only: worker processes sharing the port (one per core; default 1).",
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not run the background worker in-process."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if port_taken(options["host"], options["port"]):
            raise CommandError(
                f"port {options['port']} is taken on {options['host']}: "
                "stop what listens there or choose another with --port"
            )
        server = options["server"] or settings.SERVER
        processes = options["processes"]
        if processes < 1 or (processes > 1 and server != "granian"):
            raise CommandError(
                f"--processes {processes}: waitress serves from one process; more than one "
                "needs --server granian (REGIE_SERVER=granian), and at least one is needed"
            )
        role = options["role"] or settings.ROLE
        settings.ROLE = role
        self.check()
        check_ready(role)
        recover_at_start()
        arguments = {
            "host": options["host"],
            "port": options["port"],
            "threads": request_threads(role, options["threads"]),
            "worker": settings.INPROCESS_WORKER and not options["no_worker"],
            "role": role,
        }
        if server == "granian":
            serve_granian(**arguments, processes=processes)
        else:
            serve(**arguments)


def serve(
    *,
    host: str,
    port: int,
    threads: int,
    worker: bool,
    role: str,
    after_start: Callable[[threading.Event], None] | None = None,
) -> None:
    """Serve until SIGTERM or SIGINT. ``after_start(stop)`` runs in a thread once the server
    listens (it may set ``stop`` to end serving)."""
    from waitress.server import create_server

    limit_malloc_arenas()

    from regie.wsgi import application

    stop = threading.Event()
    server: Any = create_server(
        application,
        host=host,
        port=port,
        threads=threads,
        ident="regie",
        clear_untrusted_proxy_headers=True,
    )
    worker_threads = start_worker_threads(stop, role) if worker else []

    def shut_down(signum: int, frame: FrameType | None) -> None:
        logger.info("server.stopping", signal=signal.Signals(signum).name)
        stop_serving(server, stop)  # wake the loop now rather than at its next poll timeout

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    logger.info(
        "server.started",
        url=f"http://{host}:{port}/",
        role=role,
        threads=threads,
        worker=worker,
        server="waitress",
    )
    if after_start is not None:

        def run_after_start() -> None:
            try:
                after_start(stop)
            finally:
                connection.close()
                wake(server)

        threading.Thread(target=run_after_start, name="regie-after-start", daemon=True).start()
    try:
        run_until_stopped(server, stop)
    finally:
        stop.set()
        for worker_thread in worker_threads:
            worker_thread.join(timeout=10)
    logger.info("server.stopped")


def serve_granian(
    *, host: str, port: int, threads: int, worker: bool, role: str, processes: int = 1
) -> None:
    """Serve with granian (:mod:`regie.ops.granian`) until SIGTERM or SIGINT: the app in
    granian's worker processes, the background worker's threads in this one."""
    from regie.ops.granian import serve_with_granian

    connection.close()  # this process's connection stays its own (the worker is spawned)
    stop = threading.Event()
    worker_threads = start_worker_threads(stop, role) if worker else []

    def started() -> None:
        logger.info(
            "server.started",
            url=f"http://{host}:{port}/",
            role=role,
            threads=threads,
            processes=processes,
            worker=worker,
            server="granian",
        )

    try:
        serve_with_granian(
            host=host,
            port=port,
            threads=threads,
            processes=processes,
            role=role,
            stop=stop,
            started=started,
        )
    finally:
        stop.set()
        for worker_thread in worker_threads:
            worker_thread.join(timeout=10)
    logger.info("server.stopped")
