"""Consent in the portal (``portal:consent``): per licensed product and consent-gated attribute of
its schedule, the decision in force, give and withdraw — effective at once in the release policy —
and the history, so that two guardians of one child see each other's decisions (the last wins)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from regie.agreements import policy
from regie.agreements.models import Consent, ConsentGivenBy
from regie.roster.models import Guardian

from .people import PortalWorld, make_guardian

pytestmark = pytest.mark.django_db


def consent_page(world: PortalWorld, user: User) -> str:
    response = world.client(user).get(reverse("portal:consent", args=[world.child_a.pk]))
    assert response.status_code == 200
    return response.content.decode()


def decide(world: PortalWorld, user: User, given: bool) -> str:
    response = world.client(user).post(
        reverse("portal:consent", args=[world.child_a.pk]),
        {"product": world.product.pk, "attribute": "first_name", "given": "1" if given else "0"},
        follow=True,
    )
    assert response.status_code == 200
    return response.content.decode()


def first_name_goes(world: PortalWorld) -> bool:
    return "first_name" in policy.decide(world.product, world.child_a).allowed


def history(html: str) -> list[tuple[str, str]]:
    rows = re.findall(
        r"<tr><td>[^<]+</td><td>(gegeven|ingetrokken)</td><td>([^<]+)</td></tr>", html
    )
    return [(decision, who) for decision, who in rows]


def test_the_page_lists_the_consent_gated_attribute_of_the_licensed_product(
    world: PortalWorld,
) -> None:
    html = consent_page(world, world.user_a)
    assert "voornaam — Rekenwereld (Rekenwereld B.V. (fictief))" in html
    assert "Nog geen besluit: dit gegeven gaat niet mee." in html
    assert "groepen en klassen —" not in html  # not consent-gated: the school's switch decides


def test_giving_consent_lets_the_first_name_go_at_once_and_withdrawing_stops_it(
    world: PortalWorld,
) -> None:
    assert not first_name_goes(world)
    html = decide(world, world.user_a, True)
    assert "Toestemming gegeven voor voornaam bij Rekenwereld. Dit geldt meteen." in html
    assert first_name_goes(world)
    consent = Consent.objects.get(student=world.child_a)
    assert (consent.guardian, consent.given_by, consent.recorded_by) == (
        world.guardian_a,
        ConsentGivenBy.GUARDIAN,
        world.user_a,
    )
    assert "Het gaat nu mee." in html
    html = decide(world, world.user_a, False)
    assert not first_name_goes(world)
    assert history(html) == [("ingetrokken", "u"), ("gegeven", "u")]


def test_two_guardians_see_each_others_decisions_and_the_last_one_wins(world: PortalWorld) -> None:
    other = Guardian.objects.create(
        school=world.a1,
        las_key="A-OU-9999",
        voornamen="Bram",
        achternaam="Tweede",
        email="tweede.ouder@ouders.example",
    )
    other.students.add(world.child_a)
    other_user = make_guardian(world.board_a, other)
    decide(world, world.user_a, True)
    assert first_name_goes(world)
    decide(world, other_user, False)
    assert not first_name_goes(world)
    assert history(consent_page(world, world.user_a)) == [
        ("ingetrokken", "de andere ouder of verzorger"),
        ("gegeven", "u"),
    ]
    assert history(consent_page(world, other_user)) == [
        ("ingetrokken", "u"),
        ("gegeven", "de andere ouder of verzorger"),
    ]
    decide(world, world.user_a, True)
    assert first_name_goes(world)


def test_a_choice_that_is_not_on_the_page_is_refused_with_a_message(world: PortalWorld) -> None:
    response = world.client(world.user_a).post(
        reverse("portal:consent", args=[world.child_a.pk]),
        {"product": world.product.pk, "attribute": "groups", "given": "1"},
        follow=True,
    )
    assert "Kies een leermiddel en een gegeven uit de lijst." in response.content.decode()
    assert not Consent.objects.filter(student=world.child_a).exists()
