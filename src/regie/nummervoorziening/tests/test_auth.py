"""Who may call the number service: API keys (embedded default) or mTLS subjects via a proxy."""

from __future__ import annotations

import random

import pytest
from django.test import Client as HttpClient
from django.test import override_settings

from regie.conftest import LAS_OIN, make_hpgn
from regie.nummervoorziening import services
from regie.nummervoorziening.errors import AuthenticationFailed
from regie.nummervoorziening.models import BatchKind, Client

pytestmark = pytest.mark.django_db

API = "/nummervoorziening/api/v1"
SUBJECT = "X-SSL-Client-S-DN"


def test_it_stores_api_keys_hashed(las_client: tuple[Client, str]) -> None:
    client, key = las_client
    client.refresh_from_db()
    assert key not in client.api_key_hash
    assert key.split("_", 2)[2] not in client.api_key_hash
    assert services.authenticate_api_key(key) == client


def test_a_new_key_revokes_the_old_one(las_client: tuple[Client, str]) -> None:
    client, old_key = las_client
    new_key = services.issue_api_key(client)
    assert services.authenticate_api_key(new_key) == client
    with pytest.raises(AuthenticationFailed):
        services.authenticate_api_key(old_key)


def test_an_inactive_client_is_refused(las_client: tuple[Client, str]) -> None:
    client, key = las_client
    client.is_active = False
    client.save()
    with pytest.raises(AuthenticationFailed, match="not active"):
        services.authenticate_api_key(key)


def test_a_client_cannot_see_another_clients_batch(
    las_client: tuple[Client, str], other_client: tuple[Client, str], rng: random.Random
) -> None:
    client, _ = las_client
    _, other_key = other_client
    batch = services.submit_batch(client, BatchKind.STAMPSEUDONYM, [(1, make_hpgn(rng))])
    response = HttpClient().post(
        f"{API}/batches/{batch.pk}/retrieve", headers={"Authorization": f"Bearer {other_key}"}
    )
    assert response.status_code == 404


@override_settings(NV_AUTH="mtls")
def test_it_takes_the_oin_from_a_proxied_certificate(
    las_client: tuple[Client, str], rng: random.Random
) -> None:
    subject = f"CN=Demo LAS,O=Fictief BV,serialNumber={LAS_OIN},C=NL"
    response = HttpClient(REMOTE_ADDR="127.0.0.1").post(
        f"{API}/stampseudonyms",
        {"hpgn": make_hpgn(rng)},
        content_type="application/json",
        headers={SUBJECT: subject},
    )
    assert response.status_code == 200


@override_settings(NV_AUTH="mtls")
@pytest.mark.parametrize(
    ("remote", "subject", "detail"),
    [
        ("127.0.0.1", None, "certificate is required"),
        ("127.0.0.1", "CN=Nobody,serialNumber=00000000000000000099", "no client is registered"),
        ("127.0.0.1", "CN=No OIN", "holds no OIN"),
        ("192.0.2.10", f"CN=Spoof,serialNumber={LAS_OIN}", "only via the proxy"),
    ],
)
def test_it_refuses_certificates_it_cannot_trust(
    las_client: tuple[Client, str], remote: str, subject: str | None, detail: str
) -> None:
    headers = {SUBJECT: subject} if subject else {}
    response = HttpClient(REMOTE_ADDR=remote).post(
        f"{API}/stampseudonyms",
        {"hpgn": "a" * 64},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 401
    assert detail in response.json()["detail"]
