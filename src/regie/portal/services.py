"""What the portal asks of the rest of the hub about one pupil.

- :func:`release_events`: the pupil's release events in the audit log, newest first — the one
  query the child's page, its proofs and the fan-out read them with.
- :func:`recipients`: the suppliers that received data about the pupil — those named in the
  pupil's release events in the audit log, and those holding a pseudonym of the pupil
  (:func:`regie.gateway.pseudonyms.holders`). A rights request fans out to each of them.
"""

from __future__ import annotations

from django.db.models import QuerySet

from regie.agreements.models import Supplier
from regie.audit.models import AuditEvent
from regie.gateway import pseudonyms
from regie.gateway.events import RELEASE
from regie.roster.models import Student


def release_events(student: Student) -> QuerySet[AuditEvent]:
    """The pupil's release events in the audit log, newest first."""
    return AuditEvent.objects.filter(
        event_type=RELEASE.name, subject=f"student:{student.pk}"
    ).order_by("-occurred_at", "-pk")


def released_to(student: Student) -> set[int]:
    """The ids of the suppliers named in the pupil's release events."""
    found: set[int] = set()
    for details in release_events(student).values_list("details", flat=True).iterator():
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
