"""A fictional school board, generated as the :class:`RosterExport` a LAS would send.

For the demo, tests and benchmarks: one board with one primary school (PO, groepen 1–8 and a
composite Plusklas) and one secondary school (VO, klassen in leerjaar 1–6 and composite
lesgroepen in the upper years), their pupils, guardians and staff. Everything is made up: names
are drawn from the lists below, e-mail addresses are at ``.example`` domains, school names say
"(fictief)", and the few PGNs are random numbers that pass the BSN 11-proef.

As a LAS export since UWLR 2.3 does, most pupils carry an ECK iD and only ``pgn_pupils`` carry a
PGN, so that importing the board does not cost two seconds of scrypt per pupil (DESIGN §4).

Generation is pure Python, needs no database, is deterministic for a seed (one
``random.Random(seed)``, never the global generator) and linear in the number of pupils.
"""

from __future__ import annotations

import math
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from regie.roster.importing.records import (
    Gender,
    GroupKind,
    GroupRecord,
    GuardianRecord,
    RosterExport,
    SchoolRecord,
    SchoolYearRecord,
    Sector,
    StaffRecord,
    StaffRole,
    StudentRecord,
)

SOURCE_FORMAT = "demo"

BOARD_NAME = "Stichting Openbaar Onderwijs De Vliet (fictief)"
# Made up: DUO's bestuursnummers and the KvK's numbers are not checked against their registers.
BESTUURSNUMMER = "99901"
KVK = "99990001"
BOARD_DOMAIN = "devliet.example"

# BRINs are issued by DUO as 2 digits + 2 letters. DUO's school codes do not use "99", and "X"
# marks the code as made up, so "99XA" and "99XB" pass check_brin but name no real school.
PO_SCHOOL = SchoolRecord(
    key="SC-99XA", brin="99XA", vestiging="", name="OBS De Vlieger (fictief)", sector=Sector.PO
)
VO_SCHOOL = SchoolRecord(
    key="SC-99XB", brin="99XB", vestiging="", name="Vliet College (fictief)", sector=Sector.VO
)
SCHOOL_DOMAINS = {PO_SCHOOL.key: "devlieger.example", VO_SCHOOL.key: "vlietcollege.example"}

SCHOOL_YEAR = SchoolYearRecord(
    key="SJ-2026-2027", title="2026-2027", start=date(2026, 8, 1), end=date(2027, 7, 31)
)
# The teldatum: a pupil's age on this day follows from their year level (groep 3: 6 years).
REFERENCE_DATE = date(2026, 10, 1)

PO_SHARE = 0.45
GROUP_SIZE = 28  # at most this many pupils in a stamgroep or lesgroep; ~25 on average
PLUSKLAS_SIZE = 15
PO_LEVELS = ("1", "2", "3", "4", "5", "6", "7", "8")
VO_LEVELS = ("1", "2", "3", "4", "5", "6")
VO_LEVEL_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 0.8, 0.5)  # fewer pupils in havo 5 / vwo 5–6
PO_AGE_OFFSET = 3  # groep g: g + 3 years old on the teldatum
VO_AGE_OFFSET = 11  # leerjaar l: l + 11 years old on the teldatum
HELD_BACK = 0.04  # share of pupils a year older than their year level
VO_ELECTIVE_LEVELS = ("4", "5", "6")
VO_ELECTIVES = (
    ("WISB", "wiskunde B"),
    ("BIOL", "biologie"),
    ("ECON", "economie"),
    ("FATL", "Frans"),
    ("DUTL", "Duits"),
)
VO_GROUPS_PER_TEACHER = 4
FAMILY_SIZES = (1, 2, 3)
FAMILY_SIZE_WEIGHTS = (0.55, 0.33, 0.12)
TWO_GUARDIANS = 0.75
GUARDIAN_RELATION = 0.06  # share of guardians that are a legal guardian rather than a parent
GUARDIAN_DOMAIN = "ouders.example"
ECK_ID_VERSION = "1"

