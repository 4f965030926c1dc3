"""The roster's background jobs."""

from __future__ import annotations

from regie.jobs.services import job


@job("roster.apply_import", retries=2, backoff=30)
def apply_import(run: str) -> None:
    """Apply the import run ``run`` (its id) that the upload page queued, storing its progress.
    Safe to run twice (see ``services.apply_requested``)."""
    from regie.roster import services

    services.apply_requested(run)
