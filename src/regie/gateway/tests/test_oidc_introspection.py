"""Token introspection (RFC 7662) against a live hub: active tokens of the supplier's own clients
answer with the same pairwise ``sub`` as the ID token; anything else is just ``active: false``."""

from __future__ import annotations

import httpx
import pytest

from regie.agreements import services as register_services
from regie.agreements.models import Licence

from .conftest import Launchable
from .test_oidc_bad_input import Rp, decode_id_token, register
from .test_oidc_client import logged_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def introspect(rp: Rp, token: str) -> httpx.Response:
    assert rp.secret is not None
    return httpx.post(
        f"{rp.base}/oidc/introspect", data={"token": token}, auth=(rp.client_id, rp.secret)
    )


def test_it_answers_with_the_same_pairwise_sub_as_the_id_token(launchable: Launchable) -> None:
    rp = register(launchable)
    tokens = rp.tokens(logged_in(launchable.base, launchable.pupil_user.username))
    answer = introspect(rp, tokens["access_token"])
    assert answer.status_code == 200
    body = answer.json()
    assert body["active"] is True
    assert body["client_id"] == rp.client_id
    assert body["sub"] == decode_id_token(launchable.base, tokens["id_token"])["sub"]
    assert body.keys() == {"active", "client_id", "scope", "token_type", "iss", "iat", "exp", "sub"}


def test_it_tells_another_supplier_nothing(launchable: Launchable) -> None:
    rp = register(launchable)
    other = register(launchable, other=True)
    tokens = rp.tokens(logged_in(launchable.base, launchable.pupil_user.username))
    assert introspect(other, tokens["access_token"]).json() == {"active": False}


def test_it_says_inactive_for_garbage_and_after_the_licence_ended(launchable: Launchable) -> None:
    rp = register(launchable)
    tokens = rp.tokens(logged_in(launchable.base, launchable.pupil_user.username))
    assert introspect(rp, "not-a-token").json() == {"active": False}
    for licence in Licence.objects.filter(product=launchable.product):
        register_services.revoke_licence(licence, user=None)
    assert introspect(rp, tokens["access_token"]).json() == {"active": False}


def test_it_wants_the_client_to_authenticate(launchable: Launchable) -> None:
    rp = register(launchable)
    tokens = rp.tokens(logged_in(launchable.base, launchable.pupil_user.username))
    answer = httpx.post(f"{rp.base}/oidc/introspect", data={"token": tokens["access_token"]})
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
