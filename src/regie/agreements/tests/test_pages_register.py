"""The register through its pages: suppliers, products, DPIA screenings, agreements with their
data schedules, and adopting a supplier's offer.

Every change is made by posting the page's form as a privacy officer would; every refusal shows
its reason with role="alert", answers 400 and changes nothing.
"""

from __future__ import annotations

import html
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.browser import document_language, unlabelled_controls
from regie.logins import log_in_in_browser
from regie.roster.tests.exports import client_for

from .. import services
from ..models import (
    AgreementStatus,
    DataSchedule,
    DpiaScreening,
    Processing,
    ProcessingAgreement,
    Product,
    Subprocessor,
    Supplier,
)
from .register import World, make_agreement, make_product, make_supplier

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db


def text_of(response: Response) -> str:
    return html.unescape(response.content.decode())


def refusal_shown(response: Response, reason: str) -> bool:
    return (
        response.status_code == 400
        and 'role="alert"' in text_of(response)
        and (reason in text_of(response))
    )


def processing_values(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "purpose": "Rekenopgaven maken en voortgang volgen",
        "subjects": ["pupils"],
        "attributes": ["supplier_pseudonym", "groups", "first_name"],
        "sources": "de school via regie",
        "retention_period": "12",
        "retention_unit": "months",
        "retention_trigger": "left_school",
    }
    values.update(changes)
    return values


def signatures(**changes: Any) -> dict[str, Any]:
    today = timezone.localdate()
    values: dict[str, Any] = {
        "title": "Verwerkersovereenkomst Meetwereld (fictief)",
        "model": "mvo4",
        "version": "2",
        "board_signatory": "C. Voorzitter",
        "board_signatory_role": "voorzitter college van bestuur",
        "board_signed_on": (today - timedelta(days=2)).isoformat(),
        "supplier_signatory": "D. Directeur",
        "supplier_signatory_role": "directeur",
        "supplier_signed_on": (today - timedelta(days=3)).isoformat(),
        "start_date": (today - timedelta(days=1)).isoformat(),
        "end_date": "",
    }
    values.update(changes)
    return values


def draft_agreement(world: World) -> ProcessingAgreement:
    """A draft agreement of board A with a second supplier, one schedule, one processing."""
    supplier = make_supplier("Meetwereld B.V. (fictief)", "99000002")
    product = make_product(supplier, "Meetwereld")
    return make_agreement(
        world.board_a,
        supplier,
        [product],
        status=AgreementStatus.DRAFT,
        title="Verwerkersovereenkomst Meetwereld (fictief)",
    )


# --- suppliers and products ----------------------------------------------------------------------


def test_it_creates_a_supplier_and_a_product_through_the_pages(world: World) -> None:
    client = client_for(world.officer)
    assert client.get(reverse("agreements:supplier-create")).status_code == 200

    response = client.post(
        reverse("agreements:supplier-create"),
        {
            "name": "Leesleeuw B.V. (fictief)",
            "kvk": "99000003",
            "website": "https://leesleeuw.leverancier.example",
            "contact_name": "Ria Jansen",
            "contact_email": "privacy@leesleeuw.leverancier.example",
            "convenant_status": "medestander",
            "certifications": "ISO 27001, NEN 7510 ,",
        },
    )

    supplier = Supplier.objects.get(kvk="99000003")
    assert response.status_code == 302
    assert response["Location"] == reverse("agreements:supplier", args=[supplier.pk])
    assert supplier.certifications == ["ISO 27001", "NEN 7510"]
    assert supplier.convenant_status == "medestander"
    listing = text_of(client.get(reverse("agreements:suppliers")))
    assert "Leesleeuw B.V. (fictief)" in listing
    assert "ISO 27001, NEN 7510" in listing

    response = client.post(
        reverse("agreements:product-create", args=[supplier.pk]),
        {
            "name": "Leesleeuw",
            "url": "https://app.leesleeuw.example",
            "sector": "PO",
            "users": "pupils",
            "description": "Begrijpend lezen",
        },
    )

    product = Product.objects.get(supplier=supplier, name="Leesleeuw")
    assert response.status_code == 302
    assert response["Location"] == reverse("agreements:product", args=[product.pk])
    page = text_of(client.get(reverse("agreements:product", args=[product.pk])))
    assert "nog niet beoordeeld" in page
    assert "Leesleeuw" in text_of(client.get(reverse("agreements:supplier", args=[supplier.pk])))


