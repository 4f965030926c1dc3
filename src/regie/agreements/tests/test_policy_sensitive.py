"""Sensitive attributes (care data, psychodiagnostics, care plans, special needs, health) go to a
supplier only when the schedule names them, the school switched them on, a DPIA is on record for
(board, product) whose outcome allows use, and consent is in force — and ``decide_many`` says
exactly what ``decide`` says."""

from __future__ import annotations

import random

import pytest
from django.utils import timezone

from regie.agreements import catalogue, policy
from regie.agreements import services as register
from regie.agreements.models import DpiaOutcome
from regie.agreements.policy import Condition, Facts, evaluate
from regie.roster.models import Student

from .register import World, license_group, make_agreement, make_product, make_supplier

pytestmark = pytest.mark.django_db

SENSITIVE = ("care", "psychodiagnostic", "care_plan", "special_needs", "health")


def test_the_sensitive_attributes_are_those_of_sensitive_categories_and_never_on_by_default() -> (
    None
):
    assert frozenset(SENSITIVE) == catalogue.SENSITIVE
    assert not catalogue.SENSITIVE & catalogue.DEFAULT_ON
    assert catalogue.SENSITIVE <= catalogue.CONSENT_GATED


@pytest.mark.parametrize(
    ("dpia", "consent", "expected"),
    [
        (False, False, Condition.NO_DPIA),
        (False, True, Condition.NO_DPIA),
        (True, False, Condition.NO_CONSENT),
        (True, True, None),
    ],
)
def test_the_rule_needs_a_dpia_and_consent(dpia: bool, consent: bool, expected: Condition) -> None:
    facts = Facts(
        agreement_active=True,
        licensed=True,
        schedule=frozenset({"psychodiagnostic", "groups"}),
        switched_on=frozenset({"psychodiagnostic", "groups"}),
        consents=frozenset({"psychodiagnostic"}) if consent else frozenset(),
        dpia_allows=dpia,
    )
    decision = evaluate(facts, ["psychodiagnostic", "groups"])
    assert "groups" in decision.allowed  # the DPIA is asked of sensitive attributes only
    if expected is None:
        assert "psychodiagnostic" in decision.allowed
    else:
        assert decision.reasons() == {"psychodiagnostic": expected.value}
        assert policy.EXPLANATIONS[expected]


def test_without_the_schedule_naming_it_nothing_else_counts() -> None:
    facts = Facts(agreement_active=True, licensed=True, dpia_allows=True)
    assert evaluate(facts, ["health"]).reasons() == {"health": "not_in_schedule"}


class SensitiveWorld(World):
    """Board A's agreement with a second supplier for Zorgwereld, naming psychodiagnostics and the
    pseudonym; a licence for group 5 of A1, psychodiagnostics switched on, consent for one
    pupil."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        supplier = make_supplier("Zorgwijzer B.V. (fictief)", "99000002")
        self.care_product = make_product(supplier, "Zorgwereld")
        make_agreement(
            self.board_a,
            supplier,
            [self.care_product],
            (catalogue.SUPPLIER_PSEUDONYM, "psychodiagnostic"),
        )
        license_group(self.care_product, self.group)
        register.set_switch(self.a1, self.care_product, "psychodiagnostic", True, user=None)
        self.consented = self.pupil()
        register.record_consent(
            self.consented,
            self.care_product,
            "psychodiagnostic",
            True,
            guardian=self.consented.guardians.get(),
            user=None,
        )

    def dpia(self, outcome: str) -> None:
        register.record_dpia(
            self.board_a,
            self.care_product,
            {
                "performed_on": timezone.localdate(),
                "outcome": outcome,
                "reference": "DPIA-2026-01 (fictief)",
                "reviewer_name": "C. Toetser",
                "reviewer_role": "functionaris gegevensbescherming",
            },
            user=None,
        )


@pytest.fixture
def world(rng: random.Random) -> SensitiveWorld:
    return SensitiveWorld(rng)


def _agree(world: SensitiveWorld) -> dict[int, policy.Decision]:
    pupils = list(Student.objects.select_related("school").order_by("pk"))
    for requested in (None, ["psychodiagnostic", "supplier_pseudonym"]):
        many = policy.decide_many(world.care_product, pupils, requested)
        for pupil in pupils:
            assert many[pupil.pk] == policy.decide(world.care_product, pupil, requested), pupil.pk
    return policy.decide_many(world.care_product, pupils, ["psychodiagnostic"])


def test_no_dpia_no_release_then_a_dpia_that_allows_use_releases_with_consent_only(
    world: SensitiveWorld,
) -> None:
    other = Student.objects.filter(groups=world.group).exclude(pk=world.consented.pk).first()
    assert other is not None
    decisions = _agree(world)
    assert decisions[world.consented.pk].reasons() == {"psychodiagnostic": "no_dpia"}
    world.dpia(DpiaOutcome.NOT_ACCEPTABLE)
    decisions = _agree(world)
    assert decisions[world.consented.pk].reasons() == {"psychodiagnostic": "no_dpia"}
    world.dpia(DpiaOutcome.WITH_MEASURES)
    decisions = _agree(world)
    assert decisions[world.consented.pk].allowed == {"psychodiagnostic"}
    assert decisions[other.pk].reasons() == {"psychodiagnostic": "no_consent"}
    # Another board's DPIA does not count for board A.
    assert not any(
        "psychodiagnostic" in decision.allowed
        for pk, decision in decisions.items()
        if Student.objects.get(pk=pk).school.board_id != world.board_a.pk
    )
