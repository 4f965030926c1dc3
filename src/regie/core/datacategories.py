"""The data-category taxonomy: what kind of personal data a field, attribute or release holds.

The keys follow fideslang's dotted style (the Fides taxonomy language, data categories:
https://ethyca.github.io/fideslang/ , ``data_files/data_categories.csv``). Where fideslang has a
key for the data, regie uses it unchanged, so that a data schedule or an art. 30 register can be
read next to other Fides-described systems. Education has needs fideslang does not cover; regie's
own keys extend the tree under ``user.education`` and ``user.unique_id.pseudonymous`` (see
:data:`REGIE_CATEGORIES`; :data:`FIDESLANG_CATEGORIES` holds the borrowed ones). fideslang 3.2
deprecated ``user.unique_id.pseudonymous`` in favour of ``user.unique_id``; regie keeps it as the
parent of its pseudonym keys because a pseudonym is exactly what the pseudonym chain issues.

``sensitive`` marks the special categories of the AVG (art. 9, such as health), the national
identification number (art. 87 AVG, art. 46 UAVG) and what a school treats alike: care data
(zorgdata). Sensitive data is need-to-know inside the school and never released by default.

The annotation convention
-------------------------

Every model of a regie app says whether it holds personal data:

- ``PERSONAL_DATA: ClassVar[bool] = False``: the model holds no personal data (a number-service
  client, a batch of anchors). Nothing else is needed.
- ``PERSONAL_DATA: ClassVar[bool] = True``: the model also declares ``DATA_CATEGORIES:
  ClassVar[Mapping[str, DataCategory | NotPersonal]]``, mapping the name of *every* concrete field
  (the id, foreign keys by their field name such as ``school``, not ``school_id``, and
  many-to-many fields too) to a category from :data:`TAXONOMY` or to :data:`NOT_PERSONAL`. A row
  id of a table about people is ``user.unique_id``; a foreign key from a pupil to their school or
  group is enrolment (``user.education.enrolment``); a timestamp of an administrative change is
  usually :data:`NOT_PERSONAL`.

For example::

    class Student(models.Model):
        PERSONAL_DATA: ClassVar[bool] = True
        DATA_CATEGORIES: ClassVar[Mapping[str, DataCategory | NotPersonal]] = {
            "id": datacategories.UNIQUE_ID,
            "school": datacategories.ENROLMENT,
            "roepnaam": datacategories.FIRST_NAME,
            "birth_date": datacategories.DATE_OF_BIRTH,
            "created_at": datacategories.NOT_PERSONAL,
        }

The system check in :mod:`regie.core.checks` enforces this for every model of an app whose name
starts with ``regie.``, so a new field without a category fails ``regie check`` and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class DataCategory:
    """One node of the taxonomy. ``key`` is dotted; its parent is the key without the last part."""

    key: str
    label_nl: str
    label_en: str
    description: str
    sensitive: bool = False

    @property
    def parent_key(self) -> str:
        """The key of the parent category, or ``""`` for the root (``user``)."""
        return self.key.rpartition(".")[0]

    def __str__(self) -> str:
        return self.key


class NotPersonal:
    """The marker for a field of a personal-data model that holds no personal data itself."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_PERSONAL"


NOT_PERSONAL: Final = NotPersonal()

