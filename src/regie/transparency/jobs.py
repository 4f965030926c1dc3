"""The log's periodic publication (declared in ``regie.ops.schedule``)."""

from __future__ import annotations

from regie.jobs.registry import job

from . import services


@job("transparency.publish")
def publish(timestamp: int) -> None:
    """Sign a checkpoint when the log grew and send it to the witnesses."""
    services.publish()
