"""The audit log: an append-only table of events.

Rows are only ever inserted: the model and its queryset refuse updates and deletes, and a database
trigger refuses UPDATE (and, on PostgreSQL, DELETE) underneath the ORM as well. Tamper evidence
(hash chain, Merkle checkpoints, proofs) builds on this table later without changing ``record``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models


class AppendOnlyError(Exception):
    """An attempt to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(models.Model):
    PERSONAL_DATA: ClassVar[bool] = False

    occurred_at = models.DateTimeField(db_index=True)
    event_type = models.CharField(max_length=100, db_index=True)
    actor = models.CharField(
        max_length=200, help_text="Who did it: 'system', 'user:<id>', 'nv-client:<OIN>'."
    )
    subject = models.CharField(
        max_length=200, blank=True, help_text="What it was done to: '<kind>:<id>'."
    )
    details = models.JSONField(default=dict, blank=True)

    objects: ClassVar[AuditEventQuerySet] = AuditEventQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.event_type} by {self.actor}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")
