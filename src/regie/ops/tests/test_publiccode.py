"""``publiccode.yml`` at the repository's root: the standard metadata of public-sector open source
(https://yml.publiccode.tools), checked against what version 0.4 of the standard makes mandatory.

Mandatory in 0.4 (docs/standard/schema.core.rst of the standard at tag v0.4.0):

- top level: ``publiccodeYmlVersion``, ``name``, ``url``, ``platforms``, ``categories`` (from the
  standard's list), ``developmentStatus`` (concept, development, beta, stable, obsolete),
  ``softwareType`` (one of its list), ``description``, ``legal``, ``maintenance``,
  ``localisation``;
- ``description``: at least one language (a BCP 47 tag), each with ``shortDescription`` (at most
  150 characters); ``longDescription`` (150 to 10,000 characters) and ``features`` (a list) in at
  least one language;
- ``legal/license``: an SPDX expression;
- ``maintenance/type`` (internal, contract, community, none), with ``contractors`` for a contract
  and ``contacts`` (each with a ``name``) when internal or community;
- ``localisation/localisationReady`` (a boolean) and ``localisation/availableLanguages``;
- ``dependsOn`` is optional; each dependency listed needs a ``name``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[4]
PUBLICCODE = ROOT / "publiccode.yml"

DEVELOPMENT_STATUSES = {"concept", "development", "beta", "stable", "obsolete"}
SOFTWARE_TYPES = {
    *("standalone/mobile", "standalone/iot", "standalone/desktop", "standalone/web"),
    *("standalone/backend", "standalone/other", "addon", "library", "configurationFiles"),
}
MAINTENANCE_TYPES = {"internal", "contract", "community", "none"}
# The standard's categories this file uses (from its controlled list, docs/standard/categories-list.rst).
KNOWN_CATEGORIES = {
    "compliance-management",
    "data-collection",
    "educational-content",
    "identity-management",
    "learning-management-system",
    "regulations-and-directives",
}
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
MANDATORY = (
    *("publiccodeYmlVersion", "name", "url", "platforms", "categories", "developmentStatus"),
    *("softwareType", "description", "legal", "maintenance", "localisation"),
)


def problems(document: dict[str, Any]) -> list[str]:
    """What keeps ``document`` from meeting the mandatory part of publiccode.yml 0.4."""
    found = [f"{key} is missing" for key in MANDATORY if key not in document]
    if found:
        return found
    if document["publiccodeYmlVersion"] != "0.4":
        found.append("publiccodeYmlVersion is not 0.4")
    if not str(document["url"]).startswith("https://"):
        found.append("url is not an https URL")
    if not document["platforms"]:
        found.append("platforms is empty")
    categories = document["categories"]
    if not categories or not set(categories) <= KNOWN_CATEGORIES:
        found.append(f"categories {categories} are not from the standard's list")
    if document["developmentStatus"] not in DEVELOPMENT_STATUSES:
        found.append("developmentStatus is not one of the standard's")
    if document["softwareType"] not in SOFTWARE_TYPES:
        found.append("softwareType is not one of the standard's")
    found += description_problems(document["description"])
    if not document["legal"].get("license"):
        found.append("legal/license is missing")
    found += maintenance_problems(document["maintenance"])
    localisation = document["localisation"]
    if not isinstance(localisation.get("localisationReady"), bool):
        found.append("localisation/localisationReady is not a boolean")
    if not localisation.get("availableLanguages"):
        found.append("localisation/availableLanguages is missing")
    for kind, dependencies in (document.get("dependsOn") or {}).items():
        found += [
            f"dependsOn/{kind}: a dependency without a name"
            for d in dependencies
            if not d.get("name")
        ]
    return found


def description_problems(description: dict[str, Any]) -> list[str]:
    if not description:
        return ["description has no language"]
    found = [
        f"description/{tag} is no language tag"
        for tag in description
        if not LANGUAGE_TAG.match(tag)
    ]
    for tag, text in description.items():
        short = text.get("shortDescription", "")
        if not short or len(short) > 150:
            found.append(f"description/{tag}/shortDescription is missing or over 150 characters")
    if not any(
        150 <= len(text.get("longDescription", "")) <= 10000 for text in description.values()
    ):
        found.append("no longDescription of 150 to 10,000 characters")
    if not any(
        isinstance(text.get("features"), list) and text["features"] for text in description.values()
    ):
        found.append("no features")
    return found


def maintenance_problems(maintenance: dict[str, Any]) -> list[str]:
    kind = maintenance.get("type")
    if kind not in MAINTENANCE_TYPES:
        return ["maintenance/type is not one of the standard's"]
    if kind == "contract" and not maintenance.get("contractors"):
        return ["maintenance/contractors is missing"]
    contacts = maintenance.get("contacts") or []
    if kind in {"internal", "community"} and not (
        contacts and all(c.get("name") for c in contacts)
    ):
        return ["maintenance/contacts (each with a name) is missing"]
    return []


def load() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(PUBLICCODE.read_text(encoding="utf-8"))
    return document


def test_publiccode_yml_has_every_mandatory_key_of_the_standard() -> None:
    assert problems(load()) == []


def test_it_describes_regie_in_dutch_and_english_under_the_projects_licence() -> None:
    document = load()
    assert set(document["description"]) == {"nl", "en"}
    assert set(document["localisation"]["availableLanguages"]) == {"nl", "en"}
    assert document["legal"]["license"] == "EUPL-1.2"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{document["softwareVersion"]}"' in pyproject


def test_the_check_finds_what_the_standard_requires() -> None:
    """The check itself can fail: each mandatory part taken away is reported."""
    for key in MANDATORY:
        broken = load()
        del broken[key]
        assert problems(broken) == [f"{key} is missing"]
    broken = load()
    broken["description"]["en"]["shortDescription"] = "x" * 151
    broken["maintenance"] = {"type": "community"}
    broken["localisation"]["localisationReady"] = "yes"
    broken["categories"] = ["pupils"]
    assert len(problems(broken)) == 4
    broken = load()
    for text in broken["description"].values():
        text["longDescription"] = "te kort"
        del text["features"]
    assert problems(broken) == ["no longDescription of 150 to 10,000 characters", "no features"]