def test_it_edits_a_supplier_and_keeps_it_on_a_bad_kvk(world: World) -> None:
    client = client_for(world.board_admin)
    url = reverse("agreements:supplier-edit", args=[world.supplier.pk])
    form = text_of(client.get(url))
    assert 'value="ISO 27001"' in form
    values = {
        "name": "Rekenwereld Nederland B.V. (fictief)",
        "kvk": world.supplier.kvk,
        "website": "",
        "contact_name": "",
        "contact_email": "",
        "convenant_status": "deelnemer",
        "certifications": "ISO 27001, ISAE 3402",
    }

    bad = client.post(url, {**values, "kvk": "12AB"})

    assert bad.status_code == 400
    assert 'role="alert"' in text_of(bad)
    world.supplier.refresh_from_db()
    assert world.supplier.name == "Rekenwereld B.V. (fictief)"

    taken = client.post(url, {**values, "kvk": "99000009"})
    assert taken.status_code == 302
    other = make_supplier("Ander B.V. (fictief)", "99000008")
    duplicate = client.post(url, {**values, "kvk": other.kvk})
    assert refusal_shown(duplicate, "kvk")
    world.supplier.refresh_from_db()
    assert world.supplier.kvk == "99000009"
    assert world.supplier.certifications == ["ISO 27001", "ISAE 3402"]


def test_it_shows_dpia_required_on_the_product_after_two_criteria(world: World) -> None:
    client = client_for(world.officer)
    url = reverse("agreements:product-dpia", args=[world.product.pk])
    form = client.get(url)
    assert form.status_code == 200
    assert "Stelselmatige monitoring" in text_of(form)

    response = client.post(
        url,
        {
            "board": world.board_a.pk,
            "criteria": ["vulnerable_subjects", "systematic_monitoring"],
            "notes": "Leerlingen zijn kinderen; voortgang wordt gevolgd.",
        },
    )

    assert response.status_code == 302
    screening = DpiaScreening.objects.get(board=world.board_a, product=world.product)
    assert screening.dpia_required
    page = text_of(client.get(reverse("agreements:product", args=[world.product.pk])))
    assert "DPIA vereist" in page
    assert "geen DPIA vereist" not in page
    assert "Stelselmatige monitoring" in page
    supplier_page = text_of(client.get(reverse("agreements:supplier", args=[world.supplier.pk])))
    assert "DPIA vereist" in supplier_page
    # Board B has not screened the product: its officer sees no result of board A.
    other = text_of(
        client_for(world.officer_b).get(reverse("agreements:product", args=[world.product.pk]))
    )
    assert "nog niet beoordeeld" in other
    assert "DPIA vereist" not in other


def test_it_shows_no_dpia_required_after_one_criterion_and_refuses_unknown_ones(
    world: World,
) -> None:
    client = client_for(world.officer)
    url = reverse("agreements:product-dpia", args=[world.product.pk])
    client.post(url, {"criteria": ["vulnerable_subjects"], "notes": ""})
    assert "geen DPIA vereist" in text_of(
        client.get(reverse("agreements:product", args=[world.product.pk]))
    )

    bad = client.post(url, {"criteria": ["vulnerable_subjects", "astrology"], "notes": "x"})

    assert bad.status_code == 400
    assert 'role="alert"' in text_of(bad)
    screening = DpiaScreening.objects.get(board=world.board_a, product=world.product)
    assert screening.criteria == ["vulnerable_subjects"]
    assert screening.notes == ""


# --- agreements and schedules --------------------------------------------------------------------


