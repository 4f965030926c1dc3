"""The hub's suppliers at the number service (DESIGN §4, step 4).

Only a hub client obtains supplier pseudonyms, and only for the suppliers its registration at the
number service names. The hub keeps that list in step with the suppliers its boards have a signed
or active processing agreement with, by declaring it through ``regie.nummervoorziening.client``
(``PUT clients/me/suppliers``; the list replaces the previous one, so every declaration repairs
any earlier one that failed). Suppliers are declared by the identifier the hub asks for their
pseudonyms with: the KvK number.

The hub declares:

- after a lifecycle transition that can change the list (to signed, active, terminated, data
  destroyed), once the transition is committed (:func:`declare_after_commit`). A number service
  that is down does not undo or stop the transition: the failure is logged, the person who made
  the transition is told (:func:`declaration_pending`), and the declaration is retried in the
  background with growing pauses (:data:`RETRY_DELAYS`) until it succeeds;
- on ``regie nv-suppliers sync`` (by hand, or from a timer);
- when the number service refuses a supplier as undeclared: the client calls
  :func:`declare_for_client` and asks once more (set up in ``AgreementsConfig.ready``), so a hub
  heals itself after an outage, a restart that lost a retry, or a supplier's changed KvK number.

A hub without an API key for the number service (``REGIE_NV_API_KEY``) declares nothing after a
transition: it has no client registration to keep in step.
"""

from __future__ import annotations

import threading
from typing import Final

from django.conf import settings
from django.db import connection, transaction

from regie.audit.services import SYSTEM, record
from regie.lib.logging import get_logger
from regie.nummervoorziening import client as nv

from .. import events
from ..models import AgreementStatus, ProcessingAgreement

logger = get_logger(__name__)

# Agreements whose supplier the hub declares: signed (about to start) or active.
DECLARED_STATUSES: Final = (AgreementStatus.SIGNED, AgreementStatus.ACTIVE)
# Transitions after which the list may have changed.
DECLARING_TRANSITIONS: Final = frozenset(
    {
        AgreementStatus.SIGNED,
        AgreementStatus.ACTIVE,
        AgreementStatus.TERMINATED,
        AgreementStatus.DATA_DESTROYED,
    }
)
# Pauses (seconds) before each background retry of a failed declaration; then the hub waits for
# the next transition, `regie nv-suppliers sync` or a refusal to declare again.
RETRY_DELAYS: tuple[float, ...] = (10.0, 60.0, 300.0, 1800.0, 3600.0, 3600.0)


def declared_suppliers() -> list[str]:
    """The KvK numbers of the suppliers any board on this hub has a signed or active agreement
    with (offers, which have no board, do not count), sorted."""
    kvks = ProcessingAgreement.objects.filter(
        board__isnull=False, status__in=DECLARED_STATUSES
    ).values_list("supplier__kvk", flat=True)
    return sorted(set(kvks))


def declare_suppliers(
    client: nv.NummervoorzieningClient | None = None, *, why: str = "sync"
) -> nv.SupplierDeclaration:
    """Declare :func:`declared_suppliers` to the number service; raises the client's error.

    A change is recorded in the hub's audit log too (``why``: sync, transition, retry or refused).
    """
    declaration = (client or nv.get_client()).declare_suppliers(declared_suppliers())
    _retrying.cancel()
    if declaration.added or declaration.removed:
        record(
            events.SUPPLIERS_DECLARED,
            SYSTEM,
            details={
                "added": list(declaration.added),
                "removed": list(declaration.removed),
                "why": why,
            },
        )
    return declaration


def declare_for_client(client: nv.NummervoorzieningClient) -> None:
    """The client's hook: it was refused an undeclared supplier; declare, so it can ask again."""
    declare_suppliers(client, why="refused")


def declare_after_commit() -> None:
    """Declare once the current transaction commits; a failure starts the background retries."""
    transaction.on_commit(_declare_now)


def _declare_now() -> None:
    if not settings.NV_CLIENT_API_KEY:
        return
    try:
        declare_suppliers(why="transition")
    except nv.NummervoorzieningClientError as error:
        logger.warning("nv.suppliers.declare_failed", code=error.code, status=error.status)
        _retrying.start()


def declaration_pending() -> bool:
    """Whether a failed declaration is waiting for its next retry in this process."""
    return _retrying.pending()


class _Retries:
    """At most one background thread per process retrying a failed declaration."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and not self._stop.is_set():
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name="regie-nv-declare", daemon=True
            )
            self._thread.start()

    def cancel(self) -> None:
        self._stop.set()

    def pending(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._stop.is_set()

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self, stop: threading.Event) -> None:
        try:
            for attempt, pause in enumerate(RETRY_DELAYS, start=1):
                if stop.wait(pause):
                    return
                try:
                    declare_suppliers(why="retry")
                except nv.NummervoorzieningClientError as error:
                    logger.warning(
                        "nv.suppliers.declare_retry_failed", attempt=attempt, code=error.code
                    )
                    continue
                logger.info("nv.suppliers.declared_on_retry", attempt=attempt)
                return
            logger.error(
                "nv.suppliers.declare_gave_up",
                attempts=len(RETRY_DELAYS),
                action="run `regie nv-suppliers sync`",
            )
        finally:
            connection.close()


_retrying = _Retries()


def wait_for_retry(timeout: float | None = None) -> None:
    """Wait until a pending retry has run (or ``timeout`` seconds have passed)."""
    _retrying.join(timeout)


def stop_retrying(timeout: float | None = None) -> None:
    """Stop a pending retry and wait for its thread (tests, shutdown)."""
    _retrying.cancel()
    _retrying.join(timeout)
