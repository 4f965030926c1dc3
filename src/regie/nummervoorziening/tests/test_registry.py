"""Chains and sectors come from configuration; SO and VSO use PO's sector."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from regie.nummervoorziening import services
from regie.nummervoorziening.registry import BUILT_IN, get_registry, load_registry

PO = "http://purl.edustandaard.nl/begrippenkader/512e4729-03a4-43a2-95ba-758071d1b725"


def test_the_built_in_registry_knows_the_four_sectors() -> None:
    registry = load_registry(BUILT_IN)
    assert {sector.code for sector in registry.sectors.values()} == {"PO", "VO", "MBO", "HO"}
    for code in ("PO", "SO", "VSO", "vso"):
        sector = registry.sector_by_code(code)
        assert sector is not None
        assert sector.id == PO
    assert registry.sector_by_code("XYZ") is None


def test_it_loads_a_configured_registry(tmp_path: Path) -> None:
    path = tmp_path / "registry.toml"
    path.write_text(
        '[[chains]]\nid = "urn:test:chain"\nname = "Test"\ndescription = "d"\nlast_edited = 2026-01-01T00:00:00Z\n'
        '[[sectors]]\ncode = "po"\nid = "urn:test:po"\nname = "PO"\ndescription = "d"\n'
        "last_edited = 2026-01-01T00:00:00Z\n",
        encoding="utf-8",
    )
    with override_settings(NV_REGISTRY_FILE=str(path)):
        assert [chain.id for chain in services.chains()] == ["urn:test:chain"]
        assert get_registry().sector_by_code("PO") is not None
    assert "urn:test:chain" not in [chain.id for chain in services.chains()]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml [", "cannot be read"),
        ("", "at least one chain"),
        (
            '[[chains]]\nid = "x"\nname = "n"\ndescription = "d"\nlast_edited = "yesterday"\n',
            "date-time",
        ),
        ('[[chains]]\nname = "n"\n', "id must be"),
    ],
)
def test_it_refuses_a_broken_registry_and_says_where(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "registry.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImproperlyConfigured, match=message) as caught:
        load_registry(path)
    assert str(path) in str(caught.value)
