"""The page about one pupil (:mod:`regie.gateway.pupils`): per licensed product what each channel
carries now by the release policy (with a consent-gated attribute before and after consent, and
without one), the licences, the consents and the results; never a pseudonym or an ECK iD; and
only for whoever may see the pupil (a teacher their groups' pupils; another school's pupil is a
404)."""

from __future__ import annotations

import random
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from regie.agreements import services as register
from regie.agreements.tests.register import (
    World,
    license_group,
    make_agreement,
    make_product,
    make_supplier,
)
from regie.logins import verified_client
from regie.roster.models import Student

from .. import scopes, services
from ..models import LineItem, Result, SupplierPseudonym

pytestmark = pytest.mark.django_db

SSO = "Inloggen (single sign-on)"
ROSTER = "Roostergegevens (OneRoster)"
RESULTS = "Resultaten (OneRoster Gradebook)"
NOT_USED = "niets: de leverancier gebruikt deze koppeling niet"


class PupilWorld(World):
    """Board A's agreement for Rekenwereld (pseudonym, groups, first name: consent-gated), licensed
    for the pupil's group with groups and first name switched on, and used for single sign-on and
    rostering; a second supplier's Taalrijk (pseudonym and groups, nothing consent-gated), licensed
    too, used by no client."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        license_group(self.product, self.group)
        for attribute in ("groups", "first_name"):
            register.set_switch(self.a1, self.product, attribute, True, user=None)
        for scope in (scopes.OPENID, scopes.ROSTER_CORE_READ):
            services.register_client(
                self.supplier,
                name=f"Client {scope.name[-20:]}",
                product=self.product,
                redirect_uris=["https://rekenwereld.leverancier.example/callback"],
                auth_method="client_secret_basic",
                scopes=[scope.name],
            )
        self.taal_supplier = make_supplier("Taalrijk Uitgevers (fictief)", "99000002")
        self.taal = make_product(self.taal_supplier, "Taalrijk")
        make_agreement(
            self.board_a, self.taal_supplier, [self.taal], ("supplier_pseudonym", "groups")
        )
        license_group(self.taal, self.group)
        register.set_switch(self.a1, self.taal, "groups", True, user=None)
        self.student = self.pupil()
        self.pseudonym = SupplierPseudonym.objects.create(
            student=self.student, supplier=self.supplier, value="ps-fictief-7f3a9c2e1b"
        )


@pytest.fixture
def world(rng: random.Random) -> PupilWorld:
    return PupilWorld(rng)


def page_of(client: Client, student: Student) -> str:
    response = client.get(reverse("pupil-data", args=[student.pk]))
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, product: str) -> str:
    """The part of the page about one product (up to the next product's heading)."""
    found = re.search(rf"<h3[^>]*>{product} \(.*?(?=<h3|<h2)", html, re.S)
    assert found is not None, html
    return found[0]


def channel(part: str, name: str) -> str:
    found = re.search(rf'<th scope="row">{re.escape(name)}</th>\s*<td>(.*?)</td>', part, re.S)
    assert found is not None, part
    return found[1]


def test_without_consent_the_consent_gated_first_name_does_not_go_and_the_page_says_why(
    world: PupilWorld,
) -> None:
    html = page_of(verified_client(world.officer), world.student)
    rekenwereld = section(html, "Rekenwereld")
    assert channel(rekenwereld, SSO) == "leverancierspseudoniem, groepen en klassen"
    assert channel(rekenwereld, ROSTER) == "leverancierspseudoniem, groepen en klassen"
    assert channel(rekenwereld, RESULTS) == NOT_USED
    assert "voornaam: voor dit gegeven is toestemming nodig" in rekenwereld
    assert "Er is geen besluit over toestemming vastgelegd." in html


def test_with_consent_the_first_name_goes_by_single_sign_on_and_the_consent_is_listed(
    world: PupilWorld,
) -> None:
    register.record_consent(
        world.student,
        world.product,
        "first_name",
        True,
        guardian=world.student.guardians.order_by("pk")[0],
        user=None,
    )
    html = page_of(verified_client(world.officer), world.student)
    rekenwereld = section(html, "Rekenwereld")
    assert channel(rekenwereld, SSO) == "leverancierspseudoniem, groepen en klassen, voornaam"
    assert "Niet verstrekt" not in rekenwereld
    consents = html[html.index("<h2>Toestemming</h2>") :]
    assert re.search(r"<td>Rekenwereld</td><td>voornaam</td><td>gegeven</td>", consents)


def test_a_product_without_consent_gated_data_and_without_clients_receives_nothing_now(
    world: PupilWorld,
) -> None:
    html = page_of(verified_client(world.officer), world.student)
    taalrijk = section(html, "Taalrijk")
    assert "Taalrijk Uitgevers (fictief)" in taalrijk
    for name in (SSO, ROSTER, RESULTS):
        assert channel(taalrijk, name) == NOT_USED
    assert "Niet verstrekt" not in taalrijk


def test_licences_and_results_are_listed(world: PupilWorld) -> None:
    item = LineItem.objects.create(
        supplier=world.supplier,
        product=world.product,
        sourced_id="li-1",
        group=world.group,
        title="Tafels van 7",
    )
    Result.objects.create(
        supplier=world.supplier,
        product=world.product,
        sourced_id="r-1",
        line_item=item,
        student=world.student,
        score=8.5,
        score_status="fully graded",
        score_date=timezone.localdate(),
    )
    html = page_of(verified_client(world.teacher), world.student)
    licences = html[html.index("<h2>Licenties</h2>") : html.index("<h2>Toestemming</h2>")]
    assert f"groep {world.group.name}" in licences
    assert licences.count("<tr><td>") == 2  # Rekenwereld and Taalrijk
    results = html[html.index("<h2>Resultaten</h2>") :]
    assert "Tafels van 7" in results
    assert "8.5" in results or "8,5" in results


def test_no_pseudonym_or_eck_id_is_on_the_page(world: PupilWorld) -> None:
    assert world.student.eck_id  # the imported pupil has one: the check below can fail
    html = page_of(verified_client(world.officer), world.student)
    assert world.pseudonym.value not in html
    assert world.student.eck_id not in html
    assert world.student.eck_id.rsplit("/", 1)[-1] not in html


def test_the_roster_pupil_page_links_to_it(world: PupilWorld) -> None:
    client = verified_client(world.teacher)
    html = client.get(reverse("roster:student", args=[world.student.pk])).content.decode()
    assert f'href="{reverse("pupil-data", args=[world.student.pk])}"' in html


def test_another_schools_pupil_is_a_404_and_a_teacher_sees_only_their_groups_pupils(
    world: PupilWorld,
) -> None:
    other_board = Student.objects.filter(school=world.b1).order_by("pk")[0]
    assert (
        verified_client(world.officer).get(reverse("pupil-data", args=[other_board.pk])).status_code
        == 404
    )
    not_taught = Student.objects.filter(school=world.a2).order_by("pk")[0]
    teacher = verified_client(world.teacher)
    assert teacher.get(reverse("pupil-data", args=[not_taught.pk])).status_code == 404
    assert teacher.get(reverse("pupil-data", args=[world.student.pk])).status_code == 200
    other_officer = verified_client(world.officer_b)
    assert other_officer.get(reverse("pupil-data", args=[world.student.pk])).status_code == 404