def test_it_builds_signs_and_activates_an_agreement_through_the_pages(world: World) -> None:
    supplier = make_supplier("Meetwereld B.V. (fictief)", "99000002")
    product = make_product(supplier, "Meetwereld")
    client = client_for(world.officer)
    assert client.get(reverse("agreements:agreement-create")).status_code == 200

    response = client.post(
        reverse("agreements:agreement-create"),
        {
            "board": world.board_a.pk,
            "supplier": supplier.pk,
            "title": "Verwerkersovereenkomst Meetwereld (fictief)",
            "model": "mvo4",
            "version": "2",
            "start_date": "",
            "end_date": "",
        },
    )

    agreement = ProcessingAgreement.objects.get(supplier=supplier, board=world.board_a)
    assert response.status_code == 302
    assert agreement.status == AgreementStatus.DRAFT
    detail_url = reverse("agreements:agreement", args=[agreement.pk])

    schedule_form = text_of(client.get(reverse("agreements:schedule-add", args=[agreement.pk])))
    assert "Meetwereld" in schedule_form
    assert "Taalwereld" not in schedule_form  # another supplier's product is not offered
    response = client.post(
        reverse("agreements:schedule-add", args=[agreement.pk]),
        {"product": product.pk, "breach_notification_hours": "24", "destruction_days": "30"},
    )
    assert response.status_code == 302
    schedule = DataSchedule.objects.get(agreement=agreement, product=product)
    assert schedule.destruction_days == 30

    form = text_of(client.get(reverse("agreements:processing-add", args=[schedule.pk])))
    assert "voornaam (gevoeligheid: hoog; toestemming nodig)" in form
    response = client.post(
        reverse("agreements:processing-add", args=[schedule.pk]), processing_values()
    )
    assert response.status_code == 302
    processing = Processing.objects.get(schedule=schedule)
    assert processing.attributes == ["supplier_pseudonym", "groups", "first_name"]

    detail = text_of(client.get(detail_url))
    assert "Rekenopgaven maken en voortgang volgen" in detail
    assert "12 maanden na uitschrijving" in detail
    assert "toestemming nodig" in detail
    assert "leerlingen" in detail
    assert "binnen 24 uur" in detail

    for step in (AgreementStatus.OFFERED,):
        assert (
            client.post(
                reverse("agreements:agreement-transition", args=[agreement.pk]), {"to": step}
            ).status_code
            == 302
        )
    response = client.post(reverse("agreements:agreement-edit", args=[agreement.pk]), signatures())
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.is_signed
    for step in (AgreementStatus.SIGNED, AgreementStatus.ACTIVE):
        response = client.post(
            reverse("agreements:agreement-transition", args=[agreement.pk]), {"to": step}
        )
        assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE
    assert agreement.is_active_on(timezone.localdate())
    detail = text_of(client.get(detail_url))
    assert "C. Voorzitter" in detail
    assert "Naar status: beëindigd" in detail
    assert "Verwijder" not in detail  # an active agreement's schedule no longer changes


def test_it_refuses_signing_and_activation_without_signatures_and_keeps_the_status(
    world: World,
) -> None:
    agreement = draft_agreement(world)
    client = client_for(world.officer)
    url = reverse("agreements:agreement-transition", args=[agreement.pk])
    client.post(url, {"to": AgreementStatus.OFFERED})

    response = client.post(url, {"to": AgreementStatus.SIGNED})

    assert refusal_shown(
        response, "Niet ondertekend. Dit ontbreekt nog: ondertekenaar van het bestuur"
    )
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.OFFERED

    client.post(reverse("agreements:agreement-edit", args=[agreement.pk]), signatures())
    client.post(url, {"to": AgreementStatus.SIGNED})
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SIGNED
    # The board's signature is withdrawn before activation (allowed on a signed agreement).
    response = client.post(
        reverse("agreements:agreement-edit", args=[agreement.pk]),
        signatures(board_signatory="", board_signed_on=""),
    )
    assert response.status_code == 302

    response = client.post(url, {"to": AgreementStatus.ACTIVE})

    assert refusal_shown(
        response,
        "Dit ontbreekt nog: ondertekenaar van het bestuur, datum van ondertekening door het bestuur",
    )
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SIGNED

    response = client.post(url, {"to": "bogus"})
    assert refusal_shown(response, "kan niet van ‘ondertekend’ naar ‘bogus’")


def test_it_refuses_an_unknown_attribute_and_creates_nothing(world: World) -> None:
    agreement = draft_agreement(world)
    schedule = agreement.schedules.get()
    before = Processing.objects.count()
    client = client_for(world.officer)

    response = client.post(
        reverse("agreements:processing-add", args=[schedule.pk]),
        processing_values(attributes=["supplier_pseudonym", "shoe_size"]),
    )

    assert refusal_shown(response, "Onbekende gegevens (niet in de catalogus): shoe_size")
    assert Processing.objects.count() == before


