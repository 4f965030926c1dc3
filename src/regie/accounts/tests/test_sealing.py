"""An identity provider's client secret is sealed at rest under a key derived from SECRET_KEY."""

from __future__ import annotations

import pytest
from django.conf import LazySettings
from hypothesis import given
from hypothesis import strategies as st

from .. import sealing


@given(st.text(max_size=200))
def test_it_opens_what_it_sealed(value: str) -> None:
    assert sealing.unseal(sealing.seal(value)) == value


def test_it_seals_the_same_value_differently_every_time_and_never_in_the_clear() -> None:
    first, second = sealing.seal("geheim-van-de-school"), sealing.seal("geheim-van-de-school")
    assert first != second
    assert "geheim-van-de-school" not in first


def test_it_opens_what_an_older_secret_key_sealed_after_a_rotation(settings: LazySettings) -> None:
    settings.SECRET_KEY = "oude-sleutel-" + "x" * 40
    sealed = sealing.seal("geheim-van-de-school")
    settings.SECRET_KEY = "nieuwe-sleutel-" + "y" * 40
    settings.SECRET_KEY_FALLBACKS = ["oude-sleutel-" + "x" * 40]
    assert sealing.unseal(sealed) == "geheim-van-de-school"


def test_it_refuses_what_no_current_key_opens(settings: LazySettings) -> None:
    settings.SECRET_KEY = "oude-sleutel-" + "x" * 40
    sealed = sealing.seal("geheim-van-de-school")
    settings.SECRET_KEY = "nieuwe-sleutel-" + "y" * 40
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(sealing.Unsealable) as refused:
        sealing.unseal(sealed)
    assert "geheim" not in str(refused.value)
    with pytest.raises(sealing.Unsealable):
        sealing.unseal("geen-fernet-token")
