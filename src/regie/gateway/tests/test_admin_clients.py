"""The OAuth-client admin: new clients go through ``register_client`` (checked and audited), a
secret is shown once and kept only as a hash; codes, tokens and pseudonyms are not in the admin."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from django.urls import NoReverseMatch, reverse
from joserfc.jwk import ECKey, KeySet

from regie.agreements.models import Product, Supplier
from regie.agreements.tests.register import make_product, make_supplier
from regie.audit.models import AuditEvent
from regie.gateway import events, services
from regie.gateway.models import AccessToken, AuthorizationCode, OAuthClient, SupplierPseudonym
from regie.logins import verified_client

pytestmark = pytest.mark.django_db

ADD = "admin:gateway_oauthclient_add"
LIST = "admin:gateway_oauthclient_changelist"
SECRET = re.compile(r"Het geheim van client (regie-[0-9a-f]+) is: ([A-Za-z0-9_-]{20,})")


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser("beheer", "beheer@regie.example", "fictief-wachtwoord")


@pytest.fixture
def browser(superuser: User) -> Client:
    return verified_client(superuser)


@pytest.fixture
def product() -> Product:
    return make_product(make_supplier("Rekenwereld B.V. (fictief)", "99000001"), "Rekenwereld")


def form(product: Product, **values: Any) -> dict[str, Any]:
    return {
        "supplier": product.supplier_id,
        "product": product.pk,
        "name": "Rekenwereld SSO",
        "auth_method": "client_secret_basic",
        "jwks": "",
        "initiate_login_uri": "https://app.rekenwereld.example/login",
        "redirect_uris": "https://app.rekenwereld.example/callback\n"
        "https://app.rekenwereld.example/callback2\n",
        "post_logout_redirect_uris": "",
        "scopes": ["openid"],
        "signing_alg": "ES256",
        **values,
    }


def test_a_superuser_adds_a_client_and_sees_its_secret_once(
    browser: Client, product: Product, superuser: User
) -> None:
    answer = browser.post(reverse(ADD), form(product), follow=True)
    assert answer.status_code == 200
    shown = SECRET.search(answer.content.decode())
    assert shown is not None, answer.content.decode()[:2000]
    client_id, secret = shown.groups()
    client = OAuthClient.objects.get()
    assert client.client_id == client_id
    assert client.supplier == product.supplier
    assert client.redirect_uris == [
        "https://app.rekenwereld.example/callback",
        "https://app.rekenwereld.example/callback2",
    ]
    assert client.initiate_login_uri == "https://app.rekenwereld.example/login"
    assert secret not in client.secret_hash
    assert client.check_client_secret(secret)
    assert secret not in client.secret_hash
    saved = AuditEvent.objects.get(event_type=events.CLIENT_SAVED.name)
    assert saved.actor == f"user:{superuser.pk}"
    assert secret not in str(saved.details)
    for page in (reverse(LIST), reverse("admin:gateway_oauthclient_change", args=[client.pk])):
        content = browser.get(page).content.decode()
        assert secret not in content  # once only
        assert client.secret_hash not in content
        assert client.secret_hash.split("$")[-1] not in content


def test_the_client_list_never_contains_the_secret_hash(browser: Client, product: Product) -> None:
    client, _ = services.register_client(
        product.supplier,
        name="Rekenwereld SSO",
        product=product,
        redirect_uris=["https://app.rekenwereld.example/callback"],
        auth_method="client_secret_post",
    )
    answer = browser.get(reverse(LIST))
    content = answer.content.decode()
    assert client.client_id in content
    assert "Rekenwereld B.V. (fictief)" in content
    assert client.secret_hash.split("$")[-1] not in content
    found = browser.get(reverse(LIST), {"q": "Rekenwereld B.V."}).content.decode()
    assert client.client_id in found
    assert client.client_id not in browser.get(reverse(LIST), {"q": "Taalrijk"}).content.decode()


def test_a_client_with_private_key_jwt_gets_no_secret(browser: Client, product: Product) -> None:
    key = ECKey.generate_key("P-256", private=True)
    jwks = KeySet([key]).as_dict(private=True)
    values = form(product, auth_method="private_key_jwt", jwks=json.dumps(jwks))
    answer = browser.post(reverse(ADD), values, follow=True)
    assert answer.status_code == 200
    assert SECRET.search(answer.content.decode()) is None
    client = OAuthClient.objects.get()
    assert client.secret_hash == ""
    assert "d" not in client.jwks["keys"][0]  # only the public key is kept


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"redirect_uris": "http://app.rekenwereld.example/callback"}, "https"),
        ({"redirect_uris": "https://app.rekenwereld.example/cb#frag"}, "fragment"),
        ({"auth_method": "private_key_jwt"}, "JWKS"),
        ({"initiate_login_uri": "http://app.rekenwereld.example/login"}, "https"),
    ],
)
def test_it_refuses_a_client_the_service_refuses_and_keeps_nothing(
    browser: Client, product: Product, values: dict[str, str], message: str
) -> None:
    answer = browser.post(reverse(ADD), form(product, **values))
    assert answer.status_code == 200  # the form again, with the reason
    assert message in answer.content.decode()
    assert not OAuthClient.objects.exists()
    assert not AuditEvent.objects.filter(event_type=events.CLIENT_SAVED.name).exists()


def test_it_refuses_a_product_of_another_supplier(browser: Client, product: Product) -> None:
    other: Supplier = make_supplier("Taalrijk Uitgevers (fictief)", "99000002")
    answer = browser.post(reverse(ADD), form(product, supplier=other.pk))
    assert answer.status_code == 200
    assert "het product is niet van deze leverancier" in answer.content.decode()
    assert not OAuthClient.objects.exists()


def test_it_renames_and_switches_a_client_off_but_keeps_its_set_up(
    browser: Client, product: Product
) -> None:
    client, _ = services.register_client(
        product.supplier,
        name="Rekenwereld SSO",
        product=product,
        redirect_uris=["https://app.rekenwereld.example/callback"],
        auth_method="client_secret_basic",
    )
    url = reverse("admin:gateway_oauthclient_change", args=[client.pk])
    answer = browser.post(
        url,
        {
            "name": "Rekenwereld SSO (oud)",
            "redirect_uris": '["https://evil.example/callback"]',
            "secret_hash": "x",
        },
    )
    assert answer.status_code == 302
    client.refresh_from_db()
    assert client.name == "Rekenwereld SSO (oud)"
    assert client.is_active is False
    assert client.redirect_uris == ["https://app.rekenwereld.example/callback"]
    assert client.secret_hash != "x"
    event = AuditEvent.objects.filter(event_type="admin.saved").latest("pk")
    assert event.subject == f"gateway.oauthclient:{client.pk}"
    assert event.details == {"created": False, "fields": ["is_active", "name"]}


def test_it_deletes_no_client(browser: Client, product: Product) -> None:
    client, _ = services.register_client(
        product.supplier,
        name="Rekenwereld SSO",
        redirect_uris=["https://app.rekenwereld.example/callback"],
        auth_method="client_secret_basic",
    )
    answer = browser.post(reverse("admin:gateway_oauthclient_delete", args=[client.pk]))
    assert answer.status_code == 403
    assert OAuthClient.objects.filter(pk=client.pk).exists()


@pytest.mark.parametrize("model", [AuthorizationCode, AccessToken, SupplierPseudonym])
def test_codes_tokens_and_pseudonyms_are_not_in_the_admin(model: type[Any]) -> None:
    assert model not in admin.site._registry
    with pytest.raises(NoReverseMatch):
        reverse(f"admin:gateway_{model._meta.model_name}_changelist")
