"""The register's background jobs."""

from __future__ import annotations

from django.conf import settings

from regie.jobs.services import job
from regie.lib.logging import get_logger
from regie.nummervoorziening import client as nv

from .services import declarations

logger = get_logger(__name__)


@job("agreements.declare_suppliers", retries=6, backoff=6)
def declare_suppliers_job(why: str) -> None:
    """Declare the hub's suppliers to the number service (deferred by a transition that may change
    them). A number service that is down raises: the queue retries with exponential back-off,
    6 ** attempt seconds, six times (the last about 13 hours after the first failure); after
    that, the next transition, ``regie nv-suppliers sync`` or a refusal declares again."""
    if not settings.NV_CLIENT_API_KEY:
        return
    try:
        declarations.declare_suppliers(why="retry")
    except nv.NummervoorzieningClientError as error:
        logger.warning("nv.suppliers.declare_retry_failed", code=error.code, why=why)
        raise
