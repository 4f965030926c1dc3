"""EDEXML's names and codes, shared by the reader and the writer, and the reader's limits."""

from __future__ import annotations

from regie.roster.importing.records import Gender, GroupKind

SOURCE_FORMAT = "edexml"
ROOT = "EDEX"
MAX_PROBLEMS = 1000
MAX_VALUE_CHARACTERS = 10_000  # of one element's text
MAX_RECORD_ELEMENTS = 5_000  # elements inside one school, groep, leerling or leerkracht

# container element → its record element
CONTAINERS = {
    "groepen": "groep",
    "samengestelde_groepen": "samengestelde_groep",
    "leerlingen": "leerling",
    "leerkrachten": "leerkracht",
}
GENDERS = {"1": Gender.MALE, "2": Gender.FEMALE, "0": Gender.UNKNOWN, "9": Gender.UNKNOWN}
GENDERS |= {"X": Gender.OTHER, "x": Gender.OTHER}
GENDER_CODES = {Gender.MALE: "1", Gender.FEMALE: "2", Gender.OTHER: "X", Gender.UNKNOWN: "0"}
KIND_NAMES = {GroupKind.GROUP: "groep", GroupKind.COMPOSITE: "samengestelde_groep"}
GROUP_CONTAINERS = ((GroupKind.GROUP, "groepen"), (GroupKind.COMPOSITE, "samengestelde_groepen"))
