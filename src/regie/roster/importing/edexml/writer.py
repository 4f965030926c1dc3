"""Writing one school of a :class:`RosterExport` as EDEXML that :func:`parse_edexml` reads back."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import IO

from regie.roster.importing.records import (
    GroupKind,
    GroupRecord,
    RosterExport,
    SchoolRecord,
    StaffRecord,
    StudentRecord,
)

from .vocabulary import GENDER_CODES, GROUP_CONTAINERS, KIND_NAMES


def write_edexml(export: RosterExport, school_key: str, target: Path) -> None:
    """Write one school of ``export`` as an EDEXML file that :func:`parse_edexml` reads back.

    EDEXML holds one school: only that school's groups, pupils and staff are written, the
    ``groepen`` before the ``samengestelde_groepen``, and in each pupil the ``groep`` before the
    ``samengestelde_groep`` references. Guardians are not part
    of EDEXML. Raises ``ValueError`` when the school or its school year is not in the export.
    """
    school = next((school for school in export.schools if school.key == school_key), None)
    if school is None:
        raise ValueError("the export has no school with that key")
    groups = [group for group in export.groups if group.school_key == school_key]
    year_keys = [group.school_year_key for group in groups if group.school_year_key]
    years = [year for year in export.school_years if not year_keys or year.key == year_keys[0]]
    if not years:
        raise ValueError("EDEXML needs the school year of the school's groups")
    kinds = {group.key: group.kind for group in groups}
    with target.open("w", encoding="utf-8", newline="\n") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<EDEX>\n')
        _write_school(out, school, years[0].title)
        for kind, container in GROUP_CONTAINERS:
            out.write(f"  <{container}>\n")
            for group in groups:
                if group.kind is kind:
                    _write_group(out, group)
            out.write(f"  </{container}>\n")
        out.write("  <leerlingen>\n")
        for student in export.students:
            if student.school_key == school_key:
                _write_student(out, student, kinds)
        out.write("  </leerlingen>\n  <leerkrachten>\n")
        for staff in export.staff:
            if staff.school_key == school_key:
                _write_staff(out, staff, kinds)
        out.write("  </leerkrachten>\n</EDEX>\n")


def _write_school(out: IO[str], school: SchoolRecord, school_year: str) -> None:
    created = datetime.now().replace(microsecond=0).isoformat()
    out.write("  <school>\n")
    out.write(_element(4, "schooljaar", school_year))
    out.write(_element(4, "brincode", school.brin))
    out.write(_element(4, "dependancecode", school.vestiging or "00"))
    out.write(_element(4, "aanmaakdatum", created))
    out.write(_element(4, "auteur", "regie"))
    out.write(_element(4, "xsdversie", "2.1"))
    out.write(_element(4, "schoolnaam", school.name))
    if school.sector is not None:
        out.write(_element(4, "sector", school.sector.value))
    out.write("  </school>\n")


def _write_group(out: IO[str], group: GroupRecord) -> None:
    name = KIND_NAMES[group.kind]
    out.write(f"    <{name} key={_attribute(group.key)}>\n")
    out.write(_element(6, "naam", group.name))
    out.write(_element(6, "jaargroep", group.year_level))
    out.write(f"    </{name}>\n")


def _write_student(out: IO[str], student: StudentRecord, kinds: dict[str, GroupKind]) -> None:
    eck_id = f" eckid={_attribute(student.eck_id)}" if student.eck_id else ""
    out.write(f"    <leerling key={_attribute(student.key)}{eck_id}>\n")
    out.write(_element(6, "achternaam", student.achternaam))
    out.write(_element(6, "voorvoegsel", student.voorvoegsel))
    out.write(_element(6, "roepnaam", student.roepnaam))
    out.write(_element(6, "voornamen", student.voornamen))
    initials = "".join(f"{name[0]}." for name in student.voornamen.split())
    out.write(_element(6, "voorletters-1", initials))
    if student.birth_date is not None:
        out.write(_element(6, "geboortedatum", student.birth_date.isoformat()))
    out.write(_element(6, "geslacht", GENDER_CODES[student.gender]))
    out.write(_element(6, "jaargroep", student.year_level))
    if student.pgn:
        out.write(_element(6, "bsn_ondwnr", student.pgn))
    composites = [key for key in student.group_keys if kinds.get(key) is GroupKind.COMPOSITE]
    for key in student.group_keys:
        if key not in composites:
            out.write(f"      <groep key={_attribute(key)}/>\n")
    if composites:
        out.write("      <samengestelde_groepen>\n")
        for key in composites:
            out.write(f"        <samengestelde_groep key={_attribute(key)}/>\n")
        out.write("      </samengestelde_groepen>\n")
    out.write("    </leerling>\n")


def _write_staff(out: IO[str], staff: StaffRecord, kinds: dict[str, GroupKind]) -> None:
    out.write(f"    <leerkracht key={_attribute(staff.key)}>\n")
    out.write(_element(6, "achternaam", staff.achternaam))
    out.write(_element(6, "voorvoegsel", staff.voorvoegsel))
    out.write(_element(6, "voornamen", staff.voornamen))
    out.write(_element(6, "emailadres", staff.email))
    out.write("      <groepen>\n")
    for key in staff.group_keys:
        name = KIND_NAMES[kinds.get(key, GroupKind.GROUP)]
        out.write(f"        <{name} key={_attribute(key)}/>\n")
    out.write("      </groepen>\n    </leerkracht>\n")


def _element(indent: int, name: str, text: str) -> str:
    if not text:
        return f"{' ' * indent}<{name}/>\n"
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"{' ' * indent}<{name}>{escaped}</{name}>\n"


def _attribute(value: str) -> str:
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    for character, reference in (("\n", "&#10;"), ("\r", "&#13;"), ("\t", "&#9;")):
        escaped = escaped.replace(character, reference)
    return f'"{escaped}"'
