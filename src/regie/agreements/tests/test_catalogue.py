"""The fixed attribute catalogue and the DPIA threshold: the vocabulary the release policy uses."""

from __future__ import annotations

import pytest

from regie.agreements import catalogue, dpia, services
from regie.agreements.catalogue import Sensitivity
from regie.agreements.tests.register import World
from regie.core import datacategories


def test_it_maps_every_attribute_to_a_category_of_the_taxonomy() -> None:
    for attribute in catalogue.ATTRIBUTES:
        assert attribute.category.key in datacategories.TAXONOMY, attribute.key
        assert datacategories.TAXONOMY[attribute.category.key] == attribute.category


def test_it_has_unique_keys() -> None:
    keys = [attribute.key for attribute in catalogue.ATTRIBUTES]
    assert len(keys) == len(set(keys))
    assert set(catalogue.CATALOGUE) == set(keys)
    assert [key for key, _label in catalogue.choices()] == keys


def test_it_releases_only_the_supplier_pseudonym_by_default() -> None:
    assert {catalogue.SUPPLIER_PSEUDONYM} == catalogue.DEFAULT_ON
    assert catalogue.SUPPLIER_PSEUDONYM in catalogue.CATALOGUE
    assert catalogue.SUPPLIER_PSEUDONYM not in catalogue.CONSENT_GATED
    assert not catalogue.get(catalogue.SUPPLIER_PSEUDONYM).consent_gated


@pytest.mark.parametrize("key", ["first_name", "last_name", "date_of_birth", "email", "photo"])
def test_it_gates_identifying_attributes_behind_consent(key: str) -> None:
    assert key in catalogue.CONSENT_GATED
    assert catalogue.get(key).sensitivity == Sensitivity.HIGH


def test_it_classes_care_data_as_special_and_consent_gated() -> None:
    care = catalogue.get("care")
    assert care.sensitivity == Sensitivity.SPECIAL
    assert care.consent_gated
    assert care.category.sensitive


def test_it_gates_every_high_or_special_attribute() -> None:
    for attribute in catalogue.ATTRIBUTES:
        if attribute.sensitivity in {Sensitivity.HIGH, Sensitivity.SPECIAL}:
            assert attribute.consent_gated, attribute.key


def test_it_names_an_unknown_attribute_in_the_error() -> None:
    with pytest.raises(catalogue.UnknownAttribute) as caught:
        catalogue.get("shoe_size")
    assert "shoe_size" in str(caught.value)
    assert "catalogue" in str(caught.value)


def test_it_has_the_nine_edpb_criteria() -> None:
    assert len(dpia.CRITERIA) == 9
    assert len(dpia.KEYS) == 9


def test_it_requires_a_dpia_from_two_criteria() -> None:
    first, second, *_rest = (key for key, _label in dpia.CRITERIA)
    assert not dpia.required([])
    assert not dpia.required([first])
    assert not dpia.required([first, first])  # the same criterion twice is still one
    assert dpia.required([first, second])
    assert dpia.required(list(dpia.KEYS))


def test_it_shows_the_threshold_on_a_screening(world: World) -> None:
    first, second, *_rest = (key for key, _label in dpia.CRITERIA)
    one = services.screen_dpia(world.board_a, world.product, [first], user=None)
    assert not one.dpia_required
    two = services.screen_dpia(world.board_a, world.product, [first, second, first], user=None)
    assert two.dpia_required
    assert two.pk == one.pk
    assert sorted(two.criteria) == sorted([first, second])
