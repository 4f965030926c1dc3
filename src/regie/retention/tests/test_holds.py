"""Legal holds: placed and lifted with a reason (refused without one), one in force per pupil,
audited about the pupil without the reason (which may name them), and they stop what is due."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.test import override_settings

from regie.agreements.services import Refused
from regie.agreements.tests.register import World
from regie.audit.models import AuditEvent
from regie.retention import due, events, holds
from regie.retention.models import LegalHold
from regie.roster.models import Student, StudentStatus

pytestmark = pytest.mark.django_db

REASON = "Lopende procedure bij de rechter over de leerling Sanne de Vries."


@pytest.fixture
def world(rng: random.Random) -> World:
    return World(rng)


def test_a_hold_is_placed_and_lifted_with_a_reason_and_audited_without_it(world: World) -> None:
    pupil = world.pupil()
    hold = holds.place(pupil, f"  {REASON}  ", user=world.officer)
    assert (hold.board_id, hold.reason, hold.placed_by) == (world.board_a.pk, REASON, world.officer)
    assert holds.in_force(pupil) == hold

    lifted = holds.lift(hold, "De procedure is afgerond.", user=world.officer)
    assert lifted.lifted_at is not None
    assert (lifted.lift_reason, lifted.lifted_by) == ("De procedure is afgerond.", world.officer)
    assert holds.in_force(pupil) is None

    logged = list(
        AuditEvent.objects.filter(
            event_type__in=[events.HOLD_PLACED.name, events.HOLD_LIFTED.name]
        ).order_by("pk")
    )
    assert [(event.event_type, event.subject) for event in logged] == [
        (events.HOLD_PLACED.name, f"student:{pupil.pk}"),
        (events.HOLD_LIFTED.name, f"student:{pupil.pk}"),
    ]
    assert [event.actor for event in logged] == [f"user:{world.officer.pk}"] * 2
    for event in logged:
        assert event.details == {"hold": hold.pk, "board": world.board_a.pk}
        assert "Sanne" not in str(event.details)
        assert "procedure" not in str(event.details)


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_a_hold_without_a_reason_is_refused_and_nothing_is_placed(
    world: World, reason: str
) -> None:
    with pytest.raises(Refused) as refused:
        holds.place(world.pupil(), reason, user=world.officer)
    assert refused.value.reason == "Vul een reden in."
    assert not LegalHold.objects.exists()
    assert not AuditEvent.objects.filter(event_type=events.HOLD_PLACED.name).exists()


def test_lifting_without_a_reason_or_twice_is_refused(world: World) -> None:
    hold = holds.place(world.pupil(), REASON, user=world.officer)
    with pytest.raises(Refused):
        holds.lift(hold, " ", user=world.officer)
    assert holds.in_force(world.pupil()) == hold
    holds.lift(hold, "Afgerond.", user=world.officer)
    with pytest.raises(Refused) as refused:
        holds.lift(hold, "Nog een keer.", user=world.officer)
    assert refused.value.reason == "Deze bewaarplicht is al opgeheven."
    assert AuditEvent.objects.filter(event_type=events.HOLD_LIFTED.name).count() == 1


def test_one_hold_in_force_per_pupil_and_a_new_one_after_lifting(world: World) -> None:
    pupil = world.pupil()
    first = holds.place(pupil, REASON, user=world.officer)
    with pytest.raises(Refused) as refused:
        holds.place(pupil, "Een tweede reden.", user=world.officer)
    assert refused.value.reason == "Voor deze leerling geldt al een bewaarplicht."
    holds.lift(first, "Afgerond.", user=world.officer)
    second = holds.place(pupil, "Een nieuwe procedure.", user=world.officer)
    assert LegalHold.objects.filter(student=pupil).count() == 2
    assert holds.in_force(pupil) == second


@override_settings(SIMULATED_CLOCK=True)
def test_a_held_pupil_who_left_is_blocked_and_due_again_once_the_hold_is_lifted(
    world: World,
) -> None:
    pupil = world.pupil()
    left_on = dt.date(2030, 1, 10)
    Student.objects.filter(pk=pupil.pk).update(status=StudentStatus.LEFT, left_on=left_on)
    today = dt.date(2031, 6, 1)
    hold = holds.place(pupil, REASON, user=world.officer)
    (item,) = due.pupils(world.board_a, today=today)
    assert item.blocked == due.HOLD
    assert not item.delete_due(today)

    holds.lift(hold, "Afgerond.", user=world.officer)
    (item,) = due.pupils(world.board_a, today=today)
    assert item.blocked == ""
    assert item.delete_due(today)
