"""The demo supplier's back office against a live hub: it fetches its roster over OneRoster REST
(client credentials, private_key_jwt) with its own pseudonyms as sourcedIds, and sends a result
back that the teacher of the pupil's group sees, with the pupil's name, at ``/resultaten/``."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from regie.agreements import services as register
from regie.agreements.models import Processing
from regie.demosupplier import server
from regie.demosupplier.rostering import RosterError
from regie.demosupplier.suppliers import REKENWERELD
from regie.gateway.models import OAuthClient, Result, SupplierPseudonym
from regie.gateway.scopes import GRADEBOOK_CREATEPUT, LEGACY, ROSTER_CORE_READ
from regie.gateway.tests.conftest import Launchable
from regie.ops import supplier_registration as registration
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import client_for, make_staff

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]


@pytest.fixture
def rekenwereld(launchable: Launchable) -> Iterator[server.Running]:
    item = server.start(REKENWERELD, f"{launchable.base}/oidc", port=0)
    registration.register_clients(item.app, launchable.supplier, {"": launchable.product})
    yield item
    item.stop()


def allow_results(hub: Launchable) -> None:
    """As the demo register does for Rekenwereld: ``results`` in the schedule, switched on."""
    for processing in Processing.objects.filter(schedule__product=hub.product):
        processing.attributes = [*processing.attributes, "results"]
        processing.save()
    register.set_switch(hub.school, hub.product, "results", True, user=None)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return html.unescape(found[1])


def test_it_registers_a_roster_client_with_only_the_roster_gradebook_and_legacy_scopes(
    launchable: Launchable, rekenwereld: server.Running
) -> None:
    client = OAuthClient.objects.get(name=registration.roster_client_name(launchable.product))
    assert client.auth_method == "private_key_jwt"
    assert sorted(client.scopes) == sorted(
        [ROSTER_CORE_READ.name, GRADEBOOK_CREATEPUT.name, LEGACY.name]
    )
    assert client.redirect_uris == []
    assert rekenwereld.app.roster_client is not None
    assert rekenwereld.app.roster_client.client_id == client.client_id
    again = server.start(REKENWERELD, f"{launchable.base}/oidc", port=0)
    try:
        registration.register_clients(again.app, launchable.supplier, {"": launchable.product})
        client.refresh_from_db()
        assert again.app.roster_client is not None
        assert again.app.roster_client.client_id == client.client_id  # reused, new key
        assert client.jwks == again.app.roster_client.public_jwks()
    finally:
        again.stop()


def test_it_syncs_its_roster_and_sends_a_result_the_teacher_sees(
    launchable: Launchable, rekenwereld: server.Running
) -> None:
    hub = launchable
    allow_results(hub)
    browser = httpx.Client(base_url=rekenwereld.url, follow_redirects=False, timeout=60)
    start = browser.get("/")
    assert '<a href="/rooster">' in start.text
    page = browser.get("/rooster")
    assert page.status_code == 200
    assert "Rooster ophalen" in page.text
    fetched = browser.post("/rooster/ophalen", data={"csrf": csrf_of(page.text)})
    assert fetched.status_code == 303, fetched.text[:500]
    page = browser.get("/rooster")
    shown = set(re.findall(r'<tr data-student="([^"]+)">', page.text))
    expected = {
        SupplierPseudonym.objects.get(student=student, supplier=hub.supplier).value
        for student in hub.group.students.all()
    }
    assert {html.unescape(value) for value in shown} == expected
    assert "Groep 5" in page.text
    assert str(hub.pupil) not in page.text  # the supplier gets no names
    assert "Resultaat terugsturen" in page.text

    group = re.search(r'<tr data-class="([^"]+)"><td>Groep 5</td>', page.text)
    assert group is not None
    pupil = SupplierPseudonym.objects.get(student=hub.pupil, supplier=hub.supplier).value
    sent = browser.post(
        "/rooster/resultaat",
        data={"csrf": csrf_of(page.text), "class": html.unescape(group[1]), "student": pupil},
    )
    assert sent.status_code == 303, sent.text[:500]
    assert "Verstuurd" in browser.get("/rooster").text
    stored = Result.objects.get()
    assert (stored.student_id, stored.score, stored.product_id) == (
        hub.pupil.pk,
        8.0,
        hub.product.pk,
    )

    teacher, staff = make_staff(hub.school.board, hub.school, StaffRole.TEACHER, username="mw-kim")
    staff.groups.add(hub.group)
    text = client_for(teacher).get("/resultaten/").content.decode()
    assert str(hub.pupil) in text
    assert "Rekenwereld: tafels oefenen (Groep 5)" in text
    assert "<td>8</td>" in text


def test_it_refuses_a_result_for_a_pupil_not_in_the_fetched_roster(
    launchable: Launchable, rekenwereld: server.Running
) -> None:
    browser = httpx.Client(base_url=rekenwereld.url, follow_redirects=False, timeout=60)
    page = browser.get("/rooster")
    answer = browser.post(
        "/rooster/resultaat",
        data={"csrf": csrf_of(page.text), "class": "x", "student": "https://nv.example/lp/1/x"},
    )
    assert answer.status_code == 400
    assert 'role="alert"' in answer.text
    assert browser.post("/rooster/ophalen", data={"csrf": "wrong"}).status_code == 400
    assert not Result.objects.exists()


def test_without_results_allowed_the_hub_refuses_and_the_supplier_says_so(
    launchable: Launchable, rekenwereld: server.Running
) -> None:
    client = rekenwereld.app.roster_client
    assert client is not None
    roster = client.sync()
    group = next(item for item in roster.classes if item.title == "Groep 5")
    student = next(item for item in roster.students if group.sourced_id in item.class_ids)
    with pytest.raises(RosterError):
        client.send_result(group.sourced_id, group.title, student.sourced_id, 8.0, date.today())
    assert not Result.objects.exists()
