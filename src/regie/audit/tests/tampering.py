"""What a database administrator can do to the log behind the hub's back, for the tests that
show it is found (shared test support; not a test module)."""

from __future__ import annotations

from django.db import connection

from regie.audit import log, rfc9162
from regie.audit.models import AuditEvent, Leaf, PendingLeaf, Tile, TreeHead


def drop_leaf_triggers() -> None:
    """Drop the triggers that keep the leaf table append-only."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER audit_leaf_no_change ON audit_leaf")
            cursor.execute("DROP TRIGGER audit_leaf_in_order ON audit_leaf")
        else:
            cursor.execute("DROP TRIGGER audit_leaf_no_update")
            cursor.execute("DROP TRIGGER audit_leaf_in_order")


def rewrite_history(keep: int) -> None:
    """Roll the log back to its first ``keep`` leaves — their events, leaves, tiles and tree
    head all consistent, as a restore from an old backup would leave them: only signed
    checkpoints (and witnesses) can tell."""
    log.integrate()
    drop_leaf_triggers()
    kept = list(
        Leaf.objects.filter(index__lt=keep).order_by("index").values_list("event_id", "leaf")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM audit_auditevent WHERE id IN "
            "(SELECT event_id FROM audit_leaf WHERE leaf_index >= %s)",
            [keep],
        )
        cursor.execute("DELETE FROM audit_leaf")
    Tile.objects.all().delete()
    TreeHead.objects.filter(pk=log.HEAD).update(size=0, root=rfc9162.EMPTY_ROOT)
    PendingLeaf.objects.bulk_create(
        PendingLeaf(event_id=event_id, leaf=bytes(leaf)) for event_id, leaf in kept
    )
    assert log.integrate() == keep
    assert log.check() == []
    assert AuditEvent.objects.count() >= keep
