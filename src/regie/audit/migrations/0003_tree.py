"""The Merkle tree over the audit events (RFC 9162): pending leaves, leaves, tiles, the head.

The events become the side table: they gain a salt, and DELETE is no longer refused by a trigger
(erasure deletes side rows through ``audit.services.erase_subject``; the ORM still refuses).
UPDATE stays refused. The leaves are append-only in the database: UPDATE refused, DELETE refused
on PostgreSQL (SQLite has no DELETE trigger, as for the events in 0002: Django's test flush
deletes rows there), and an INSERT that is not the next index refused on both.

Events recorded before this migration get a salt and a pending leaf here, in id order; the first
``integrate()`` (at start-up of ``regie serve`` or ``regie worker``) puts them into the tree.
"""

from typing import Any

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

CHUNK = 2000

BEFORE = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_event_no_update;"],
    "postgresql": ["DROP TRIGGER IF EXISTS audit_event_no_change ON audit_auditevent;"],
}
AFTER = {
    "sqlite": [
        """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
           BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;""",
        """CREATE TRIGGER audit_leaf_no_update BEFORE UPDATE ON audit_leaf
           BEGIN SELECT RAISE(ABORT, 'audit leaves are append-only'); END;""",
        """CREATE TRIGGER audit_leaf_in_order BEFORE INSERT ON audit_leaf
           WHEN NEW.leaf_index IS NOT COALESCE((SELECT max(leaf_index) + 1 FROM audit_leaf), 0)
           BEGIN SELECT RAISE(ABORT, 'audit leaves are appended in order'); END;""",
    ],
    "postgresql": [
        """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
           FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();""",
        """CREATE OR REPLACE FUNCTION audit_leaf_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'audit leaves are append-only'; END; $$ LANGUAGE plpgsql;""",
        """CREATE TRIGGER audit_leaf_no_change BEFORE UPDATE OR DELETE ON audit_leaf
           FOR EACH ROW EXECUTE FUNCTION audit_leaf_append_only();""",
        """CREATE OR REPLACE FUNCTION audit_leaf_in_order() RETURNS trigger AS $$
           BEGIN
             IF NEW.leaf_index IS DISTINCT FROM
                COALESCE((SELECT max(leaf_index) + 1 FROM audit_leaf), 0) THEN
               RAISE EXCEPTION 'audit leaves are appended in order';
             END IF;
             RETURN NEW;
           END; $$ LANGUAGE plpgsql;""",
        """CREATE TRIGGER audit_leaf_in_order BEFORE INSERT ON audit_leaf
           FOR EACH ROW EXECUTE FUNCTION audit_leaf_in_order();""",
    ],
}
AFTER_REVERSE = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_leaf_in_order;",
        "DROP TRIGGER IF EXISTS audit_leaf_no_update;",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_leaf_in_order ON audit_leaf;",
        "DROP FUNCTION IF EXISTS audit_leaf_in_order();",
        "DROP TRIGGER IF EXISTS audit_leaf_no_change ON audit_leaf;",
        "DROP FUNCTION IF EXISTS audit_leaf_append_only();",
        "DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent;",
    ],
}
BEFORE_REVERSE = {
    "sqlite": [],
    "postgresql": [
        """CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_auditevent
           FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();"""
    ],
}


def _runner(statements: dict[str, list[str]]) -> Any:
    def run(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


def leaves_for_old_events(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """A salt and a pending leaf for every event recorded before the tree existed."""
    from regie.audit.leaves import new_salt
    from regie.audit.services import leaf_for

    event_model = apps.get_model("audit", "AuditEvent")
    pending_model = apps.get_model("audit", "PendingLeaf")
    alias = schema_editor.connection.alias
    last = 0
    while True:
        chunk = list(event_model.objects.using(alias).filter(pk__gt=last).order_by("pk")[:CHUNK])
        if not chunk:
            return
        pending = []
        for event in chunk:
            event.salt = new_salt()
            leaf = leaf_for(
                event_type=event.event_type,
                occurred_at=event.occurred_at,
                actor=event.actor,
                subject=event.subject,
                details=event.details,
                salt=event.salt,
            )
            pending.append(pending_model(event_id=event.pk, leaf=leaf))
        event_model.objects.using(alias).bulk_update(chunk, ["salt"])
        pending_model.objects.using(alias).bulk_create(pending)
        last = chunk[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only_triggers"),
    ]

    operations = [
        migrations.RunPython(_runner(BEFORE), _runner(BEFORE_REVERSE)),
        migrations.CreateModel(
            name="Leaf",
            fields=[
                (
                    "index",
                    models.BigIntegerField(
                        db_column="leaf_index", primary_key=True, serialize=False
                    ),
                ),
                ("event_id", models.BigIntegerField(unique=True)),
                ("leaf", models.BinaryField()),
            ],
            options={
                "ordering": ("index",),
            },
        ),
        migrations.CreateModel(
            name="PendingLeaf",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("event_id", models.BigIntegerField(unique=True)),
                ("leaf", models.BinaryField()),
            ],
            options={
                "ordering": ("id",),
            },
        ),
        migrations.CreateModel(
            name="TreeHead",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("size", models.BigIntegerField(default=0)),
                ("root", models.BinaryField()),
            ],
        ),
        migrations.AddField(
            model_name="auditevent",
            name="salt",
            field=models.CharField(
                blank=True,
                default="",
                help_text="The salt of the leaf's details commitment (16 bytes, base64url).",
                max_length=24,
            ),
        ),
        migrations.CreateModel(
            name="Tile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("level", models.PositiveSmallIntegerField()),
                ("index", models.BigIntegerField(db_column="tile_index")),
                ("hashes", models.BinaryField()),
                ("nodes", models.BinaryField(default=b"")),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("level", "index"), name="audit_tile_level_index"
                    )
                ],
            },
        ),
        migrations.RunPython(leaves_for_old_events, migrations.RunPython.noop),
        migrations.RunPython(_runner(AFTER), _runner(AFTER_REVERSE)),
    ]
