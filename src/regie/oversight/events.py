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
