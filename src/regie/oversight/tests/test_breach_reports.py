"""A supplier reports a data breach over the order channel (``POST /oversight/breaches``): a
compact JWS signed with its registered key, verified as a receipt is. It opens an incident at
every board whose pupils it concerns; a forged, replayed, unknown-key or malformed report is
refused with the reason, and nothing is created."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client
from joserfc.jwk import ECKey

from regie.agreements.models import Supplier
from regie.agreements.tests.register import World, make_supplier
from regie.audit.models import AuditEvent
from regie.audit.services import record
from regie.gateway.events import RELEASE
from regie.gateway.models import OAuthClient, SupplierPseudonym
from regie.gateway.services import register_client
from regie.lib import supplier_orders
from regie.roster.models import Student

from ..models import BreachReport, Incident, IncidentSource

pytestmark = pytest.mark.django_db

ISSUER = "https://hub.regie.example/oidc"
URL = "/oversight/breaches"


@pytest.fixture
def world(rng: random.Random, settings: LazySettings) -> World:
    settings.OIDC_ISSUER = ISSUER
    return World(rng)


def signing_client(supplier: Supplier, kid: str = "lev-1") -> tuple[OAuthClient, dict[str, Any]]:
    key = ECKey.generate_key("P-256", parameters={"kid": kid}, private=True)
    client, _ = register_client(
        supplier,
        name="Opdrachten (fictief)",
        redirect_uris=["https://leverancier.example/callback"],
        jwks={"keys": [key.as_dict(private=False)]},
    )
    return client, key.as_dict(private=True)


def released(student: Student, supplier: Supplier) -> None:
    record(
        RELEASE,
        "client:1",
        f"student:{student.pk}",
        {
            "channel": "id_token",
            "supplier": supplier.pk,
            "product": 1,
            "attributes": ["first_name"],
        },
    )


def report(client: OAuthClient, jwk: dict[str, Any], **claims: Any) -> str:
    now = int(time.time())
    values: dict[str, Any] = {
        "client_id": client.client_id,
        "private_jwk": jwk,
        "audience": ISSUER,
        "now": now,
        "detected_at": now - 3600,
        "description": "Een back-up stond een dag open op internet.",
        "window": (now - 7200, now + 5),
    }
    values.update(claims)
    return supplier_orders.make_breach_report(**values)


def post(token: str, content_type: str = "application/jose") -> Any:
    return Client().post(URL, data=token, content_type=content_type)


def test_a_signed_report_opens_an_incident_at_every_board_whose_pupils_it_concerns(
    world: World,
) -> None:
    client, jwk = signing_client(world.supplier)
    a_pupils = list(Student.objects.filter(school__board=world.board_a).order_by("pk")[:2])
    b_pupil = Student.objects.filter(school__board=world.board_b).order_by("pk")[0]
    for pupil in a_pupils:
        released(pupil, world.supplier)
    # At board B no release in the window, but the supplier names the pupil's pseudonym.
    SupplierPseudonym.objects.create(
        student=b_pupil, supplier=world.supplier, value="https://lev.example/lp/1/abc"
    )
    other = make_supplier("Taalrijk Uitgevers (fictief)", "99000002")
    released(Student.objects.filter(school__board=world.board_a).order_by("pk")[5], other)

    answer = post(report(client, jwk, subjects=["https://lev.example/lp/1/abc", "onbekend"]))
    assert answer.status_code == 202, answer.content
    assert answer.json() == {"incidents": 2}
    assert "Stichting" not in answer.content.decode()
    opened = {incident.board_id: incident for incident in Incident.objects.all()}
    assert set(opened) == {world.board_a.pk, world.board_b.pk}
    for incident in opened.values():
        assert incident.source == IncidentSource.SUPPLIER
        assert incident.supplier == world.supplier
        assert incident.registered_by is None
        assert incident.deadline - incident.detected_at == dt.timedelta(hours=72)
    assert set(opened[world.board_a.pk].affected.values_list("student_id", flat=True)) == {
        pupil.pk for pupil in a_pupils
    }
    [named] = opened[world.board_b.pk].affected.all()
    assert (named.student_id, named.named_by_supplier) == (b_pupil.pk, True)
    event = AuditEvent.objects.get(event_type="oversight.incident.report_received")
    assert event.details == {"supplier": world.supplier.pk, "incidents": 2, "subjects_named": 2}
    assert "lp/1/abc" not in json.dumps(list(AuditEvent.objects.values_list("details", flat=True)))


def test_a_replayed_report_is_409_and_opens_nothing_more(world: World) -> None:
    client, jwk = signing_client(world.supplier)
    released(world.pupil(), world.supplier)
    token = report(client, jwk, jti="breach-1")
    assert post(token).status_code == 202
    again = post(token)
    assert again.status_code == 409
    assert again.json()["detail"] == "jti seen already (replay)"
    assert again["content-type"] == "application/problem+json"
    assert Incident.objects.count() == 1
    assert BreachReport.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ("forged", 401, "signature does not verify"),
        ("unknown_key", 401, "unknown key id"),
        ("unknown_client", 401, "iss is not a registered client"),
        ("wrong_audience", 400, "aud is not this hub"),
        ("old", 400, "iat outside the tolerance"),
        ("window_backwards", 400, "window ends before it starts"),
        ("receipt_type", 400, "typ is not regie-breach+jwt"),
        ("not_a_jws", 400, "report is not a compact JWS"),
        ("subjects", 400, "subjects malformed"),
    ],
)
def test_a_bad_report_is_refused_with_the_reason_and_nothing_is_created(
    world: World, change: str, status: int, reason: str
) -> None:
    client, jwk = signing_client(world.supplier)
    released(world.pupil(), world.supplier)
    now = int(time.time())
    if change == "forged":
        _, other_jwk = signing_client(make_supplier("Taalrijk (fictief)", "99000002"), kid="lev-1")
        token = report(client, other_jwk)  # the same kid, another key
    elif change == "unknown_key":
        token = report(client, {**jwk, "kid": "lev-9"})
    elif change == "unknown_client":
        token = report(client, jwk, client_id="niet-geregistreerd")
    elif change == "wrong_audience":
        token = report(client, jwk, audience="https://andere-hub.example/oidc")
    elif change == "old":
        token = report(client, jwk, now=now - 3600)
    elif change == "window_backwards":
        token = report(client, jwk, window=(now, now - 60))
    elif change == "receipt_type":
        order = {"id": "x", "issuer": ISSUER}
        token = supplier_orders.make_receipt(
            order=order,
            order_digest="sha-256=:x:",
            status="completed",
            subjects=[],
            statement="",
            data={},
            client_id=client.client_id,
            private_jwk=jwk,
            now=now,
        )
    elif change == "not_a_jws":
        token = "geen.jws"
    else:
        token = report(client, jwk, subjects=[1, 2])
    answer = post(token)
    assert answer.status_code == status, answer.content
    assert answer.json()["detail"] == reason
    assert not Incident.objects.exists()
    assert not BreachReport.objects.exists()
    refused = AuditEvent.objects.get(event_type="oversight.incident.report_refused")
    assert refused.details["reason"] == reason


def test_it_wants_application_jose(world: World) -> None:
    client, jwk = signing_client(world.supplier)
    assert post(report(client, jwk), content_type="text/plain").status_code == 415
    assert Client().get(URL).status_code == 405
    assert not Incident.objects.exists()


def test_a_report_concerning_no_pupil_of_this_hub_opens_nothing(world: World) -> None:
    client, jwk = signing_client(world.supplier)
    answer = post(report(client, jwk))
    assert answer.status_code == 202
    assert answer.json() == {"incidents": 0}
    assert BreachReport.objects.get().incidents == 0
