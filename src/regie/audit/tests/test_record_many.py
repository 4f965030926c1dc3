"""Many events at once (``record_many``) and many subjects erased at once (``erase_subjects``):
the same leaves as ``record`` and ``erase_subject`` make, in fewer statements; the tree takes them
and its self-check stays clean."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from regie.audit import log, rfc9162
from regie.audit.events import ADMIN_SAVED, AUDIT_DETAILS_ERASED, EventType
from regie.audit.leaves import details_commitment, parse_leaf
from regie.audit.models import AuditEvent, PendingLeaf
from regie.audit.services import (
    SYSTEM,
    PersonalDataInDetails,
    erase_subject,
    erase_subjects,
    record,
    record_many,
    subject_hash,
)
from regie.lib.logging import Pii

pytestmark = pytest.mark.django_db


def opened(event: AuditEvent) -> dict[str, str]:
    """The event's leaf in the tree, parsed and checked against its side row as a verifier
    does: canonical form, the subject hash, the details commitment opened with the salt, the
    time; and its inclusion proof verified against the root."""
    found = log.leaf_of(event)
    assert found is not None
    index, leaf = found
    parsed = parse_leaf(leaf)
    assert parsed.encode() == leaf
    assert parsed.subject == subject_hash(event.subject)
    assert parsed.details == details_commitment(
        event.actor, event.subject, event.details, event.salt
    )
    assert parsed.time == event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    rfc9162.verify_inclusion(
        rfc9162.leaf_hash(leaf),
        index,
        log.size(),
        log.inclusion_proof(index, log.size()),
        log.root(),
    )
    fields: dict[str, str] = json.loads(leaf)
    return fields


def test_record_many_and_record_make_leaves_that_verify_the_same_way() -> None:
    details = {"created": False, "fields": ["name"], "n": 3}
    one = record(ADMIN_SAVED, "user:42", "student:123", details)
    many = record_many(
        [
            (ADMIN_SAVED, "user:42", "student:123", details),
            (ADMIN_SAVED, SYSTEM, "", None),
            (ADMIN_SAVED, "user:7", "core.board:1", {"n": 1}),
        ]
    )
    assert [event.pk for event in many] == sorted(event.pk for event in many)
    assert list(PendingLeaf.objects.order_by("id").values_list("event_id", flat=True)) == [
        one.pk,
        *(event.pk for event in many),
    ]
    assert log.integrate() == 4
    by_record, by_many = opened(one), opened(many[0])
    # Only what each event's own moment and salt make differ.
    assert {key: value for key, value in by_record.items() if key not in ("time", "details")} == {
        key: value for key, value in by_many.items() if key not in ("time", "details")
    }
    assert by_record["details"] != by_many["details"]  # each its own salt
    assert one.salt != many[0].salt
    for event in many:
        stored = AuditEvent.objects.get(pk=event.pk)
        assert (stored.actor, stored.subject, stored.details, stored.salt) == (
            event.actor,
            event.subject,
            event.details,
            event.salt,
        )
        opened(stored)
    assert opened(many[1])["subject"] == ""
    assert log.check() == []
    out = io.StringIO()
    call_command("audit", "check", stdout=out)


def test_record_many_writes_one_insert_of_rows_and_one_of_leaves() -> None:
    record(ADMIN_SAVED, SYSTEM)  # the first statement of a connection is not ours to count
    with CaptureQueriesContext(connection) as queries:
        events = record_many((ADMIN_SAVED, SYSTEM, f"core.board:{n}", {"n": n}) for n in range(40))
    inserts = [query["sql"] for query in queries if "INSERT" in query["sql"]]
    assert len(events) == 40
    assert len(inserts) == 2
    assert inserts[1].startswith("40 times: INSERT INTO audit_pendingleaf")  # one executemany
    assert PendingLeaf.objects.count() == 41
    assert record_many([]) == []


def test_record_many_refuses_undeclared_types_and_personal_data_before_writing() -> None:
    with pytest.raises(ValueError, match="not declared"):
        record_many(
            [
                (ADMIN_SAVED, SYSTEM, "", None),
                (EventType("made.up", "never declared"), SYSTEM, "", None),
            ]
        )
    with pytest.raises(PersonalDataInDetails):
        record_many(
            [(ADMIN_SAVED, SYSTEM, "", None), (ADMIN_SAVED, SYSTEM, "", {"p": Pii("123456782")})]
        )
    assert not AuditEvent.objects.exists()
    assert not PendingLeaf.objects.exists()


def test_erase_subjects_deletes_in_one_statement_per_chunk_and_records_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for number in range(9):
        record(ADMIN_SAVED, "user:7", f"student:{number % 4}", {"n": number})
    log.integrate()
    leaves_before = [log.leaf(index) for index in range(9)]
    monkeypatch.setattr("regie.audit.services.ERASE_CHUNK", 2)
    subjects = ["student:0", "student:1", "student:3", "student:9", "student:0"]
    with CaptureQueriesContext(connection) as queries:
        counts = erase_subjects(subjects, "user:5")
    deletes = [query["sql"] for query in queries if query["sql"].startswith("DELETE")]
    assert len(deletes) == 2  # four subjects, two per statement
    assert counts == {"student:0": 3, "student:1": 2, "student:3": 2, "student:9": 0}
    assert set(
        AuditEvent.objects.exclude(event_type=AUDIT_DETAILS_ERASED.name).values_list(
            "subject", flat=True
        )
    ) == {"student:2"}
    erasures = list(AuditEvent.objects.filter(event_type=AUDIT_DETAILS_ERASED.name))
    assert [(event.subject, event.details, event.actor) for event in erasures] == [
        ("student:0", {"count": 3}, "user:5"),
        ("student:1", {"count": 2}, "user:5"),
        ("student:3", {"count": 2}, "user:5"),
        ("student:9", {"count": 0}, "user:5"),
    ]
    assert log.integrate() == 13
    assert [log.leaf(index) for index in range(9)] == leaves_before
    for event in erasures:
        assert opened(event)["type"] == AUDIT_DETAILS_ERASED.name
    assert log.check() == []


def test_erase_subject_is_erase_subjects_of_one() -> None:
    record(ADMIN_SAVED, SYSTEM, "student:4")
    record(ADMIN_SAVED, SYSTEM, "student:4")
    assert erase_subject("student:4", SYSTEM) == 2
    assert erase_subject("student:4", SYSTEM) == 1  # the first erasure's own event
    with pytest.raises(ValueError, match="subject"):
        erase_subjects(["student:1", ""], SYSTEM)
    with pytest.raises(ValueError, match="subject"):
        erase_subjects([], SYSTEM)
    log.integrate()
    assert log.check() == []
