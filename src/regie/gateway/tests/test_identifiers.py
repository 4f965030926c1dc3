"""Keyed ids are per supplier, stable, and survive a rotation of the secret key when the old key
is kept as the identifier key (``REGIE_IDENTIFIER_KEY``)."""

from __future__ import annotations

from django.conf import LazySettings

from regie.gateway import identifiers

REKENWERELD, TAALRIJK = "99000001", "99000002"


def test_two_suppliers_get_different_ids_for_the_same_thing() -> None:
    first = identifiers.keyed(REKENWERELD, "class", 7)
    assert first == identifiers.keyed(REKENWERELD, "class", 7)
    assert first != identifiers.keyed(TAALRIJK, "class", 7)
    assert first != identifiers.keyed(REKENWERELD, "class", 8)
    assert len(first) == 32
    assert set(first) <= set("0123456789abcdef")


def test_the_ids_survive_a_secret_key_rotation_with_the_old_key_as_identifier_key(
    settings: LazySettings,
) -> None:
    old_key = settings.SECRET_KEY
    settings.IDENTIFIER_KEY = old_key
    before = identifiers.staff_id(REKENWERELD, 12)

    settings.SECRET_KEY = "nieuwe-geheime-sleutel-" + "y" * 40
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert identifiers.staff_id(REKENWERELD, 12) == before

    settings.IDENTIFIER_KEY = settings.SECRET_KEY  # not kept: every supplier sees new ids
    assert identifiers.staff_id(REKENWERELD, 12) != before
