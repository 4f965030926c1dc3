"""The privacy officer's dashboard: what needs doing (a count and a link per case, or plainly
nothing), and what goes where (a supplier × data-category picture with a table beside it).

Board A gets one of each case; board B (its own privacy officer) has none.
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from regie.core import datacategories as dc
from regie.jobs.tests.failing import fail_next_job
from regie.jobs.tests.schedule import fails, fails_slowly
from regie.roster.models import Group, ImportRun, ImportStatus, Student
from regie.roster.tests.exports import client_for

from .. import services
from ..models import AgreementStatus, ProcessingAgreement
from .register import World, license_group, make_agreement, make_product, make_supplier

pytestmark = pytest.mark.django_db

URL = "/privacy/overzicht/"


def page_text(client: Client, url: str = URL) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def count_after(text: str, label: str) -> int:
    """The count in the dashboard row whose link reads ``label``."""
    found = re.search(re.escape(label) + r'</a></th><td class="count">(\d+)</td>', text)
    assert found is not None, label
    return int(found.group(1))


def ending_soon(world: World) -> ProcessingAgreement:
    supplier = make_supplier("Eindigt B.V. (fictief)", "99000011")
    product = make_product(supplier, "Eindigtwereld")
    agreement = make_agreement(world.board_a, supplier, [product], status=AgreementStatus.SIGNED)
    services.update_agreement(
        agreement, {"end_date": timezone.localdate() + timedelta(days=30)}, user=None
    )
    return services.transition(agreement, AgreementStatus.ACTIVE, user=None)


@pytest.fixture
def busy(world: World) -> World:
    """Board A with one of each case."""
    ending_soon(world)
    services.screen_dpia(
        world.board_a, world.other_product, ["vulnerable_subjects", "large_scale"], user=None
    )
    for name, kvk, status in (
        ("Gestopt B.V. (fictief)", "99000012", AgreementStatus.TERMINATED),
        ("Concept B.V. (fictief)", "99000013", AgreementStatus.DRAFT),
    ):
        supplier = make_supplier(name, kvk)
        make_agreement(
            world.board_a, supplier, [make_product(supplier, name.split()[0])], status=status
        )
    # The world's product: licensed for a group, groups and first name switched on; the first
    # name needs consent, which one pupil has.
    license_group(world.product, world.group)
    for attribute in ("groups", "first_name"):
        services.set_switch(world.a1, world.product, attribute, True, user=None)
    pupil = world.pupil()
    guardian = None if services.decides_own_consent(pupil) else pupil.guardians.first()
    services.record_consent(pupil, world.product, "first_name", True, guardian=guardian, user=None)
    for run_status in (ImportStatus.REFUSED, ImportStatus.PREVIEWED):
        ImportRun.objects.create(
            id=uuid.uuid4(), board=world.board_a, file_name="export.csv", status=run_status
        )
    return world


def group_size(world: World) -> int:
    return Student.objects.filter(groups=world.group, status="active").count()


def test_it_counts_one_of_each_case_with_links_to_the_filtered_lists(busy: World) -> None:
    client = client_for(busy.officer)
    text = page_text(client)
    assert "Er is nu niets te doen" not in text
    assert count_after(text, "Overeenkomsten die binnen 60 dagen eindigen") == 1
    assert count_after(text, "Producten waarvoor een DPIA nodig is, zonder vastgelegde DPIA") == 1
    destroyed = "Beëindigde overeenkomsten waarvan de vernietiging van de gegevens nog niet is"
    assert count_after(text, destroyed + " bevestigd") == 1
    assert count_after(text, "Concepten die wachten op ondertekening") == 1
    without = "Leerlingen zonder toestemming voor een gegeven waarvoor toestemming nodig is"
    assert count_after(text, without) == group_size(busy) - 1
    assert count_after(text, "Geweigerde imports") == 1
    assert count_after(text, "Imports die wachten om te worden toegepast") == 1

    # Each link leads to a list filtered to just that case.
    ending = page_text(client, reverse("agreements:agreements") + "?ending=60")
    assert "Eindigt B.V. (fictief)" in ending
    assert "Gestopt B.V." not in ending
    drafts = page_text(client, reverse("agreements:agreements") + "?status=draft&status=offered")
    assert "Concept B.V. (fictief)" in drafts
    assert "Eindigt B.V." not in drafts
    missing = page_text(client, reverse("agreements:dpias") + "?state=missing")
    assert busy.other_product.name in missing
    assert f">{busy.product.name}<" not in missing
    refused = page_text(client, reverse("roster:import") + "?status=refused")
    assert refused.count("export.csv") == 1


def test_it_shows_the_consent_gated_release_with_given_and_missing(busy: World) -> None:
    text = page_text(client_for(busy.officer))
    row = re.search(r"Rekenwereld</a> \(Rekenwereld B\.V\. \(fictief\)\)</th>(.*?)</tr>", text)
    assert row is not None
    assert "voornaam" in row.group(1)
    cells = re.findall(r'<td class="count">(\d+)</td>', row.group(1))
    assert cells == ["1", str(group_size(busy) - 1)]


def test_it_says_plainly_when_there_is_nothing_to_do(world: World) -> None:
    text = page_text(client_for(world.officer_b))
    assert "Er is nu niets te doen" in text
    assert "Uw bestuur heeft geen actieve verwerkersovereenkomsten" in text
    # Board A's cases are not counted for board B, nor its suppliers shown.
    assert "Rekenwereld" not in text


def test_the_matrix_table_gives_per_supplier_its_categories_and_pupils(busy: World) -> None:
    matrix, _consent = services.flows(busy.officer)
    keys = [category.key for category in matrix.categories]
    assert dc.SUPPLIER_PSEUDONYM.key in keys
    assert dc.FIRST_NAME.key in keys
    rows = {row.supplier.name: row for row in matrix.rows}
    reken = rows["Rekenwereld B.V. (fictief)"]
    size = group_size(busy)
    assert reken.pupils == size
    assert reken.cells[dc.SUPPLIER_PSEUDONYM.key] == size
    assert reken.cells[dc.ENROLMENT.key] == size
    assert reken.cells[dc.FIRST_NAME.key] == 1
    # No licence: scheduled, but nothing goes.
    eindigt = rows["Eindigt B.V. (fictief)"]
    assert eindigt.pupils == 0
    assert eindigt.cells[dc.FIRST_NAME.key] == 0
    # Terminated and draft agreements send nothing: not in the picture.
    assert "Gestopt B.V. (fictief)" not in rows
    assert "Concept B.V. (fictief)" not in rows

    text = page_text(client_for(busy.officer))
    table = text[text.index('<table id="waarheen-tabel">') :]
    table = table[: table.index("</table>")]
    row = re.search(r"Rekenwereld B\.V\. \(fictief\)</a></th>(.*?)</tr>", table)
    assert row is not None
    values = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    first_name = [category.key for category in matrix.categories].index(dc.FIRST_NAME.key)
    assert values[first_name] == "1"
    assert values[-1] == str(size)
    assert dc.FIRST_NAME.label_nl in table


def test_the_picture_is_an_svg_with_an_accessible_name_and_no_inline_style(busy: World) -> None:
    text = page_text(client_for(busy.officer))
    svg = text[text.index("<svg") : text.index("</svg>")]
    assert 'role="img"' in svg
    assert 'aria-labelledby="flow-title flow-desc"' in svg
    assert (
        '<title id="flow-title">Leveranciers en de soorten gegevens die zij krijgen</title>' in svg
    )
    assert 'id="flow-desc"' in svg
    assert "style=" not in text
    assert "<script" not in text.split("</header>", 1)[1]
    # One row per supplier with an active agreement.
    assert svg.count("Rekenwereld B.V. (fictief)") >= 1
    assert svg.count("Eindigt B.V. (fictief)") >= 1


def test_it_counts_the_matrix_in_a_fixed_number_of_queries_per_product(
    busy: World, django_assert_max_num_queries: object
) -> None:
    # Twice the pupils on the licence must not mean more queries: no policy call per pupil.
    with django_assert_max_num_queries(40):  # type: ignore[operator]
        services.flows(busy.officer)
    other = Group.objects.filter(school=busy.a2).order_by("pk")[0]
    license_group(busy.product, other)
    with django_assert_max_num_queries(40):  # type: ignore[operator]
        matrix, _consent = services.flows(busy.officer)
    expected = Student.objects.filter(groups__in=[busy.group, other], status="active").distinct()
    assert expected.count() > group_size(busy)
    pupils = {row.supplier.name: row.pupils for row in matrix.rows}
    assert pupils["Rekenwereld B.V. (fictief)"] == expected.count()


@pytest.mark.parametrize("persona", ["board_admin", "officer"])
def test_the_board_register_may_open_it(world: World, persona: str) -> None:
    assert client_for(getattr(world, persona)).get(URL).status_code == 200


@pytest.mark.parametrize("persona", ["teacher", "school_admin"])
def test_other_roles_get_403(world: World, persona: str) -> None:
    assert client_for(getattr(world, persona)).get(URL).status_code == 403
    assert client_for(getattr(world, persona)).get(reverse("agreements:dpias")).status_code == 403


def test_the_url_name_and_the_register_overview_both_work(world: World) -> None:
    assert reverse("agreements:dashboard") == URL
    client = client_for(world.officer)
    assert client.get(reverse("agreements:overview")).status_code == 200


def test_it_counts_failed_background_jobs_linking_to_the_queue_for_the_administrator_only(
    world: World,
) -> None:
    fails.defer(run_id=1)
    fail_next_job()  # dead: no retries left
    fails_slowly.defer(run_id=2)
    fail_next_job()  # waits for its retry
    queue = reverse("admin:jobs_queuedjob_changelist")

    text = page_text(client_for(world.officer))
    row = re.search(r'Mislukte achtergrondtaken</th><td class="count">(\d+)</td>', text)
    assert row is not None
    assert row.group(1) == "2"
    assert queue not in text

    administrator = User.objects.create_superuser("beheer", "beheer@regie.example", "fictief-ww")
    text = page_text(client_for(administrator))
    assert count_after(text, "Mislukte achtergrondtaken") == 2
    assert f'<a href="{queue}">Mislukte achtergrondtaken</a>' in text