BOYS = (
    "Daan", "Sem", "Noah", "Lucas", "Levi", "Finn", "Milan", "Luuk", "Bram", "Jesse",
    "Thijs", "Mees", "Sven", "Ruben", "Gijs", "Jens", "Stijn", "Thomas", "Tim", "Max",
    "Julian", "Adam", "Mohamed", "Liam", "Owen", "Teun", "Siem", "Hugo", "Olivier", "Jayden",
)  # fmt: skip
GIRLS = (
    "Emma", "Julia", "Mila", "Tess", "Sophie", "Zoë", "Sara", "Nora", "Yara", "Eva",
    "Saar", "Anna", "Noor", "Lotte", "Liv", "Evi", "Lieke", "Fenna", "Sanne", "Isa",
    "Fleur", "Roos", "Lynn", "Nina", "Maud", "Femke", "Amira", "Lina", "Elin", "Chloë",
)  # fmt: skip
EXTRA_BOYS = (
    "Johannes", "Pieter", "Willem", "Cornelis", "Hendrik", "Jacobus", "Gerardus", "Adrianus",
    "Jan", "Karel", "Frederik", "Maarten",
)  # fmt: skip
EXTRA_GIRLS = (
    "Maria", "Johanna", "Wilhelmina", "Cornelia", "Elisabeth", "Hendrika", "Catharina",
    "Geertruida", "Anna", "Margaretha", "Louise", "Petronella",
)  # fmt: skip
MEN = (
    "Mark", "Jeroen", "Dennis", "Michiel", "Bas", "Erik", "Martijn", "Sander", "Rob", "Joost",
    "Niels", "Wouter", "Arjen", "Youssef", "Kevin", "Remco", "Vincent", "Hans", "Peter", "Frank",
)  # fmt: skip
WOMEN = (
    "Sandra", "Linda", "Marieke", "Esther", "Anouk", "Ilse", "Kim", "Judith", "Eline", "Nicole",
    "Monique", "Fatima", "Inge", "Petra", "Miranda", "Karin", "Marloes", "Wendy", "Hanneke",
    "Annemiek",
)  # fmt: skip
# (voorvoegsel, achternaam); most Dutch surnames have no voorvoegsel.
SURNAMES = (
    ("de", "Vries"), ("", "Jansen"), ("van", "Dijk"), ("", "Bakker"), ("", "Visser"),
    ("", "Smit"), ("", "Meijer"), ("de", "Boer"), ("", "Mulder"), ("de", "Groot"),
    ("", "Bos"), ("", "Vos"), ("", "Peters"), ("", "Hendriks"), ("van", "Leeuwen"),
    ("", "Dekker"), ("", "Brouwer"), ("de", "Wit"), ("", "Dijkstra"), ("", "Smits"),
    ("de", "Graaf"), ("van der", "Meer"), ("van der", "Linden"), ("", "Kok"), ("", "Jacobs"),
    ("de", "Haan"), ("", "Vermeulen"), ("van den", "Heuvel"), ("van der", "Veen"),
    ("van den", "Broek"), ("de", "Bruijn"), ("", "Schouten"), ("van", "Beek"), ("", "Willems"),
    ("van", "Vliet"), ("", "Hoekstra"), ("", "Maas"), ("", "Verhoeven"), ("", "Koster"),
    ("van", "Dam"), ("van der", "Wal"), ("", "Prins"), ("", "Blom"), ("", "Huisman"),
    ("ter", "Horst"), ("ter", "Beek"), ("", "Kaya"), ("", "Yilmaz"), ("", "El Amrani"),
    ("", "Postma"), ("", "Kuipers"), ("van den", "Berg"), ("", "Wouters"), ("", "Gerritsen"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoBoard:
    """The generated board: who it is, and everything its LAS export says."""

    name: str
    bestuursnummer: str
    kvk: str
    export: RosterExport


@dataclass(slots=True)
class _Slot:
    """A place for one pupil: the school, year level and groups, before the pupil has a name."""

    school_key: str
    sector: Sector
    year_level: str
    group_keys: list[str]


@dataclass(slots=True)
class _Builder:
    """Builds the export step by step; every step is linear in what it adds."""

    rng: random.Random
    eck_id_base: str
    export: RosterExport = field(default_factory=lambda: RosterExport(source_format=SOURCE_FORMAT))
    slots: list[_Slot] = field(default_factory=list)
    taken_locals: dict[str, int] = field(default_factory=dict)
    taken_pgns: set[str] = field(default_factory=set)

    # Groups and places.

    def add_group(
        self, key: str, school: SchoolRecord, name: str, kind: GroupKind, level: str
    ) -> str:
        self.export.groups.append(
            GroupRecord(
                key=key,
                school_key=school.key,
                name=name,
                kind=kind,
                year_level=level,
                school_year_key=SCHOOL_YEAR.key,
            )
        )
        return key

    def add_level(
        self,
        school: SchoolRecord,
        sector: Sector,
        level: str,
        count: int,
        names: tuple[str, str],
    ) -> list[_Slot]:
        """The stamgroepen (klassen) of one year level, and a place in one of them per pupil.

        ``names`` holds the prefixes of the groups' keys and names ("GR-PO-", "Groep ").
        """
        key_prefix, name_prefix = names
        group_count = max(1, math.ceil(count / GROUP_SIZE))
        keys = [
            self.add_group(
                f"{key_prefix}{level}{_letters(index)}",
                school,
                f"{name_prefix}{level}{_letters(index)}",
                GroupKind.GROUP,
                level,
            )
            for index in range(group_count)
        ]
        slots = [
            _Slot(school.key, sector, level, [keys[index % group_count]]) for index in range(count)
        ]
        self.slots.extend(slots)
        return slots

    def add_po_school(self, count: int) -> None:
        self.export.schools.append(PO_SCHOOL)
        upper: list[_Slot] = []
        level_counts = _split(count, [1.0] * len(PO_LEVELS))
        for level, level_count in zip(PO_LEVELS, level_counts, strict=True):
            slots = self.add_level(PO_SCHOOL, Sector.PO, level, level_count, ("GR-PO-", "Groep "))
            if int(level) >= 5:
                upper.extend(slots)
        plusklas = self.add_group("GR-PO-PLUS", PO_SCHOOL, "Plusklas", GroupKind.COMPOSITE, "")
        for slot in self.rng.sample(upper, min(PLUSKLAS_SIZE, len(upper))):
            slot.group_keys.append(plusklas)

    def add_vo_school(self, count: int) -> None:
        self.export.schools.append(VO_SCHOOL)
        for level, level_count in zip(VO_LEVELS, _split(count, VO_LEVEL_WEIGHTS), strict=True):
            slots = self.add_level(VO_SCHOOL, Sector.VO, level, level_count, ("GR-VO-", ""))
            if level in VO_ELECTIVE_LEVELS:
                self.add_lesgroepen(level, slots)

    def add_lesgroepen(self, level: str, slots: Sequence[_Slot]) -> None:
        """Each pupil of an upper year takes two electives, in lesgroepen of at most GROUP_SIZE."""
        members = dict.fromkeys((code for code, _name in VO_ELECTIVES), 0)
        for slot in slots:
            for code, subject in self.rng.sample(VO_ELECTIVES, 2):
                number = members[code] // GROUP_SIZE + 1
                key = f"GR-VO-{level}-{code}-{number}"
                if members[code] % GROUP_SIZE == 0:
                    name = f"{level} {subject} {number}"
                    self.add_group(key, VO_SCHOOL, name, GroupKind.COMPOSITE, level)
                members[code] += 1
                slot.group_keys.append(key)

    # Pupils and guardians.

    def add_families(self, pgn_pupils: int) -> None:
        """Fill the places with families: siblings share a surname and their guardians."""
        self.rng.shuffle(self.slots)
        with_pgn = set(self.rng.sample(range(len(self.slots)), pgn_pupils))
        position = 0
        while position < len(self.slots):
            size = self.rng.choices(FAMILY_SIZES, FAMILY_SIZE_WEIGHTS)[0]
            children = self.slots[position : position + size]
            surname = self.rng.choice(SURNAMES)
            student_keys = tuple(
                self.add_student(slot, surname, index in with_pgn)
                for index, slot in enumerate(children, start=position)
            )
            self.add_guardian(surname, student_keys, family=True)
            if self.rng.random() < TWO_GUARDIANS:
                other = surname if self.rng.random() < 0.4 else self.rng.choice(SURNAMES)
                self.add_guardian(other, student_keys, family=False)
            position += size

    def add_student(self, slot: _Slot, surname: tuple[str, str], has_pgn: bool) -> str:
        key = f"LL-{len(self.export.students) + 1:06d}"
        gender = self.gender()
        first_names, extra_names = self.first_name_lists(gender, child=True)
        roepnaam = self.rng.choice(first_names)
        voornamen = [roepnaam]
        for _ in range(self.rng.randrange(3)):
            extra = self.rng.choice(extra_names)
            if extra not in voornamen:
                voornamen.append(extra)
        self.export.students.append(
            StudentRecord(
                key=key,
                school_key=slot.school_key,
                roepnaam=roepnaam,
                voornamen=" ".join(voornamen),
                voorvoegsel=surname[0],
                achternaam=surname[1],
                birth_date=self.birth_date(slot),
                gender=gender,
                year_level=slot.year_level,
                group_keys=tuple(slot.group_keys),
                eck_id="" if has_pgn else self.eck_id(),
                pgn=self.pgn() if has_pgn else "",
            )
        )
        return key

    def add_guardian(
        self, surname: tuple[str, str], student_keys: tuple[str, ...], *, family: bool
    ) -> None:
        gender = self.rng.choice((Gender.MALE, Gender.FEMALE))
        voornamen = self.adult_voornamen(gender)
        slug = _slug(f"{surname[0]}{surname[1]}")
        local = f"familie.{slug}" if family else f"{_slug(voornamen.split()[0])}.{slug}"
        relation = "guardian" if self.rng.random() < GUARDIAN_RELATION else "parent"
        self.export.guardians.append(
            GuardianRecord(
                key=f"OU-{len(self.export.guardians) + 1:06d}",
                voornamen=voornamen,
                voorvoegsel=surname[0],
                achternaam=surname[1],
                email=self.unique_email(local, GUARDIAN_DOMAIN),
                relation=relation,
                student_keys=student_keys,
            )
        )

    # Staff.

    def add_staff(
        self,
        school: SchoolRecord,
        roles: tuple[StaffRole, ...],
        group_keys: tuple[str, ...] = (),
        domain: str | None = None,
    ) -> None:
        gender = self.rng.choice((Gender.MALE, Gender.FEMALE))
        voornamen = self.adult_voornamen(gender)
        voorvoegsel, achternaam = self.rng.choice(SURNAMES)
        local = f"{_slug(voornamen.split()[0])}.{_slug(voorvoegsel + achternaam)}"
        self.export.staff.append(
            StaffRecord(
                key=f"MW-{len(self.export.staff) + 1:04d}",
                school_key=school.key,
                voornamen=voornamen,
                voorvoegsel=voorvoegsel,
                achternaam=achternaam,
                email=self.unique_email(local, domain or SCHOOL_DOMAINS[school.key]),
                roles=roles,
                group_keys=group_keys,
            )
        )

    def add_teachers(self) -> None:
        """PO: a teacher per stamgroep, one also teaching the Plusklas. VO: ~4 groups each."""
        po_groups = [group for group in self.export.groups if group.school_key == PO_SCHOOL.key]
        stamgroepen = [group.key for group in po_groups if group.kind is GroupKind.GROUP]
        upper = [
            group.key
            for group in po_groups
            if group.kind is GroupKind.GROUP and int(group.year_level) >= 5
        ]
        plus_teacher = self.rng.choice(upper)
        composites = [group.key for group in po_groups if group.kind is GroupKind.COMPOSITE]
        teaching = (StaffRole.TEACHER,)
        for key in stamgroepen:
            extra = tuple(composites) if key == plus_teacher else ()
            self.add_staff(PO_SCHOOL, teaching, (key, *extra))
        vo_groups = [g.key for g in self.export.groups if g.school_key == VO_SCHOOL.key]
        self.rng.shuffle(vo_groups)
        teacher_count = max(1, len(vo_groups) // VO_GROUPS_PER_TEACHER)
        for index in range(teacher_count):
            self.add_staff(VO_SCHOOL, teaching, tuple(vo_groups[index::teacher_count]))

    def add_school_staff(self) -> None:
        for school in (PO_SCHOOL, VO_SCHOOL):
            for role in (
                StaffRole.CARE_COORDINATOR,
                StaffRole.PRIVACY_OFFICER,
                StaffRole.SCHOOL_ADMIN,
            ):
                self.add_staff(school, (role,))
        # The records need a school for everyone: the board admin sits at the first one.
        self.add_staff(PO_SCHOOL, (StaffRole.BOARD_ADMIN,), domain=BOARD_DOMAIN)

    # Random values.

    def gender(self) -> Gender:
        draw = self.rng.random()
        if draw < 0.49:
            return Gender.MALE
        if draw < 0.98:
            return Gender.FEMALE
        return Gender.OTHER if draw < 0.99 else Gender.UNKNOWN

    def first_name_lists(
        self, gender: Gender, *, child: bool
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Names for this gender; for OTHER and UNKNOWN, either list."""
        male = gender is Gender.MALE or (gender is not Gender.FEMALE and self.rng.random() < 0.5)
        if male:
            return (BOYS if child else MEN), EXTRA_BOYS
        return (GIRLS if child else WOMEN), EXTRA_GIRLS

    def adult_voornamen(self, gender: Gender) -> str:
        names, extra_names = self.first_name_lists(gender, child=False)
        first = self.rng.choice(names)
        return f"{first} {self.rng.choice(extra_names)}" if self.rng.random() < 0.3 else first

    def birth_date(self, slot: _Slot) -> date:
        offset = PO_AGE_OFFSET if slot.sector is Sector.PO else VO_AGE_OFFSET
        age = int(slot.year_level) + offset + (1 if self.rng.random() < HELD_BACK else 0)
        # Exactly ``age`` on the teldatum: born after 1 October ``age + 1`` years before it.
        earliest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age - 1)
        latest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age)
        return earliest + timedelta(days=self.rng.randrange(1, (latest - earliest).days + 1))

    def eck_id(self) -> str:
        return f"{self.eck_id_base}/{ECK_ID_VERSION}/{self.rng.randbytes(64).hex()}"

    def pgn(self) -> str:
        """A made-up BSN passing the 11-proef (as regie.conftest.make_bsn), unique in the board."""
        while True:
            digits = [self.rng.randrange(10) for _ in range(8)]
            total = sum(
                digit * weight for digit, weight in zip(digits, range(9, 1, -1), strict=True)
            )
            last = total % 11
            if last < 10 and (digits[0] != 0 or digits[1] != 0):
                value = "".join(map(str, digits)) + str(last)
                if value not in self.taken_pgns:
                    self.taken_pgns.add(value)
                    return value

    def unique_email(self, local: str, domain: str) -> str:
        """``local@domain``, or with a number after ``local`` when that address is taken."""
        base = f"{local}@{domain}"
        seen = self.taken_locals.get(base, 0) + 1
        self.taken_locals[base] = seen
        return base if seen == 1 else f"{local}{seen}@{domain}"


def _letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the letters of the groups of one year level."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` divided in proportion to ``weights`` (largest remainder: the parts add up)."""
    exact = [total * weight / sum(weights) for weight in weights]
    parts = [math.floor(share) for share in exact]
    by_remainder = sorted(range(len(exact)), key=lambda index: parts[index] - exact[index])
    for index in by_remainder[: total - sum(parts)]:
        parts[index] += 1
    return parts


def _slug(text: str) -> str:
    """Lowercase ASCII letters only: 'van der Meer' → 'vandermeer', 'Zoë' → 'zoe'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(character for character in ascii_text.lower() if character.isalpha())


def generate_demo_board(
    seed: int = 2026,
    *,
    pupils: int = 1200,
    pgn_pupils: int = 6,
    eck_id_base: str = "https://nummervoorziening.regie.example",
) -> DemoBoard:
    """The fictional board with about ``pupils`` pupils (45 % PO), the same for the same seed.

    All pupils but ``pgn_pupils`` carry an ECK iD ``{eck_id_base}/1/{128 hex}``; the others carry
    a made-up PGN and no ECK iD.
    """
    if pupils < 1:
        raise ValueError("a demo board needs at least one pupil")
    if not 0 <= pgn_pupils <= pupils:
        raise ValueError("pgn_pupils must be between 0 and the number of pupils")
    rng = random.Random(seed)  # noqa: S311  (reproducible fictional data, no secret)
    builder = _Builder(rng, eck_id_base.rstrip("/"))
    builder.export.school_years.append(SCHOOL_YEAR)
    po_count = round(pupils * PO_SHARE)
    builder.add_po_school(po_count)
    builder.add_vo_school(pupils - po_count)
    builder.add_families(pgn_pupils)
    builder.add_teachers()
    builder.add_school_staff()
    return DemoBoard(name=BOARD_NAME, bestuursnummer=BESTUURSNUMMER, kvk=KVK, export=builder.export)
