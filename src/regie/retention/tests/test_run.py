"""The retention run on the simulated clock: every pupil trigger (left school, end of the school
year, consent withdrawn), the dry run equal to the real run, a pupil who came back, holds and open
requests, a run that stopped halfway continued without doing anything twice, the check and the
signed report."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections import Counter
from collections.abc import Iterator

import pytest
from django.conf import LazySettings
from django.utils import timezone

from regie.agreements.models import Consent, RetentionTrigger
from regie.agreements.services import record_consent
from regie.audit.models import AuditEvent
from regie.gateway.models import SupplierPseudonym
from regie.orders.models import Order
from regie.orders.tests.conftest import hub_keys_dir, hub_keys_in_settings  # noqa: F401
from regie.portal.models import RequestKind, RequestState, RightsRequest
from regie.roster.models import Student

from .. import clock, events, rules, run, sweeps
from ..models import ActionScope, LegalHold, RetentionAction, RetentionRun, RunState
from .runworld import RunWorld, make_run_world

pytestmark = pytest.mark.django_db

YEAR = 366


@pytest.fixture
def world(db: None, rng: random.Random, settings: LazySettings) -> Iterator[RunWorld]:
    settings.SIMULATED_CLOCK = True
    yield from make_run_world(rng)


def real(world: RunWorld, batch_size: int = 500) -> RetentionRun:
    return run.execute(world.board, today=clock.today(), dry_run=False, batch_size=batch_size)


def dry(world: RunWorld, batch_size: int = 500) -> RetentionRun:
    return run.execute(world.board, today=clock.today(), dry_run=True, batch_size=batch_size)


def exists(student: Student) -> bool:
    return Student.objects.filter(pk=student.pk).exists()


def ordered(world: RunWorld, student: Student) -> Counter[int]:
    """Per supplier, how many erasure orders name ``student``'s pseudonym."""
    found: Counter[int] = Counter()
    for order in Order.objects.filter(type="erasure"):
        subjects = json.loads(bytes(order.body))["subjects"]
        for number, _holder in enumerate(world.holders):
            if f"https://nv.example/lp/{number}/{world.students.index(student):0128x}" in subjects:
                found[number] += 1
    return found


def test_a_pupil_who_left_is_deleted_when_the_period_passed_with_orders_to_both(
    world: RunWorld,
) -> None:
    pupil = world.students[0]
    world.leave(pupil)
    clock.advance(YEAR - 2)  # 12 months after leaving: not yet
    early = real(world)
    assert early.counts["pupils_deleted"] == 0
    assert early.orders == []
    assert exists(pupil)

    clock.advance(2)
    done = real(world)
    assert done.state == RunState.DONE
    assert done.counts["pupils_deleted"] == 1
    assert done.counts["supplier_erasures"] == 2
    assert len(done.orders) == 2
    assert not exists(pupil)
    assert not SupplierPseudonym.objects.filter(student_id=pupil.pk).exists()
    assert ordered(world, pupil) == Counter({0: 1, 1: 1})
    for order in Order.objects.filter(pk__in=done.orders):
        body = json.loads(bytes(order.body))
        assert body["details"] == {"reason": "retention"}
        assert body["type"] == "erasure"
    assert set(
        RetentionAction.objects.filter(student_key=pupil.pk).values_list("scope", flat=True)
    ) == {ActionScope.SUPPLIER, ActionScope.HUB}
    assert all(count == 0 for count in done.left_over.values())
    assert set(done.left_over) >= {"students", "pseudonyms", "results", "audit_details"}
    # the others stay; nothing is due the next day
    assert all(exists(student) for student in world.students[1:])
    clock.advance(1)
    again = real(world)
    assert again.counts["pupils_deleted"] == 0
    assert again.orders == []


def test_end_of_school_year_orders_the_supplier_before_the_hub_deletes(world: RunWorld) -> None:
    early, _late = world.holders
    world.set_rule(early, 1, "days", RetentionTrigger.END_OF_SCHOOL_YEAR)
    pupil = world.students[1]
    left_on = timezone.localdate()
    world.leave(pupil, left_on)
    year_end = rules.school_year_end(left_on)
    clock.advance((year_end - timezone.localdate()).days + 1)
    first = real(world)
    assert first.counts["supplier_erasures"] == 1
    assert first.counts["pupils_deleted"] == 0
    assert exists(pupil)  # the hub keeps the pupil until its own rule and the other's passed
    assert ordered(world, pupil) == Counter({0: 1})

    clock.advance(YEAR - (year_end - left_on).days)
    second = real(world)
    assert second.counts["supplier_erasures"] == 1
    assert second.counts["pupils_deleted"] == 1
    assert not exists(pupil)
    assert ordered(world, pupil) == Counter({0: 1, 1: 1})  # each supplier once


