"""Pairwise subjects (OIDC Core §8.1) against a live hub: the same pupil is another ``sub`` at each
supplier, one supplier sees the same value in every message type, and no token carries the pupil's
ECK iD, stampseudonym or any internal id."""

from __future__ import annotations

from typing import Any

import pytest

from regie.gateway.models import SupplierPseudonym

from .conftest import Launchable
from .test_oidc_bad_input import decode_id_token, register
from .test_oidc_client import logged_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def values(claims: Any) -> list[str]:
    """Every scalar in a claim set, as text (nested lists and objects included)."""
    if isinstance(claims, dict):
        return [text for value in claims.values() for text in values(value)]
    if isinstance(claims, list):
        return [text for value in claims for text in values(value)]
    return [str(claims)]


def launch_both(launchable: Launchable) -> dict[str, dict[str, Any]]:
    session = logged_in(launchable.base, launchable.pupil_user.username)
    messages = {}
    for name, other in (("first", False), ("second", True)):
        rp = register(launchable, other=other)
        tokens = rp.tokens(session)
        info = rp.userinfo(tokens["access_token"])
        assert info.status_code == 200
        messages[name] = {
            "id_token": decode_id_token(launchable.base, tokens["id_token"]),
            "userinfo": info.json(),
            "token_response": {k: v for k, v in tokens.items() if k != "id_token"},
        }
    return messages


def test_two_suppliers_get_two_subjects_and_each_the_same_everywhere(
    launchable: Launchable,
) -> None:
    messages = launch_both(launchable)
    first, second = messages["first"], messages["second"]
    assert first["id_token"]["sub"] == first["userinfo"]["sub"]
    assert second["id_token"]["sub"] == second["userinfo"]["sub"]
    assert first["id_token"]["sub"] != second["id_token"]["sub"]
    kept = dict(
        SupplierPseudonym.objects.filter(student=launchable.pupil).values_list(
            "supplier_id", "value"
        )
    )
    assert kept == {
        launchable.supplier.pk: first["id_token"]["sub"],
        launchable.other_supplier.pk: second["id_token"]["sub"],
    }
    # and a second launch at the same supplier gives the same value again
    again = register(launchable).tokens(logged_in(launchable.base, "leerling-a"))
    assert decode_id_token(launchable.base, again["id_token"])["sub"] == first["id_token"]["sub"]


def test_no_identifier_value_is_shared_between_the_suppliers(launchable: Launchable) -> None:
    messages = launch_both(launchable)
    shared_claims = {"iss", "iat", "exp", "auth_time", "groups", "token_type", "expires_in"}
    first = {
        value
        for message in messages["first"].values()
        for name, claim in message.items()
        if name not in shared_claims
        for value in values(claim)
    }
    second = {
        value
        for message in messages["second"].values()
        for name, claim in message.items()
        if name not in shared_claims
        for value in values(claim)
    }
    assert first.isdisjoint(second) or first & second <= {"openid"}


def test_no_token_carries_the_eck_id_the_stampseudonym_or_an_internal_id(
    launchable: Launchable,
) -> None:
    pupil, user = launchable.pupil, launchable.pupil_user
    pupil.stampseudonym = "https://nummervoorziening.regie.example/sp/1/" + "5e" * 64  # fictional
    pupil.save(update_fields=["stampseudonym"])
    assert pupil.eck_id
    messages = launch_both(launchable)
    forbidden = {pupil.eck_id, pupil.stampseudonym, pupil.las_key, user.username}
    internal = {str(pupil.pk), str(user.pk)}
    for supplier in messages.values():
        for message in supplier.values():
            texts = values(message)
            assert forbidden.isdisjoint(texts)
            assert not any(
                secret in text for text in texts for secret in (pupil.eck_id, pupil.stampseudonym)
            )
            for name, claim in message.items():
                if name in {"iat", "exp", "auth_time", "expires_in"}:
                    continue  # times and lifetimes, not ids
                assert internal.isdisjoint(values(claim)), name
        assert supplier["id_token"]["sub"] not in {pupil.eck_id, pupil.stampseudonym}
        assert not supplier["id_token"]["sub"].endswith(pupil.eck_id.rsplit("/", 1)[-1])
