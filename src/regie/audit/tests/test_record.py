"""The audit log: one `record` call, declared event types only, append-only down to the database."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from regie.audit.events import ADMIN_SAVED, REGISTRY, EventType, define
from regie.audit.models import AppendOnlyError, AuditEvent
from regie.audit.services import PersonalDataInDetails, record
from regie.lib.logging import Pii

pytestmark = pytest.mark.django_db


def test_it_records_an_event() -> None:
    event = record(ADMIN_SAVED, "system", "core.board:7", {"created": False, "fields": ["name"]})
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.event_type, stored.actor, stored.subject) == (
        "admin.saved",
        "system",
        "core.board:7",
    )
    assert stored.details == {"created": False, "fields": ["name"]}
    assert stored.occurred_at is not None


def test_it_refuses_undeclared_event_types() -> None:
    with pytest.raises(ValueError, match="not declared"):
        record(EventType("made.up", "never declared"), "system")
    assert not AuditEvent.objects.exists()


def test_it_refuses_personal_data_in_details() -> None:
    with pytest.raises(PersonalDataInDetails):
        record(ADMIN_SAVED, "system", details={"pupil": Pii("123456782")})
    assert not AuditEvent.objects.exists()


def test_the_model_refuses_changes_and_deletes() -> None:
    event = record(ADMIN_SAVED, "system")
    event.actor = "someone else"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().update(actor="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_the_database_refuses_updates_underneath_the_orm() -> None:
    event = record(ADMIN_SAVED, "system")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor = 'forged' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).actor == "system"


def test_event_type_names_are_dotted_and_unique() -> None:
    with pytest.raises(ValueError, match="dotted"):
        define("NoDots", "bad")
    with pytest.raises(ValueError, match="defined twice"):
        define(ADMIN_SAVED.name, "another description")
    assert all("." in name for name in REGISTRY)


def test_a_recorded_event_reads_back_as_the_orm_would_have_stored_it() -> None:
    # record() writes the event row with SQL made once (regie.lib.prepared.Insert): the JSON
    # details, the aware time and the salt must come back exactly.
    details = {"fields": ["naam", "e-mail"], "nested": {"n": 1, "ok": True, "none": None}}
    event = record(ADMIN_SAVED, "user:3", "core.board:9", details)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.details == details == event.details
    assert stored.occurred_at == event.occurred_at
    assert stored.occurred_at.tzinfo is not None
    assert stored.salt == event.salt
    assert (stored.actor, stored.subject) == ("user:3", "core.board:9")
