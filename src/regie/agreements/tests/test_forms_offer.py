"""The school's forms offer only what the services will accept; a crafted choice outside the
offer still reaches the service, which refuses it with its reason and changes nothing."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from regie.audit.models import AuditEvent
from regie.roster.tests.exports import client_for

from ..models import AgreementStatus, Consent, Licence
from .register import (
    World,
    license_group,
    make_agreement,
    make_product,
    make_supplier,
    school_year,
)

pytestmark = pytest.mark.django_db


def options(html: str, name: str) -> set[str]:
    """The values of the options of the select named ``name`` (the empty choice left out)."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, name
    return {value for value in re.findall(r'<option value="([^"]*)"', select[1]) if value}


def test_the_licence_form_offers_only_products_with_an_active_agreement(world: World) -> None:
    third = world.supplier.products.create(name="Schrijfwereld", sector="po")
    make_agreement(world.board_a, world.supplier, [third], status=AgreementStatus.SIGNED)
    url = f"{reverse('agreements:licence-create')}?school={world.a1.pk}"

    html = client_for(world.officer).get(url).content.decode()

    assert options(html, "product") == {str(world.product.pk)}


def test_a_board_without_an_active_agreement_is_told_so_instead_of_a_form(world: World) -> None:
    url = f"{reverse('agreements:licence-create')}?school={world.b1.pk}"

    html = client_for(world.officer_b).get(url).content.decode()

    assert "er kan nu geen licentie worden vastgelegd" in html
    assert 'name="product"' not in html


def test_a_crafted_licence_for_a_product_not_offered_is_refused_by_the_service(
    world: World,
) -> None:
    client = client_for(world.officer)  # logging in is an event of its own
    events = AuditEvent.objects.count()
    url = f"{reverse('agreements:licence-create')}?school={world.a1.pk}"

    response = client.post(
        url,
        {
            "product": world.other_product.pk,
            "school_year": school_year().pk,
            "group": world.group.pk,
        },
    )

    assert (
        "Het schoolbestuur heeft geen actieve verwerkersovereenkomst" in response.content.decode()
    )
    assert Licence.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_the_consent_form_offers_licensed_products_whose_schedule_needs_consent(
    world: World,
) -> None:
    # Leeswereld: active and licensed too, but its schedule needs no consent (pseudonym, groups).
    reading = make_product(make_supplier("Leeswereld B.V. (fictief)", "99000003"), "Leeswereld")
    make_agreement(
        world.board_a, reading.supplier, [reading], attributes=("supplier_pseudonym", "groups")
    )
    license_group(reading, world.group)
    license_group(world.product, world.group)
    pupil = world.pupil()

    html = client_for(world.officer).get(reverse("agreements:consents", args=[pupil.pk]))
    page = html.content.decode()

    assert options(page, "product") == {str(world.product.pk)}
    # Rekenwereld's schedule names groups and first name: only first name needs consent.
    assert options(page, "attribute") == {"first_name"}


def test_a_pupil_without_a_consent_gated_licence_gets_no_form(world: World) -> None:
    pupil = world.pupil()  # no licence at all

    page = client_for(world.officer).get(reverse("agreements:consents", args=[pupil.pk]))

    assert "Er is nu geen besluit vast te leggen." in page.content.decode()
    assert 'name="attribute"' not in page.content.decode()


def test_a_crafted_consent_for_an_attribute_that_needs_none_is_refused(world: World) -> None:
    license_group(world.product, world.group)
    pupil = world.pupil()
    guardian = pupil.guardians.filter(is_active=True).first()
    assert guardian is not None

    response = client_for(world.officer).post(
        reverse("agreements:consents", args=[pupil.pk]),
        {
            "product": world.product.pk,
            "attribute": "groups",
            "decision": "given",
            "guardian": guardian.pk,
        },
    )

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert Consent.objects.count() == 0


def test_the_agreement_page_offers_only_the_steps_the_rules_accept_now(world: World) -> None:
    supplier = make_supplier("Meetwereld B.V. (fictief)", "99000002")
    offered = make_agreement(
        world.board_a,
        supplier,
        [make_product(supplier, "Meetwereld")],
        status=AgreementStatus.OFFERED,
    )
    client = client_for(world.officer)
    url = reverse("agreements:agreement-transition", args=[offered.pk])

    page = client.get(reverse("agreements:agreement", args=[offered.pk])).content.decode()

    assert 'value="draft"' in page  # back to draft: allowed
    assert 'value="signed"' not in page  # not signed yet: not offered, and why
    assert "Naar status: ondertekend — nu nog niet mogelijk: Niet ondertekend." in page
    events = AuditEvent.objects.count()
    crafted = client.post(url, {"to": AgreementStatus.SIGNED})
    assert crafted.status_code == 400
    assert "Niet ondertekend." in crafted.content.decode()
    offered.refresh_from_db()
    assert offered.status == AgreementStatus.OFFERED
    assert AuditEvent.objects.count() == events
