"""``update_client``: a registered client's URIs, public keys, scopes and active flag change only
as checked at registration, audited with the names of the fields that changed; bad input is
refused and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import ECKey

from regie.agreements.services import Refused
from regie.agreements.tests.register import make_product, make_supplier
from regie.audit.models import AuditEvent
from regie.gateway import services
from regie.gateway.models import OAuthClient

pytestmark = pytest.mark.django_db

CALLBACK = "https://app.rekenwereld.example/callback"


def jwks() -> dict[str, Any]:
    key = ECKey.generate_key("P-256", parameters={"kid": "k1", "use": "sig", "alg": "ES256"})
    return {"keys": [key.as_dict(private=False)]}


def client(auth_method: str = "private_key_jwt") -> OAuthClient:
    supplier = make_supplier("Rekenwereld B.V. (fictief)", "99000001")
    registered, _ = services.register_client(
        supplier,
        name="Rekenwereld SSO",
        product=make_product(supplier, "Rekenwereld"),
        redirect_uris=[CALLBACK],
        auth_method=auth_method,
        jwks=jwks() if auth_method == "private_key_jwt" else None,
    )
    return registered


def saves() -> list[dict[str, Any]]:
    found = AuditEvent.objects.filter(event_type="gateway.client.saved").order_by("pk")
    return [event.details for event in found]


def test_it_changes_what_is_asked_and_audits_the_field_names() -> None:
    registered = client()
    new_keys = jwks()
    services.update_client(
        registered,
        redirect_uris=["https://app.rekenwereld.example/cb2"],
        jwks=new_keys,
        scopes=["openid"],
    )
    fresh = OAuthClient.objects.get(pk=registered.pk)
    assert fresh.redirect_uris == ["https://app.rekenwereld.example/cb2"]
    assert fresh.jwks["keys"][0]["x"] == new_keys["keys"][0]["x"]
    assert "d" not in fresh.jwks["keys"][0]  # never a private part
    assert saves()[-1] == {
        "created": False,
        "supplier": registered.supplier_id,
        "fields": ["jwks", "redirect_uris"],  # the scopes were the same
    }


def test_nothing_changed_is_not_saved_or_audited() -> None:
    registered = client()
    before = len(saves())
    services.update_client(registered, redirect_uris=[CALLBACK], is_active=True)
    assert len(saves()) == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"redirect_uris": ["http://app.rekenwereld.example/cb"]}, "gebruikt https"),
        ({"redirect_uris": [f"{CALLBACK}#x"]}, "geen fragment"),
        ({"initiate_login_uri": "ftp://app.rekenwereld.example/"}, "gebruikt https"),
        ({"scopes": ["openid", "admin"]}, "onbekende scopes: admin"),
        ({"jwks": {"keys": [{"kty": "EC"}]}}, "geen geldige JSON Web Key Set"),
        ({"jwks": {"keys": []}}, "vraagt de publieke sleutels van de leverancier"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(changes: dict[str, Any], message: str) -> None:
    registered = client()
    before = OAuthClient.objects.values().get(pk=registered.pk)
    audited = len(saves())
    with pytest.raises(Refused, match=message):
        services.update_client(registered, **{"scopes": ["openid"], **changes})
    assert OAuthClient.objects.values().get(pk=registered.pk) == before
    assert len(saves()) == audited


def test_a_secret_client_gets_no_public_keys() -> None:
    registered = client("client_secret_basic")
    with pytest.raises(Refused, match="alleen een private_key_jwt-client"):
        services.update_client(registered, jwks=jwks())
    assert OAuthClient.objects.get(pk=registered.pk).jwks == {}
