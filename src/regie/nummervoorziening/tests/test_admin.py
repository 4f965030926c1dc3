"""The admin registers clients with a key shown once, and never shows batch contents."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient

from regie.audit.models import AuditEvent
from regie.logins import verified_client
from regie.nummervoorziening import events, services
from regie.nummervoorziening.models import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_http(db: None) -> HttpClient:
    user = User.objects.create_superuser("fg-test", "fg@school-a.example", "not-a-real-password-1")
    return verified_client(user)


def test_it_registers_a_client_and_shows_its_key_once(admin_http: HttpClient) -> None:
    response = admin_http.post(
        "/admin/nummervoorziening/client/add/",
        {
            "oin": "00000003333333333000",
            "name": "LAS Zonnebloem (fictief)",
            "role": "las",
            "daily_batch_quota": "5",
            "is_active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    key = re.search(r"nv_[0-9a-f]{12}_[A-Za-z0-9_-]+", response.content.decode())
    assert key is not None
    client = Client.objects.get(oin="00000003333333333000")
    assert services.authenticate_api_key(key.group(0)) == client
    assert (
        key.group(0)
        not in admin_http.get(
            f"/admin/nummervoorziening/client/{client.pk}/change/"
        ).content.decode()
    )


def test_it_refuses_a_malformed_oin(admin_http: HttpClient) -> None:
    response = admin_http.post(
        "/admin/nummervoorziening/client/add/",
        {"oin": "12345", "name": "x", "role": "las", "daily_batch_quota": "5"},
    )
    assert response.status_code == 200
    assert "20 digits" in response.content.decode()
    assert not Client.objects.exists()


def test_the_batch_list_loads(admin_http: HttpClient, las_client: tuple[Client, str]) -> None:
    assert admin_http.get("/admin/nummervoorziening/batch/").status_code == 200
    assert admin_http.get("/admin/audit/auditevent/").status_code == 200


def test_it_registers_a_hub_with_its_suppliers(admin_http: HttpClient) -> None:
    response = admin_http.post(
        "/admin/nummervoorziening/client/add/",
        {
            "oin": "00000003333333333000",
            "name": "Hub Zonnebloem (fictief)",
            "role": "hub",
            "suppliers": "12345678\r\n\r\n 00000004000000000123 \r\n12345678",
            "daily_batch_quota": "5",
            "is_active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    client = Client.objects.get(oin="00000003333333333000")
    assert (client.role, client.supplier_ids()) == ("hub", ["00000004000000000123", "12345678"])
    listing = admin_http.get("/admin/nummervoorziening/client/").content.decode()
    assert "hub van een schoolbestuur" in listing


def test_it_changes_role_and_suppliers_through_the_services(
    admin_http: HttpClient, hub_client: tuple[Client, str]
) -> None:
    client, _ = hub_client
    page = admin_http.get(f"/admin/nummervoorziening/client/{client.pk}/change/").content.decode()
    assert "12345678</textarea>" in page
    form = {
        "oin": client.oin,
        "name": client.name,
        "role": "hub",
        "suppliers": "87654321",
        "daily_batch_quota": "5",
        "is_active": "on",
    }
    response = admin_http.post(f"/admin/nummervoorziening/client/{client.pk}/change/", form)
    assert response.status_code == 302
    assert client.supplier_ids() == ["87654321"]
    change = AuditEvent.objects.filter(event_type=events.CLIENT_SUPPLIERS_CHANGED.name).latest("id")
    assert (change.actor, change.details) == (
        f"user:{User.objects.get().pk}",
        {"added": ["87654321"], "removed": ["12345678"]},
    )

    response = admin_http.post(
        f"/admin/nummervoorziening/client/{client.pk}/change/",
        {**form, "role": "las", "suppliers": ""},
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert (client.role, client.supplier_ids()) == ("las", [])
    role_change = AuditEvent.objects.filter(event_type=events.CLIENT_CHANGED.name).get()
    assert role_change.details == {"role": ["hub", "las"]}


@pytest.mark.parametrize(
    ("role", "suppliers", "message"),
    [
        ("las", "12345678", "Alleen een hub-client heeft leveranciers."),
        ("hub", "12345678\nacme", "Regel 2 is geen KvK-nummer (8 cijfers) of OIN (20 cijfers)."),
    ],
)
def test_it_refuses_bad_suppliers_and_changes_nothing(
    admin_http: HttpClient, hub_client: tuple[Client, str], role: str, suppliers: str, message: str
) -> None:
    client, _ = hub_client
    response = admin_http.post(
        f"/admin/nummervoorziening/client/{client.pk}/change/",
        {
            "oin": client.oin,
            "name": client.name,
            "role": role,
            "suppliers": suppliers,
            "daily_batch_quota": "5",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    client.refresh_from_db()
    assert (client.role, client.supplier_ids()) == ("hub", ["12345678"])
