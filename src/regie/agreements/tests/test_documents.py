"""The documents generated from the register: the privacy statement and the art. 30 register."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from regie.agreements import documents, services
from regie.agreements.models import Licence, ProcessingAgreement, Product, Supplier
from regie.audit.models import AuditEvent
from regie.core.models import School
from regie.roster.models import Staff
from regie.roster.tests.exports import client_for

from .register import (
    World,
    license_group,
    make_agreement,
    make_product,
    make_supplier,
    school_year,
)


def activate(agreement: ProcessingAgreement) -> ProcessingAgreement:
    """Offer, sign and activate an agreement built by hand (with subprocessors)."""
    today = timezone.localdate()
    agreement = services.transition(agreement, "offered", user=None)
    services.update_agreement(
        agreement,
        {
            "board_signatory": "A. Bestuurder",
            "board_signed_on": today - timedelta(days=10),
            "supplier_signatory": "B. Directeur",
            "supplier_signed_on": today - timedelta(days=11),
            "start_date": today - timedelta(days=10),
        },
        user=None,
    )
    agreement = services.transition(agreement, "signed", user=None)
    return services.transition(agreement, "active", user=None)


def reading_app(world: World) -> tuple[Supplier, Product, ProcessingAgreement]:
    """A second supplier with an active agreement of board A: two processings, two
    subprocessors (one in the United States, under standard contractual clauses)."""
    supplier = make_supplier("Leesplein B.V. (fictief)", "99000002")
    product = make_product(supplier, "Leesplein")
    agreement = services.create_agreement(
        world.board_a,
        supplier,
        {"title": "Verwerkersovereenkomst Leesplein", "version": "2"},
        user=None,
    )
    schedule = services.save_schedule(agreement, product, breach_notification_hours=48, user=None)
    services.add_processing(
        schedule,
        purpose="Leesboeken uitlenen",
        subjects=["pupils"],
        attributes=["supplier_pseudonym", "groups"],
        retention_period=1,
        retention_unit="years",
        retention_trigger="end_of_school_year",
        user=None,
    )
    services.add_processing(
        schedule,
        purpose="Leesvoortgang aan de leerkracht tonen",
        subjects=["pupils", "teachers"],
        attributes=["supplier_pseudonym", "results"],
        retention_period=30,
        retention_unit="days",
        retention_trigger="end_of_contract",
        user=None,
    )
    services.add_subprocessor(
        schedule, name="Rekenhal B.V.", kvk="99000003", location="NL", user=None
    )
    services.add_subprocessor(
        schedule, name="Wolk Inc.", location="US", transfer_mechanism="scc", user=None
    )
    return supplier, product, activate(agreement)


def statement_url(school: School, printable: bool = False) -> str:
    name = "agreements:privacy-statement-print" if printable else "agreements:privacy-statement"
    return reverse(name, args=[school.pk])


def art30_url(fmt: str, board_id: int | None = None) -> str:
    url = reverse("agreements:art30", args=[fmt])
    return url if board_id is None else f"{url}?board={board_id}"


def csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"))))


# --- the privacy statement -----------------------------------------------------------------------


def test_it_lists_a_licensed_product_with_what_goes_to_the_supplier(world: World) -> None:
    license_group(world.product, world.group)
    services.set_switch(world.a1, world.product, "first_name", True, user=None)

    statement = documents.privacy_statement(world.a1)

    (product,) = statement.products
    assert product.name == "Rekenwereld"
    assert product.supplier.name == "Rekenwereld B.V. (fictief)"
    assert product.supplier.kvk == "99000001"
    assert product.supplier.convenant_status == "deelnemer"
    assert [item.key for item in product.data] == ["supplier_pseudonym", "first_name"]
    assert [item.key for item in product.data if item.consent_gated] == ["first_name"]
    assert [purpose.purpose for purpose in product.purposes] == ["Oefenen en voortgang volgen"]

    page = Client().get(statement_url(world.a1)).content.decode()
    for text in (
        "Rekenwereld B.V. (fictief)",
        "99000001",
        "Oefenen en voortgang volgen",
        "leverancierspseudoniem",
        "voornaam",
        "alleen met uw toestemming",
        "12 maanden na uitschrijving",
        "fg-a@school.example",
        "Autoriteit Persoonsgegevens",
    ):
        assert text in page, text
    assert "groepen en klassen" not in page  # on the schedule, but not switched on


def test_it_does_not_list_products_without_licence_or_active_agreement(world: World) -> None:
    make_agreement(world.board_a, world.supplier, [world.other_product], status="draft")
    # A licence made by hand (the service refuses one without an active agreement).
    Licence.objects.create(
        product=world.other_product, school=world.a1, school_year=school_year(), group=world.group
    )

    statement = documents.privacy_statement(world.a1)

    assert statement.products == ()  # product: no licence; other product: agreement is a draft
    page = Client().get(statement_url(world.a1)).content.decode()
    assert "Rekenwereld" not in page
    assert "Taalwereld" not in page
    assert "Op dit moment ontvangt geen enkel digitaal leermiddel" in page


def test_it_drops_the_product_of_a_terminated_agreement(world: World) -> None:
    license_group(world.product, world.group)
    assert [item.name for item in documents.privacy_statement(world.a1).products] == ["Rekenwereld"]

    services.transition(world.agreement, "terminated", user=None)

    assert documents.privacy_statement(world.a1).products == ()
    assert "Rekenwereld" not in Client().get(statement_url(world.a1)).content.decode()


def test_it_lists_only_the_products_licensed_at_that_school(world: World) -> None:
    license_group(world.product, world.group)

    assert documents.privacy_statement(world.a2).products == ()


def test_it_shows_retention_in_words_and_subprocessors_with_transfers(world: World) -> None:
    _supplier, product, _agreement = reading_app(world)
    license_group(product, world.group)

    (item,) = documents.privacy_statement(world.a1).products

    assert [purpose.retention for purpose in item.purposes] == [
        "1 jaar na het einde van het schooljaar",
        "30 dagen na het einde van de overeenkomst",
    ]
    assert item.purposes[1].subjects == ("leerlingen", "medewerkers")
    assert [(sub.name, sub.country, sub.outside_eea) for sub in item.subprocessors] == [
        ("Rekenhal B.V.", "NL", False),
        ("Wolk Inc.", "US", True),
    ]
    assert item.breach_notification_hours == 48
    assert [data.key for data in item.data] == ["supplier_pseudonym"]  # nothing switched on
    page = Client().get(statement_url(world.a1)).content.decode()
    assert "Wolk Inc." in page
    assert "modelcontractbepalingen (art. 46 AVG)" in page
    assert "48 uur" in page


def test_it_names_the_privacy_officer_of_the_school_else_of_the_board(world: World) -> None:
    assert [contact.email for contact in documents.privacy_statement(world.a1).contacts] == [
        "fg-a@school.example"
    ]
    # School A2 has no privacy officer of its own: the board's is shown.
    assert [contact.email for contact in documents.privacy_statement(world.a2).contacts] == [
        "fg-a@school.example"
    ]
    Staff.objects.filter(user=world.officer_b).update(is_active=False)

    statement = documents.privacy_statement(world.b1)

    assert statement.contacts == ()
    assert statement.no_contact in Client().get(statement_url(world.b1)).content.decode()


def test_it_shows_the_councils_consent_in_force(world: World) -> None:
    today = timezone.localdate()
    assert documents.privacy_statement(world.a1).council is None
    services.record_council_decision(
        world.board_a,
        document_title="Privacyreglement",
        document_version="2.1",
        decided_on=today - timedelta(days=20),
        decision="consent",
        user=None,
    )
    services.record_council_decision(
        world.board_a,
        document_title="Privacyreglement",
        document_version="3.0",
        decided_on=today - timedelta(days=2),
        decision="refused",
        user=None,
    )

    council = documents.privacy_statement(world.a1).council

    assert council is not None
    assert (council.document_version, council.decided_on) == ("2.1", today - timedelta(days=20))
    page = Client().get(statement_url(world.a1)).content.decode()
    assert "versie 2.1" in page
    assert documents.privacy_statement(world.b1).council is None  # board A's decision only


def test_it_is_public_and_prints_without_navigation(world: World) -> None:
    anonymous = Client()
    web = anonymous.get(statement_url(world.a1))
    assert web.status_code == 200
    assert statement_url(world.a1, printable=True) in web.content.decode()

    printed = client_for(world.officer).get(statement_url(world.a1, printable=True))

    assert printed.status_code == 200
    body = printed.content.decode()
    assert '<html lang="nl">' in body
    assert "<nav" not in body
    assert "/static/regie/print.css" in body  # the print layout's style sheet (no inline style)
    assert "window.print" not in body
    assert body.count("<h1") == 1
    assert "Uw rechten" in body


def test_it_is_in_english_when_the_language_is_english(world: World) -> None:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    assert (
        '<html lang="en">' in client.get(statement_url(world.a1, printable=True)).content.decode()
    )


def test_it_answers_404_for_an_unknown_school(world: World) -> None:
    unknown = School.objects.order_by("-pk")[0].pk + 1000

    assert Client().get(reverse("agreements:privacy-statement", args=[unknown])).status_code == 404
    assert (
        Client().get(reverse("agreements:privacy-statement-print", args=[unknown])).status_code
        == 404
    )


def test_it_changes_nothing_when_a_statement_is_read(world: World) -> None:
    license_group(world.product, world.group)
    events = AuditEvent.objects.count()

    Client().get(statement_url(world.a1))

    assert AuditEvent.objects.count() == events


# --- the art. 30 register ------------------------------------------------------------------------


def test_it_has_one_row_per_processing_plus_the_hub(world: World) -> None:
    reading_app(world)
    make_agreement(world.board_a, world.supplier, [world.other_product], status="draft")

    rows = documents.processing_register(world.board_a)

    assert [(row.product, row.purpose) for row in rows[1:]] == [
        ("Leesplein", "Leesboeken uitlenen"),
        ("Leesplein", "Leesvoortgang aan de leerkracht tonen"),
        ("Rekenwereld", "Oefenen en voortgang volgen"),
    ]  # the draft agreement for Taalwereld is not in it
    hub = rows[0]
    assert hub.product == "regie"
    assert any(
        item.startswith("user.unique_id.pseudonymous.eck_id") for item in hub.data_categories
    )
    reading = rows[1]
    assert reading.controller == "Stichting A (fictief)"
    assert reading.processor == "Leesplein B.V. (fictief)"
    assert reading.processor_kvk == "99000002"
    assert reading.data_categories == (
        "user.unique_id.pseudonymous.supplier_pseudonym (leverancierspseudoniem)",
        "user.education.enrolment (groepen en klassen)",
    )
    assert reading.recipients == (
        "Leesplein B.V. (fictief) (KvK 99000002)",
        "Rekenhal B.V. (NL) (KvK 99000003)",
        "Wolk Inc. (US)",
    )
    assert reading.third_country_transfers == (
        "Wolk Inc.: US, modelcontractbepalingen (art. 46 AVG)",
    )
    assert reading.retention == "1 jaar na het einde van het schooljaar"
    assert "ISO 27001" in reading.security_measures
    assert (reading.agreement_version, reading.agreement_status) == ("2", "active")


def test_it_exports_the_register_as_csv_and_json(world: World) -> None:
    reading_app(world)
    client = client_for(world.officer)

    response = client.get(art30_url("csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert f'filename="verwerkingsregister-41001-{today}.csv"' in response["Content-Disposition"]
    header, *lines = csv_rows(response.content)
    assert tuple(header) == documents.COLUMNS
    assert len(lines) == 1 + 3  # the hub and three processings
    transfers = header.index("third_country_transfers")
    assert [line[transfers] for line in lines if line[transfers]] == [
        "Wolk Inc.: US, modelcontractbepalingen (art. 46 AVG)"
    ] * 2

    response = client.get(art30_url("json", world.board_a.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert f"verwerkingsregister-41001-{today}.json" in response["Content-Disposition"]
    items = json.loads(response.content)
    assert len(items) == 4
    assert list(items[1]) == list(documents.COLUMNS)
    assert "Wolk Inc. (US)" in items[1]["recipients"]
    assert items[1]["third_country_transfers"] == [
        "Wolk Inc.: US, modelcontractbepalingen (art. 46 AVG)"
    ]


def test_it_lets_the_board_admin_export(world: World) -> None:
    assert client_for(world.board_admin).get(art30_url("json")).status_code == 200


@pytest.mark.parametrize("persona", ["teacher", "school_admin"])
def test_it_refuses_the_register_to_teachers_and_school_admins(world: World, persona: str) -> None:
    user: User = getattr(world, persona)

    for fmt in ("csv", "json"):
        assert client_for(user).get(art30_url(fmt)).status_code == 403


def test_it_sends_anonymous_users_to_the_login(world: World) -> None:
    response = Client().get(art30_url("csv"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_gives_another_board_only_its_own_register(world: World) -> None:
    client = client_for(world.officer_b)

    items = json.loads(client.get(art30_url("json")).content)

    assert [item["controller"] for item in items] == ["Stichting B (fictief)"]
    assert [item["product"] for item in items] == ["regie"]
    assert client.get(art30_url("csv", world.board_a.pk)).status_code == 404
    assert client.get(art30_url("json", world.board_a.pk)).status_code == 404


def test_it_answers_404_for_an_unknown_format(world: World) -> None:
    assert client_for(world.officer).get(art30_url("xlsx")).status_code == 404


def test_it_neutralises_csv_injection(world: World) -> None:
    supplier = make_supplier('=HYPERLINK("https://aanval.example")', "99000004")
    product = make_product(supplier, "Formulewereld")
    agreement = services.create_agreement(
        world.board_a, supplier, {"title": "@SUM(A1:A9)", "version": "-1"}, user=None
    )
    schedule = services.save_schedule(agreement, product, user=None)
    services.add_processing(
        schedule,
        purpose="+cmd|' /C calc'!A0",
        subjects=["pupils"],
        attributes=["supplier_pseudonym"],
        retention_period=1,
        retention_unit="months",
        retention_trigger="left_school",
        user=None,
    )
    activate(agreement)

    header, *lines = csv_rows(client_for(world.officer).get(art30_url("csv")).content)

    row = dict(zip(header, next(line for line in lines if line[4] == "Formulewereld"), strict=True))
    assert row["processor"] == '\'=HYPERLINK("https://aanval.example")'
    assert row["purpose"] == "'+cmd|' /C calc'!A0"
    assert row["agreement_title"] == "'@SUM(A1:A9)"
    assert row["agreement_version"] == "'-1"
    assert row["recipients"].startswith("'=HYPERLINK")
    for line in lines:
        for cell in line:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_it_changes_nothing_when_the_register_is_exported(world: World) -> None:
    client = client_for(world.officer)  # logging in is an event of its own
    before = (AuditEvent.objects.count(), ProcessingAgreement.objects.count())

    client.get(art30_url("csv"))

    assert (AuditEvent.objects.count(), ProcessingAgreement.objects.count()) == before
