"""Audit event types of the job queue: what operators did to it. Subjects are job ids."""

from regie.audit.events import define

JOB_RETRIED = define(
    "jobs.job.retried",
    "An administrator queued a background job that had failed for good once more (its id and "
    "name, never its payload).",
)
JOB_CANCELLED = define(
    "jobs.job.cancelled",
    "An administrator cancelled a background job waiting in the queue (its id and name).",
)
