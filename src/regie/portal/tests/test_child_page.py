"""The page about one child (``portal:child``): what the school holds (categories, only those that
hold something), the releases from the log grouped per supplier with a proof each, the agreement in
force with its schedule, what goes now, who at school sees it — and its printable version and
download."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import LazySettings
from django.urls import reverse

from regie.agreements import services as register
from regie.agreements.models import Subprocessor
from regie.core import datacategories as dc

from .people import PortalWorld, release

pytestmark = pytest.mark.django_db


def page(world: PortalWorld, name: str = "portal:child") -> str:
    response = world.client(world.user_a).get(reverse(name, args=[world.child_a.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_lists_the_categories_the_school_holds_and_only_those(world: PortalWorld) -> None:
    html = page(world)
    for held in (dc.FIRST_NAME, dc.LAST_NAME, dc.DATE_OF_BIRTH, dc.ENROLMENT, dc.EMAIL, dc.ECK_ID):
        assert f'<th scope="row">{held.label_nl}' in html, held.key
    # Nothing of results, consents or supplier pseudonyms yet.
    for empty in (dc.RESULTS, dc.PRIVACY_PREFERENCES, dc.SUPPLIER_PSEUDONYM):
        assert f'<th scope="row">{empty.label_nl}' not in html, empty.key
    register.record_consent(
        world.child_a, world.product, "first_name", True, guardian=world.guardian_a, user=None
    )
    assert f'<th scope="row">{dc.PRIVACY_PREFERENCES.label_nl}' in page(world)


def test_releases_are_listed_per_supplier_with_labels_time_and_a_proof_link(
    world: PortalWorld,
) -> None:
    event = release(world.child_a, world, ("supplier_pseudonym", "groups"))
    release(world.child_b, world, ("supplier_pseudonym", "first_name"))  # not child A's
    html = page(world)
    section = html.split('id="verstrekkingen"')[1].split('id="afspraken"')[0]
    assert "<h3>Rekenwereld (Rekenwereld B.V. (fictief))</h3>" in section
    assert "leverancierspseudoniem, groepen en klassen" in section
    assert "Inloggen (single sign-on)" in section
    assert reverse("portal:release-proof", args=[world.child_a.pk, event.pk]) in section
    assert section.count("Bewijs downloaden") == 1
    assert "voornaam" not in section


def test_the_agreement_in_force_shows_purpose_retention_and_subprocessors_with_countries(
    world: PortalWorld,
) -> None:
    schedule = world.agreement.schedules.get(product=world.product)
    Subprocessor.objects.create(schedule=schedule, name="Wolkdienst (fictief)", location="NL")
    Subprocessor.objects.create(schedule=schedule, name="Verre Wolk (fictief)", location="US")
    html = page(world)
    part = html.split('id="afspraken"')[1].split('id="nu"')[0]
    assert "Oefenen en voortgang volgen" in part
    assert "12 maanden na uitschrijving van de leerling" in part
    assert "Wolkdienst (fictief) — NL: binnen de Europese Economische Ruimte" in part
    assert "Verre Wolk (fictief) — US: buiten de Europese Economische Ruimte" in part


def test_what_goes_now_and_who_at_school_sees_it(world: PortalWorld) -> None:
    html = page(world)
    now = html.split('id="nu"')[1].split('id="wie"')[0]
    assert "voornaam: voor dit gegeven is toestemming nodig" in now
    who = html.split('id="wie"')[1]
    # The teacher of the export and the world's teacher both teach group 5.
    assert "leerkracht (2 personen): de leerlingen van de groepen die zij lesgeven" in who
    assert "functionaris gegevensbescherming (1 persoon): alle leerlingen van de school" in who
    assert "bestuursbeheerder (1 persoon): alle leerlingen van alle scholen van het bestuur" in who


def test_the_printable_version_has_the_same_content_and_no_inline_style(
    world: PortalWorld,
) -> None:
    release(world.child_a, world, ("supplier_pseudonym",))
    html = page(world, "portal:child-print")
    assert "print.css" in html
    assert "Welke leverancier wat kreeg, en wanneer" in html
    assert "Oefenen en voortgang volgen" in html
    assert not re.search(r"<style|style=|<script", html)


def test_the_download_is_a_json_attachment_with_labels_never_values(world: PortalWorld) -> None:
    release(world.child_a, world, ("supplier_pseudonym", "groups"))
    response = world.client(world.user_a).get(
        reverse("portal:child-download", args=[world.child_a.pk])
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    body = json.loads(response.content)
    assert body["format"] == "regie-portal-overview/v1"
    assert [r["product"] for r in body["releases"]] == ["Rekenwereld"]
    assert body["releases"][0]["events"][0]["attributes"] == [
        "leverancierspseudoniem",
        "groepen en klassen",
    ]
    assert world.child_a.eck_id not in response.content.decode()
    assert body["agreements"][0]["processings"][0]["retention"] == (
        "12 maanden na uitschrijving van de leerling"
    )


def test_the_page_and_consent_speak_english_when_asked(
    world: PortalWorld, settings: LazySettings
) -> None:
    release(world.child_a, world, ("supplier_pseudonym", "groups"))
    client = world.client(world.user_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("portal:child", args=[world.child_a.pk])).content.decode()
    assert "Which supplier received what, and when" in html
    assert "12 months" in html
    assert f"Data of {world.child_a}" in html
    assert "Welke leverancier" not in html
    consent = client.get(reverse("portal:consent", args=[world.child_a.pk])).content.decode()
    assert "No decision yet: this data does not go." in consent
