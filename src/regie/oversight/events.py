"""Audit event types of oversight (incidents and aggregate reports).

Details name counts, incident and report ids, suppliers, categories and reasons; never a pupil's
name or a pseudonym. A pupil is named only as an event's subject (``student:<pk>``).
"""

from regie.audit.events import define  # noqa: F401  (the parts define their events here)
