"""The periodic jobs, all in one place: what runs when, on every engine (``regie worker`` passes
this schedule to ``regie.jobs.services.run_worker``; ``REGIE_JOBS_SCHEDULE`` names another one,
for tests). Cron in UTC; a sixth field would be seconds."""

from __future__ import annotations

from regie.gateway.jobs import forget_logout_sessions
from regie.jobs.jobs import prune, retry_stalled
from regie.jobs.services import Periodic
from regie.orders.jobs import chase
from regie.oversight.jobs import weekly_report
from regie.portal.jobs import flag_overdue_requests
from regie.retention.jobs import daily as retention_daily
from regie.transparency.jobs import publish

SCHEDULE: tuple[Periodic, ...] = (
    # Jobs of a worker that died (kill -9) run again (PostgreSQL; SQLite's lease does it itself).
    Periodic(retry_stalled, cron="* * * * *"),
    # Jobs that finished a month ago are forgotten.
    Periodic(prune, cron="17 3 * * *"),
    # Back-channel logout: sessions nobody ended are forgotten after a month.
    Periodic(forget_logout_sessions, cron="41 3 * * *"),
    # Orders to suppliers past their deadline without a completed or refused receipt: overdue.
    Periodic(chase, cron="7 * * * *"),
    # Rights requests past their deadline: flagged, and the requester told (once).
    Periodic(flag_overdue_requests, cron="13 * * * *"),
    # The audit log: a signed checkpoint when it grew, sent to the witnesses to cosign.
    Periodic(publish, cron="*/5 * * * *"),
    # Retention: every board's dry run, then the real run (deletes, orders, a signed report).
    Periodic(retention_daily, cron="23 2 * * *"),
    # Oversight: the signed aggregate report of the past week, sent to the sector (Monday).
    Periodic(weekly_report, cron="15 3 * * 1"),
)
