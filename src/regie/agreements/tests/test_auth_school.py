"""Need-to-know on the school's decisions pages: licences, switches, consent, the council.

Anonymous users are sent to the login; teachers get 403 everywhere; a school, pupil or licence
the user does not edit (another board's, or for a school admin another school of the same board)
is a 404 and nothing changes; the council is for board-level editors only.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from regie.core.models import School
from regie.roster.models import Student
from regie.roster.tests.exports import client_for

from .. import services
from ..models import Consent, CouncilDecision, Licence, SchoolSwitch
from .register import World, license_group

pytestmark = pytest.mark.django_db


def pupil_of(school: School) -> Student:
    pupil = Student.objects.filter(school=school).order_by("pk").first()
    assert pupil is not None
    return pupil


def school_pages(world: World, school: School) -> list[str]:
    """The GET pages about one school of board A (switches, licence form, a pupil's consent)."""
    return [
        reverse("agreements:switches", args=[school.pk, world.product.pk]),
        f"{reverse('agreements:licence-create')}?school={school.pk}",
        reverse("agreements:consents", args=[pupil_of(school).pk]),
    ]


def all_pages(world: World) -> list[str]:
    return [
        reverse("agreements:licences"),
        reverse("agreements:licence-create"),
        reverse("agreements:council"),
        *school_pages(world, world.a1),
    ]


def statuses(client: Client, urls: list[str]) -> list[int]:
    return [client.get(url).status_code for url in urls]


def test_it_sends_anonymous_users_to_the_login(world: World) -> None:
    licence = license_group(world.product, world.group)
    client = Client()
    for url in all_pages(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))

    client.post(reverse("agreements:licence-revoke", args=[licence.pk]))

    assert Licence.objects.filter(pk=licence.pk).exists()


def test_it_forbids_teachers_every_page(world: World) -> None:
    licence = license_group(world.product, world.group)
    client = client_for(world.teacher)

    assert set(statuses(client, all_pages(world))) == {403}
    assert client.post(reverse("agreements:licence-revoke", args=[licence.pk])).status_code == 403
    assert client.post(school_pages(world, world.a1)[0], {"on": ["first_name"]}).status_code == 403
    assert Licence.objects.filter(pk=licence.pk).exists()
    assert SchoolSwitch.objects.count() == 0


@pytest.mark.parametrize("persona", ["officer", "board_admin"])
def test_it_lets_board_editors_use_every_school_of_their_board(world: World, persona: str) -> None:
    client = client_for(getattr(world, persona))
    pages = all_pages(world) + school_pages(world, world.a2)

    assert set(statuses(client, pages)) == {200}


def test_it_lets_a_school_admin_use_only_their_own_school(world: World) -> None:
    client = client_for(world.school_admin)
    own = [reverse("agreements:licences"), *school_pages(world, world.a1)]

    assert set(statuses(client, own)) == {200}
    assert set(statuses(client, school_pages(world, world.a2))) == {404}
    assert client.get(reverse("agreements:council")).status_code == 403


def test_it_hides_the_other_schools_licences_from_a_school_admin(world: World) -> None:
    own = license_group(world.product, world.group)
    other = license_group(world.product, world.a2.groups.get(las_key="B-G5"))
    client = client_for(world.school_admin)

    listing = client.get(reverse("agreements:licences"))
    revoked = client.post(reverse("agreements:licence-revoke", args=[other.pk]))

    assert list(listing.context["licences"]) == [own]
    assert revoked.status_code == 404
    assert Licence.objects.filter(pk=other.pk).exists()


def test_it_shows_another_board_nothing_of_board_a(world: World) -> None:
    licence = license_group(world.product, world.group)
    services.record_council_decision(
        world.board_a,
        document_title="Privacyreglement",
        document_version="1.0",
        decided_on=licence.school_year.start,
        decision="consent",
        user=None,
    )
    client = client_for(world.officer_b)

    assert set(statuses(client, school_pages(world, world.a1))) == {404}
    listing = client.get(reverse("agreements:licences"))
    assert list(listing.context["licences"]) == []
    search = client.post(reverse("agreements:licences"), {"q": pupil_of(world.a1).achternaam})
    assert all(hit.school == world.b1 for hit in search.context["hits"])
    assert list(client.get(reverse("agreements:council")).context["decisions"]) == []


def test_it_changes_nothing_of_board_a_for_another_board(world: World) -> None:
    licence = license_group(world.product, world.group)
    pupil = pupil_of(world.a1)
    guardian = pupil.guardians.first()
    assert guardian is not None
    client = client_for(world.officer_b)
    posts: list[tuple[str, dict[str, object]]] = [
        (reverse("agreements:licence-revoke", args=[licence.pk]), {}),
        (school_pages(world, world.a1)[0], {"on": ["first_name"]}),
        (
            school_pages(world, world.a1)[1],
            {"product": world.product.pk, "school_year": licence.school_year_id, "group": 1},
        ),
        (
            reverse("agreements:consents", args=[pupil.pk]),
            {
                "product": world.product.pk,
                "attribute": "first_name",
                "decision": "given",
                "guardian": guardian.pk,
            },
        ),
    ]

    for url, data in posts:
        assert client.post(url, data).status_code == 404, url

    council = client.post(
        reverse("agreements:council"),
        {
            "board": world.board_a.pk,
            "document_title": "Privacyreglement",
            "document_version": "9",
            "decided_on": licence.school_year.start.isoformat(),
            "decision": "consent",
        },
    )
    assert council.status_code == 200  # the form: board A is not a choice
    assert Licence.objects.count() == 1
    assert SchoolSwitch.objects.count() == 0
    assert Consent.objects.count() == 0
    assert CouncilDecision.objects.count() == 0


def test_it_answers_a_school_that_is_no_number_with_404(world: World) -> None:
    url = f"{reverse('agreements:licence-create')}?school=99XA"
    assert client_for(world.officer).get(url).status_code == 404
