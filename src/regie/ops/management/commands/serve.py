"""``regie serve``: the web server (waitress), with the in-process background worker.

Serves the role asked for (hub, nummervoorziening or all). Refuses to start, saying why, when a
key file is missing or unreadable or when migrations are not applied.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from regie.lib.logging import get_logger

logger = get_logger(__name__)


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


def start_worker_thread(stop: threading.Event) -> threading.Thread:
    from regie.nummervoorziening.services import run_worker

    thread = threading.Thread(target=run_worker, args=(stop,), name="regie-worker", daemon=True)
    thread.start()
    return thread


class Command(BaseCommand):
    help = "Serve regie over HTTP (waitress), with the background worker in-process by default."
    # The checks import the URL map, which depends on the role: run them once the role is set.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--role",
            choices=("all", "hub", "nummervoorziening"),
            default=None,
            help="What to serve (default: REGIE_ROLE, 'all').",
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--threads", type=int, default=None, help="default: REGIE_SERVER_THREADS"
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not run the background worker in-process."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["role"] or settings.ROLE
        settings.ROLE = role
        self.check()
        check_ready(role)
        serve(
            host=options["host"],
            port=options["port"],
            threads=options["threads"] or settings.SERVER_THREADS,
            worker=role in {"all", "nummervoorziening"}
            and settings.INPROCESS_WORKER
            and not options["no_worker"],
            role=role,
        )


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Keep glibc from giving each request thread its own heap arena.

    With one arena per thread, memory freed after a large batch request stays with that thread's
    arena; with two shared arenas the server's peak stays near what one request needs.
    """
    import ctypes
    import ctypes.util

    m_arena_max = -8  # from glibc's malloc.h
    name = ctypes.util.find_library("c")
    if name:
        try:
            ctypes.CDLL(name).mallopt(m_arena_max, arenas)
        except (OSError, AttributeError):
            logger.debug("server.mallopt_unavailable")


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
    worker_thread = start_worker_thread(stop) if worker else None

    def shut_down(signum: int, frame: FrameType | None) -> None:
        logger.info("server.stopping", signal=signal.Signals(signum).name)
        stop_serving(server, stop)  # wake the loop now rather than at its next poll timeout

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    logger.info(
        "server.started", url=f"http://{host}:{port}/", role=role, threads=threads, worker=worker
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
        if worker_thread is not None:
            worker_thread.join(timeout=10)
    logger.info("server.stopped")


# Waking waitress's loop (a write to its trigger) and closing that trigger never overlap: a pull
# after the close would write to a closed (or by then reused) file descriptor. Reentrant, since a
# signal handler may wake the loop in the thread that is closing it.
_TRIGGER = threading.RLock()


def wake(server: Any) -> None:
    """Wake the loop of :func:`run_until_stopped` now; does nothing once it has shut down."""
    with _TRIGGER:
        if not getattr(server, "_regie_trigger_closed", False):
            server.pull_trigger()


def stop_serving(server: Any, stop: threading.Event) -> None:
    """End :func:`run_until_stopped` from any thread or a signal handler, at once."""
    stop.set()
    wake(server)


def run_until_stopped(server: Any, stop: threading.Event, grace_seconds: float = 30.0) -> None:
    """Run waitress's loop until ``stop`` is set, then shut down gracefully.

    waitress's own ``run()`` only returns once every connection is gone, and a client's idle
    keep-alive connection can hold it open for minutes. Here, once ``stop`` is set: the listening
    socket closes (no new connections), requests in progress get up to ``grace_seconds`` to
    finish and flush their responses, idle connections are closed, and then the task threads end.
    """
    from waitress import wasyncore

    socket_map = server._map
    use_poll = server.adj.asyncore_use_poll
    while not stop.is_set():
        wasyncore.loop(
            timeout=server.adj.asyncore_loop_timeout, map=socket_map, use_poll=use_poll, count=1
        )
    wasyncore.dispatcher.close(server)  # the listening socket only: the trigger stays for now
    deadline = time.monotonic() + grace_seconds
    while server.active_channels and time.monotonic() < deadline:
        for channel in list(server.active_channels.values()):
            if not channel.requests and not channel.total_outbufs_len:
                channel.will_close = True  # idle: closed at the next loop turn
        wasyncore.loop(timeout=0.05, map=socket_map, use_poll=use_poll, count=1)
    if server.active_channels:
        logger.warning("server.requests_cut_off", connections=len(server.active_channels))
    with _TRIGGER:
        server._regie_trigger_closed = True
        server.trigger.close()
    wasyncore.close_all(socket_map)
    server.task_dispatcher.shutdown()
