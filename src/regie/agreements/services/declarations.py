"""The hub's suppliers at the number service (DESIGN §4, step 4).

Only a hub client obtains supplier pseudonyms, and only for the suppliers its registration at the
number service names. The hub keeps that list in step with the suppliers its boards have a signed
or active processing agreement with, by declaring it through ``regie.nummervoorziening.client``
(``PUT clients/me/suppliers``; the list replaces the previous one, so every declaration repairs
any earlier one that failed). Suppliers are declared by the identifier the hub asks for their
pseudonyms with: the KvK number.

The hub declares:

- after a lifecycle transition that can change the list (to signed, active, terminated, data
  destroyed). The transition defers the job ``agreements.declare_suppliers`` in its own
  transaction (:func:`declare_after_commit`), so the declaration is never lost: not to a number
  service that is down, nor to a process that stops right after the commit. Once the transition
  is committed the hub also declares at once, so that in the usual case the list is in step
  before the page answers; when that fails (the number service is down) the failure is logged,
  the person who made the transition is told (:func:`declaration_pending`), and the job
  retries with exponential back-off (6 s, 36 s, … about 13 hours for the sixth and last try);
- on ``regie nv-suppliers sync`` (by hand, or from a timer);
- when the number service refuses a supplier as undeclared: the client calls
  :func:`declare_for_client` and asks once more (set up in ``AgreementsConfig.ready``), so a hub
  heals itself after an outage that outlasted the job's retries, or a supplier's changed KvK
  number.

Declaring is idempotent (the list replaces the previous one; only a change is audited), so the
job running after the immediate declaration succeeded, or twice, does no harm.

A hub without an API key for the number service (``REGIE_NV_API_KEY``) declares nothing after a
transition: it has no client registration to keep in step.
"""

from __future__ import annotations

import threading
from typing import Final

from django.conf import settings
from django.db import transaction

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

    A change is recorded in the hub's audit log too (``why``: sync, transition, retry — the job —
    or refused).
    """
    declaration = (client or nv.get_client()).declare_suppliers(declared_suppliers())
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
    """Declare the list once the current transaction commits: the job, deferred in the
    transaction (with its retries), and an immediate attempt after the commit."""
    if not settings.NV_CLIENT_API_KEY:
        return
    from ..jobs import declare_suppliers_job

    declare_suppliers_job.defer(why="transition")
    _pending.failed = False
    transaction.on_commit(_declare_now)


def _declare_now() -> None:
    try:
        declare_suppliers(why="transition")
    except nv.NummervoorzieningClientError as error:
        logger.warning("nv.suppliers.declare_failed", code=error.code, status=error.status)
        _pending.failed = True


def declaration_pending() -> bool:
    """Whether this thread's last declaration after a transition failed, so that the job's
    retries will have to do it (the page says so)."""
    return bool(getattr(_pending, "failed", False))


_pending = threading.local()