def test_it_refuses_a_negative_retention_and_creates_nothing(world: World) -> None:
    agreement = draft_agreement(world)
    schedule = agreement.schedules.get()
    before = Processing.objects.count()
    client = client_for(world.officer)

    response = client.post(
        reverse("agreements:processing-add", args=[schedule.pk]),
        processing_values(retention_period="-3"),
    )

    assert refusal_shown(response, "De bewaartermijn kan niet negatief zijn.")
    assert Processing.objects.count() == before
    none_chosen = client.post(
        reverse("agreements:processing-add", args=[schedule.pk]), processing_values(attributes=[])
    )
    assert refusal_shown(none_chosen, "Een verwerking noemt ten minste één gegeven.")
    assert Processing.objects.count() == before


def test_it_refuses_changes_to_an_active_agreement(world: World) -> None:
    client = client_for(world.officer)
    schedule = world.agreement.schedules.get()
    processing = schedule.processings.get()
    before = (Processing.objects.count(), Subprocessor.objects.count())

    add = client.post(reverse("agreements:processing-add", args=[schedule.pk]), processing_values())
    remove = client.post(reverse("agreements:processing-remove", args=[processing.pk]))
    rename = client.post(
        reverse("agreements:agreement-edit", args=[world.agreement.pk]),
        signatures(title="Een andere titel"),
    )

    for response in (add, remove, rename):
        assert refusal_shown(response, "De overeenkomst heeft de status ‘actief’")
    assert (Processing.objects.count(), Subprocessor.objects.count()) == before
    world.agreement.refresh_from_db()
    assert world.agreement.title == "Verwerkersovereenkomst (fictief)"


def test_it_adds_a_deviation_and_a_subprocessor_and_removes_a_processing(world: World) -> None:
    agreement = draft_agreement(world)
    schedule = agreement.schedules.get()
    client = client_for(world.officer)

    no_reason = client.post(
        reverse("agreements:deviation-add", args=[agreement.pk]),
        {"clause": "artikel 7.2", "text": "Melding binnen 36 uur", "reason": "  "},
    )
    assert no_reason.status_code == 400
    assert agreement.deviations.count() == 0
    client.post(
        reverse("agreements:deviation-add", args=[agreement.pk]),
        {"clause": "artikel 7.2", "text": "Melding binnen 36 uur", "reason": "Weekenddienst"},
    )
    assert agreement.deviations.get().reason == "Weekenddienst"

    outside = client.post(
        reverse("agreements:subprocessor-add", args=[schedule.pk]),
        {
            "name": "Wolkdienst Inc. (fictief)",
            "kvk": "",
            "location": "US",
            "transfer_mechanism": "none",
        },
    )
    assert refusal_shown(outside, "US ligt buiten de EER: noem de doorgiftegrondslag.")
    assert schedule.subprocessors.count() == 0
    client.post(
        reverse("agreements:subprocessor-add", args=[schedule.pk]),
        {
            "name": "Wolkdienst Inc. (fictief)",
            "kvk": "",
            "location": "US",
            "transfer_mechanism": "scc",
        },
    )
    detail = text_of(client.get(reverse("agreements:agreement", args=[agreement.pk])))
    assert "Wolkdienst Inc. (fictief)" in detail
    assert "modelcontractbepalingen" in detail
    assert "Weekenddienst" in detail

    processing = schedule.processings.get()
    response = client.post(reverse("agreements:processing-remove", args=[processing.pk]))
    assert response.status_code == 302
    assert not Processing.objects.filter(pk=processing.pk).exists()


def test_it_lists_agreements_filtered_by_status(world: World) -> None:
    draft = draft_agreement(world)
    client = client_for(world.officer)
    everything = text_of(client.get(reverse("agreements:agreements")))
    assert draft.title in everything
    assert world.agreement.title in everything
    drafts = text_of(client.get(reverse("agreements:agreements") + "?status=draft"))
    assert draft.title in drafts
    assert world.agreement.title not in drafts
    overview = text_of(client.get(reverse("agreements:overview")))
    assert reverse("agreements:art30", args=["csv"]) in overview
    assert reverse("agreements:privacy-statement", args=[world.a2.pk]) in overview
    assert reverse("agreements:privacy-statement", args=[world.b1.pk]) not in overview