def test_a_withdrawn_consent_orders_the_attribute_deleted_and_keeps_the_pupil(
    world: RunWorld,
) -> None:
    holder = world.holders[0]
    world.set_rule(holder, 14, "days", RetentionTrigger.CONSENT_WITHDRAWN)
    pupil = world.students[2]
    guardian = pupil.guardians.first()
    before = timezone.now() - dt.timedelta(days=40)
    record_consent(
        pupil, holder.product, "first_name", True, guardian=guardian, user=None, at=before
    )
    record_consent(pupil, holder.product, "first_name", False, guardian=guardian, user=None)
    clock.advance(13)
    assert real(world).counts.get("consent_erasures", 0) == 0
    clock.advance(2)
    done = real(world)
    assert done.counts["consent_erasures"] == 1
    assert done.counts["pupils_deleted"] == 0
    (order,) = Order.objects.filter(pk__in=done.orders)
    body = json.loads(bytes(order.body))
    assert body["details"] == {
        "reason": "consent-withdrawn",
        "attributes": ["first_name"],
        "product": holder.product.name,
    }
    assert order.supplier_id == holder.supplier.pk
    assert exists(pupil)
    assert Consent.objects.filter(student=pupil).count() == 2
    action = RetentionAction.objects.get(scope=ActionScope.CONSENT)
    assert action.order_id == order.pk
    assert action.student_key == pupil.pk
    clock.advance(1)
    assert real(world).counts.get("consent_erasures", 0) == 0  # never twice


def make_history(world: RunWorld) -> None:
    """Pupils who left at different days, one held, one with an open request."""
    today = timezone.localdate()
    for index, student in enumerate(world.students[:5]):
        world.leave(student, today - dt.timedelta(days=index * 3))
    LegalHold.objects.create(
        board=world.board,
        student=world.students[3],
        reason="Lopende klacht",
        placed_at=timezone.now(),
    )
    RightsRequest.objects.create(
        board=world.board,
        student=world.students[4],
        kind=RequestKind.ACCESS,
        filed_as="guardian",
        received_at=timezone.now(),
        deadline=today + dt.timedelta(days=30),
        state=RequestState.RECEIVED,
    )


def test_the_dry_run_counts_what_the_real_run_does_and_changes_nothing(world: RunWorld) -> None:
    make_history(world)
    clock.advance(YEAR + 1)
    orders, students, actions = Order.objects.count(), Student.objects.count(), 0
    trial = dry(world, batch_size=2)
    assert (Order.objects.count(), Student.objects.count()) == (orders, students)
    assert RetentionAction.objects.count() == actions
    assert trial.dry_run
    assert trial.report == ""
    assert trial.state == RunState.DONE
    done = real(world, batch_size=2)
    assert done.counts == trial.counts
    assert trial.counts["pupils_deleted"] == 3
    assert trial.counts["orders"] == 4  # two batches, two suppliers
    assert trial.counts["blocked_hold"] == 1
    assert trial.counts["blocked_request"] == 1


def test_a_hold_and_an_open_request_block_and_a_pupil_who_came_back_stays(
    world: RunWorld,
) -> None:
    make_history(world)
    came_back = world.students[2]
    Student.objects.create(
        school=came_back.school,
        las_key="terug-1",
        voornamen="Fictief",
        achternaam="Terug",
        eck_id=came_back.eck_id or "https://ketenid.example/terug",
    )
    if not came_back.eck_id:
        Student.objects.filter(pk=came_back.pk).update(eck_id="https://ketenid.example/terug")
    clock.advance(YEAR + 1)
    done = real(world)
    assert done.counts["pupils_deleted"] == 2
    for kept in world.students[2:5]:
        assert exists(kept)
        assert ordered(world, kept) == Counter()
    assert not exists(world.students[0])
    assert not exists(world.students[1])
    with pytest.raises(run.RunRefused):
        run.delete_pupils([world.students[3].pk], board_id=world.board.pk, run=done)
    with pytest.raises(run.RunRefused):
        run.delete_pupils([world.students[4].pk], board_id=world.board.pk, run=done)
    assert exists(world.students[3])
    assert exists(world.students[4])


