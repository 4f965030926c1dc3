"""What the portal asks of the rest of the hub about one pupil.

- :func:`recipients`: the suppliers that received data about the pupil — those named in the
  pupil's release events in the audit log, and those holding a pseudonym of the pupil
  (:func:`regie.gateway.pseudonyms.holders`). A rights request fans out to each of them.
"""

from __future__ import annotations

from regie.agreements.models import Supplier
from regie.audit.models import AuditEvent
from regie.gateway import pseudonyms
from regie.roster.models import Student

RELEASE_EVENT = "gateway.release"


def released_to(student: Student) -> set[int]:
    """The ids of the suppliers named in the pupil's release events."""
    found: set[int] = set()
    events = AuditEvent.objects.filter(
        event_type=RELEASE_EVENT, subject=f"student:{student.pk}"
    ).values_list("details", flat=True)
    for details in events.iterator():
        supplier = (details or {}).get("supplier")
        if isinstance(supplier, int):
            found.add(supplier)
    return found


def recipients(student: Student) -> list[Supplier]:
    """The suppliers that received data about ``student`` (from the log, or holding one of its
    pseudonyms), by name."""
    holders = set(pseudonyms.holders(student).values_list("pk", flat=True))
    return list(
        Supplier.objects.filter(pk__in=released_to(student) | holders).order_by("name", "pk")
    )