# --- offers --------------------------------------------------------------------------------------


def test_it_adopts_an_offer_as_the_boards_agreement(world: World) -> None:
    supplier = make_supplier("Meetwereld B.V. (fictief)", "99000002")
    product = make_product(supplier, "Meetwereld")
    offer = make_agreement(None, supplier, [product], title="Aanbod Meetwereld (fictief)")
    client = client_for(world.officer)
    assert "Aanbod Meetwereld (fictief)" in text_of(client.get(reverse("agreements:offers")))
    page = text_of(client.get(reverse("agreements:offer", args=[offer.pk])))
    assert "Overnemen voor mijn bestuur" in page
    assert "12 maanden na uitschrijving" in page

    response = client.post(
        reverse("agreements:offer-adopt", args=[offer.pk]), {"board": world.board_a.pk}
    )

    adopted = ProcessingAgreement.objects.get(board=world.board_a, adopted_from=offer)
    assert response.status_code == 302
    assert response["Location"] == reverse("agreements:agreement", args=[adopted.pk])
    assert adopted.status == AgreementStatus.OFFERED
    assert adopted.schedules.get().product == product
    assert adopted.schedules.get().attributes() == offer.schedules.get().attributes()
    offer.refresh_from_db()
    assert offer.board_id is None  # the offer stays for the next board
    # Board B cannot adopt for board A.
    response = client_for(world.officer_b).post(
        reverse("agreements:offer-adopt", args=[offer.pk]), {"board": world.board_a.pk}
    )
    assert response.status_code == 404
    assert ProcessingAgreement.objects.filter(adopted_from=offer).count() == 1


# --- in a real browser ---------------------------------------------------------------------------


def log_in(page: Page, base: str, username: str) -> None:
    log_in_in_browser(page, base, username)  # with the app's code at the second step


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.django_db(transaction=True)
def test_it_lets_an_officer_add_a_processing_in_a_browser(
    live_server: LiveServer, page: Page, world: World
) -> None:
    agreement = draft_agreement(world)
    schedule = agreement.schedules.get()
    log_in(page, live_server.url, "fg-a")
    page.goto(f"{live_server.url}{reverse('agreements:overview')}")
    assert document_language(page) == "nl"
    assert unlabelled_controls(page) == []
    page.get_by_role("link", name="Alle verwerkersovereenkomsten").click()
    assert unlabelled_controls(page) == []
    page.get_by_role("link", name=agreement.title).click()
    assert unlabelled_controls(page) == []
    page.get_by_role("link", name="Verwerking toevoegen aan Meetwereld").click()
    assert unlabelled_controls(page) == []

    page.get_by_label("Doel").fill("Meten en weten")
    page.get_by_label("leerlingen").check()
    page.get_by_label("leverancierspseudoniem", exact=False).check()
    page.get_by_label("Bewaartermijn").fill("-1")
    page.get_by_label("Vanaf").select_option("end_of_contract")
    page.get_by_role("button", name="Verwerking toevoegen").click()
    expect(page.get_by_role("alert")).to_contain_text("De bewaartermijn kan niet negatief zijn.")
    assert schedule.processings.count() == 1

    page.get_by_label("Bewaartermijn").fill("2")
    page.get_by_role("button", name="Verwerking toevoegen").click()
    expect(page.get_by_role("status")).to_contain_text("De verwerking is toegevoegd.")
    expect(page.get_by_role("cell", name="Meten en weten", exact=True)).to_be_visible()
    assert schedule.processings.count() == 2

    for url in (
        reverse("agreements:suppliers"),
        reverse("agreements:supplier-create"),
        reverse("agreements:product-dpia", args=[world.product.pk]),
        reverse("agreements:agreement-create"),
        reverse("agreements:agreement-edit", args=[agreement.pk]),
        reverse("agreements:schedule-add", args=[agreement.pk]),
        reverse("agreements:subprocessor-add", args=[schedule.pk]),
        reverse("agreements:deviation-add", args=[agreement.pk]),
        reverse("agreements:offers"),
    ):
        page.goto(f"{live_server.url}{url}")
        assert unlabelled_controls(page) == [], url
        assert page.locator("h1").count() == 1, url
    assert services.visible_agreements(world.officer).count() == 2
