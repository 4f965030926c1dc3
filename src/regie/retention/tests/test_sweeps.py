"""The sweeps of the hub's other data: nothing before the rule's day, on it exactly what is due (a
dry run counts the same and deletes nothing), and nothing else: not another board's, not what is
not due yet, not what belongs to a pupil under a legal hold."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from regie.accounts.models import GuardianAccount
from regie.agreements.tests.register import World
from regie.core.models import Board
from regie.gateway.models import LineItem, Result
from regie.orders.models import DeliveryAttempt, Order, OrderState
from regie.portal.models import RequestKind, RequestOrder, RightsRequest
from regie.retention import holds, rules, sweeps
from regie.retention.models import (
    ActionScope,
    HubDataKind,
    InactiveGuardian,
    RetentionAction,
)
from regie.roster.models import Guardian, ImportRun, ImportStatus, Student

pytestmark = pytest.mark.django_db

DAY = dt.date(2031, 3, 10)


@pytest.fixture
def world(rng: random.Random) -> World:
    return World(rng)


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def counts(kind: str, board_id: int, today: dt.date) -> tuple[int, int]:
    """The dry run's count, then the real run's."""
    sweep = sweeps.SWEEPS[kind]
    return sweep(board_id, today, True), sweep(board_id, today, False)


# --- guardians ----------------------------------------------------------------------------------


def test_an_inactive_guardian_goes_a_month_after_the_run_first_saw_them_with_their_login(
    world: World,
) -> None:
    guardian = Guardian.objects.filter(school=world.a1).exclude(email="").order_by("pk")[0]
    still_here = Guardian.objects.filter(school=world.a1).exclude(pk=guardian.pk).order_by("pk")[0]
    other_board = Guardian.objects.filter(school=world.b1).order_by("pk")[0]
    user = User.objects.create_user("ouder-sweep")
    GuardianAccount.objects.create(user=user, board=world.board_a, email=guardian.email.lower())
    Guardian.objects.filter(pk__in=[guardian.pk, other_board.pk]).update(is_active=False)
    board = world.board_a.pk

    # The first run notes the day; a month later (the default rule) the guardian is due.
    assert counts(HubDataKind.GUARDIANS, board, DAY) == (0, 0)
    assert InactiveGuardian.objects.get(guardian=guardian).since == DAY
    day = rules.add_period(DAY, 1, "months")
    assert counts(HubDataKind.GUARDIANS, board, day - dt.timedelta(days=1)) == (0, 0)
    assert Guardian.objects.filter(pk=guardian.pk).exists()

    assert counts(HubDataKind.GUARDIANS, board, day) == (1, 1)
    assert not Guardian.objects.filter(pk=guardian.pk).exists()
    assert not User.objects.filter(pk=user.pk).exists()
    assert not GuardianAccount.objects.filter(email=guardian.email.lower()).exists()
    assert Guardian.objects.filter(pk__in=[still_here.pk, other_board.pk]).count() == 2
    assert counts(HubDataKind.GUARDIANS, board, day) == (0, 0)


def test_a_guardian_back_in_the_export_starts_again_and_a_held_pupils_guardian_stays(
    world: World,
) -> None:
    first, second = Guardian.objects.filter(school=world.a1).order_by("pk")[:2]
    pupil = Student.objects.filter(school=world.a1).exclude(guardians=first).order_by("pk")[0]
    second.students.add(pupil)
    holds.place(pupil, "Een lopende procedure bij de rechter.", user=world.officer)
    Guardian.objects.filter(pk__in=[first.pk, second.pk]).update(is_active=False)
    board = world.board_a.pk
    counts(HubDataKind.GUARDIANS, board, DAY)
    Guardian.objects.filter(pk=first.pk).update(is_active=True)
    later = DAY + dt.timedelta(days=10)
    counts(HubDataKind.GUARDIANS, board, later)  # forgets the day: the guardian came back
    assert not InactiveGuardian.objects.filter(guardian=first).exists()
    Guardian.objects.filter(pk=first.pk).update(is_active=False)
    counts(HubDataKind.GUARDIANS, board, later)

    # A month after the first day: the first guardian went again 10 days later, the second is
    # linked to a pupil under a hold.
    assert counts(HubDataKind.GUARDIANS, board, rules.add_period(DAY, 1, "months")) == (0, 0)
    assert counts(HubDataKind.GUARDIANS, board, rules.add_period(later, 1, "months")) == (1, 1)
    assert not Guardian.objects.filter(pk=first.pk).exists()
    assert Guardian.objects.filter(pk=second.pk).exists()


# --- results ------------------------------------------------------------------------------------


def make_result(world: World, student: Student, number: int, score_date: dt.date) -> Result:
    line_item, _ = LineItem.objects.get_or_create(
        supplier=world.supplier,
        sourced_id="li-sweep",
        defaults={"group": world.group, "title": "Toets 1"},
    )
    return Result.objects.create(
        supplier=world.supplier,
        sourced_id=f"r-{number}",
        line_item=line_item,
        student=student,
        score=7.0,
        score_status="fully graded",
        score_date=score_date,
    )


def test_results_go_two_school_years_after_the_year_they_were_scored_in(world: World) -> None:
    pupils = list(Student.objects.filter(school=world.a1).order_by("pk")[:3])
    make_result(world, pupils[0], 1, dt.date(2026, 10, 1))  # year ends 31 July 2027
    newer = make_result(world, pupils[1], 2, dt.date(2027, 9, 1))  # year ends 31 July 2028
    held = make_result(world, pupils[2], 3, dt.date(2026, 10, 1))
    other = make_result(world, Student.objects.filter(school=world.b1)[0], 4, dt.date(2026, 10, 1))
    holds.place(pupils[2], "Bezwaarprocedure.", user=world.officer)
    board = world.board_a.pk
    day = dt.date(2029, 7, 31)

    assert counts(HubDataKind.RESULTS, board, day - dt.timedelta(days=1)) == (0, 0)
    assert sweeps.coming(board, today=day - dt.timedelta(days=1), on=day)["results"] == 1
    assert counts(HubDataKind.RESULTS, board, day) == (1, 1)
    assert set(Result.objects.values_list("pk", flat=True)) == {newer.pk, held.pk, other.pk}


def test_a_board_that_keeps_results_longer_keeps_them(world: World) -> None:
    make_result(world, Student.objects.filter(school=world.a1)[0], 1, dt.date(2026, 10, 1))
    rules.set_hub_rule(world.board_a, HubDataKind.RESULTS, "3 jaar", user=world.officer)
    assert counts(HubDataKind.RESULTS, world.board_a.pk, dt.date(2030, 7, 30)) == (0, 0)
    assert counts(HubDataKind.RESULTS, world.board_a.pk, dt.date(2030, 7, 31)) == (1, 1)


# --- import uploads -----------------------------------------------------------------------------


def make_import(board: Board, status: str, done: dt.date | None) -> ImportRun:
    run = ImportRun.objects.create(
        id=uuid.uuid4(), board=board, file_name="export.zip", status=status
    )
    ImportRun.objects.filter(pk=run.pk).update(
        created_at=at(done or DAY), finished_at=at(done) if done and status != "refused" else None
    )
    return run


def test_import_uploads_go_three_months_after_they_were_done(world: World) -> None:
    applied = make_import(world.board_a, ImportStatus.APPLIED, DAY)
    refused = make_import(world.board_a, ImportStatus.REFUSED, DAY)
    later = make_import(world.board_a, ImportStatus.DISCARDED, DAY + dt.timedelta(days=1))
    waiting = make_import(world.board_a, ImportStatus.PREVIEWED, None)
    other = make_import(world.board_b, ImportStatus.APPLIED, DAY)
    board = world.board_a.pk
    day = rules.add_period(DAY, 3, "months")

    assert counts(HubDataKind.IMPORT_UPLOADS, board, day - dt.timedelta(days=1)) == (0, 0)
    assert counts(HubDataKind.IMPORT_UPLOADS, board, day) == (2, 2)
    left = set(ImportRun.objects.values_list("pk", flat=True))
    assert {applied.pk, refused.pk} & left == set()
    assert {later.pk, waiting.pk, other.pk} <= left
    assert counts(HubDataKind.IMPORT_UPLOADS, board, day + dt.timedelta(days=1)) == (1, 1)


# --- orders as evidence -------------------------------------------------------------------------


def make_order(world: World, students: list[Student], state: str, done: dt.date | None) -> Order:
    order = Order.objects.create(
        type="erasure",
        supplier=world.supplier,
        board=students[0].school.board,
        legal_basis="AVG art. 17",
        deadline=DAY,
        body=b"{}",
        digest="sha-256=:x:",
        state=state,
        done_at=at(done) if done else None,
    )
    order.students.set(students)
    DeliveryAttempt.objects.create(order=order, number=1, started_at=at(DAY), delivered=True)
    return order


def test_orders_go_five_years_after_they_were_done_with_their_attempts(world: World) -> None:
    pupils = list(Student.objects.filter(school=world.a1).order_by("pk")[:4])
    done = make_order(world, [pupils[0]], OrderState.COMPLETED, DAY)
    refused = make_order(world, [pupils[0]], OrderState.REFUSED, DAY)
    open_order = make_order(world, [pupils[0]], OrderState.SENT, None)
    held = make_order(world, [pupils[1]], OrderState.COMPLETED, DAY)
    holds.place(pupils[1], "Onderzoek van de inspectie.", user=world.officer)
    requested = make_order(world, [pupils[2]], OrderState.COMPLETED, DAY)
    request = RightsRequest.objects.create(
        board=world.board_a,
        student=pupils[2],
        kind=RequestKind.ERASURE,
        filed_as="guardian",
        received_at=at(DAY),
        deadline=DAY,
    )
    RequestOrder.objects.create(request=request, supplier=world.supplier, order=requested)
    needed = make_order(world, [pupils[3]], OrderState.COMPLETED, DAY)
    RetentionAction.objects.create(
        board=world.board_a,
        student_key=pupils[3].pk,
        scope=ActionScope.SUPPLIER,
        supplier=world.supplier,
        order=needed,
        done_at=at(DAY),
    )
    other = make_order(world, [Student.objects.filter(school=world.b1)[0]], "completed", DAY)
    board = world.board_a.pk
    day = rules.add_period(DAY, 5, "years")

    assert counts(HubDataKind.ORDERS_EVIDENCE, board, day - dt.timedelta(days=1)) == (0, 0)
    assert counts(HubDataKind.ORDERS_EVIDENCE, board, day) == (2, 2)
    left = set(Order.objects.values_list("pk", flat=True))
    assert {done.pk, refused.pk} & left == set()
    assert {open_order.pk, held.pk, requested.pk, needed.pk, other.pk} <= left
    assert not DeliveryAttempt.objects.filter(order_id__in=[done.pk, refused.pk]).exists()

    # Once the pupil is deleted at the hub, the action's order is evidence like any other.
    RetentionAction.objects.filter(order=needed).update(student_key=10**9)
    assert counts(HubDataKind.ORDERS_EVIDENCE, board, day) == (1, 1)
    assert RetentionAction.objects.get(student_key=10**9).order_id is None


def test_every_kind_of_the_hub_but_pupils_has_a_sweep() -> None:
    assert set(sweeps.SWEEPS) == set(rules.KINDS) - {HubDataKind.PUPILS_LEFT}


def test_a_portal_login_stays_while_another_record_of_the_board_has_its_address(
    world: World,
) -> None:
    gone = Guardian.objects.filter(school=world.a1).exclude(email="").order_by("pk")[0]
    Guardian.objects.create(
        school=world.a2, las_key="OU-tweede", achternaam="Ouder", email=gone.email.upper()
    )
    user = User.objects.create_user("ouder-twee-scholen")
    GuardianAccount.objects.create(user=user, board=world.board_a, email=gone.email.lower())
    Guardian.objects.filter(pk=gone.pk).update(is_active=False)
    board = world.board_a.pk
    counts(HubDataKind.GUARDIANS, board, DAY)

    assert counts(HubDataKind.GUARDIANS, board, rules.add_period(DAY, 1, "months")) == (1, 1)
    assert not Guardian.objects.filter(pk=gone.pk).exists()
    assert User.objects.filter(pk=user.pk).exists()
