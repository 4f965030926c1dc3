"""Serving a WSGI application with waitress: a loop that stops at once and gracefully.

Shared by ``regie serve`` and ``regie demo`` (:mod:`regie.ops`), the demo suppliers and the test
identity providers: anything that runs a waitress server in-process and must be able to stop it
from another thread or a signal handler without waiting for idle keep-alive connections.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from regie.lib.logging import get_logger

logger = get_logger(__name__)


def port_taken(host: str, port: int) -> bool:
    """Whether a server could not listen on ``host:port`` now (something else listens there).

    Binds as waitress does (``SO_REUSEADDR``), so a port a stopped server left in TIME_WAIT
    counts as free, as it is for waitress.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def free_ports_from(host: str, start: int, count: int, step: int = 10) -> int | None:
    """The first port from ``start`` on (in steps of ``step``) that is free with the ``count - 1``
    ports after it, or None when there is none below 65536."""
    for first in range(start, 65536 - count + 1, step):
        if not any(port_taken(host, first + offset) for offset in range(count)):
            return first
    return None


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


# Waking waitress's loop (a write to its trigger) and closing that trigger never overlap: a pull
# after the close would write to a closed (or by then reused) file descriptor. Reentrant, since a
# signal handler may wake the loop in the thread that is closing it.
_TRIGGER = threading.RLock()


def wake(server: Any) -> None:
    """Wake the loop of :func:`run_until_stopped` now; does nothing once it has shut down."""
    with _TRIGGER:
        if not getattr(server, "_regie_trigger_closed", False):
            server.pull_trigger()


def _guard_trigger(server: Any) -> None:
    """waitress's task threads wake the loop themselves when a request is done
    (``server.pull_trigger()``): that goes through the same lock and check as :func:`wake`, so a
    request finishing while the loop shuts down does not write to the closed trigger."""
    pull = server.pull_trigger

    def guarded() -> None:
        with _TRIGGER:
            if not getattr(server, "_regie_trigger_closed", False):
                pull()

    server.pull_trigger = guarded


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

    _guard_trigger(server)
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


@dataclass
class Served:
    """A WSGI application served by waitress in a thread of this process; :meth:`stop` ends it."""

    url: str
    thread: threading.Thread
    stopped: threading.Event
    server: Any

    def stop(self, timeout: float = 10.0) -> None:
        stop_serving(self.server, self.stopped)
        self.thread.join(timeout=timeout)


def serve_in_thread(
    app: Any, *, host: str, port: int, name: str, threads: int = 4, **options: Any
) -> Served:
    """Serve ``app`` on ``port`` (0: any free one) in a daemon thread, with a short grace period
    at the end: the demo suppliers and the demo's witness beside the hub."""
    from waitress.server import create_server

    server: Any = create_server(  # each server gets a socket map of its own
        app, host=host, port=port, threads=threads, ident=name, **options
    )
    stopped = threading.Event()
    thread = threading.Thread(
        target=run_until_stopped,
        args=(server, stopped),
        kwargs={"grace_seconds": 2.0},
        name=name,
        daemon=True,
    )
    thread.start()
    return Served(f"http://{host}:{server.effective_port}", thread, stopped, server)
