"""The audit log: the events (the side table) and the Merkle tree over them.

- :class:`AuditEvent` is the *side table*: who did what to whom, with details, and the salt of the
  details commitment. Rows are never changed: the model and its queryset refuse updates and
  deletes, and a database trigger refuses UPDATE underneath the ORM. Deleting is possible only
  through :func:`regie.audit.services.erase_subject` (erasure), which records that it did.
- :class:`PendingLeaf` holds the leaf of an event written in the caller's transaction until the
  sequencer (:func:`regie.audit.log.integrate`) gives it its place in the tree.
- :class:`Leaf` is the tree's leaves, dense indices ``0..n-1``: append-only (the model refuses
  changes; triggers refuse UPDATE, DELETE on PostgreSQL, and an INSERT that is not the next index).
- :class:`Tile` stores the tree's hashes as C2SP tlog-tiles does: level ``L`` tile ``N`` holds
  the level-``8L`` hashes ``N*256 .. N*256+255`` (a partial tile is rewritten as it grows).
- :class:`TreeHead` is the one row with the tree's size and root.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from django.db import models


class AppendOnlyError(Exception):
    """An attempt to change or remove an audit event or a leaf of the tree."""


M = TypeVar("M", bound=models.Model)


class AppendOnlyQuerySet(models.QuerySet[M]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(AppendOnlyModel):
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
    salt = models.CharField(
        max_length=24,
        blank=True,
        default="",
        help_text="The salt of the leaf's details commitment (16 bytes, base64url).",
    )

    objects: ClassVar[AppendOnlyQuerySet[AuditEvent]] = AppendOnlyQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ("id",)
        # A subject's events (a pupil's releases for the portal, an erasure of their details).
        indexes = [models.Index(fields=("subject", "event_type"), name="audit_subject_type")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.event_type} by {self.actor}"


class PendingLeaf(models.Model):
    """The leaf of an event that is recorded but not yet in the tree."""

    PERSONAL_DATA: ClassVar[bool] = False

    event_id = models.BigIntegerField(unique=True)
    leaf = models.BinaryField()

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"pending leaf of event {self.event_id}"


class Leaf(AppendOnlyModel):
    """A leaf of the tree. ``event_id`` names the side row without a foreign key: erasure may
    delete that row, the leaf stays."""

    PERSONAL_DATA: ClassVar[bool] = False

    index = models.BigIntegerField(primary_key=True, db_column="leaf_index")
    event_id = models.BigIntegerField(unique=True)
    leaf = models.BinaryField()

    objects: ClassVar[AppendOnlyQuerySet[Leaf]] = AppendOnlyQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ("index",)

    def __str__(self) -> str:
        return f"leaf {self.index}"


class Tile(models.Model):
    """Level ``level`` tile ``index``: ``hashes`` is the C2SP tlog tile, the concatenated
    level-``8*level`` hashes ``index*256 ..`` (up to 256 of 32 bytes; fewer while the tile is
    partial); ``nodes`` the hashes inside it (levels 1..7 of the tile, so that a proof reads them
    instead of hashing up to 255 nodes per tile)."""

    PERSONAL_DATA: ClassVar[bool] = False

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField(db_column="tile_index")
    hashes = models.BinaryField()
    nodes = models.BinaryField(default=b"")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("level", "index"), name="audit_tile_level_index")
        ]

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index}"


class TreeHead(models.Model):
    """The one row (``pk=1``) with the size and root of the tree: the sequencer's lock."""

    PERSONAL_DATA: ClassVar[bool] = False

    size = models.BigIntegerField(default=0)
    root = models.BinaryField()

    def __str__(self) -> str:
        return f"tree of {self.size} leaves"
