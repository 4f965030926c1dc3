"""Legacy named data (motion 9) against a live hub: a supplier registers its old keys, names and
birth dates over HTTP with a real client-credentials token, gets a conversion table matched
inside the hub, and an order to destroy the named data; its signed completed receipt confirms
the destruction on the board's page. Bad input and foreign or forged tokens change nothing."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from django.test import Client
from joserfc.jwk import ECKey
from playwright.sync_api import Page, expect

from regie.agreements.tests.register import make_supplier
from regie.audit.models import AuditEvent
from regie.browser import assert_accessible, browser, page
from regie.gateway import pseudonyms
from regie.gateway.models import OAuthClient
from regie.gateway.scopes import LEGACY, ROSTER_CORE_READ
from regie.gateway.services import register_client
from regie.gateway.tests.conftest import (
    Launchable,
    launchable,
    oidc_keys_dir,
    oidc_keys_in_settings,
)
from regie.lib import supplier_orders
from regie.logins import log_in_in_browser
from regie.orders import services as orders
from regie.orders.models import Order, OrderState, OrderType
from regie.roster.importing.records import StaffRole
from regie.roster.models import Student, StudentStatus
from regie.roster.tests.exports import client_for, make_staff

from ..models import LegacyRegistration, LegacyState

__all__ = [  # the gateway's fixtures, and the real browser's
    "browser",
    "launchable",
    "oidc_keys_dir",
    "oidc_keys_in_settings",
    "page",
]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PATH = "/retention/legacy"


@dataclass
class Legacy:
    hub: Launchable
    api: httpx.Client
    client: OAuthClient
    signer: OAuthClient
    jwk: dict[str, Any]


def legacy_client(hub: Launchable, supplier: Any = None, product: Any = None) -> httpx.Client:
    client, secret = register_client(
        supplier or hub.supplier,
        name="Oude gegevens",
        product=hub.product if supplier is None else product,
        redirect_uris=[],
        auth_method="client_secret_basic",
        scopes=(LEGACY.name,),
    )
    assert secret is not None
    answer = httpx.post(
        f"{hub.base}/oidc/token",
        data={"grant_type": "client_credentials", "scope": LEGACY.name},
        auth=(client.client_id, secret),
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    return httpx.Client(base_url=hub.base, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def legacy(request: pytest.FixtureRequest) -> Legacy:
    hub: Launchable = request.getfixturevalue("launchable")
    api = legacy_client(hub)
    client = OAuthClient.objects.get(supplier=hub.supplier, name="Oude gegevens")
    key = ECKey.generate_key("P-256", parameters={"kid": "leverancier-1"}, private=True)
    signer, _ = register_client(  # signs the supplier's receipts
        hub.supplier,
        name="Rekenwereld (fictief)",
        redirect_uris=["https://rekenwereld.example/callback"],
        jwks={"keys": [key.as_dict(private=False)]},
    )
    orders.register_endpoint(hub.supplier, "https://rekenwereld.example/orders")
    return Legacy(hub, api, client, signer, key.as_dict(private=True))


def name_of(pupil: Student) -> str:
    return f"{pupil.roepnaam or pupil.voornamen} {pupil.family_name}"


def unlicensed(hub: Launchable) -> Student:
    """A pupil of the group who left school: no licence covers them any more."""
    pupil = list(hub.group.students.order_by("pk"))[2]
    pupil.status = StudentStatus.LEFT
    pupil.save()
    return pupil


def post(api: httpx.Client, body: Any) -> httpx.Response:
    return api.post(PATH, json=body)


def test_the_table_converts_by_las_key_then_by_name_and_birth_date(legacy: Legacy) -> None:
    hub = legacy.hub
    first, second = list(hub.group.students.order_by("pk"))[:2]
    assert second.birth_date is not None
    outside = unlicensed(hub)
    twin_a = Student.objects.create(
        school=hub.school, las_key="T-1", roepnaam="Noor", achternaam="Tweeling",
        birth_date=second.birth_date,
    )  # fmt: skip
    Student.objects.create(
        school=hub.school, las_key="T-2", voornamen="Noor", achternaam="Tweeling",
        birth_date=second.birth_date,
    )  # fmt: skip
    answer = post(
        legacy.api,
        {
            "school": hub.school.code,
            "records": [
                {"key": "oud-1", "las_key": first.las_key, "name": "Iemand Anders"},
                {"key": "oud-2", "name": f"  {name_of(second).upper()} ", "birth_date": second.birth_date.isoformat()},
                {"key": "oud-3", "las_key": "bestaat-niet"},
                {"key": "oud-4", "las_key": outside.las_key},
                {"key": "oud-5", "name": name_of(twin_a), "birth_date": second.birth_date.isoformat()},
                {"key": "oud-6", "name": name_of(second), "birth_date": "2001-01-01"},
            ],
        },
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    table = answer.json()["table"]
    assert [(row["key"], row["status"]) for row in table] == [
        ("oud-1", "converted"),
        ("oud-2", "converted"),
        ("oud-3", "not_found"),
        ("oud-4", "not_allowed"),
        ("oud-5", "ambiguous"),
        ("oud-6", "not_found"),
    ]
    assert table[0]["pseudonym"] == pseudonyms.for_student(first, hub.supplier)
    assert table[1]["pseudonym"] == pseudonyms.for_student(second, hub.supplier)
    assert table[0]["pseudonym"] != table[1]["pseudonym"]
    assert [row["pseudonym"] for row in table[2:]] == [None] * 4

    registration = LegacyRegistration.objects.get()
    assert registration.pk == answer.json()["registration"]
    assert (registration.records, registration.converted, registration.not_found) == (6, 2, 2)
    assert (registration.ambiguous, registration.not_allowed) == (1, 1)
    assert registration.state == LegacyState.ORDERED
    order = registration.order
    assert order is not None
    assert order.type == OrderType.LEGACY_CONVERSION
    assert set(order.students.all()) == {first, second}
    body = json.loads(bytes(order.body))
    assert body["details"] == {"registration": registration.pk, "records": 6, "converted": 2}
    assert sorted(body["subjects"]) == sorted([table[0]["pseudonym"], table[1]["pseudonym"]])
    # Only counts are kept: no key, name or birth date in the audit log.
    event = AuditEvent.objects.get(event_type="retention.legacy.registered")
    assert event.details["converted"] == 2
    assert event.details["records"] == 6
    logged = json.dumps([event.details, event.subject])
    for secret in ("oud-1", first.las_key, "Tweeling", second.birth_date.isoformat()):
        assert secret not in logged


def test_bad_input_names_the_place_not_the_value_and_changes_nothing(legacy: Legacy) -> None:
    hub = legacy.hub
    pupil = hub.group.students.order_by("pk")[0]
    events = AuditEvent.objects.count()
    good = {"key": "oud-1", "las_key": pupil.las_key}
    cases = [
        ({"school": hub.school.code, "records": [good, {"key": "oud-2", "birth_date": "31-12-2015"}]}, "records[1].birth_date"),
        ({"school": hub.school.code, "records": [good, {"las_key": "x"}]}, "records[1].key"),
        ({"school": hub.school.code, "records": [good, {"key": "oud-1"}]}, "records[1].key"),
        ({"school": hub.school.code, "records": [good, {"key": "k", "bsn": "123456782"}]}, "records[1]"),
        ({"school": hub.school.code, "records": [good, {"key": "k", "name": 12}]}, "records[1].name"),
        ({"school": hub.school.code, "records": []}, "records"),
        ({"school": hub.school.code, "records": [good] * 5001}, "records"),
        ({"records": [good]}, "school"),
    ]  # fmt: skip
    for body, field in cases:
        answer = post(legacy.api, body)
        assert answer.status_code == 400, field
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["field"] == field
        for value in ("31-12-2015", "123456782", pupil.las_key):
            assert value not in answer.text
    not_json = legacy.api.post(PATH, content="{", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    assert LegacyRegistration.objects.count() == 0
    assert Order.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_forged_foreign_and_wrongly_scoped_tokens_are_refused(legacy: Legacy) -> None:
    hub = legacy.hub
    pupil = hub.group.students.order_by("pk")[0]
    body = {"school": hub.school.code, "records": [{"key": "oud-1", "las_key": pupil.las_key}]}
    forged = httpx.post(
        f"{hub.base}{PATH}", json=body, headers={"Authorization": "Bearer verzonnen"}
    )
    assert forged.status_code == 401
    assert httpx.post(f"{hub.base}{PATH}", json=body).status_code == 401
    # A roster token (another scope) of the same supplier.
    roster, secret = register_client(
        hub.supplier, name="Rooster", product=hub.product, redirect_uris=[],
        auth_method="client_secret_basic", scopes=(ROSTER_CORE_READ.name,),
    )  # fmt: skip
    assert secret is not None
    token = httpx.post(
        f"{hub.base}/oidc/token",
        data={"grant_type": "client_credentials"},
        auth=(roster.client_id, secret),
    ).json()["access_token"]
    scoped = httpx.post(
        f"{hub.base}{PATH}", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert scoped.status_code == 403
    # A supplier without an agreement with the school's board: the school is unknown to it.
    stranger = make_supplier("Vreemd B.V. (fictief)", "99000009")
    foreign = post(legacy_client(hub, stranger, None), body)
    assert foreign.status_code == 404
    assert pupil.las_key not in foreign.text
    assert LegacyRegistration.objects.count() == 0
    assert Order.objects.count() == 0


def receipt(legacy: Legacy, order: Order, status: str, statement: str) -> str:
    body = json.loads(bytes(order.body))
    return supplier_orders.make_receipt(
        order=body,
        order_digest=order.digest,
        status=status,
        subjects=body["subjects"],
        statement=statement,
        data={},
        client_id=legacy.signer.client_id,
        private_jwk=legacy.jwk,
        now=int(time.time()),
    )


def registered(legacy: Legacy) -> LegacyRegistration:
    pupil = legacy.hub.group.students.order_by("pk")[0]
    body = {
        "school": legacy.hub.school.code,
        "records": [{"key": "oud-1", "las_key": pupil.las_key}],
    }
    assert post(legacy.api, body).status_code == 200
    return LegacyRegistration.objects.get()


def board_page(legacy: Legacy) -> str:
    board = legacy.hub.school.board
    user, _ = make_staff(board, None, StaffRole.PRIVACY_OFFICER)
    answer = client_for(user).get("/privacy/bewaren/oude-gegevens/")
    assert answer.status_code == 200
    return answer.content.decode()


def test_the_completed_receipt_confirms_the_destruction_on_the_page(legacy: Legacy) -> None:
    registration = registered(legacy)
    order = registration.order
    assert order is not None
    orders.transition(order, "delivered")
    orders.record_receipt(receipt(legacy, order, "accepted", ""))
    assert LegacyRegistration.objects.get().state == LegacyState.ORDERED
    before = board_page(legacy)
    assert "Nog geen verklaring." in before
    statement = "De oude namen, geboortedata en leerlingnummers zijn vernietigd."
    orders.record_receipt(receipt(legacy, order, "completed", statement))
    registration = LegacyRegistration.objects.get()
    assert registration.state == LegacyState.CONFIRMED
    assert Order.objects.get(pk=order.pk).state == OrderState.COMPLETED
    after = board_page(legacy)
    assert statement in after
    assert "vernietiging bevestigd" in after
    assert legacy.hub.supplier.name in after
    assert AuditEvent.objects.filter(event_type="retention.legacy.destruction").count() == 1


def test_a_refusal_is_shown_with_its_reason(legacy: Legacy) -> None:
    registration = registered(legacy)
    order = registration.order
    assert order is not None
    orders.transition(order, "delivered")
    reason = "Wettelijke bewaarplicht: de gegevens blijven tot de accountantscontrole."
    orders.record_receipt(receipt(legacy, order, "refused", reason))
    assert LegacyRegistration.objects.get().state == LegacyState.REFUSED
    shown = board_page(legacy)
    assert "vernietiging geweigerd" in shown
    assert reason in shown


def test_an_order_past_its_deadline_shows_the_registration_overdue(legacy: Legacy) -> None:
    registration = registered(legacy)
    order = registration.order
    assert order is not None
    orders.transition(order, "delivered")
    Order.objects.filter(pk=order.pk).update(deadline=dt.date(2020, 1, 1))
    assert orders.chase() == 1
    assert LegacyRegistration.objects.get().state == LegacyState.OVERDUE
    shown = board_page(legacy)
    assert "vernietiging te laat" in shown
    line = legacy_overview_line(shown)
    assert line == ["1", "1", "0", "1", "1"]  # records, converted, confirmed, open, overdue


def legacy_overview_line(shown: str) -> list[str]:
    found = re.search(r"<tr><th scope=\"row\">[^<]*</th>((?:<td>\d+</td>){5})</tr>", shown)
    assert found is not None
    return re.findall(r"<td>(\d+)</td>", found[1])


def test_nothing_converted_keeps_the_registration_and_asks_for_a_statement(
    legacy: Legacy,
) -> None:
    body = {"school": legacy.hub.school.code, "records": [{"key": "oud-1", "las_key": "weg"}]}
    answer = post(legacy.api, body)
    assert answer.status_code == 200
    assert answer.json()["table"] == [{"key": "oud-1", "pseudonym": None, "status": "not_found"}]
    registration = LegacyRegistration.objects.get()
    assert registration.state == LegacyState.NOTHING_CONVERTED
    assert registration.order is None
    assert Order.objects.count() == 0
    assert "Vraag de leverancier om een schriftelijke verklaring" in board_page(legacy)


def test_the_page_shows_only_the_logins_boards(legacy: Legacy, client: Client) -> None:
    registered(legacy)
    from regie.roster.tests.exports import make_board

    other = make_board("41009", "Stichting Elders (fictief)")
    user, _ = make_staff(other, None, StaffRole.PRIVACY_OFFICER)
    shown = client_for(user).get("/privacy/bewaren/oude-gegevens/").content.decode()
    assert legacy.hub.supplier.name not in shown
    assert "Geen leverancier heeft oude gegevens aangemeld." in shown


@pytest.mark.browser
def test_the_board_sees_the_statement_in_a_browser(legacy: Legacy, page: Page) -> None:
    registration = registered(legacy)
    order = registration.order
    assert order is not None
    orders.transition(order, "delivered")
    orders.record_receipt(receipt(legacy, order, "accepted", ""))
    statement = "De oude namen, geboortedata en leerlingnummers zijn vernietigd."
    orders.record_receipt(receipt(legacy, order, "completed", statement))
    user, _ = make_staff(legacy.hub.school.board, None, StaffRole.PRIVACY_OFFICER)
    log_in_in_browser(page, legacy.hub.base, user.username)
    page.goto(f"{legacy.hub.base}/privacy/bewaren/oude-gegevens/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Oude gegevens van leveranciers")
    expect(page.get_by_text(statement)).to_be_visible()
    assert_accessible(page)
