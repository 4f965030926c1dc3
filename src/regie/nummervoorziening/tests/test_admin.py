"""The admin registers clients with a key shown once, and never shows batch contents."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient

from regie.accounts.tests.logins import verified_client
from regie.nummervoorziening import services
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
        {"oin": "12345", "name": "x", "daily_batch_quota": "5"},
    )
    assert response.status_code == 200
    assert "20 digits" in response.content.decode()
    assert not Client.objects.exists()


def test_the_batch_list_loads(admin_http: HttpClient, las_client: tuple[Client, str]) -> None:
    assert admin_http.get("/admin/nummervoorziening/batch/").status_code == 200
    assert admin_http.get("/admin/audit/auditevent/").status_code == 200
