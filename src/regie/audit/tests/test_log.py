"""The tree at the hub (regie.audit.log): events recorded through ``record()`` are integrated into
an RFC 9162 tree stored as tiles, whose roots and proofs equal the RFC's text; erasure breaks no
proof; tampering below the ORM is refused or found."""

from __future__ import annotations

import base64
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from regie.audit import log, rfc9162
from regie.audit.events import ADMIN_DELETED, ADMIN_SAVED, AUDIT_DETAILS_ERASED
from regie.audit.leaves import details_commitment
from regie.audit.models import AppendOnlyError, AuditEvent, Leaf, PendingLeaf, Tile, TreeHead
from regie.audit.services import SYSTEM, erase_subject, record, subject_hash

from . import rfc_text
from .tampering import drop_leaf_triggers

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[1, 2, 8], ids=["tiles-of-2", "tiles-of-4", "tiles-of-256"])
def tile_height(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Small tiles put a few hundred leaves over several tile levels."""
    height: int = request.param
    monkeypatch.setattr(log, "TILE_HEIGHT", height)
    monkeypatch.setattr(log, "TILE_WIDTH", 1 << height)
    monkeypatch.setattr(log, "TILE_BYTES", (1 << height) * rfc9162.HASH_SIZE)
    return height


def record_many(count: int, first: int = 0) -> list[AuditEvent]:
    return [
        record(ADMIN_SAVED, "user:7", f"core.board:{number % 5}", {"n": number})
        for number in range(first, first + count)
    ]


def stored_leaves() -> list[bytes]:
    return [bytes(item) for item in Leaf.objects.order_by("index").values_list("leaf", flat=True)]


def checkpoint_for(size: int) -> str:
    root_b64 = base64.b64encode(log.root(size)).decode()
    return f"regie.example/log\n{size}\n{root_b64}\n\n— regie.example/log AAAA\n"


def test_a_recorded_event_is_pending_until_integrated_then_proven() -> None:
    event = record(ADMIN_SAVED, "user:42", "core.board:7", {"created": False, "fields": ["name"]})
    assert log.leaf_of(event) is None
    assert PendingLeaf.objects.filter(event_id=event.pk).exists()
    assert log.integrate() == 1
    assert not PendingLeaf.objects.exists()
    found = log.leaf_of(event)
    assert found is not None
    index, leaf = found
    assert (index, log.leaf(0), log.size()) == (0, leaf, 1)
    assert log.root() == rfc_text.mth([leaf])
    assert log.event_of(0) == event


def test_the_leaf_holds_no_personal_data_and_commits_to_the_side_row() -> None:
    event = record(ADMIN_SAVED, "user:42", "student:123", {"created": True, "fields": []})
    log.integrate()
    found = log.leaf_of(event)
    assert found is not None
    fields = json.loads(found[1])
    assert fields == {
        "actor": "user",
        "details": details_commitment(event.actor, event.subject, event.details, event.salt),
        "subject": subject_hash("student:123"),
        "time": event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "type": "admin.saved",
        "v": 1,
    }
    assert b"user:42" not in found[1]
    assert b"student:123" not in found[1]
    assert len(fields["subject"]) == 64
    assert len(event.salt) == 22
    assert found[1] == json.dumps(fields, separators=(",", ":"), sort_keys=True).encode()
    no_subject = record(ADMIN_DELETED, SYSTEM)
    log.integrate()
    second = log.leaf_of(no_subject)
    assert second is not None
    assert json.loads(second[1])["subject"] == ""


def test_the_subject_hash_is_keyed(settings: object) -> None:
    before = subject_hash("student:123")
    settings.IDENTIFIER_KEY = "een-andere-fictieve-sleutel"  # type: ignore[attr-defined]
    assert subject_hash("student:123") != before


def test_roots_and_proofs_equal_the_rfc_text_at_every_size(tile_height: int) -> None:
    leaves: list[bytes] = []
    sizes = []
    for batch in (1, 2, 5, 1, 9, 22, 3):  # integrate after uneven batches
        record_many(batch, len(leaves))
        log.integrate(batch=4)
        leaves = stored_leaves()
        sizes.append(len(leaves))
    assert len(leaves) == log.size() == 43
    assert log.root() == rfc_text.mth(leaves)
    for size in [*range(1, 10), 15, 16, 17, 31, 32, 33, 43]:
        assert log.root(size) == rfc_text.mth(leaves[:size])
        for index in range(size):
            proof = log.inclusion_proof(index, size)
            assert proof == rfc_text.path(index, leaves[:size])
            rfc9162.verify_inclusion(
                rfc9162.leaf_hash(leaves[index]), index, size, proof, log.root(size)
            )
        for first in range(1, size):
            proof = log.consistency_proof(first, size)
            assert proof == rfc_text.proof(first, leaves[:size])
            rfc9162.verify_consistency(first, size, proof, log.root(first), log.root(size))
    assert log.check() == []


def test_a_large_tree_over_several_tile_levels(tile_height: int) -> None:
    record_many(300)
    log.integrate(batch=37)
    leaves = stored_leaves()
    assert [index for index in Leaf.objects.values_list("index", flat=True)] == list(range(300))
    assert log.root() == rfc_text.mth(leaves)
    if tile_height < 8:
        assert Tile.objects.filter(level=2).exists()
    for index in (0, 1, 127, 128, 255, 256, 299):
        assert log.inclusion_proof(index, 300) == rfc_text.path(index, leaves)
    assert log.consistency_proof(129, 300) == rfc_text.proof(129, leaves)
    assert log.check() == []


def test_integrating_twice_changes_nothing() -> None:
    record_many(20)
    assert log.integrate() == 20
    state = (log.size(), log.root(), stored_leaves(), list(Tile.objects.values_list("hashes")))
    assert log.integrate() == 20
    assert (log.size(), log.root(), stored_leaves(), list(Tile.objects.values_list("hashes"))) == (
        state
    )


def test_proofs_for_a_tree_that_does_not_exist_are_refused() -> None:
    record_many(3)
    log.integrate()
    with pytest.raises(rfc9162.ProofError):
        log.inclusion_proof(0, 4)
    with pytest.raises(rfc9162.ProofError):
        log.inclusion_proof(3, 3)
    with pytest.raises(rfc9162.ProofError):
        log.consistency_proof(2, 5)
    with pytest.raises(rfc9162.ProofError):
        log.leaf(3)
    assert log.event_of(3) is None


def test_erasure_keeps_every_leaf_and_every_proof() -> None:
    events = record_many(12)  # subjects core.board:0 .. core.board:4
    log.integrate()
    leaves, root_before = stored_leaves(), log.root()
    proofs = {index: log.inclusion_proof(index, 12) for index in range(12)}
    erased = erase_subject("core.board:1", SYSTEM)
    assert erased == 3
    assert not AuditEvent.objects.filter(subject="core.board:1").exclude(
        event_type=AUDIT_DETAILS_ERASED.name
    )
    assert log.integrate() == 13
    assert stored_leaves()[:12] == leaves
    assert log.root(12) == root_before
    for index, proof in proofs.items():
        assert log.inclusion_proof(index, 12) == proof
        rfc9162.verify_inclusion(
            rfc9162.leaf_hash(leaves[index]),
            index,
            13,
            log.inclusion_proof(index, 13),
            log.root(),
        )
    assert log.event_of(1) is None
    assert log.event_of(0) == events[0]
    erasure = json.loads(log.leaf(12))
    assert erasure["type"] == "audit.details.erased"
    assert erasure["subject"] == json.loads(leaves[1])["subject"] == subject_hash("core.board:1")
    assert log.check() == []


def test_erasure_needs_a_subject_and_the_orm_still_refuses_deletes() -> None:
    event = record(ADMIN_SAVED, SYSTEM, "core.board:3")
    with pytest.raises(ValueError, match="subject"):
        erase_subject("", SYSTEM)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(subject="core.board:3").delete()
    with pytest.raises(AppendOnlyError):
        event.delete()
    log.integrate()
    with pytest.raises(AppendOnlyError):
        Leaf.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        Leaf.objects.all().update(event_id=1)
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert log.size() == 1


def test_the_export_holds_every_leaf_with_its_side_row_or_null() -> None:
    events = record_many(6)
    erase_subject("core.board:2", SYSTEM)
    log.integrate()
    checkpoint = checkpoint_for(7)
    out = io.StringIO()
    log.export(out, checkpoint)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0] == {"format": "regie-log-export/v1", "checkpoint": checkpoint}
    assert [line["index"] for line in lines[1:]] == list(range(7))
    assert [line["leaf"].encode() for line in lines[1:]] == stored_leaves()
    assert lines[3]["event"] is None
    first = lines[1]["event"]
    assert first == {
        "actor": "user:7",
        "subject": "core.board:0",
        "details": {"n": 0},
        "salt": events[0].salt,
    }
    opened = details_commitment(first["actor"], first["subject"], first["details"], first["salt"])
    assert json.loads(lines[1]["leaf"])["details"] == opened
    smaller = io.StringIO()
    log.export(smaller, checkpoint_for(4))
    assert len(smaller.getvalue().splitlines()) == 5
    with pytest.raises(ValueError, match="root"):
        log.export(io.StringIO(), checkpoint_for(4).replace("\n4\n", "\n5\n"))


def test_the_database_refuses_changing_removing_or_inserting_leaves() -> None:
    record_many(3)
    log.integrate()
    leaf = log.leaf(1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_leaf SET leaf = %s WHERE leaf_index = 1", [b"{}"])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_leaf (leaf_index, event_id, leaf) VALUES (7, 999, %s)", [b"{}"]
        )
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_leaf WHERE leaf_index = 1")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor = 'forged'")
    assert log.leaf(1) == leaf
    assert log.check() == []


def test_a_changed_leaf_behind_the_triggers_is_found() -> None:
    record_many(5)
    log.integrate()
    drop_leaf_triggers()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_leaf SET leaf = %s WHERE leaf_index = 2",
            [log.leaf(2).replace(b'"user"', b'"system"')],
        )
    problems = log.check()
    assert "the root computed from the leaves differs from the tree head's root" in problems
    assert "tile 0/0 does not hold the hashes of its leaves" in problems


def test_a_removed_leaf_behind_the_triggers_is_found() -> None:
    record_many(5)
    log.integrate()
    drop_leaf_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_leaf WHERE leaf_index = 4")
    assert "the tree head says 5 leaves, the leaf table holds 4" in log.check()


def test_an_inserted_leaf_behind_the_triggers_is_found() -> None:
    events = record_many(5)
    log.integrate()
    drop_leaf_triggers()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_leaf (leaf_index, event_id, leaf) VALUES (5, %s, %s)",
            [events[-1].pk + 100, log.leaf(0)],
        )
    assert "the tree head says 5 leaves, the leaf table holds 6" in log.check()


def test_a_rewritten_tree_head_or_tile_is_found() -> None:
    record_many(5)
    log.integrate()
    TreeHead.objects.filter(pk=log.HEAD).update(root=bytes(32))
    assert log.check() == [
        "the root computed from the leaves differs from the tree head's root",
        "the root computed from the tiles differs from the tree head's root",
    ]


def test_a_side_row_deleted_without_erasure_is_found() -> None:
    events = record_many(3)
    log.integrate()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    assert log.check() == ["leaf 1: its event is gone without a later erasure event"]


def test_the_sequencer_locks_the_tree_head_on_postgresql() -> None:
    """Two sequencers never append at once: a batch holds ``SELECT … FOR UPDATE`` on the head
    (on SQLite, BEGIN IMMEDIATE serialises the writers)."""
    record_many(2)
    queries: list[str] = []

    def remember(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(remember):
        log.integrate()
    if connection.vendor == "postgresql":
        assert any("FOR UPDATE" in sql and "audit_treehead" in sql for sql in queries)
    else:
        assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_the_commands_integrate_and_check() -> None:
    record_many(3)
    out = io.StringIO()
    call_command("audit", "integrate", stdout=out)
    assert "the tree has 3 leaves" in out.getvalue()
    call_command("audit", "check", stdout=out)
    assert "the audit tree of 3 leaves is sound" in out.getvalue()
    TreeHead.objects.filter(pk=log.HEAD).update(root=bytes(32))
    with pytest.raises(CommandError, match="2 problem"):
        call_command("audit", "check", stdout=out, stderr=io.StringIO())
