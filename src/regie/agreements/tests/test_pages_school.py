"""The school's decisions through its pages: licences, switches, consent and the council.

Every change is made by posting the page's form as a privacy officer would; every refusal shows
its reason next to the form and changes nothing.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.audit.models import AuditEvent
from regie.browser import document_language, unlabelled_controls
from regie.logins import log_in_in_browser
from regie.roster.models import Guardian, Student
from regie.roster.tests.exports import client_for

from .. import catalogue, policy, services
from ..models import Consent, CouncilDecision, Licence, SchoolSwitch
from ..policy import Condition
from .register import World, birthday_for_age, license_group, school_year

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db


def refusal_shown(response: Response, reason: str) -> bool:
    content = response.content.decode()
    return 'role="alert"' in content and reason in content


def licence_form_url(world: World) -> str:
    return f"{reverse('agreements:licence-create')}?school={world.a1.pk}"


def switches_url(world: World) -> str:
    return reverse("agreements:switches", args=[world.a1.pk, world.product.pk])


def consents_url(student: Student) -> str:
    return reverse("agreements:consents", args=[student.pk])


def guardian_of(student: Student) -> Guardian:
    guardian = student.guardians.filter(is_active=True).first()
    assert guardian is not None
    return guardian


def switch_first_name_on(world: World) -> None:
    services.set_switch(world.a1, world.product, "first_name", True, user=None)


# --- licences ------------------------------------------------------------------------------------


def test_it_grants_a_group_licence_through_the_page(world: World) -> None:
    client = client_for(world.officer)
    first = client.get(reverse("agreements:licence-create"))
    assert first.status_code == 200
    assert "Kies school" in first.content.decode()
    form = client.get(licence_form_url(world))
    assert form.status_code == 200
    assert world.group.name in form.content.decode()

    response = client.post(
        licence_form_url(world),
        {"product": world.product.pk, "school_year": school_year().pk, "group": world.group.pk},
    )

    assert response.status_code == 302
    licence = Licence.objects.get()
    assert (licence.product, licence.school, licence.group) == (
        world.product,
        world.a1,
        world.group,
    )
    assert licence.granted_by == world.officer
    listing = client.get(response["Location"])
    assert "De licentie is vastgelegd." in listing.content.decode()
    assert world.product.name in listing.content.decode()
    assert reverse("agreements:switches", args=[world.a1.pk, world.product.pk]) in (
        listing.content.decode()
    )


def test_it_offers_the_current_school_year_by_default(world: World) -> None:
    response = client_for(world.officer).get(licence_form_url(world))
    assert response.context["form"].initial["school_year"] == school_year()


def test_it_refuses_a_licence_for_a_product_without_an_active_agreement(world: World) -> None:
    client = client_for(world.officer)  # logging in is an event of its own
    events = AuditEvent.objects.count()

    response = client.post(
        licence_form_url(world),
        {
            "product": world.other_product.pk,
            "school_year": school_year().pk,
            "group": world.group.pk,
        },
    )

    assert response.status_code == 200
    assert refusal_shown(response, "Het schoolbestuur heeft geen actieve verwerkersovereenkomst")
    assert Licence.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_it_grants_a_licence_for_named_pupils(world: World) -> None:
    pupils = list(Student.objects.filter(school=world.a1).order_by("pk")[:2])

    response = client_for(world.officer).post(
        licence_form_url(world),
        {
            "product": world.product.pk,
            "school_year": school_year().pk,
            "students": [pupil.pk for pupil in pupils],
        },
    )

    assert response.status_code == 302
    licence = Licence.objects.get()
    assert licence.group is None
    assert set(licence.students.all()) == set(pupils)
    listing = client_for(world.officer).get(reverse("agreements:licences"))
    assert "2 leerlingen" in listing.content.decode()


@pytest.mark.parametrize("holder", ["neither", "both"])
def test_it_refuses_a_licence_for_neither_or_both_a_group_and_pupils(
    world: World, holder: str
) -> None:
    data: dict[str, object] = {"product": world.product.pk, "school_year": school_year().pk}
    if holder == "both":
        data |= {"group": world.group.pk, "students": [world.pupil().pk]}

    response = client_for(world.officer).post(licence_form_url(world), data)

    assert refusal_shown(response, "Kies een groep of kies leerlingen")
    assert Licence.objects.count() == 0


def test_it_refuses_a_pupil_of_another_school_on_a_licence(world: World) -> None:
    elsewhere = Student.objects.filter(school=world.a2).first()
    assert elsewhere is not None

    response = client_for(world.officer).post(
        licence_form_url(world),
        {"product": world.product.pk, "school_year": school_year().pk, "students": [elsewhere.pk]},
    )

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert Licence.objects.count() == 0


def test_it_revokes_a_licence(world: World) -> None:
    licence = license_group(world.product, world.group)
    client = client_for(world.officer)
    url = reverse("agreements:licence-revoke", args=[licence.pk])

    assert client.get(url).status_code == 200  # the confirmation page (tests: test_confirm_*)
    assert Licence.objects.filter(pk=licence.pk).exists()
    response = client.post(url)

    assert response.status_code == 302
    assert not Licence.objects.filter(pk=licence.pk).exists()
    assert "De licentie is ingetrokken." in client.get(response["Location"]).content.decode()


def test_it_filters_the_licences_by_school(world: World) -> None:
    license_group(world.product, world.group)
    group_a2 = world.a2.groups.get(las_key="B-G5")
    license_group(world.product, group_a2)
    client = client_for(world.officer)

    everything = client.get(reverse("agreements:licences"))
    only_a2 = client.get(reverse("agreements:licences"), {"school": world.a2.pk})

    assert list(everything.context["licences"]) == list(Licence.objects.order_by("school__name"))
    assert [licence.school for licence in only_a2.context["licences"]] == [world.a2]


def test_it_finds_a_pupil_by_name_without_putting_the_name_in_a_url(world: World) -> None:
    pupil = world.pupil()
    client = client_for(world.officer)

    response = client.post(reverse("agreements:licences"), {"q": pupil.achternaam})

    assert response.status_code == 200
    assert pupil in response.context["hits"]
    assert consents_url(pupil) in response.content.decode()
    other_board = Student.objects.filter(school=world.b1).first()
    assert other_board is not None
    assert all(hit.school.board == world.board_a for hit in response.context["hits"])


# --- switches ------------------------------------------------------------------------------------


def test_it_shows_the_schedule_and_the_catalogue_on_the_switches_page(world: World) -> None:
    response = client_for(world.officer).get(switches_url(world))

    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="switch-first_name"' in content
    assert 'id="switch-groups"' in content
    assert 'id="switch-supplier_pseudonym"' not in content  # the default: always on
    assert 'id="switch-email"' not in content  # not on the schedule
    assert "niet in de privacybijsluiter" in content
    assert "altijd aan" in content
    assert str(catalogue.get("first_name").category.label_nl) in content


def test_it_switches_first_name_on_and_the_policy_then_asks_for_consent(world: World) -> None:
    license_group(world.product, world.group)
    client = client_for(world.officer)

    response = client.post(switches_url(world), {"on": ["first_name"]})

    assert response.status_code == 302
    assert services.switched_on(world.a1, world.product) == {"first_name"}
    decision = policy.decide(world.product, world.pupil())
    assert "first_name" not in decision.allowed
    assert decision.reasons()["first_name"] == Condition.NO_CONSENT
    preview = client.get(switches_url(world))
    rows = {row.attribute.key: row for row in preview.context["rows"]}
    assert rows["first_name"].on
    assert rows["first_name"].receiving == 0  # no consent yet
    assert rows["supplier_pseudonym"].receiving == preview.context["total"] > 0


def test_it_switches_an_attribute_off(world: World) -> None:
    switch_first_name_on(world)

    response = client_for(world.officer).post(switches_url(world), {})

    assert response.status_code == 302
    assert services.switched_on(world.a1, world.product) == frozenset()


def test_it_refuses_a_switch_outside_the_schedule_and_changes_nothing(world: World) -> None:
    client = client_for(world.officer)  # logging in is an event of its own
    events = AuditEvent.objects.count()

    response = client.post(switches_url(world), {"on": ["first_name", "email"]})

    assert response.status_code == 200
    assert refusal_shown(response, "‘e-mailadres’ staat niet in de privacybijsluiter")
    assert SchoolSwitch.objects.count() == 0  # first_name was not switched on either
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("attribute", ["supplier_pseudonym", "shoe_size"])
def test_it_refuses_the_default_or_an_unknown_attribute(world: World, attribute: str) -> None:
    response = client_for(world.officer).post(switches_url(world), {"on": [attribute]})

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert SchoolSwitch.objects.count() == 0


def test_it_has_no_switches_page_for_a_product_without_an_agreement(world: World) -> None:
    url = reverse("agreements:switches", args=[world.a1.pk, world.other_product.pk])
    assert client_for(world.officer).get(url).status_code == 404


# --- consent -------------------------------------------------------------------------------------


def record_decision(
    client: Client, world: World, student: Student, given: bool, **extra: object
) -> Response:
    data = {
        "product": world.product.pk,
        "attribute": "first_name",
        "decision": "given" if given else "withdrawn",
        **extra,
    }
    response: Response = client.post(consents_url(student), data)
    return response


def test_it_records_a_guardians_consent_and_its_withdrawal(world: World) -> None:
    license_group(world.product, world.group)
    switch_first_name_on(world)
    pupil = world.pupil()
    guardian = guardian_of(pupil)
    client = client_for(world.officer)
    page = client.get(consents_url(pupil))
    assert "nooit gevraagd" in page.content.decode()
    assert "een ouder of verzorger beslist" in page.content.decode()

    given = record_decision(client, world, pupil, True, guardian=guardian.pk)

    assert given.status_code == 302
    assert "first_name" in policy.decide(world.product, pupil).allowed
    after = client.get(consents_url(pupil)).content.decode()
    assert str(guardian) in after
    assert world.officer.get_username() in after

    withdrawn = record_decision(client, world, pupil, False, guardian=guardian.pk)

    assert withdrawn.status_code == 302
    decision = policy.decide(world.product, pupil)
    assert decision.reasons()["first_name"] == Condition.NO_CONSENT
    assert Consent.objects.filter(student=pupil).count() == 2  # the history stays
    overview = client.get(consents_url(pupil))
    assert "ingetrokken" in overview.content.decode()
    assert str(policy.EXPLANATIONS[Condition.NO_CONSENT]) in overview.content.decode()


def test_it_refuses_a_decision_without_a_guardian_for_a_pupil_under_16(world: World) -> None:
    pupil = world.pupil()

    response = record_decision(client_for(world.officer), world, pupil, True)

    assert refusal_shown(response, "Voor een leerling onder de 16 beslist een ouder of verzorger.")
    assert Consent.objects.count() == 0


def test_it_refuses_a_guardian_of_another_pupil(world: World) -> None:
    pupil = world.pupil()
    stranger = Guardian.objects.filter(school=world.a1).exclude(students=pupil).first()
    assert stranger is not None

    response = record_decision(client_for(world.officer), world, pupil, True, guardian=stranger.pk)

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert Consent.objects.count() == 0


def test_it_lets_a_pupil_of_16_decide_and_refuses_a_guardian_for_them(world: World) -> None:
    license_group(world.product, world.group)
    switch_first_name_on(world)
    pupil = world.pupil()
    pupil.birth_date = birthday_for_age(17)
    pupil.save()
    guardian = guardian_of(pupil)
    client = client_for(world.officer)
    page = client.get(consents_url(pupil)).content.decode()
    assert "de leerling beslist zelf" in page
    assert 'name="guardian"' not in page

    by_guardian = record_decision(client, world, pupil, True, guardian=guardian.pk)

    assert refusal_shown(by_guardian, "De leerling is 16 jaar of ouder")
    assert Consent.objects.count() == 0

    own = record_decision(client, world, pupil, True)

    assert own.status_code == 302
    consent = Consent.objects.get()
    assert (consent.given_by, consent.guardian) == ("pupil", None)
    assert "first_name" in policy.decide(world.product, pupil).allowed
    assert "de leerling zelf" in client.get(consents_url(pupil)).content.decode()


def test_it_refuses_consent_for_an_attribute_that_needs_none(world: World) -> None:
    pupil = world.pupil()
    response = client_for(world.officer).post(
        consents_url(pupil),
        {
            "product": world.product.pk,
            "attribute": "groups",
            "decision": "given",
            "guardian": guardian_of(pupil).pk,
        },
    )
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert Consent.objects.count() == 0


# --- the participation council -------------------------------------------------------------------


def council_data(world: World, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "board": world.board_a.pk,
        "document_title": "Privacyreglement",
        "document_version": "2.1",
        "decided_on": (timezone.localdate() - timedelta(days=3)).isoformat(),
        "decision": "consent",
        "notes": "Unaniem (fictief).",
    }
    return data | changes


def test_it_records_a_council_decision_and_lists_it(world: World) -> None:
    client = client_for(world.officer)

    response = client.post(reverse("agreements:council"), council_data(world))

    assert response.status_code == 302
    item = CouncilDecision.objects.get()
    assert (item.board, item.document_version, item.decision) == (world.board_a, "2.1", "consent")
    listing = client.get(reverse("agreements:council")).content.decode()
    for shown in ("2.1", "instemming", "Unaniem (fictief)."):
        assert shown in listing


def test_it_refuses_a_council_decision_in_the_future(world: World) -> None:
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()

    response = client_for(world.officer).post(
        reverse("agreements:council"), council_data(world, decided_on=tomorrow)
    )

    assert response.status_code == 200
    assert refusal_shown(response, "Een besluit kan niet in de toekomst liggen.")
    assert CouncilDecision.objects.count() == 0


# --- in a real browser ---------------------------------------------------------------------------


def log_in(page: Page, base: str, username: str) -> None:
    log_in_in_browser(page, base, username)  # with the app's code at the second step


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.django_db(transaction=True)
def test_it_takes_an_officer_from_licence_to_consent_in_a_browser(
    live_server: LiveServer, page: Page, world: World
) -> None:
    pupil = world.pupil()
    guardian = guardian_of(pupil)
    log_in(page, live_server.url, world.officer.get_username())

    page.goto(f"{live_server.url}{reverse('agreements:licence-create')}")
    assert document_language(page) == "nl"
    assert unlabelled_controls(page) == []
    page.get_by_label("School").select_option(str(world.a1.pk))
    page.get_by_role("button", name="Kies school").click()
    assert unlabelled_controls(page) == []
    # Only products with an active agreement are offered (a crafted one: test_forms_offer).
    expect(page.get_by_label("Product").locator("option")).to_have_text(
        ["— kies een product —", world.product.name]
    )
    page.get_by_label(re.compile("^Groep:")).select_option(str(world.group.pk))
    page.get_by_label("Product").select_option(str(world.product.pk))
    page.get_by_role("button", name="Licentie vastleggen").click()
    expect(page.get_by_role("status")).to_contain_text("De licentie is vastgelegd.")
    assert unlabelled_controls(page) == []

    page.get_by_role("link", name=f"Schakelaars voor {world.product.name}").click()
    assert unlabelled_controls(page) == []
    page.get_by_label("voornaam", exact=True).check()
    page.get_by_role("button", name="Schakelaars opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("De schakelaars zijn opgeslagen.")
    expect(page.get_by_label("voornaam", exact=True)).to_be_checked()

    page.goto(f"{live_server.url}{reverse('agreements:licences')}")
    page.get_by_label("Leerling zoeken").fill(pupil.achternaam)
    page.get_by_role("button", name="Zoek").click()
    assert pupil.achternaam not in page.url
    page.get_by_role("link", name=str(pupil)).first.click()
    assert unlabelled_controls(page) == []
    page.get_by_label("Product").select_option(str(world.product.pk))
    page.get_by_label(re.compile("^Gegeven:")).select_option("first_name")
    page.get_by_label("toestemming gegeven").check()
    page.get_by_label("Ouder / verzorger die besluit").select_option(str(guardian.pk))
    page.get_by_role("button", name="Besluit vastleggen").click()
    expect(page.get_by_role("status")).to_contain_text("vastgelegd")
    assert "first_name" in policy.decide(world.product, pupil).allowed

    page.goto(f"{live_server.url}{reverse('agreements:council')}")
    assert unlabelled_controls(page) == []
