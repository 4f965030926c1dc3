"""The release policy (DESIGN §1.1, §6): nothing about a pupil leaves the hub without an active
agreement, a licence, the schedule, the school's switch and, where gated, consent.

First examples through the real register (the ``world`` fixture), then properties of the pure
rule :func:`policy.evaluate` for all facts, and one property through the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regie.agreements import catalogue, policy, services
from regie.agreements.catalogue import CONSENT_GATED, DEFAULT_ON, SENSITIVE, SUPPLIER_PSEUDONYM
from regie.agreements.models import AgreementStatus, Consent, Licence, Product
from regie.agreements.policy import Condition, Decision, Facts
from regie.agreements.tests.register import (
    World,
    license_group,
    make_agreement,
    make_product,
    make_supplier,
    school_year,
)
from regie.core.models import SchoolYear
from regie.roster.models import Group, Student, StudentStatus

ALL_KEYS = tuple(catalogue.CATALOGUE)
NOT_GATED = frozenset(ALL_KEYS) - CONSENT_GATED


def another_product(name: str = "Leeslab", kvk: str = "99000002") -> Product:
    """A product of a supplier the boards have no agreement with yet."""
    return make_product(make_supplier(f"{name} B.V. (fictief)", kvk), name)


def conditions(decision: Decision) -> set[Condition]:
    return {refusal.condition for refusal in decision.refused}


def assert_nothing_allowed(decision: Decision, condition: Condition) -> None:
    assert decision.allowed == frozenset()
    assert not decision.may_release
    assert conditions(decision) == {condition}
    assert {refusal.attribute for refusal in decision.refused} == set(ALL_KEYS)


# --- no active agreement -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [
        AgreementStatus.DRAFT,
        AgreementStatus.OFFERED,
        AgreementStatus.SIGNED,
        AgreementStatus.TERMINATED,
        AgreementStatus.DATA_DESTROYED,
    ],
)
def test_it_releases_nothing_without_an_active_agreement(world: World, status: str) -> None:
    product = another_product()
    agreement = make_agreement(world.board_a, product.supplier, [product], status=status)
    assert agreement.status == status
    # A licence left over from an earlier agreement does not help: the agreement decides first.
    Licence.objects.create(
        product=product, school=world.a1, school_year=school_year(), group=world.group
    )
    decision = policy.decide(product, world.pupil())
    assert_nothing_allowed(decision, Condition.NO_ACTIVE_AGREEMENT)
    assert decision.agreement_id is None


def test_it_releases_nothing_outside_the_agreements_dates(world: World) -> None:
    product = another_product()
    agreement = make_agreement(
        world.board_a, product.supplier, [product], status=AgreementStatus.SIGNED
    )
    today = timezone.localdate()
    services.update_agreement(agreement, {"end_date": today + timedelta(days=10)}, user=None)
    agreement = services.transition(agreement, AgreementStatus.ACTIVE, user=None)
    license_group(product, world.group)
    pupil = world.pupil()

    assert policy.decide(product, pupil, day=today).allowed == {SUPPLIER_PSEUDONYM}
    assert policy.decide(product, pupil, day=today + timedelta(days=10)).allowed == {
        SUPPLIER_PSEUDONYM
    }
    ended = policy.decide(product, pupil, day=today + timedelta(days=11))
    assert_nothing_allowed(ended, Condition.NO_ACTIVE_AGREEMENT)
    assert agreement.start_date is not None
    not_started = policy.decide(product, pupil, day=agreement.start_date - timedelta(days=1))
    assert_nothing_allowed(not_started, Condition.NO_ACTIVE_AGREEMENT)


def test_it_does_not_count_another_boards_agreement(world: World) -> None:
    make_agreement(world.board_b, world.supplier, [world.other_product])
    group_b = Group.objects.get(school=world.b1, las_key="C-G5")
    license_group(world.other_product, group_b)
    # Even a licence row at board A does not make board B's agreement count for board A.
    Licence.objects.create(
        product=world.other_product, school=world.a1, school_year=school_year(), group=world.group
    )

    decision = policy.decide(world.other_product, world.pupil())
    assert_nothing_allowed(decision, Condition.NO_ACTIVE_AGREEMENT)

    pupil_b = Student.objects.filter(school=world.b1, groups=group_b).order_by("pk")[0]
    assert policy.decide(world.other_product, pupil_b).allowed == {SUPPLIER_PSEUDONYM}


# --- licences ------------------------------------------------------------------------------------


def test_it_releases_nothing_without_a_licence(world: World) -> None:
    decision = policy.decide(world.product, world.pupil())
    assert_nothing_allowed(decision, Condition.NO_LICENCE)
    assert decision.agreement_id == world.agreement.pk


def test_it_licenses_a_pupil_through_the_group(world: World) -> None:
    license_group(world.product, world.group)
    for pupil in Student.objects.filter(groups=world.group):
        decision = policy.decide(world.product, pupil)
        assert decision.allowed == {SUPPLIER_PSEUDONYM}
        assert decision.may_release
        assert decision.agreement_id == world.agreement.pk


def test_it_licenses_a_pupil_by_name(world: World) -> None:
    named, other = Student.objects.filter(school=world.a2).order_by("pk")[:2]
    licence = services.grant_licence(
        world.product, world.a2, school_year(), students=[named], user=None
    )
    assert licence.covers(named)
    assert not licence.covers(other)
    assert policy.decide(world.product, named).allowed == {SUPPLIER_PSEUDONYM}
    assert_nothing_allowed(policy.decide(world.product, other), Condition.NO_LICENCE)


def test_it_does_not_count_a_licence_of_another_school_year(world: World) -> None:
    last_year, _ = SchoolYear.objects.get_or_create(
        title="2025-2026", defaults={"start": date(2025, 8, 1), "end": date(2026, 7, 31)}
    )
    assert last_year != school_year()
    services.grant_licence(world.product, world.a1, last_year, group=world.group, user=None)
    assert_nothing_allowed(policy.decide(world.product, world.pupil()), Condition.NO_LICENCE)


def test_it_does_not_license_a_pupil_who_left(world: World) -> None:
    licence = license_group(world.product, world.group)
    pupil = world.pupil()
    pupil.status = StudentStatus.LEFT
    pupil.save(update_fields=["status"])
    assert not licence.covers(pupil)
    assert_nothing_allowed(policy.decide(world.product, pupil), Condition.NO_LICENCE)


# --- schedule, switches, consent -----------------------------------------------------------------


def test_it_refuses_what_the_schedule_does_not_name(world: World) -> None:
    license_group(world.product, world.group)
    decision = policy.decide(world.product, world.pupil(), ["last_name", "care", "eck_id"])
    assert decision.allowed == frozenset()
    assert decision.reasons() == {
        "last_name": "not_in_schedule",
        "care": "not_in_schedule",
        "eck_id": "not_in_schedule",
    }


def test_it_refuses_what_the_school_did_not_switch_on(world: World) -> None:
    license_group(world.product, world.group)
    # A switch at another school of the board does not count for this school's pupils.
    services.set_switch(world.a2, world.product, "groups", True, user=None)
    decision = policy.decide(world.product, world.pupil(), ["groups"])
    assert decision.allowed == frozenset()
    assert decision.reasons() == {"groups": "not_switched_on"}

    services.set_switch(world.a1, world.product, "groups", True, user=None)
    assert policy.decide(world.product, world.pupil(), ["groups"]).allowed == {"groups"}


def test_it_releases_the_supplier_pseudonym_by_default(world: World) -> None:
    license_group(world.product, world.group)
    decision = policy.decide(world.product, world.pupil())
    assert decision.allowed == {SUPPLIER_PSEUDONYM}
    reasons = decision.reasons()
    assert reasons["groups"] == "not_switched_on"
    assert reasons["first_name"] == "not_switched_on"
    assert reasons["last_name"] == "not_in_schedule"
    assert SUPPLIER_PSEUDONYM not in reasons


def test_it_needs_consent_for_a_gated_attribute(world: World) -> None:
    license_group(world.product, world.group)
    services.set_switch(world.a1, world.product, "first_name", True, user=None)
    pupil = world.pupil()
    decision = policy.decide(world.product, pupil)
    assert decision.allowed == {SUPPLIER_PSEUDONYM}
    assert decision.reasons()["first_name"] == "no_consent"

    services.record_consent(
        pupil, world.product, "first_name", True, guardian=pupil.guardians.get(), user=None
    )
    assert policy.decide(world.product, pupil).allowed == {SUPPLIER_PSEUDONYM, "first_name"}
    # Consent is per pupil: a classmate without it still gets only the pseudonym.
    classmate = Student.objects.filter(groups=world.group).exclude(pk=pupil.pk).order_by("pk")[0]
    assert policy.decide(world.product, classmate).reasons()["first_name"] == "no_consent"


def test_it_refuses_an_unknown_attribute_before_anything_else(world: World) -> None:
    decision = policy.decide(world.product, world.pupil(), ["shoe_size", SUPPLIER_PSEUDONYM])
    assert decision.reasons() == {
        "shoe_size": "unknown_attribute",
        SUPPLIER_PSEUDONYM: "no_licence",
    }
    license_group(world.product, world.group)
    decision = policy.decide(world.product, world.pupil(), ["shoe_size", SUPPLIER_PSEUDONYM])
    assert decision.allowed == {SUPPLIER_PSEUDONYM}
    assert decision.reasons() == {"shoe_size": "unknown_attribute"}
    assert decision.refused[0].explanation == str(policy.EXPLANATIONS[Condition.UNKNOWN_ATTRIBUTE])


def test_it_answers_only_what_was_requested(world: World) -> None:
    license_group(world.product, world.group)
    decision = policy.decide(
        world.product, world.pupil(), ["groups", SUPPLIER_PSEUDONYM, "groups", SUPPLIER_PSEUDONYM]
    )
    assert decision.allowed == {SUPPLIER_PSEUDONYM}
    assert [(refusal.attribute, refusal.condition) for refusal in decision.refused] == [
        ("groups", Condition.NOT_SWITCHED_ON)
    ]
    assert policy.decide(world.product, world.pupil(), []) == Decision(
        frozenset(), (), world.agreement.pk, covered=True
    )


# --- properties of the rule ----------------------------------------------------------------------

key_sets = st.frozensets(st.sampled_from(ALL_KEYS))
facts_strategy = st.builds(
    Facts,
    agreement_active=st.booleans(),
    licensed=st.booleans(),
    schedule=key_sets,
    switched_on=key_sets,
    consents=key_sets,
    agreement_id=st.none() | st.integers(min_value=1, max_value=10_000),
    dpia_allows=st.booleans(),
)
requested_strategy = st.none() | st.lists(
    st.sampled_from(ALL_KEYS)
    | st.sampled_from(["shoe_size", "bsn", "", "FIRST_NAME", "supplier_pseudonym "])
    | st.text(max_size=12),
    max_size=25,
)


def bound(facts: Facts) -> frozenset[str]:
    """The most the rule may ever allow for these facts."""
    if not (facts.agreement_active and facts.licensed):
        return frozenset()
    dpia = frozenset(ALL_KEYS) if facts.dpia_allows else frozenset(ALL_KEYS) - SENSITIVE
    return facts.schedule & (facts.switched_on | DEFAULT_ON) & dpia & (facts.consents | NOT_GATED)


def wanted(requested: Sequence[str] | None) -> list[str]:
    return list(dict.fromkeys(requested)) if requested is not None else list(ALL_KEYS)


@given(facts=facts_strategy, requested=requested_strategy)
def test_it_never_allows_more_than_every_condition_permits(
    facts: Facts, requested: list[str] | None
) -> None:
    decision = policy.evaluate(facts, requested)
    assert decision.allowed <= bound(facts)
    assert decision.allowed <= set(wanted(requested))
    if not (facts.agreement_active and facts.licensed):
        assert decision.allowed == frozenset()
    if requested is None:
        assert decision.allowed == bound(facts)
    assert decision.agreement_id == facts.agreement_id


@given(facts=facts_strategy, requested=requested_strategy)
def test_it_partitions_the_request_into_allowed_and_refused(
    facts: Facts, requested: list[str] | None
) -> None:
    decision = policy.evaluate(facts, requested)
    refused = [refusal.attribute for refusal in decision.refused]
    assert len(refused) == len(set(refused))
    assert not decision.allowed & set(refused)
    assert decision.allowed | set(refused) == set(wanted(requested))
    assert refused == [key for key in wanted(requested) if key not in decision.allowed]


@given(facts=facts_strategy, requested=requested_strategy)
def test_it_never_allows_more_when_a_switch_or_consent_is_removed(
    facts: Facts, requested: list[str] | None
) -> None:
    allowed = policy.evaluate(facts, requested).allowed
    for key in facts.switched_on:
        fewer = Facts(
            facts.agreement_active,
            facts.licensed,
            facts.schedule,
            facts.switched_on - {key},
            facts.consents,
            facts.agreement_id,
            facts.dpia_allows,
        )
        assert policy.evaluate(fewer, requested).allowed <= allowed
    for key in facts.consents:
        fewer = Facts(
            facts.agreement_active,
            facts.licensed,
            facts.schedule,
            facts.switched_on,
            facts.consents - {key},
            facts.agreement_id,
            facts.dpia_allows,
        )
        assert policy.evaluate(fewer, requested).allowed <= allowed
    without_dpia = Facts(
        facts.agreement_active,
        facts.licensed,
        facts.schedule,
        facts.switched_on,
        facts.consents,
        facts.agreement_id,
        dpia_allows=False,
    )
    assert policy.evaluate(without_dpia, requested).allowed <= allowed - SENSITIVE
    if facts.agreement_active:
        inactive = Facts(False, facts.licensed, facts.schedule, facts.switched_on, facts.consents)
        assert policy.evaluate(inactive, requested).allowed == frozenset()


def the_rule(facts: Facts, key: str) -> list[tuple[Condition, bool]]:
    """The conditions of DESIGN §6 in their order, each with whether it holds for ``key``."""
    return [
        (Condition.UNKNOWN_ATTRIBUTE, key in catalogue.CATALOGUE),
        (Condition.NO_ACTIVE_AGREEMENT, facts.agreement_active),
        (Condition.NO_LICENCE, facts.licensed),
        (Condition.NOT_IN_SCHEDULE, key in facts.schedule),
        (Condition.NOT_SWITCHED_ON, key in facts.switched_on or key in DEFAULT_ON),
        (Condition.NO_DPIA, key not in SENSITIVE or facts.dpia_allows),
        (Condition.NO_CONSENT, key not in CONSENT_GATED or key in facts.consents),
    ]


@given(facts=facts_strategy, requested=requested_strategy)
def test_it_names_the_first_condition_that_failed(
    facts: Facts, requested: list[str] | None
) -> None:
    decision = policy.evaluate(facts, requested)
    for refusal in decision.refused:
        failed = [condition for condition, holds in the_rule(facts, refusal.attribute) if not holds]
        assert failed, refusal
        assert refusal.condition == failed[0]
        assert refusal.explanation == str(policy.EXPLANATIONS[refusal.condition])
    for key in decision.allowed:
        assert all(holds for _condition, holds in the_rule(facts, key))


# --- a property through the register -------------------------------------------------------------

RICH_SCHEDULE = (SUPPLIER_PSEUDONYM, "groups", "year_level", "gender", "first_name", "last_name")


@pytest.fixture
def rich_product(world: World) -> Product:
    """A product whose active agreement at board A names more attributes, licensed for the group."""
    product = another_product("Wereldwijzer", "99000003")
    make_agreement(world.board_a, product.supplier, [product], attributes=RICH_SCHEDULE)
    license_group(product, world.group)
    return product


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    switches=st.frozensets(st.sampled_from(sorted(frozenset(ALL_KEYS) - DEFAULT_ON))),
    consents=st.lists(st.tuples(st.sampled_from(sorted(CONSENT_GATED)), st.booleans()), max_size=8),
)
def test_it_never_releases_more_than_schedule_switches_and_consents(
    world: World,
    rich_product: Product,
    switches: frozenset[str],
    consents: list[tuple[str, bool]],
) -> None:
    pupil = world.pupil()
    guardian = pupil.guardians.get()
    start = timezone.now() - timedelta(hours=1)
    # Each example starts from a clean register: the previous one was rolled back.
    assert services.switched_on(world.a1, rich_product) == frozenset()
    assert not Consent.objects.filter(student=pupil, product=rich_product).exists()
    with transaction.atomic():
        switched: set[str] = set()
        for key in sorted(switches):
            if key in RICH_SCHEDULE:
                services.set_switch(world.a1, rich_product, key, True, user=None)
                switched.add(key)
            else:
                with pytest.raises(services.Refused):
                    services.set_switch(world.a1, rich_product, key, True, user=None)
        in_force: dict[str, bool] = {}
        for number, (key, given_) in enumerate(consents):
            services.record_consent(
                pupil,
                rich_product,
                key,
                given_,
                guardian=guardian,
                user=None,
                at=start + timedelta(seconds=number),
            )
            in_force[key] = given_
        consented = {key for key, given_ in in_force.items() if given_}

        decision = policy.decide(rich_product, pupil)
        expected = frozenset(RICH_SCHEDULE) & (switched | DEFAULT_ON) & (consented | NOT_GATED)
        assert decision.allowed <= expected
        assert decision.allowed == expected
        transaction.set_rollback(True)
