"""A privacy officer sets up a supplier from nothing, in a real browser, and parents can read it:
supplier → product → agreement with a data schedule → signed and activated → a group licensed →
an attribute switched on → the school's public privacy statement says so.

Runs Debian's Chromium through Playwright against a live server (see ``regie.browser``).
"""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.browser import document_language, unlabelled_controls
from regie.logins import log_in_in_browser
from regie.roster.importing.records import StaffRole
from regie.roster.models import Group
from regie.roster.tests.exports import load_school, make_board, make_staff

from .. import policy
from ..models import AgreementStatus, ProcessingAgreement, Product

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


def log_in(page: Page, base: str, username: str) -> None:
    log_in_in_browser(page, base, username)  # with the app's code at the second step


def accessible(page: Page) -> None:
    assert unlabelled_controls(page) == [], page.url
    assert document_language(page) == "nl"
    expect(page.locator("h1")).to_have_count(1)


def test_an_officer_takes_a_supplier_from_nothing_to_the_privacy_statement(
    live_server: LiveServer, page: Page, rng: random.Random
) -> None:
    board = make_board()
    school = load_school(board, rng, "99XA", "A")
    group = Group.objects.get(school=school, las_key="A-G5")
    make_staff(board, school, StaffRole.PRIVACY_OFFICER, username="fg-browser")
    base = live_server.url
    log_in(page, base, "fg-browser")

    # The register, from the menu.
    page.get_by_role("link", name="Privacyregister", exact=True).click()
    accessible(page)
    page.get_by_role("link", name="Leveranciers en producten").click()
    page.get_by_role("link", name="Nieuwe leverancier").click()
    accessible(page)
    page.get_by_label("Naam").fill("Spellingstad B.V. (fictief)")
    page.get_by_label("KvK-nummer").fill("99000077")
    page.get_by_label("Privacyconvenant").select_option("deelnemer")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator("h1")).to_have_text("Spellingstad B.V. (fictief)")
    page.get_by_role("link", name="Nieuw product").click()
    accessible(page)
    page.get_by_label("Naam").fill("Spellingstad")
    page.get_by_label("Sector").select_option("PO")
    page.get_by_role("button", name="Opslaan").click()
    product = Product.objects.get(name="Spellingstad")

    # The agreement, with a data schedule for the product.
    page.goto(f"{base}/privacy/overeenkomsten/nieuw/")
    accessible(page)
    page.get_by_label("Leverancier").select_option(label="Spellingstad B.V. (fictief)")
    page.get_by_label("Titel").fill("Verwerkersovereenkomst Spellingstad")
    page.get_by_label("Versie").fill("4.0")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator("h1")).to_have_text("Verwerkersovereenkomst Spellingstad")
    agreement = ProcessingAgreement.objects.get(title="Verwerkersovereenkomst Spellingstad")
    page.get_by_role("link", name="Privacybijsluiter toevoegen").click()
    accessible(page)
    page.get_by_label("Product").select_option(label="Spellingstad")
    page.get_by_role("button", name="Opslaan").click()
    page.get_by_role("link", name="Verwerking toevoegen aan Spellingstad").click()
    accessible(page)
    page.get_by_label("Doel").fill("Spelling oefenen")
    page.get_by_label("leerlingen").check()
    page.get_by_label("leverancierspseudoniem (gevoeligheid").check()
    page.get_by_label("voornaam (gevoeligheid").check()
    page.get_by_label("Bewaartermijn").fill("6")
    page.get_by_label("Vanaf").select_option("left_school")
    page.get_by_role("button", name="Verwerking toevoegen").click()
    expect(page.get_by_role("cell", name="Spelling oefenen", exact=True)).to_be_visible()

    # Offered; signing is not offered without signatures (the page says why); then signed and
    # activated.
    page.get_by_role("button", name=re.compile("Naar status: aangeboden")).click()
    expect(page.get_by_role("button", name=re.compile("Naar status: ondertekend"))).to_have_count(0)
    expect(page.locator("main")).to_contain_text("nu nog niet mogelijk: Niet ondertekend.")
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.OFFERED
    page.get_by_role("link", name="Gegevens en ondertekening wijzigen").click()
    accessible(page)
    today = timezone.localdate()
    page.get_by_label(re.compile("^Ondertekenaar bestuur")).fill("A. Bestuurder")
    page.get_by_label("Ondertekend door bestuur op").fill(str(today - timedelta(days=1)))
    page.get_by_label(re.compile("^Ondertekenaar leverancier")).fill("B. Directeur")
    page.get_by_label("Ondertekend door leverancier op").fill(str(today - timedelta(days=2)))
    page.get_by_label("Ingangsdatum").fill(str(today))
    page.get_by_role("button", name="Opslaan").click()
    page.get_by_role("button", name=re.compile("Naar status: ondertekend")).click()
    page.get_by_role("button", name=re.compile("Naar status: actief")).click()
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE

    # A licence for group 5, then first name switched on for the school.
    page.goto(f"{base}/privacy/licenties/nieuw/")
    accessible(page)
    page.get_by_label("Product").select_option(str(product.pk))
    page.get_by_label("Groep").select_option(str(group.pk))
    page.get_by_role("button", name="Licentie vastleggen").click()
    page.get_by_role("link", name="Schakelaars voor Spellingstad").click()
    accessible(page)
    page.get_by_label("voornaam", exact=True).check()
    page.get_by_role("button", name="Schakelaars opslaan").click()
    expect(page.get_by_label("voornaam", exact=True)).to_be_checked()
    pupil = group.students.order_by("pk").first()
    assert pupil is not None
    decision = policy.decide(product, pupil, ["supplier_pseudonym", "first_name"])
    assert decision.allowed == {"supplier_pseudonym"}
    assert decision.reasons() == {"first_name": "no_consent"}

    # Parents read it, without logging in.
    parent = page.context.browser.new_context(locale="nl-NL") if page.context.browser else None
    assert parent is not None
    public = parent.new_page()
    public.goto(f"{base}/privacy/scholen/{school.pk}/privacyverklaring/")
    accessible(public)
    expect(public.get_by_role("heading", name="Spellingstad", exact=True)).to_be_visible()
    expect(public.get_by_text("Spellingstad B.V. (fictief)")).to_be_visible()
    expect(public.get_by_text(re.compile("voornaam — alleen met uw toestemming"))).to_be_visible()
    expect(public.get_by_text("Spelling oefenen")).to_be_visible()
    parent.close()
