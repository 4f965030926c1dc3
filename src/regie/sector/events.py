"""Audit event types of the sector dashboard. Details name hubs (ids), sequences, SHA-256 sums,
statuses and reason codes; never a report's content."""

from regie.audit.events import define

REPORT_ACCEPTED = define(
    "sector.report.accepted",
    "The sector dashboard accepted a hub's signed aggregate report (hub id, sequence, SHA-256).",
)
REPORT_REFUSED = define(
    "sector.report.refused",
    "The sector dashboard refused a report (hub id when known, HTTP status, reason code, "
    "SHA-256 of the body).",
)
HUB_REGISTERED = define(
    "sector.hub.registered",
    "A hub was registered at the sector dashboard with its verifier key (hub id, origin).",
)
HUB_DEACTIVATED = define(
    "sector.hub.deactivated",
    "A hub was deactivated at the sector dashboard: its reports are refused from now on.",
)
SUPERVISOR_ADDED = define(
    "sector.supervisor.added",
    "A supervisor's login was made for the sector dashboard (user id, organisation).",
)