def test_a_run_stopped_in_a_batch_is_continued_and_nothing_is_done_twice(
    world: RunWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    for student in world.students:
        world.leave(student)
    clock.advance(YEAR + 1)
    expected = dry(world, batch_size=2).counts
    calls = {"n": 0}
    delete = run.delete_pupils

    def fails_in_the_second_batch(*args: object, **kwargs: object) -> dict[str, int]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the worker died here")
        return delete(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(run, "delete_pupils", fails_in_the_second_batch)
    with pytest.raises(RuntimeError):
        real(world, batch_size=2)
    stopped = RetentionRun.objects.get(dry_run=False)
    assert stopped.state == RunState.RUNNING
    assert stopped.counts["pupils_deleted"] == 2  # the first batch, and only it
    assert len(stopped.orders) == 2
    monkeypatch.setattr(run, "delete_pupils", delete)

    continued = real(world, batch_size=2)
    assert continued.pk == stopped.pk
    assert continued.state == RunState.DONE
    assert continued.counts == expected
    assert not Student.objects.filter(pk__in=[s.pk for s in world.students]).exists()
    assert len(set(continued.orders)) == len(continued.orders) == 6
    for student in world.students:
        assert ordered(world, student) == Counter({0: 1, 1: 1})
        assert RetentionAction.objects.filter(student_key=student.pk, scope="hub").count() == 1
    assert all(count == 0 for count in continued.left_over.values())


def test_the_report_is_signed_recorded_and_names_no_pupil(world: RunWorld) -> None:
    pupils = world.students[:2]
    secrets = [
        text
        for student in pupils
        for text in (student.voornamen, student.achternaam, student.eck_id, student.stampseudonym)
        if text
    ] + list(SupplierPseudonym.objects.filter(student__in=pupils).values_list("value", flat=True))
    for student in pupils:
        world.leave(student)
    clock.advance(YEAR + 1)
    done = real(world)
    body = run.verify_report(done.report)
    assert body["run"] == str(done.pk)
    assert body["board"] == world.board.pk
    assert body["as_of"] == clock.today().isoformat()
    assert body["counts"] == done.counts
    assert body["left_over"] == done.left_over
    assert body["order_ids"] == sorted(done.orders)
    event = AuditEvent.objects.get(event_type=events.RUN_REPORT.name)
    assert event.details["sha256"] == hashlib.sha256(done.report.encode()).hexdigest()
    assert event.details["run"] == str(done.pk)
    deleted = AuditEvent.objects.filter(event_type=events.PUPIL_DELETED.name)
    assert deleted.count() == 2
    written = done.report + "".join(
        json.dumps(item.details)
        for item in AuditEvent.objects.filter(event_type__startswith="retention.")
    )
    for secret in secrets:
        assert secret not in written
    # a changed byte, or another key's signature, does not verify
    tampered = done.report.replace('"pupils_deleted":2', '"pupils_deleted":3')
    assert tampered != done.report
    with pytest.raises(run.ReportInvalid):
        run.verify_report(tampered)
    with pytest.raises(run.ReportInvalid):
        run.verify_report("not a note\n")


def test_a_run_stopped_the_day_before_is_closed_and_the_next_day_does_the_rest_once(
    world: RunWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    for student in world.students[:4]:
        world.leave(student)
    clock.advance(YEAR + 1)
    delete = run.delete_pupils

    def fails_at_once(*args: object, **kwargs: object) -> dict[str, int]:
        raise RuntimeError("the worker died here")

    monkeypatch.setattr(run, "delete_pupils", fails_at_once)
    with pytest.raises(RuntimeError):
        real(world, batch_size=2)
    monkeypatch.setattr(run, "delete_pupils", delete)
    clock.advance(1)
    done = real(world, batch_size=2)
    stopped = RetentionRun.objects.exclude(pk=done.pk).get(dry_run=False)
    assert stopped.state == RunState.FAILED
    assert stopped.finished_at is not None
    assert done.state == RunState.DONE
    assert done.counts["pupils_deleted"] == 4
    for student in world.students[:4]:
        assert not exists(student)
        assert ordered(world, student) == Counter({0: 1, 1: 1})


def test_the_hubs_other_kinds_are_swept_counted_alike_in_the_dry_run(
    world: RunWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, dt.date, bool]] = []

    def uploads(board_id: int, today: dt.date, dry_run: bool) -> int:
        calls.append((board_id, today, dry_run))
        return 3

    monkeypatch.setitem(sweeps.SWEEPS, "import_uploads", uploads)
    trial = dry(world)
    done = real(world)
    assert calls == [(world.board.pk, clock.today(), True), (world.board.pk, clock.today(), False)]
    assert trial.counts["sweep_import_uploads"] == done.counts["sweep_import_uploads"] == 3
    assert run.verify_report(done.report)["counts"]["sweep_import_uploads"] == 3
