"""Releasing the ECK iD links suppliers: the register warns where a data schedule names it (and
says which other suppliers of the board receive it), and the privacy statement tells parents which
suppliers receive it and that they can link their child's data."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from regie.roster.tests.exports import client_for

from .. import documents, services
from ..catalogue import SUPPLIER_PSEUDONYM
from ..models import AgreementStatus, ProcessingAgreement, Product, Supplier
from .register import World, license_group, make_agreement, make_product, make_supplier

pytestmark = pytest.mark.django_db

WITH_ECK_ID = (SUPPLIER_PSEUDONYM, "eck_id", "groups")
WARNING = "Let op: deze bijsluiter noemt het ECK iD."
PEERS = "Andere leveranciers van het bestuur die het ECK iD ontvangen (actieve overeenkomst):"
NO_PEERS = "Geen andere leverancier van het bestuur ontvangt nu het ECK iD."


def page_text(http: Client, url: str) -> str:
    response = http.get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


@dataclass
class Linked:
    world: World
    bookshop: Supplier
    bookshop_product: Product
    bookshop_agreement: ProcessingAgreement
    lezen: Product
    toetsen: Product


@pytest.fixture
def linked(world: World) -> Linked:
    """Board A: Boekhandel (active, ECK iD), Taalrijk (active, ECK iD, two products), Toetsbureau
    (active, no ECK iD), Oud (terminated, ECK iD); board B: Elders (active, ECK iD)."""
    bookshop = make_supplier("Boekhandel Keten (fictief)", "99000011")
    bookshop_product = make_product(bookshop, "Bestellen")
    bookshop_agreement = make_agreement(world.board_a, bookshop, [bookshop_product], WITH_ECK_ID)
    taalrijk = make_supplier("Taalrijk (fictief)", "99000012")
    lezen = make_product(taalrijk, "Lezen")
    make_agreement(world.board_a, taalrijk, [lezen, make_product(taalrijk, "Spellen")], WITH_ECK_ID)
    tests = make_supplier("Toetsbureau (fictief)", "99000013")
    toetsen = make_product(tests, "Toetsen")
    make_agreement(world.board_a, tests, [toetsen])
    old = make_supplier("Oud (fictief)", "99000014")
    make_agreement(
        world.board_a,
        old,
        [make_product(old, "Oud")],
        WITH_ECK_ID,
        status=AgreementStatus.TERMINATED,
    )
    elsewhere = make_supplier("Elders (fictief)", "99000015")
    make_agreement(world.board_b, elsewhere, [make_product(elsewhere, "Elders")], WITH_ECK_ID)
    return Linked(world, bookshop, bookshop_product, bookshop_agreement, lezen, toetsen)


def test_it_names_the_other_suppliers_of_the_board_that_receive_the_eck_id(linked: Linked) -> None:
    recipients = services.eck_id_recipients(
        linked.world.board_a.pk, excluding_supplier_id=linked.bookshop.pk
    )
    assert [(item.supplier, item.products) for item in recipients] == [
        ("Taalrijk (fictief)", ("Lezen", "Spellen"))
    ]
    everyone = services.eck_id_recipients(linked.world.board_a.pk)
    assert [item.supplier for item in everyone] == [
        "Boekhandel Keten (fictief)",
        "Taalrijk (fictief)",
    ]


def test_the_agreement_page_warns_and_lists_the_other_recipients(linked: Linked) -> None:
    text = page_text(
        client_for(linked.world.officer),
        reverse("agreements:agreement", args=[linked.bookshop_agreement.pk]),
    )
    assert WARNING in text
    assert "kunnen hun gegevens over een leerling daarmee aan elkaar koppelen" in text
    assert PEERS in text
    assert "Taalrijk (fictief) (Lezen, Spellen)" in text
    for absent in ("Toetsbureau", "Oud (fictief)", "Elders", "Boekhandel Keten (fictief) ("):
        assert absent not in text


def test_a_schedule_without_the_eck_id_carries_no_warning(linked: Linked) -> None:
    text = page_text(
        client_for(linked.world.officer),
        reverse("agreements:agreement", args=[linked.world.agreement.pk]),
    )
    assert WARNING not in text


def test_the_only_recipient_is_told_no_other_supplier_receives_it(world: World) -> None:
    bookshop = make_supplier("Boekhandel Keten (fictief)", "99000011")
    agreement = make_agreement(
        world.board_a, bookshop, [make_product(bookshop, "Bestellen")], WITH_ECK_ID
    )
    text = page_text(
        client_for(world.officer), reverse("agreements:agreement", args=[agreement.pk])
    )
    assert WARNING in text
    assert NO_PEERS in text


def test_the_product_page_and_the_processing_form_warn_too(linked: Linked) -> None:
    http = client_for(linked.world.officer)
    product_page = page_text(http, reverse("agreements:product", args=[linked.bookshop_product.pk]))
    assert WARNING in product_page
    assert "Taalrijk (fictief) (Lezen, Spellen)" in product_page

    draft = make_agreement(
        linked.world.board_a,
        linked.bookshop,
        [linked.bookshop_product],
        status=AgreementStatus.DRAFT,
    )
    schedule = draft.schedules.get()
    form = page_text(http, reverse("agreements:processing-add", args=[schedule.pk]))
    assert "leveranciers die het ontvangen, kunnen hun gegevens over een leerling" in form
    assert "Taalrijk (fictief) (Lezen, Spellen)" in form
    assert "Boekhandel Keten (fictief) (" not in form  # the supplier itself


def test_an_offer_warns_without_naming_a_board(world: World) -> None:
    bookshop = make_supplier("Boekhandel Keten (fictief)", "99000011")
    offer = make_agreement(None, bookshop, [make_product(bookshop, "Bestellen")], WITH_ECK_ID)
    text = page_text(client_for(world.officer), reverse("agreements:offer", args=[offer.pk]))
    assert WARNING in text
    assert PEERS not in text
    assert NO_PEERS not in text


# --- the privacy statement -----------------------------------------------------------------------


def statement_text(linked: Linked) -> str:
    return page_text(Client(), reverse("agreements:privacy-statement", args=[linked.world.a1.pk]))


def test_the_privacy_statement_names_the_suppliers_that_receive_the_eck_id(linked: Linked) -> None:
    school = linked.world.a1
    for product in (linked.bookshop_product, linked.lezen, linked.toetsen):
        license_group(product, linked.world.group)
    for product in (linked.bookshop_product, linked.lezen):
        services.set_switch(school, product, "eck_id", True, user=None)

    statement = documents.privacy_statement(school)

    assert sorted(statement.eck_id_suppliers) == [
        "Boekhandel Keten (fictief)",
        "Taalrijk (fictief)",
    ]
    text = statement_text(linked)
    assert "Leveranciers die het ECK iD van uw kind ontvangen" in text
    assert "Deze leveranciers ontvangen ook het ECK iD van uw kind:" in text
    assert "kunnen daarmee de gegevens die zij over uw kind hebben aan elkaar koppelen" in text
    named = text.split("Deze leveranciers ontvangen ook het ECK iD van uw kind:")[1].split(".")[0]
    assert "Boekhandel Keten (fictief)" in named
    assert "Taalrijk (fictief)" in named
    assert "Toetsbureau" not in named


def test_the_privacy_statement_counts_only_an_eck_id_the_school_switched_on(
    linked: Linked,
) -> None:
    for product in (linked.bookshop_product, linked.lezen):
        license_group(product, linked.world.group)
    services.set_switch(linked.world.a1, linked.bookshop_product, "eck_id", True, user=None)

    assert documents.privacy_statement(linked.world.a1).eck_id_suppliers == (
        "Boekhandel Keten (fictief)",
    )
    assert "Deze leverancier ontvangt ook het ECK iD van uw kind: Boekhandel Keten (fictief)." in (
        statement_text(linked)
    )


def test_without_an_eck_id_the_privacy_statement_does_not_mention_it(linked: Linked) -> None:
    for product in (linked.bookshop_product, linked.toetsen):
        license_group(product, linked.world.group)
    assert documents.privacy_statement(linked.world.a1).eck_id_suppliers == ()
    assert "Leveranciers die het ECK iD van uw kind ontvangen" not in statement_text(linked)
