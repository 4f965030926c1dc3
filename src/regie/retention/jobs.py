"""The retention run as background jobs: one board's run (``retention.run_board``) and the daily
run of every board (``retention.daily``: the dry run first, then the real run as a job of its
own, so that a killed worker's run is taken again and continued)."""

from __future__ import annotations

from django.conf import settings

from regie.core.models import Board
from regie.jobs.registry import job
from regie.lib.logging import get_logger

from . import clock, run

logger = get_logger(__name__)


@job("retention.run_board", retries=5, backoff=2)
def run_board(board: int, dry_run: int) -> None:
    """Run retention for one board on the retention day (:func:`regie.retention.clock.today`):
    ``dry_run`` 1 counts only, 0 acts. A real run continues the board's run of that day if a
    worker was killed during it. (A payload holds ids: the flag is a number.)"""
    found = Board.objects.filter(pk=board).first()
    if found is None:
        return
    run.execute(
        found,
        today=clock.today(),
        dry_run=bool(dry_run),
        batch_size=int(settings.RETENTION_BATCH_SIZE),
    )


@job("retention.daily")
def daily(timestamp: int) -> None:
    """Every board: the dry run (its counts are on the page first), then the real run."""
    today = clock.today()
    for board in Board.objects.order_by("pk"):
        run.execute(board, today=today, dry_run=True, batch_size=int(settings.RETENTION_BATCH_SIZE))
        run_board.defer(board=board.pk, dry_run=0)
    logger.info("retention.daily.deferred", day=today.isoformat())
