"""Audit event types of oversight (incidents and aggregate reports).

Details name counts, incident and report ids, suppliers, categories and reasons; never a pupil's
name or a pseudonym. A pupil is named only as an event's subject (``student:<pk>``).
"""

from regie.audit.events import define

REPORT_PUBLISHED = define(
    "oversight.report.published",
    "The hub made and signed an aggregate report for the sector (sequence, sha256 of the signed "
    "note, the period's first and last day); counts only, no personal data.",
)
REPORT_SENT = define(
    "oversight.report.sent",
    "An aggregate report was offered to the sector dashboard (sequence, attempt, the HTTP status "
    "or the failure's type, whether it counts as delivered).",
)

# The data-breach register (the subject is the incident: ``incident:<pk>``).
INCIDENT_REGISTERED = define(
    "oversight.incident.registered",
    "A data breach was registered (the source: internal or supplier, the supplier, the detection "
    "time, the deadline 72 hours later, the count of affected pupils computed from the log).",
)
INCIDENT_COMPUTED = define(
    "oversight.incident.computed",
    "The affected pupils of a data breach were computed again from the log (the count, the "
    "count per category).",
)
INCIDENT_ASSESSED = define(
    "oversight.incident.assessed",
    "A privacy officer scored a data breach's severity with ENISA's method (the factors, the "
    "score, the level).",
)
INCIDENT_DECIDED = define(
    "oversight.incident.decided",
    "A privacy officer decided whether to notify the AP of a data breach (the decision, whether "
    "the persons are informed; the reasons are kept with the incident).",
)
INCIDENT_NOTIFIED = define(
    "oversight.incident.notified",
    "The AP was notified of a data breach (the time, whether before the 72-hour deadline).",
)
INCIDENT_GUARDIANS_SENT = define(
    "oversight.incident.guardians_sent",
    "The notice of a data breach to the affected pupils' guardians was sent (the count of "
    "messages, the count of pupils).",
)
INCIDENT_REPORT_RECEIVED = define(
    "oversight.incident.report_received",
    "A supplier reported a data breach over the order channel, signed (the supplier, the count "
    "of incidents opened, the count of pseudonyms named).",
)
INCIDENT_REPORT_REFUSED = define(
    "oversight.incident.report_refused",
    "A supplier's breach report was refused (the reason); nothing was created.",
)