# fideslang's own keys (data_categories.csv), with Dutch labels added.
USER = DataCategory(
    "user", "Gebruikersgegevens", "User data", "Data about a person who uses or is served by regie."
)
NAME = DataCategory("user.name", "Naam", "Name", "A person's real name.")
FIRST_NAME = DataCategory(
    "user.name.first", "Voornaam", "First name", "Roepnaam and voornamen (given names)."
)
LAST_NAME = DataCategory(
    "user.name.last",
    "Achternaam",
    "Last name",
    "Achternaam (family name), with its voorvoegsel (such as 'van der').",
)
CONTACT = DataCategory("user.contact", "Contactgegevens", "Contact data", "How to reach a person.")
EMAIL = DataCategory("user.contact.email", "E-mailadres", "E-mail address", "A contact e-mail.")
PHONE_NUMBER = DataCategory(
    "user.contact.phone_number", "Telefoonnummer", "Phone number", "A contact phone number."
)
ADDRESS = DataCategory("user.contact.address", "Adres", "Address", "A postal or home address.")
DEMOGRAPHIC = DataCategory(
    "user.demographic", "Demografische gegevens", "Demographic data", "Demographic data."
)
DATE_OF_BIRTH = DataCategory(
    "user.demographic.date_of_birth", "Geboortedatum", "Date of birth", "Date of birth."
)
GENDER = DataCategory("user.demographic.gender", "Geslacht", "Gender", "Gender as registered.")
UNIQUE_ID = DataCategory(
    "user.unique_id",
    "Uniek kenmerk",
    "Unique ID",
    "An identifier assigned through system use: a row id, the LAS's own key of a pupil.",
)
PSEUDONYMOUS_ID = DataCategory(
    "user.unique_id.pseudonymous",
    "Pseudoniem",
    "Pseudonymous ID",
    "An identifier derived from other data of the person that does not reveal who they are.",
)
GOVERNMENT_ID = DataCategory(
    "user.government_id",
    "Overheidsnummer",
    "Government ID",
    "Identification data issued by the state.",
    sensitive=True,
)
NATIONAL_ID = DataCategory(
    "user.government_id.national_identification_number",
    "Persoonsgebonden nummer (BSN, onderwijsnummer)",
    "National identification number (BSN, onderwijsnummer)",
    "The PGN, and values such as the HPgn from which it can be recovered. Used once, never stored.",
    sensitive=True,
)
USERNAME = DataCategory(
    "user.account.username", "Gebruikersnaam", "Username", "The name a person logs in with."
)
ACCOUNT = DataCategory("user.account", "Accountgegevens", "Account data", "Account information.")
AUTHORIZATION = DataCategory(
    "user.authorization", "Autorisatie", "Authorisation", "Permissions and access to a system."
)
CREDENTIALS = DataCategory(
    "user.authorization.credentials",
    "Inloggegevens",
    "Credentials",
    "Password hashes, second-factor secrets and other credentials (stored hashed or encrypted).",
)
DEVICE = DataCategory("user.device", "Apparaatgegevens", "Device data", "Data about a device.")
IP_ADDRESS = DataCategory(
    "user.device.ip_address", "IP-adres", "IP address", "The address a request came from."
)
HEALTH = DataCategory(
    "user.health",
    "Gezondheidsgegevens",
    "Health data",
    "Health records or medical information (a special category, AVG art. 9).",
    sensitive=True,
)
CONTENT = DataCategory(
    "user.content", "Inhoud van de persoon", "User content", "Content a person made or shows."
)
SELF_IMAGE = DataCategory(
    "user.content.self_image",
    "Foto of video van de persoon",
    "Self image",
    "A photograph or video in which the person can be recognised.",
)
PRIVACY_PREFERENCES = DataCategory(
    "user.privacy_preferences",
    "Privacyvoorkeuren",
    "Privacy preferences",
    "Consent given or withdrawn, objections, and other choices a person made about their data.",
)

