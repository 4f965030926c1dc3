"""replaceStampseudonym: a pupil whose PGN changed keeps the old stampseudonym (DESIGN §4.2)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from regie.conftest import make_hpgn
from regie.nummervoorziening import services
from regie.nummervoorziening.errors import InvalidInput, SubstitutionConflict
from regie.nummervoorziening.models import Client, Substitution

pytestmark = pytest.mark.django_db


def test_it_resolves_a_new_hpgn_to_the_old_stampseudonym(
    las_client: tuple[Client, str], rng: random.Random
) -> None:
    client, _ = las_client
    old, new = make_hpgn(rng), make_hpgn(rng)
    old_value = services.retrieve_stampseudonym(client, old)
    assert services.retrieve_stampseudonym(client, new) != old_value

    answer = services.replace_stampseudonym(client, new, old)

    assert answer == old_value
    assert services.retrieve_stampseudonym(client, new) == old_value
    assert services.retrieve_stampseudonym(client, old) == old_value


def test_it_resolves_chains_to_the_oldest(
    las_client: tuple[Client, str], rng: random.Random
) -> None:
    client, _ = las_client
    old, mid, new = make_hpgn(rng), make_hpgn(rng), make_hpgn(rng)
    old_value = services.retrieve_stampseudonym(client, old)

    services.replace_stampseudonym(client, mid, old)
    services.replace_stampseudonym(client, new, mid)

    assert services.retrieve_stampseudonym(client, new) == old_value
    assert services.retrieve_stampseudonym(client, mid) == old_value


def test_it_waits_for_a_future_effective_date(
    las_client: tuple[Client, str], rng: random.Random
) -> None:
    client, _ = las_client
    old, new = make_hpgn(rng), make_hpgn(rng)
    own_value = services.retrieve_stampseudonym(client, new)
    old_value = services.retrieve_stampseudonym(client, old)

    services.replace_stampseudonym(client, new, old, timezone.now() + timedelta(days=3))

    assert services.retrieve_stampseudonym(client, new) == own_value
    Substitution.objects.update(effective_at=timezone.now() - timedelta(seconds=1))
    assert services.retrieve_stampseudonym(client, new) == old_value


def test_it_stores_no_hpgn(las_client: tuple[Client, str], rng: random.Random) -> None:
    client, _ = las_client
    old, new = make_hpgn(rng), make_hpgn(rng)
    services.replace_stampseudonym(client, new, old)
    row = Substitution.objects.get()
    stored = bytes(row.anchor_new) + bytes(row.anchor_old)
    for hpgn in (old, new):
        assert bytes.fromhex(hpgn) not in stored
        assert hpgn.encode() not in stored


def test_it_refuses_a_second_substitution_for_the_same_hpgn(
    las_client: tuple[Client, str], rng: random.Random
) -> None:
    client, _ = las_client
    old, new, other = make_hpgn(rng), make_hpgn(rng), make_hpgn(rng)
    services.replace_stampseudonym(client, new, old)
    with pytest.raises(SubstitutionConflict, match="already has a substitution"):
        services.replace_stampseudonym(client, new, other)
    assert Substitution.objects.count() == 1


def test_it_refuses_a_cycle(las_client: tuple[Client, str], rng: random.Random) -> None:
    client, _ = las_client
    first, second = make_hpgn(rng), make_hpgn(rng)
    services.replace_stampseudonym(client, second, first)
    with pytest.raises(SubstitutionConflict, match="cycle"):
        services.replace_stampseudonym(client, first, second)
    assert Substitution.objects.count() == 1


def test_it_refuses_replacing_an_hpgn_by_itself(
    las_client: tuple[Client, str], rng: random.Random
) -> None:
    client, _ = las_client
    same = make_hpgn(rng)
    with pytest.raises(InvalidInput, match="same"):
        services.replace_stampseudonym(client, same, same)


@pytest.mark.parametrize("bad", ["", "xyz", "0" * 63])
def test_it_refuses_malformed_hpgns_and_changes_nothing(
    las_client: tuple[Client, str], rng: random.Random, bad: str
) -> None:
    client, _ = las_client
    with pytest.raises(InvalidInput) as caught:
        services.replace_stampseudonym(client, bad, make_hpgn(rng))
    assert caught.value.code == "invalid-hpgn"
    assert not Substitution.objects.exists()
