"""Faults the witnesses exist for: a log rolled back (an old backup restored, or rows removed and
the tree rebuilt to match) or forked (history rewritten). The hub's own check refuses to sign what
does not extend its last checkpoint; where the checkpoints went too, a real witness process still
remembers what it cosigned and refuses — and the hub flags and records the refusal."""

from __future__ import annotations

import pytest

from regie.audit import log
from regie.audit.events import ADMIN_SAVED
from regie.audit.models import AuditEvent
from regie.audit.services import SYSTEM, record
from regie.audit.tests.tampering import rewrite_history

from .. import events, services
from ..models import Checkpoint, Witness
from .witnesses import WitnessProcess

pytestmark = pytest.mark.django_db


def record_some(count: int, start: int = 0, kind: str = "school") -> None:
    for number in range(start, start + count):
        record(ADMIN_SAVED, SYSTEM, f"{kind}:{number}", {"created": True, "fields": []})


def cosigned_by_witness(witness: WitnessProcess) -> Witness:
    stored = Witness.objects.create(url=witness.url, vkey=witness.vkey)
    record_some(10)
    services.publish()
    record_some(6, start=10)
    services.publish()
    stored.refresh_from_db()
    assert stored.size == log.size()
    return stored


def refusals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=events.WITNESS_REFUSED.name))


def test_the_hub_refuses_to_sign_a_log_rolled_back_behind_its_back(
    witness: WitnessProcess,
) -> None:
    cosigned_by_witness(witness)
    signed = log.size()
    rewrite_history(keep=8)
    record_some(20, start=100, kind="staff")  # a different history, longer than the signed one
    with pytest.raises(services.LogInconsistent, match=f"checkpoint of {signed} events"):
        services.publish()
    assert Checkpoint.objects.order_by("-size").first().size == signed  # type: ignore[union-attr]
    assert AuditEvent.objects.filter(event_type=events.LOG_INCONSISTENT.name).count() == 1
    assert services.health().stale is False  # nothing waits two intervals yet: no false alarm


def test_a_witness_refuses_a_fork_even_when_the_checkpoints_are_gone(
    witness: WitnessProcess,
) -> None:
    stored = cosigned_by_witness(witness)
    signed = stored.size
    # The database is restored from a backup: the log as it was at 8 events, no checkpoints, and
    # the hub's note of what the witness knew is the backup's too.
    rewrite_history(keep=8)
    Checkpoint.objects.all().delete()
    Witness.objects.filter(pk=stored.pk).update(size=8)
    record_some(20, start=100, kind="staff")  # the new history grows past what the witness saw

    published = services.publish()  # the hub signs (it has nothing to compare with) …
    stored.refresh_from_db()
    assert published.size > signed
    assert not published.cosignatures.exists()  # … but the witness does not cosign
    assert stored.refused
    assert "422" in stored.failure
    assert stored.size == 8
    (refusal,) = refusals()
    assert refusal.details["size"] == published.size
    assert services.health().refused == [stored]


def test_a_witness_refuses_a_truncated_log(witness: WitnessProcess) -> None:
    stored = cosigned_by_witness(witness)
    signed = stored.size
    rewrite_history(keep=8)
    Checkpoint.objects.all().delete()
    Witness.objects.filter(pk=stored.pk).update(size=8)
    record_some(3, start=200, kind="staff")  # still shorter than what the witness cosigned

    published = services.publish()
    stored.refresh_from_db()
    assert published.size < signed
    assert not published.cosignatures.exists()
    assert stored.refused
    assert f"knows {signed} events" in stored.failure
    assert len(refusals()) == 1
