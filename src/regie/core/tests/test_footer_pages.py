"""The footer's pages: the accessibility statement and the index of the schools' privacy
statements, public, in Dutch and English."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from regie.core.models import Board, School


@pytest.mark.django_db
def test_the_accessibility_statement_names_the_standard_status_testing_contact_and_date(
    client: Client,
) -> None:
    response = client.get(reverse("accessibility"))

    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        "<h1>Toegankelijkheidsverklaring</h1>",
        "WCAG 2.1 op niveau A en AA",
        "EN 301 549",
        "Status: voldoet gedeeltelijk",
        "axe-core",
        "alleen het toetsenbord",
        "Laat het ons weten via uw school",
        "Deze verklaring is opgesteld op 6 december 2026.",
    ):
        assert text in body


@pytest.mark.django_db
def test_the_accessibility_statement_is_in_english_too(client: Client) -> None:
    response = client.get(reverse("accessibility"), headers={"accept-language": "en"})

    body = response.content.decode()
    assert "<h1>Accessibility statement</h1>" in body
    assert "Status: partially compliant" in body
    assert "This statement was drawn up on 6 December 2026." in body


@pytest.mark.django_db
def test_the_privacy_statements_index_links_every_schools_statement_by_board(
    client: Client,
) -> None:
    board = Board.objects.create(bestuursnummer="41235", name="Stichting Index")
    school = School.objects.create(
        board=board, brin="55ZZ", vestiging="00", name="De Zonnebloem", sector="po"
    )

    response = client.get(reverse("privacy-statements"))

    assert response.status_code == 200  # public: no login
    body = response.content.decode()
    assert f'<h2 id="board-{board.pk}">Stichting Index</h2>' in body
    statement = reverse("agreements:privacy-statement", args=[school.pk])
    assert f'<a href="{statement}">De Zonnebloem</a>' in body
    assert f'href="{reverse("privacy-statements")}"' in body  # the footer links here too


@pytest.mark.django_db
def test_the_admin_takes_regies_colours_and_links_the_accessibility_statement(
    client: Client,
) -> None:
    body = client.get("/admin/login/").content.decode()

    assert "/static/regie/admin.css" in body  # admin_templates/admin/base_site.html applies
    assert f'href="{reverse("accessibility")}"' in body
