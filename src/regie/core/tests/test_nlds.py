"""The vendored NL Design System style sheets are the pinned packages' files, unchanged.

``make nlds`` writes them and ``nlds.json``; this test fails when a file was edited by hand, a pin
was changed without refreshing, or a file that a template links to is missing.
"""

from __future__ import annotations

import json

from regie.core import nlds


def committed_manifest() -> dict[str, object]:
    data: dict[str, object] = json.loads(nlds.MANIFEST.read_text(encoding="utf-8"))
    return data


def test_the_manifest_names_the_pinned_versions_and_integrities() -> None:
    packages = committed_manifest()["packages"]

    assert [(p["name"], p["version"], p["integrity"]) for p in packages] == [  # type: ignore[attr-defined]
        (package.name, package.version, package.integrity) for package in nlds.PACKAGES
    ]


def test_every_vendored_file_matches_its_checksum_in_the_manifest() -> None:
    assert committed_manifest() == nlds.manifest()


def test_only_open_source_packages_are_vendored_each_with_its_licence() -> None:
    for package in nlds.PACKAGES:
        assert package.licence == "EUPL-1.2"
        assert "LICENSE.md" in package.files
        assert "EUROPEAN UNION PUBLIC LICENCE v. 1.2" in nlds.target(
            package, "LICENSE.md"
        ).read_text(encoding="utf-8")
    names = {package.name for package in nlds.PACKAGES}
    assert not names & {"@utrecht/design-tokens", "@rijkshuisstijl-community/design-tokens"}


def test_the_integrity_is_npms_sha512_of_the_bytes() -> None:
    assert nlds.integrity_of(b"") == (
        "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
    )
