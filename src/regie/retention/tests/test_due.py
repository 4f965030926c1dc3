"""What is due: pupils who left (one person across the rows sharing an ECK iD), per supplier
rule and the hub's own, blocked by a hold or an open request; withdrawn consents."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from regie.agreements import services as register
from regie.agreements.models import Processing, RetentionTrigger
from regie.agreements.tests.register import make_agreement, make_product, make_supplier
from regie.gateway.models import SupplierPseudonym
from regie.portal.models import RightsRequest
from regie.retention import due, rules
from regie.retention.models import ActionScope, HubDataKind, LegalHold, RetentionAction
from regie.roster.models import Student, StudentStatus
from regie.roster.tests.exports import load_school, make_board

LEFT_ON = dt.date(2027, 1, 10)


class Board:
    def __init__(self, rng: random.Random) -> None:
        self.board = make_board()
        self.school = load_school(self.board, rng, "00AA00", "A", pupils=4)
        self.supplier = make_supplier()
        self.product = make_product(self.supplier)
        self.agreement = make_agreement(self.board, self.supplier, [self.product])
        self.pupils = list(Student.objects.filter(school=self.school).order_by("pk"))
        for number, pupil in enumerate(self.pupils):
            SupplierPseudonym.objects.create(
                student=pupil, supplier=self.supplier, value=f"https://nv.example/lp/{number}"
            )

    def leave(self, pupil: Student, on: dt.date = LEFT_ON) -> None:
        Student.objects.filter(pk=pupil.pk).update(status=StudentStatus.LEFT, left_on=on)

    def supplier_rule(self, period: int, unit: str, trigger: str) -> None:
        Processing.objects.filter(schedule__agreement=self.agreement).update(
            retention_period=period, retention_unit=unit, retention_trigger=trigger
        )

    def due_on(self, day: dt.date) -> list[due.PupilDue]:
        return due.pupils(self.board, today=day)


@pytest.fixture
def world(db: None, rng: random.Random) -> Board:
    return Board(rng)


def test_a_pupil_who_left_is_due_when_the_longest_rule_ends(world: Board) -> None:
    pupil = world.pupils[0]
    world.leave(pupil)
    assert world.due_on(dt.date(2028, 1, 9)) == []
    [found] = world.due_on(dt.date(2028, 1, 10))
    assert (found.student_id, found.own_due, found.due_on) == (
        pupil.pk,
        dt.date(2028, 1, 10),
        dt.date(2028, 1, 10),
    )
    assert [(item.supplier_id, item.due_on) for item in found.suppliers] == [
        (world.supplier.pk, dt.date(2028, 1, 10))
    ]
    assert found.delete_due(dt.date(2028, 1, 10))


def test_the_hub_waits_for_a_supplier_with_a_longer_period(world: Board) -> None:
    world.supplier_rule(2, "years", RetentionTrigger.LEFT_SCHOOL)
    world.leave(world.pupils[0])
    assert world.due_on(dt.date(2028, 6, 1)) == []  # the hub's 12 months passed; the order not
    [found] = world.due_on(dt.date(2029, 1, 10))
    assert found.own_due == dt.date(2028, 1, 10)
    assert found.due_on == dt.date(2029, 1, 10)


def test_a_shorter_supplier_period_orders_before_the_hub_deletes(world: Board) -> None:
    world.supplier_rule(30, "days", RetentionTrigger.LEFT_SCHOOL)
    world.leave(world.pupils[0])
    [found] = world.due_on(dt.date(2027, 2, 9))
    assert [item.supplier_id for item in found.orders_due(dt.date(2027, 2, 9))] == [
        world.supplier.pk
    ]
    assert not found.delete_due(dt.date(2027, 2, 9))


def test_end_of_school_year_counts_from_the_year_the_pupil_left_in(world: Board) -> None:
    world.supplier_rule(1, "years", RetentionTrigger.END_OF_SCHOOL_YEAR)
    rules.set_hub_rule(world.board, HubDataKind.PUPILS_LEFT, "0 dagen", user=None)
    world.leave(world.pupils[0])
    end = rules.school_year_end(LEFT_ON)
    assert world.due_on(rules.add_period(end, 1, "years") - dt.timedelta(days=1)) == []
    [found] = world.due_on(rules.add_period(end, 1, "years"))
    assert found.own_due == LEFT_ON


def test_a_supplier_without_a_pupil_rule_gets_no_order(world: Board) -> None:
    world.supplier_rule(1, "years", RetentionTrigger.END_OF_CONTRACT)
    world.leave(world.pupils[0])
    [found] = world.due_on(dt.date(2028, 1, 10))
    assert found.suppliers == ()


def test_a_pupil_who_came_back_is_not_due(world: Board) -> None:
    pupil = world.pupils[0]
    world.leave(pupil)
    Student.objects.create(
        school=world.school,
        las_key="back-again",
        voornamen="Terug",
        achternaam="Gekomen",
        eck_id=pupil.eck_id,
    )
    assert world.due_on(dt.date(2030, 1, 1)) == []


def test_rows_of_one_pupil_are_due_together_from_the_last_leaving(world: Board) -> None:
    first, second = world.pupils[0], world.pupils[1]
    Student.objects.filter(pk=second.pk).update(eck_id=first.eck_id)
    world.leave(first, dt.date(2026, 9, 1))
    world.leave(second, LEFT_ON)
    assert world.due_on(dt.date(2027, 12, 31)) == []
    [found] = world.due_on(dt.date(2028, 1, 10))
    assert found.student_id == second.pk
    assert set(found.student_ids) == {first.pk, second.pk}


def test_a_hold_and_an_open_request_block(world: Board) -> None:
    held, asking = world.pupils[0], world.pupils[1]
    world.leave(held)
    world.leave(asking)
    LegalHold.objects.create(
        board=world.board, student=held, reason="Onderzoek", placed_at=timezone.now()
    )
    RightsRequest.objects.create(
        board=world.board,
        student=asking,
        kind="access",
        filed_as="guardian",
        received_at=timezone.now(),
        deadline=dt.date(2030, 1, 1),
    )
    found = {item.student_id: item for item in world.due_on(dt.date(2028, 1, 10))}
    assert found[held.pk].blocked == due.HOLD
    assert found[asking.pk].blocked == due.OPEN_REQUEST
    for item in found.values():
        assert item.orders_due(dt.date(2028, 1, 10)) == []
        assert not item.delete_due(dt.date(2028, 1, 10))


def test_what_was_done_is_not_due_again(world: Board) -> None:
    world.supplier_rule(30, "days", RetentionTrigger.LEFT_SCHOOL)
    pupil = world.pupils[0]
    world.leave(pupil)
    RetentionAction.objects.create(
        board=world.board,
        student_key=pupil.pk,
        scope=ActionScope.SUPPLIER,
        supplier=world.supplier,
        done_at=timezone.now(),
    )
    assert world.due_on(dt.date(2027, 6, 1)) == []  # ordered; the hub's day is later
    [found] = world.due_on(dt.date(2028, 1, 10))
    assert found.orders_due(dt.date(2028, 1, 10)) == []
    assert found.delete_due(dt.date(2028, 1, 10))


def test_a_withdrawn_consent_is_due_after_its_rule(world: Board) -> None:
    Processing.objects.filter(schedule__agreement=world.agreement).update(
        retention_period=14,
        retention_unit="days",
        retention_trigger=RetentionTrigger.CONSENT_WITHDRAWN,
    )
    pupil = world.pupils[0]
    Student.objects.filter(pk=pupil.pk).update(birth_date=dt.date(2000, 1, 1))  # decides
    pupil.refresh_from_db()
    register.record_consent(pupil, world.product, "first_name", True, user=None)
    assert due.consents(world.board, today=dt.date(2100, 1, 1)) == []  # given, not withdrawn
    register.record_consent(pupil, world.product, "first_name", False, user=None)
    withdrawn = timezone.localdate()
    assert due.consents(world.board, today=withdrawn + dt.timedelta(days=13)) == []
    [found] = due.consents(world.board, today=withdrawn + dt.timedelta(days=14))
    assert (found.student_id, found.supplier_id, found.attribute) == (
        pupil.pk,
        world.supplier.pk,
        "first_name",
    )
