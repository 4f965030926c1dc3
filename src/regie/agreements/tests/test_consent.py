"""Consent for consent-gated attributes: who decides (a guardian, or the pupil from 16), the
history of given and withdrawn, and that the latest decision holds at the next release."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone

from regie.agreements import events, policy, services
from regie.agreements.models import Consent, ConsentGivenBy
from regie.agreements.tests.register import World, birthday_for_age, license_group
from regie.audit.models import AuditEvent
from regie.roster.models import Guardian, Student


@pytest.fixture
def released(world: World) -> Student:
    """A licensed pupil of school A1 whose school switched first_name on for the product."""
    license_group(world.product, world.group)
    services.set_switch(world.a1, world.product, "first_name", True, user=None)
    return world.pupil()


def first_name_allowed(world: World, pupil: Student) -> bool:
    decision = policy.decide(world.product, pupil, ["first_name"])
    if decision.allowed:
        return True
    assert decision.reasons() == {"first_name": "no_consent"}
    return False


def assert_refused(word: str, call: object) -> None:
    """``call()`` raises Refused naming ``word``; no consent record and no audit event appear."""
    assert callable(call)
    consents, audit = Consent.objects.count(), AuditEvent.objects.count()
    with pytest.raises(services.Refused) as caught:
        call()
    assert word in caught.value.reason
    assert (Consent.objects.count(), AuditEvent.objects.count()) == (consents, audit)


def test_it_takes_a_guardians_consent_for_a_pupil_under_16(world: World, released: Student) -> None:
    assert not services.decides_own_consent(released)
    guardian = released.guardians.get()
    assert not first_name_allowed(world, released)
    consent = services.record_consent(
        released, world.product, "first_name", True, guardian=guardian, user=world.officer
    )
    assert consent.given_by == ConsentGivenBy.GUARDIAN
    assert consent.guardian == guardian
    assert consent.recorded_by == world.officer
    assert first_name_allowed(world, released)


def test_it_refuses_a_guardian_of_another_pupil(world: World, released: Student) -> None:
    stranger = Guardian.objects.filter(school=world.a1).exclude(students=released).first()
    assert stranger is not None
    assert_refused(
        "geen ouder of verzorger van de leerling",
        lambda: services.record_consent(
            released, world.product, "first_name", True, guardian=stranger, user=None
        ),
    )
    assert not first_name_allowed(world, released)


def test_it_refuses_consent_without_a_guardian_under_16(world: World, released: Student) -> None:
    assert_refused(
        "ouder of verzorger",
        lambda: services.record_consent(released, world.product, "first_name", True, user=None),
    )
    assert not first_name_allowed(world, released)


def test_it_lets_a_pupil_of_16_decide_alone(world: World, released: Student) -> None:
    released.birth_date = birthday_for_age(16)
    released.save(update_fields=["birth_date"])
    assert services.decides_own_consent(released)
    guardian = released.guardians.get()
    assert_refused(
        "16 jaar of ouder",
        lambda: services.record_consent(
            released, world.product, "first_name", True, guardian=guardian, user=None
        ),
    )
    consent = services.record_consent(released, world.product, "first_name", True, user=None)
    assert consent.given_by == ConsentGivenBy.PUPIL
    assert consent.guardian is None
    assert first_name_allowed(world, released)


def test_it_treats_a_pupil_of_15_as_under_16(world: World, released: Student) -> None:
    released.birth_date = birthday_for_age(16) + timedelta(
        days=2
    )  # turns 16 the day after tomorrow
    released.save(update_fields=["birth_date"])
    assert not services.decides_own_consent(released)
    assert_refused(
        "ouder of verzorger",
        lambda: services.record_consent(released, world.product, "first_name", True, user=None),
    )


def test_it_treats_an_unknown_birth_date_as_under_16(world: World, released: Student) -> None:
    released.birth_date = None
    released.save(update_fields=["birth_date"])
    assert not services.decides_own_consent(released)
    assert_refused(
        "onder de 16",
        lambda: services.record_consent(released, world.product, "first_name", True, user=None),
    )
    consent = services.record_consent(
        released, world.product, "first_name", True, guardian=released.guardians.get(), user=None
    )
    assert consent.given_by == ConsentGivenBy.GUARDIAN


@pytest.mark.parametrize("attribute", ["groups", "supplier_pseudonym", "results"])
def test_it_refuses_consent_for_an_attribute_that_is_not_gated(
    world: World, released: Student, attribute: str
) -> None:
    assert_refused(
        "geen toestemming nodig",
        lambda: services.record_consent(
            released, world.product, attribute, True, guardian=released.guardians.get(), user=None
        ),
    )


def test_it_refuses_consent_for_an_unknown_attribute(world: World, released: Student) -> None:
    assert_refused(
        "geen gegeven uit de catalogus",
        lambda: services.record_consent(
            released, world.product, "shoe_size", True, guardian=released.guardians.get(), user=None
        ),
    )


def test_it_keeps_the_history_and_the_latest_decision_holds(
    world: World, released: Student
) -> None:
    guardian = released.guardians.get()
    start = timezone.now() - timedelta(days=3)
    for day, given in enumerate([True, False, True]):
        services.record_consent(
            released,
            world.product,
            "first_name",
            given,
            guardian=guardian,
            user=None,
            at=start + timedelta(days=day),
        )
        assert first_name_allowed(world, released) is given
    history = services.consent_history(released)
    assert [(item.attribute, item.given) for item in history] == [
        ("first_name", True),
        ("first_name", False),
        ("first_name", True),
    ]
    assert [item.decided_at for item in history] == sorted(
        (item.decided_at for item in history), reverse=True
    )


def test_it_lets_the_latest_decision_hold_whatever_the_order_of_recording(
    world: World, released: Student
) -> None:
    guardian = released.guardians.get()
    now = timezone.now()
    services.record_consent(
        released, world.product, "first_name", False, guardian=guardian, user=None, at=now
    )
    # A paper form with an earlier date, entered afterwards, does not override the withdrawal.
    services.record_consent(
        released,
        world.product,
        "first_name",
        True,
        guardian=guardian,
        user=None,
        at=now - timedelta(days=1),
    )
    assert not first_name_allowed(world, released)


def test_it_applies_a_withdrawal_at_the_next_release(world: World, released: Student) -> None:
    guardian = released.guardians.get()
    services.record_consent(
        released,
        world.product,
        "first_name",
        True,
        guardian=guardian,
        user=None,
        at=timezone.now() - timedelta(hours=2),
    )
    before = policy.decide(world.product, released)
    assert before.allowed == {"supplier_pseudonym", "first_name"}
    services.record_consent(
        released, world.product, "first_name", False, guardian=guardian, user=None
    )
    after = policy.decide(world.product, released)
    assert after.allowed == {"supplier_pseudonym"}
    assert after.reasons()["first_name"] == "no_consent"


def test_it_keeps_consent_to_the_product_it_was_given_for(world: World, released: Student) -> None:
    services.record_consent(
        released,
        world.other_product,
        "first_name",
        True,
        guardian=released.guardians.get(),
        user=None,
    )
    assert not first_name_allowed(world, released)


def test_it_audits_consent_without_names(world: World, released: Student) -> None:
    guardian = released.guardians.get()
    services.record_consent(
        released, world.product, "first_name", True, guardian=guardian, user=world.officer
    )
    services.record_consent(
        released, world.product, "first_name", False, guardian=guardian, user=world.officer
    )
    recorded = list(
        AuditEvent.objects.filter(event_type=events.CONSENT_RECORDED.name).order_by("pk")
    )
    assert events.CONSENT_RECORDED.name == "agreements.consent.recorded"
    assert [(item.details["attribute"], item.details["given"]) for item in recorded] == [
        ("first_name", True),
        ("first_name", False),
    ]
    for item in recorded:
        assert item.subject == f"student:{released.pk}"
        assert item.actor == f"user:{world.officer.pk}"
        assert item.details["product"] == world.product.pk
        text = json.dumps(item.details) + item.subject + item.actor
        for name in (
            released.roepnaam,
            released.achternaam,
            guardian.voornamen,
            guardian.achternaam,
            guardian.email,
            released.eck_id,
        ):
            if name:
                assert name not in text


def test_it_refuses_a_consent_decision_dated_in_the_future(world: World, released: Student) -> None:
    # A decision "taken" next week would otherwise hold from now on, and would outrank every
    # real decision recorded until then (the latest decision holds).
    guardian = released.guardians.get()
    for given in (True, False):
        assert_refused(
            "toekomst",
            partial(
                services.record_consent,
                released,
                world.product,
                "first_name",
                given,
                guardian=guardian,
                user=None,
                at=timezone.now() + timedelta(days=7),
            ),
        )
    assert not first_name_allowed(world, released)
