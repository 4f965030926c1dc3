"""The fixed attribute catalogue: everything about a person that a supplier can ever be given.

A data schedule (privacybijsluiter) may name only attributes from this catalogue, a school can
switch on only attributes its agreement's schedule names, and the release policy releases only
attribute keys from here. Each attribute is mapped to a category of the data-category taxonomy
(:mod:`regie.core.datacategories`) and has a sensitivity class; ``consent_gated`` attributes also
need a guardian's consent (or the pupil's own, from 16), on top of the school's switch.

Sensitive attributes (their category is ``sensitive`` in the taxonomy: care data, psychodiagnostics,
care plans, special needs, health) are never on by default, are all consent-gated, and may go only
when a DPIA is on record for (board, product) whose outcome allows use (:data:`SENSITIVE`; the
release policy's ``NO_DPIA``).

The supplier pseudonym is the default release (DESIGN §1.2): it is switched on at every school
without a switch of its own, as long as the schedule names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from regie.core import datacategories as dc


class Sensitivity(models.TextChoices):
    """How much harm a leak of the attribute can do; shown in schedules and the DPIA screening."""

    LOW = "low", _("laag: niet tot de persoon herleidbaar zonder de school")
    MEDIUM = "medium", _("gemiddeld: koppelbaar of zegt iets over de persoon")
    HIGH = "high", _("hoog: direct identificerend")
    SPECIAL = "special", _("bijzonder: bijzondere of gevoelige persoonsgegevens")


class Subject(models.TextChoices):
    """Whose data an attribute or processing is about (betrokkenen)."""

    PUPILS = "pupils", _("leerlingen")
    TEACHERS = "teachers", _("medewerkers")
    GUARDIANS = "guardians", _("ouders / verzorgers")


@dataclass(frozen=True)
class Attribute:
    key: str
    label: Promise | str  # a lazy translation; str() gives the current language
    category: dc.DataCategory
    sensitivity: Sensitivity
    consent_gated: bool = False

    def __str__(self) -> str:
        return str(self.label)


SUPPLIER_PSEUDONYM = "supplier_pseudonym"

ATTRIBUTES: Final[tuple[Attribute, ...]] = (
    Attribute(
        SUPPLIER_PSEUDONYM,
        _("leverancierspseudoniem"),
        dc.SUPPLIER_PSEUDONYM,
        Sensitivity.LOW,
    ),
    Attribute("eck_id", _("ECK iD"), dc.ECK_ID, Sensitivity.MEDIUM),
    Attribute("school", _("school (BRIN en naam)"), dc.ENROLMENT, Sensitivity.LOW),
    Attribute("groups", _("groepen en klassen"), dc.ENROLMENT, Sensitivity.LOW),
    Attribute("year_level", _("jaargroep / leerjaar"), dc.ENROLMENT, Sensitivity.LOW),
    Attribute("role", _("rol (leerling of leerkracht)"), dc.ROLE, Sensitivity.LOW),
    Attribute("results", _("leerresultaten"), dc.RESULTS, Sensitivity.MEDIUM),
    Attribute("gender", _("geslacht"), dc.GENDER, Sensitivity.MEDIUM),
    Attribute("first_name", _("voornaam"), dc.FIRST_NAME, Sensitivity.HIGH, consent_gated=True),
    Attribute("last_name", _("achternaam"), dc.LAST_NAME, Sensitivity.HIGH, consent_gated=True),
    Attribute(
        "date_of_birth", _("geboortedatum"), dc.DATE_OF_BIRTH, Sensitivity.HIGH, consent_gated=True
    ),
    Attribute("email", _("e-mailadres"), dc.EMAIL, Sensitivity.HIGH, consent_gated=True),
    Attribute("photo", _("foto"), dc.SELF_IMAGE, Sensitivity.HIGH, consent_gated=True),
    Attribute("care", _("zorggegevens"), dc.CARE, Sensitivity.SPECIAL, consent_gated=True),
    Attribute(
        "psychodiagnostic",
        _("psychodiagnostisch onderzoek"),
        dc.PSYCHODIAGNOSTIC,
        Sensitivity.SPECIAL,
        consent_gated=True,
    ),
    Attribute(
        "care_plan",
        _("zorgplan / ontwikkelingsperspectief"),
        dc.CARE_PLAN,
        Sensitivity.SPECIAL,
        consent_gated=True,
    ),
    Attribute(
        "special_needs",
        _("extra ondersteuning"),
        dc.SPECIAL_NEEDS,
        Sensitivity.SPECIAL,
        consent_gated=True,
    ),
    Attribute("health", _("gezondheid"), dc.HEALTH, Sensitivity.SPECIAL, consent_gated=True),
)

CATALOGUE: Final[dict[str, Attribute]] = {attribute.key: attribute for attribute in ATTRIBUTES}
CONSENT_GATED: Final[frozenset[str]] = frozenset(a.key for a in ATTRIBUTES if a.consent_gated)
SENSITIVE: Final[frozenset[str]] = frozenset(a.key for a in ATTRIBUTES if a.category.sensitive)
DEFAULT_ON: Final[frozenset[str]] = frozenset({SUPPLIER_PSEUDONYM})


class UnknownAttribute(KeyError):
    """An attribute key that is not in the catalogue."""

    def __str__(self) -> str:
        return f"unknown attribute {self.args[0]!r}: not in regie's attribute catalogue"


def get(key: str) -> Attribute:
    try:
        return CATALOGUE[key]
    except KeyError:
        raise UnknownAttribute(key) from None


def choices() -> list[tuple[str, str]]:
    return [(attribute.key, str(attribute.label)) for attribute in ATTRIBUTES]