# regie's own keys: education, and the pseudonyms of the ECK iD chain (DESIGN §4).
EDUCATION = DataCategory(
    "user.education",
    "Onderwijsgegevens",
    "Education data",
    "Data that exist because a person learns, teaches or cares for a pupil at a school.",
)
ENROLMENT = DataCategory(
    "user.education.enrolment",
    "Inschrijving",
    "Enrolment",
    "School, group, year level (jaargroep, leerjaar), enrolment status and dates.",
)
RESULTS = DataCategory(
    "user.education.results",
    "Leerresultaten",
    "Learning results",
    "Scores, progress and other results of learning, including those posted by suppliers.",
)
CARE = DataCategory(
    "user.education.care",
    "Zorggegevens",
    "Special-needs and care data",
    "Zorgdata: support needs, ontwikkelingsperspectief, notes of the care coordinator (IB'er).",
    sensitive=True,
)
PSYCHODIAGNOSTIC = DataCategory(
    "user.education.care.psychodiagnostic",
    "Psychodiagnostisch onderzoek",
    "Psychodiagnostic assessment",
    "Results of a psychological or educational assessment (intelligence, dyslexia, behaviour).",
    sensitive=True,
)
CARE_PLAN = DataCategory(
    "user.education.care.plan",
    "Zorgplan / ontwikkelingsperspectief",
    "Care plan / development perspective",
    "A pupil's care plan or ontwikkelingsperspectief (OPP): goals, support, evaluations.",
    sensitive=True,
)
SPECIAL_NEEDS = DataCategory(
    "user.education.care.special_needs",
    "Extra ondersteuning",
    "Special educational needs",
    "Extra support and special educational needs (arrangementen, speciale onderwijsbehoeften).",
    sensitive=True,
)
ROLE = DataCategory(
    "user.education.role",
    "Rol in de school",
    "Role at school",
    "What a staff member is at the school: teacher, care coordinator, privacy officer, admin.",
)
RELATION = DataCategory(
    "user.education.relation",
    "Relatie ouder/verzorger en leerling",
    "Guardian relation",
    "Who is a parent or guardian of which pupil, and in what capacity.",
)
STAMPSEUDONYM = DataCategory(
    "user.unique_id.pseudonymous.stampseudonym",
    "Stampseudoniem",
    "Stampseudonym",
    "The school-side root pseudonym derived from the HPgn by the number service.",
)
ECK_ID = DataCategory(
    "user.unique_id.pseudonymous.eck_id",
    "ECK iD",
    "ECK iD",
    "The chain pseudonym per (chain, sector); the same at every school of the sector.",
)
SUPPLIER_PSEUDONYM = DataCategory(
    "user.unique_id.pseudonymous.supplier_pseudonym",
    "Leverancierspseudoniem",
    "Supplier pseudonym",
    "The pseudonym per (supplier, sector) that a supplier sees; the default OIDC 'sub'.",
)

FIDESLANG_CATEGORIES: Final[tuple[DataCategory, ...]] = (
    USER,
    NAME,
    FIRST_NAME,
    LAST_NAME,
    CONTACT,
    EMAIL,
    PHONE_NUMBER,
    ADDRESS,
    DEMOGRAPHIC,
    DATE_OF_BIRTH,
    GENDER,
    UNIQUE_ID,
    PSEUDONYMOUS_ID,
    GOVERNMENT_ID,
    NATIONAL_ID,
    ACCOUNT,
    USERNAME,
    AUTHORIZATION,
    CREDENTIALS,
    DEVICE,
    IP_ADDRESS,
    HEALTH,
    CONTENT,
    SELF_IMAGE,
    PRIVACY_PREFERENCES,
)
REGIE_CATEGORIES: Final[tuple[DataCategory, ...]] = (
    EDUCATION,
    ENROLMENT,
    RESULTS,
    CARE,
    PSYCHODIAGNOSTIC,
    CARE_PLAN,
    SPECIAL_NEEDS,
    ROLE,
    RELATION,
    STAMPSEUDONYM,
    ECK_ID,
    SUPPLIER_PSEUDONYM,
)

TAXONOMY: Final[dict[str, DataCategory]] = {
    category.key: category for category in (*FIDESLANG_CATEGORIES, *REGIE_CATEGORIES)
}


SENSITIVE_RECORD_CATEGORIES: Final[tuple[DataCategory, ...]] = (
    PSYCHODIAGNOSTIC,
    CARE_PLAN,
    SPECIAL_NEEDS,
    HEALTH,
)
"""The kinds of sensitive record the school keeps about a pupil (``roster.SensitiveRecord``)."""


def get(key: str) -> DataCategory:
    """The category with this key; a :class:`KeyError` that names the key when there is none."""
    try:
        return TAXONOMY[key]
    except KeyError:
        raise KeyError(f"no data category {key!r} in regie's taxonomy") from None
