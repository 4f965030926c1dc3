"""Applying a parsed LAS export to the hub as a diff (DESIGN §6, "Import").

:func:`plan_import` checks a :class:`RosterExport` against what the hub holds (do its schools
belong to this board? is each sector known?) and counts, per school, what would be new, changed,
leaving and unchanged — the dry run. :func:`apply_export` makes exactly those changes in the
caller's transaction. Both compare by the LAS's own keys, so applying the same export twice
changes nothing the second time.

Nothing here calls the number service: pupils whose export carries a PGN instead of an ECK iD get
their pseudonyms from ``pseudonyms`` (obtained beforehand by ``roster.services``).
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

from regie.audit import services as audit
from regie.core.models import Board, School, SchoolYear
from regie.lib.logging import get_logger
from regie.roster import events
from regie.roster.models import (
    Group,
    Guardian,
    LinkReason,
    Staff,
    Student,
    StudentStatus,
)

from .records import (
    GroupRecord,
    GuardianRecord,
    Problem,
    RosterExport,
    SchoolRecord,
    StaffRecord,
    StudentRecord,
)

logger = get_logger(__name__)

BULK_BATCH = 2000
KINDS = ("students", "groups", "guardians", "staff")


@dataclass
class Counts:
    new: int = 0
    changed: int = 0
    leaving: int = 0
    unchanged: int = 0

    @property
    def touched(self) -> int:
        return self.new + self.changed + self.leaving


@dataclass
class SchoolPlan:
    code: str
    name: str
    sector: str
    is_new: bool
    counts: dict[str, Counts] = field(default_factory=lambda: {kind: Counts() for kind in KINDS})
    pgns_to_exchange: int = 0

    @property
    def has_changes(self) -> bool:
        return self.is_new or any(counts.touched for counts in self.counts.values())


@dataclass
class ImportPlan:
    schools: list[SchoolPlan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    delta: bool = False

    @property
    def has_changes(self) -> bool:
        return any(school.has_changes for school in self.schools)

    def total(self, kind: str, change: str) -> int:
        return sum(getattr(school.counts[kind], change) for school in self.schools)

    def as_json(self) -> dict[str, Any]:
        return {"delta": self.delta, "schools": [asdict(school) for school in self.schools]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ImportPlan:
        schools = []
        for item in data.get("schools", []):
            counts = {kind: Counts(**values) for kind, values in item["counts"].items()}
            schools.append(
                SchoolPlan(
                    code=item["code"],
                    name=item["name"],
                    sector=item["sector"],
                    is_new=item["is_new"],
                    counts=counts,
                    pgns_to_exchange=item["pgns_to_exchange"],
                )
            )
        return cls(schools=schools, delta=bool(data.get("delta")))


class ExportRefused(Exception):
    """An export with problems cannot be applied; ``problems`` say why (never with a value)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems[:3]))
        self.problems = problems


@dataclass(frozen=True)
class Pseudonyms:
    stampseudonym: str
    eck_id: str


def school_code(record: SchoolRecord) -> str:
    return record.brin + record.vestiging


def check_against_hub(export: RosterExport, board: Board) -> list[Problem]:
    """Problems that only the hub can see: schools of other boards, unknown or wrong sectors."""
    problems = []
    known = {
        school.code: school
        for school in School.objects.filter(brin__in={record.brin for record in export.schools})
    }
    for record in export.schools:
        school = known.get(school_code(record))
        file, line = _file_of(export, "schools"), record.line
        if school is not None and school.board_id != board.pk:
            problems.append(
                Problem(file, line, "school", f"school {school.code} belongs to another board")
            )
        elif school is None and record.sector is None:
            problems.append(
                Problem(
                    file,
                    line,
                    field="sector",
                    reason=f"school {school_code(record)} is new to the hub and its sector is not "
                    "in the export: add the school first (beheer) or give its sector",
                )
            )
        elif school is not None and record.sector is not None and record.sector != school.sector:
            problems.append(
                Problem(
                    file,
                    line,
                    field="sector",
                    reason=f"school {school.code} is {school.sector} in the hub, "
                    f"{record.sector} in the export",
                )
            )
    return problems


def _file_of(export: RosterExport, kind: str) -> str:
    if export.source_format.startswith("oneroster"):
        return {"schools": "orgs.csv", "staff": "users.csv", "students": "users.csv"}.get(
            kind, "users.csv"
        )
    return "EDEXML"


def plan_import(
    export: RosterExport,
    board: Board,
    pseudonyms: Mapping[tuple[str, str], Pseudonyms] | None = None,
) -> ImportPlan:
    """The dry run: problems, or what applying ``export`` would change, per school."""
    problems = list(export.problems) or check_against_hub(export, board)
    if problems:
        return ImportPlan(problems=problems, delta=export.delta)
    return _Diff(export, board, pseudonyms or {}).plan


def apply_export(
    export: RosterExport,
    board: Board,
    *,
    actor: str,
    pseudonyms: Mapping[tuple[str, str], Pseudonyms],
) -> ImportPlan:
    """Apply ``export`` in the caller's transaction; returns what it changed.

    Raises :class:`ExportRefused` when the export has problems (then nothing is changed).
    """
    problems = list(export.problems) or check_against_hub(export, board)
    if problems:
        raise ExportRefused(problems)
    diff = _Diff(export, board, pseudonyms)
    diff.apply(actor)
    return diff.plan


def pgn_students(export: RosterExport, board: Board) -> list[tuple[str, StudentRecord]]:
    """(school code, record) of the pupils whose PGN must be exchanged: new, or without ECK iD.

    A pupil the hub already knows by LAS key and who has an ECK iD is not hashed again.
    """
    codes = {record.key: school_code(record) for record in export.schools}
    wanted = [
        (codes[record.school_key], record)
        for record in export.students
        if record.pgn and not record.eck_id and record.school_key in codes
    ]
    known = set(
        Student.objects.filter(school__board=board)
        .exclude(eck_id="")
        .filter(las_key__in={record.key for _, record in wanted})
        .values_list("school__brin", "school__vestiging", "las_key")
    )
    return [
        (code, record) for code, record in wanted if (code[:4], code[4:], record.key) not in known
    ]


class _Diff:
    """The comparison of one export with the hub, school by school; ``apply`` carries it out."""

    def __init__(
        self,
        export: RosterExport,
        board: Board,
        pseudonyms: Mapping[tuple[str, str], Pseudonyms],
    ) -> None:
        self.export = export
        self.board = board
        self.pseudonyms = pseudonyms
        self.today = timezone.localdate()
        # EDEXML has no guardians: an EDEXML import leaves the hub's guardians as they are.
        self.carries_guardians = export.source_format != "edexml"
        self.schools = {school.code: school for school in School.objects.filter(board=board)}
        self.students_by_school: dict[str, list[StudentRecord]] = defaultdict(list)
        self.groups_by_school: dict[str, list[GroupRecord]] = defaultdict(list)
        self.staff_by_school: dict[str, list[StaffRecord]] = defaultdict(list)
        for student in export.students:
            self.students_by_school[student.school_key].append(student)
        for group in export.groups:
            self.groups_by_school[group.school_key].append(group)
        for member in export.staff:
            self.staff_by_school[member.school_key].append(member)
        self.student_school = {student.key: student.school_key for student in export.students}
        self.plan = ImportPlan(delta=export.delta)
        self._plans: dict[str, SchoolPlan] = {}
        # What the comparison found, for apply: the hub's rows, and the keys of changed records.
        self._rows: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self._changed: dict[tuple[str, str], set[str]] = defaultdict(set)
        for record in export.schools:
            code = school_code(record)
            school = self.schools.get(code)
            plan = SchoolPlan(
                code=code,
                name=record.name or (school.name if school else code),
                sector=str(record.sector or (school.sector if school else "")),
                is_new=school is None,
            )
            self._plans[record.key] = plan
            self.plan.schools.append(plan)
            self._compare_school(record, school, plan)

    # --- comparing ---------------------------------------------------------------------------

    def _compare_school(
        self, record: SchoolRecord, school: School | None, plan: SchoolPlan
    ) -> None:
        existing_students = self._existing_students(school)
        self._rows[("students", record.key)] = existing_students
        changed_students = self._changed[("students", record.key)]
        seen = set()
        for student in self.students_by_school[record.key]:
            seen.add(student.key)
            row = existing_students.get(student.key)
            if student.pgn and not student.eck_id and not (row and row["eck_id"]):
                plan.pgns_to_exchange += 1
            if row is None:
                plan.counts["students"].new += 1
            elif (
                self._student_changes(row, student, school) or row["status"] != StudentStatus.ACTIVE
            ):
                plan.counts["students"].changed += 1
                changed_students.add(student.key)
            else:
                plan.counts["students"].unchanged += 1
        plan.counts["students"].leaving += self._leaving(
            existing_students, seen, "students", lambda row: row["status"] == StudentStatus.ACTIVE
        )
        existing_groups = self._existing_groups(school)
        seen = set()
        for group in self.groups_by_school[record.key]:
            seen.add(group.key)
            row = existing_groups.get(group.key)
            counts = plan.counts["groups"]
            if row is None:
                counts.new += 1
            elif self._group_values(group) != self._group_row_values(row) or not row["is_active"]:
                counts.changed += 1
            else:
                counts.unchanged += 1
        plan.counts["groups"].leaving += self._leaving(
            existing_groups, seen, "groups", lambda row: bool(row["is_active"])
        )
        self._compare_people(record, school, plan)

    def _compare_people(
        self, record: SchoolRecord, school: School | None, plan: SchoolPlan
    ) -> None:
        existing_staff = self._existing_staff(school)
        self._rows[("staff", record.key)] = existing_staff
        seen = set()
        for member in self.staff_by_school[record.key]:
            seen.add(member.key)
            row = existing_staff.get(member.key)
            counts = plan.counts["staff"]
            if row is None:
                counts.new += 1
            elif self._staff_values(member) != self._staff_row_values(row) or not row["is_active"]:
                counts.changed += 1
                self._changed[("staff", record.key)].add(member.key)
            else:
                counts.unchanged += 1
        plan.counts["staff"].leaving += self._leaving(
            existing_staff, seen, "staff", lambda row: bool(row["is_active"])
        )
        if not self.carries_guardians:
            return
        existing_guardians = self._existing_guardians(school)
        self._rows[("guardians", record.key)] = existing_guardians
        seen = set()
        for guardian in self._guardians_of(record.key):
            seen.add(guardian.key)
            row = existing_guardians.get(guardian.key)
            counts = plan.counts["guardians"]
            if row is None:
                counts.new += 1
            elif (
                self._guardian_values(guardian) != self._guardian_row_values(row)
                or not row["is_active"]
            ):
                counts.changed += 1
                self._changed[("guardians", record.key)].add(guardian.key)
            else:
                counts.unchanged += 1
        plan.counts["guardians"].leaving += self._leaving(
            existing_guardians, seen, "guardians", lambda row: bool(row["is_active"])
        )

    def _leaving(
        self,
        existing: Mapping[str, dict[str, Any]],
        seen: set[str],
        kind: str,
        active: Callable[[dict[str, Any]], bool],
    ) -> int:
        if self.export.delta:
            deleted = self.export.deleted.get(kind, set())
            return sum(1 for key, row in existing.items() if key in deleted and active(row))
        return sum(1 for key, row in existing.items() if key not in seen and active(row))

    def _guardians_of(self, school_key: str) -> list[GuardianRecord]:
        return [
            guardian
            for guardian in self.export.guardians
            if any(self.student_school.get(key) == school_key for key in guardian.student_keys)
        ]

    # --- rows as they are in the hub ---------------------------------------------------------

    def _existing_students(self, school: School | None) -> dict[str, dict[str, Any]]:
        if school is None:
            return {}
        rows = Student.objects.filter(school=school).values(
            "id", "las_key", *STUDENT_FIELDS, "eck_id", "stampseudonym", "status"
        )
        links = Student.groups.through.objects.filter(student__school=school).values_list(
            "student_id", "group__las_key"
        )
        return _with_links(rows, links, "group_keys")

    def _existing_groups(self, school: School | None) -> dict[str, dict[str, Any]]:
        if school is None:
            return {}
        rows = Group.objects.filter(school=school).values(
            "id", "las_key", "name", "kind", "year_level", "school_year__title", "is_active"
        )
        return {row["las_key"]: dict(row) for row in rows}

    def _existing_staff(self, school: School | None) -> dict[str, dict[str, Any]]:
        if school is None:
            return {}
        rows = (
            Staff.objects.filter(school=school)
            .exclude(las_key="")
            .values("id", "las_key", *PERSON_FIELDS, "email", "roles", "is_active")
        )
        links = Staff.groups.through.objects.filter(staff__school=school).values_list(
            "staff_id", "group__las_key"
        )
        return _with_links(rows, links, "group_keys")

    def _existing_guardians(self, school: School | None) -> dict[str, dict[str, Any]]:
        if school is None:
            return {}
        rows = Guardian.objects.filter(school=school).values(
            "id", "las_key", *PERSON_FIELDS, "email", "relation", "is_active"
        )
        links = Guardian.students.through.objects.filter(guardian__school=school).values_list(
            "guardian_id", "student__las_key"
        )
        return _with_links(rows, links, "student_keys")

    # --- values compared ---------------------------------------------------------------------

    def _student_values(self, record: StudentRecord) -> tuple[Any, ...]:
        return (
            record.roepnaam,
            record.voornamen,
            record.voorvoegsel,
            record.achternaam,
            record.birth_date,
            str(record.gender),
            record.year_level,
        )

    def _student_changes(
        self, row: Mapping[str, Any], record: StudentRecord, school: School | None
    ) -> bool:
        if self._student_values(record) != tuple(row[name] for name in STUDENT_FIELDS):
            return True
        if record.eck_id and record.eck_id != row["eck_id"]:
            return True
        if school is not None and not record.eck_id:
            pseudonyms = self.pseudonyms.get((school.code, record.key))
            if pseudonyms is not None and pseudonyms.eck_id != row["eck_id"]:
                return True
        return bool(set(record.group_keys) != row["group_keys"])

    @staticmethod
    def _group_values(record: GroupRecord) -> tuple[Any, ...]:
        return (record.name, str(record.kind), record.year_level, record.school_year_key or None)

    def _group_row_values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        title = row["school_year__title"]
        key = self._school_year_keys_by_title.get(title, title) if title else None
        return (row["name"], row["kind"], row["year_level"], key)

    @property
    def _school_year_keys_by_title(self) -> dict[str, str]:
        return {year.title: year.key for year in self.export.school_years}

    @staticmethod
    def _staff_values(record: StaffRecord) -> tuple[Any, ...]:
        return (
            record.voornamen,
            record.voorvoegsel,
            record.achternaam,
            record.email,
            sorted(str(role) for role in record.roles),
            set(record.group_keys),
        )

    @staticmethod
    def _staff_row_values(row: Mapping[str, Any]) -> tuple[Any, ...]:
        return (
            row["voornamen"],
            row["voorvoegsel"],
            row["achternaam"],
            row["email"],
            sorted(row["roles"]),
            row["group_keys"],
        )

    @staticmethod
    def _guardian_values(record: GuardianRecord) -> tuple[Any, ...]:
        return (
            record.voornamen,
            record.voorvoegsel,
            record.achternaam,
            record.email,
            record.relation,
        )

    @staticmethod
    def _guardian_row_values(row: Mapping[str, Any]) -> tuple[Any, ...]:
        return (
            row["voornamen"],
            row["voorvoegsel"],
            row["achternaam"],
            row["email"],
            row["relation"],
        )

    # --- applying ----------------------------------------------------------------------------

    def apply(self, actor: str) -> None:
        years = self._apply_school_years()
        left: list[Student] = []
        arrived: list[Student] = []
        for school_record in self.export.schools:
            school = self._apply_school(school_record)
            groups = self._apply_groups(school_record, school, years)
            new_students, leaving = self._apply_students(school_record, school, groups)
            arrived += new_students
            left += leaving
            self._apply_staff(school_record, school, groups)
            if self.carries_guardians:
                self._apply_guardians(school_record, school)
            logger.info("roster.import.school_applied", school=school.code)
        for student in left:
            audit.record(
                events.STUDENT_LEFT, actor, f"student:{student.pk}", {"school": student.school.code}
            )
        self._link_moves(arrived, actor)

    def _apply_school_years(self) -> dict[str, SchoolYear]:
        years = {}
        for record in self.export.school_years:
            year, _ = SchoolYear.objects.get_or_create(
                title=record.title, defaults={"start": record.start, "end": record.end}
            )
            years[record.key] = year
        return years

    def _apply_school(self, record: SchoolRecord) -> School:
        code = school_code(record)
        school = self.schools.get(code)
        if school is None:
            if record.sector is None:  # check_against_hub refused this already
                raise ValueError("a new school needs a sector")
            school = School.objects.create(
                board=self.board,
                brin=record.brin,
                vestiging=record.vestiging,
                name=record.name or code,
                sector=str(record.sector),
            )
            self.schools[code] = school
        elif record.name and record.name != school.name:
            school.name = record.name
            school.save(update_fields=["name"])
        return school

    def _apply_groups(
        self, record: SchoolRecord, school: School, years: Mapping[str, SchoolYear]
    ) -> dict[str, Group]:
        existing = {group.las_key: group for group in Group.objects.filter(school=school)}
        records = self.groups_by_school[record.key]
        changed, created = [], []
        for item in records:
            values = {
                "name": item.name,
                "kind": str(item.kind),
                "year_level": item.year_level,
                "school_year_id": year.pk if (year := years.get(item.school_year_key)) else None,
                "is_active": True,
            }
            group = existing.get(item.key)
            if group is None:
                created.append(Group(school=school, las_key=item.key, **values))
            elif any(getattr(group, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(group, name, value)
                changed.append(group)
        Group.objects.bulk_create(created, batch_size=BULK_BATCH)
        Group.objects.bulk_update(
            changed,
            ["name", "kind", "year_level", "school_year", "is_active"],
            batch_size=BULK_BATCH,
        )
        keys = {item.key for item in records}
        gone = self._gone(existing, keys, "groups")
        Group.objects.filter(pk__in=[group.pk for group in gone]).update(is_active=False)
        return {group.las_key: group for group in Group.objects.filter(school=school)}

    def _gone(self, existing: Mapping[str, Any], present: set[str], kind: str) -> list[Any]:
        if self.export.delta:
            deleted = self.export.deleted.get(kind, set())
            return [row for key, row in existing.items() if key in deleted]
        return [row for key, row in existing.items() if key not in present]

    def _apply_students(
        self, record: SchoolRecord, school: School, groups: Mapping[str, Group]
    ) -> tuple[list[Student], list[Student]]:
        """New and changed pupils, pupils who left, and their groups; only what differs."""
        rows = self._rows.get(("students", record.key), {})
        changed_keys = self._changed[("students", record.key)]
        records = self.students_by_school[record.key]
        now = timezone.now()
        created: list[tuple[Student, StudentRecord]] = []
        changed: list[tuple[Student, StudentRecord, dict[str, Any]]] = []
        for item in records:
            row = rows.get(item.key)
            if row is not None and item.key not in changed_keys:
                continue
            values: dict[str, Any] = dict(
                zip(STUDENT_FIELDS, self._student_values(item), strict=True)
            )
            values.update(status=StudentStatus.ACTIVE, left_on=None, updated_at=now)
            pseudonyms = self.pseudonyms.get((school.code, item.key))
            if item.eck_id:
                values.update(eck_id=item.eck_id, stampseudonym=row["stampseudonym"] if row else "")
            elif pseudonyms is not None:
                values.update(eck_id=pseudonyms.eck_id, stampseudonym=pseudonyms.stampseudonym)
            elif row is not None:
                values.update(eck_id=row["eck_id"], stampseudonym=row["stampseudonym"])
            if row is None:
                created.append((Student(school=school, las_key=item.key, **values), item))
            else:
                student = Student(pk=row["id"], school=school, las_key=item.key, **values)
                changed.append((student, item, row))
        _insert([student for student, _ in created], school)
        Student.objects.bulk_update(
            [student for student, _, _ in changed],
            [*STUDENT_FIELDS, "status", "left_on", "eck_id", "stampseudonym", "updated_at"],
            batch_size=BULK_BATCH,
        )
        leaving = [
            Student(
                pk=row["id"],
                school=school,
                las_key=key,
                status=StudentStatus.LEFT,
                left_on=self.today,
                updated_at=now,
            )
            for key, row in self._gone_rows(rows, {item.key for item in records}, "students")
            if row["status"] == StudentStatus.ACTIVE
        ]
        Student.objects.bulk_update(
            leaving, ["status", "left_on", "updated_at"], batch_size=BULK_BATCH
        )
        group_ids = {key: group.pk for key, group in groups.items()}
        added: set[tuple[int, int]] = set()
        removed: set[tuple[int, int]] = set()
        for student, item in created:
            added.update(
                (student.pk, group_ids[key]) for key in item.group_keys if key in group_ids
            )
        for student, item, row in changed:
            self._link_difference(
                student.pk, row["group_keys"], item.group_keys, group_ids, added, removed
            )
        for student in leaving:
            self._link_difference(
                student.pk, rows[student.las_key]["group_keys"], (), group_ids, added, removed
            )
        self._write_links(Student.groups.through, "student_id", "group_id", added, removed)
        return [student for student, _ in created], leaving

    @staticmethod
    def _link_difference(
        owner: int,
        old: Iterable[str],
        new: Iterable[str],
        ids: Mapping[str, int],
        added: set[tuple[int, int]],
        removed: set[tuple[int, int]],
    ) -> None:
        old_keys, new_keys = set(old), set(new)
        added.update((owner, ids[key]) for key in new_keys - old_keys if key in ids)
        removed.update((owner, ids[key]) for key in old_keys - new_keys if key in ids)

    @staticmethod
    def _fill_ids(objects: list[Any], model: type[models.Model], school: School) -> None:
        """Primary keys of objects just bulk-created, where the database did not return them."""
        missing = [item for item in objects if item.pk is None]
        if missing:
            ids = dict(
                model._default_manager.filter(
                    school=school, las_key__in=[item.las_key for item in missing]
                ).values_list("las_key", "id")
            )
            for item in missing:
                item.pk = ids[item.las_key]

    def _gone_rows(
        self, rows: Mapping[str, dict[str, Any]], present: set[str], kind: str
    ) -> list[tuple[str, dict[str, Any]]]:
        if self.export.delta:
            deleted = self.export.deleted.get(kind, set())
            return [(key, row) for key, row in rows.items() if key in deleted]
        return [(key, row) for key, row in rows.items() if key not in present]

    def _apply_staff(
        self, record: SchoolRecord, school: School, groups: Mapping[str, Group]
    ) -> None:
        rows = self._rows.get(("staff", record.key), {})
        changed_keys = self._changed[("staff", record.key)]
        records = self.staff_by_school[record.key]
        created: list[tuple[Staff, StaffRecord]] = []
        changed: list[tuple[Staff, StaffRecord, dict[str, Any]]] = []
        for item in records:
            row = rows.get(item.key)
            if row is not None and item.key not in changed_keys:
                continue
            values = {
                "voornamen": item.voornamen,
                "voorvoegsel": item.voorvoegsel,
                "achternaam": item.achternaam,
                "email": item.email,
                "roles": sorted(str(role) for role in item.roles),
                "is_active": True,
            }
            member = Staff(
                pk=row["id"] if row else None,
                board=self.board,
                school=school,
                las_key=item.key,
                **values,
            )
            if row is None:
                created.append((member, item))
            else:
                changed.append((member, item, row))
        Staff.objects.bulk_create([member for member, _ in created], batch_size=BULK_BATCH)
        self._fill_ids([member for member, _ in created], Staff, school)
        Staff.objects.bulk_update(
            [member for member, _, _ in changed],
            ["voornamen", "voorvoegsel", "achternaam", "email", "roles", "is_active"],
            batch_size=BULK_BATCH,
        )
        gone = self._gone_rows(rows, {item.key for item in records}, "staff")
        Staff.objects.filter(pk__in=[row["id"] for _, row in gone]).update(is_active=False)
        group_ids = {key: group.pk for key, group in groups.items()}
        added: set[tuple[int, int]] = set()
        removed: set[tuple[int, int]] = set()
        for member, item in created:
            added.update((member.pk, group_ids[key]) for key in item.group_keys if key in group_ids)
        for member, item, row in changed:
            self._link_difference(
                member.pk, row["group_keys"], item.group_keys, group_ids, added, removed
            )
        for _key, row in gone:
            self._link_difference(row["id"], row["group_keys"], (), group_ids, added, removed)
        self._write_links(Staff.groups.through, "staff_id", "group_id", added, removed)

    def _apply_guardians(self, record: SchoolRecord, school: School) -> None:
        rows = self._rows.get(("guardians", record.key), {})
        changed_keys = self._changed[("guardians", record.key)]
        records = self._guardians_of(record.key)
        fields = ("voornamen", "voorvoegsel", "achternaam", "email", "relation")
        created: list[Guardian] = []
        changed: list[Guardian] = []
        for item in records:
            row = rows.get(item.key)
            if row is not None and item.key not in changed_keys:
                continue
            values = dict(zip(fields, self._guardian_values(item), strict=True))
            guardian = Guardian(
                pk=row["id"] if row else None,
                school=school,
                las_key=item.key,
                is_active=True,
                **values,
            )
            (created if row is None else changed).append(guardian)
        _insert(created, school)
        Guardian.objects.bulk_update(changed, [*fields, "is_active"], batch_size=BULK_BATCH)
        gone = self._gone_rows(rows, {item.key for item in records}, "guardians")
        Guardian.objects.filter(pk__in=[row["id"] for _, row in gone]).update(is_active=False)
        guardian_ids = {guardian.las_key: guardian.pk for guardian in created}
        guardian_ids.update({key: row["id"] for key, row in rows.items()})
        student_ids = dict(Student.objects.filter(school=school).values_list("las_key", "id"))
        added: set[tuple[int, int]] = set()
        removed: set[tuple[int, int]] = set()
        for item in records:
            row = rows.get(item.key)
            mine = [key for key in item.student_keys if self.student_school.get(key) == record.key]
            old = row["student_keys"] if row else ()
            self._link_difference(guardian_ids[item.key], old, mine, student_ids, added, removed)
        for _key, row in gone:
            self._link_difference(row["id"], row["student_keys"], (), student_ids, added, removed)
        self._write_links(Guardian.students.through, "guardian_id", "student_id", added, removed)

    @staticmethod
    def _write_links(
        through: type[models.Model],
        owner: str,
        other: str,
        added: set[tuple[int, int]],
        removed: set[tuple[int, int]],
    ) -> None:
        """Insert and delete rows of a many-to-many table: plain SQL, no model objects."""
        manager = through._default_manager
        pairs = sorted(removed)
        for start in range(0, len(pairs), 200):
            condition = Q(pk__in=[])
            for owner_id, other_id in pairs[start : start + 200]:
                condition |= Q(**{owner: owner_id, other: other_id})
            manager.filter(condition).delete()
        if not added:
            return
        insert_rows(through._meta.db_table, [owner, other], sorted(added))

    def _link_moves(self, arrived: list[Student], actor: str) -> None:
        """Link new enrolments to a left one of the same board with the same ECK iD (a move)."""
        by_eck_id = {student.eck_id: student for student in arrived if student.eck_id}
        if not by_eck_id:
            return
        # The board's unlinked leavers are few next to a large import: match them in memory
        # rather than sending every new ECK iD to the database.
        leavers = (
            Student.objects.filter(school__board=self.board, status=StudentStatus.LEFT)
            .filter(next__isnull=True)
            .exclude(eck_id="")
            .order_by("-left_on", "-pk")
            .values_list("pk", "eck_id")
        )
        matches = [pk for pk, eck_id in leavers.iterator() if eck_id in by_eck_id]
        order = {pk: position for position, pk in enumerate(matches)}
        earlier = Student.objects.filter(pk__in=matches).select_related("school")
        linked: set[int] = set()
        for old in sorted(earlier, key=lambda student: order[student.pk]):
            new = by_eck_id.get(old.eck_id)
            if new is None or new.pk in linked or new.school_id == old.school_id:
                continue
            if new.school.sector != old.school.sector:
                continue
            new.previous = old
            new.link_reason = LinkReason.MOVE
            new.save(update_fields=["previous", "link_reason"])
            linked.add(new.pk)
            audit.record(
                events.STUDENT_MOVED,
                actor,
                f"student:{new.pk}",
                {
                    "from_student": old.pk,
                    "from_school": old.school.code,
                    "to_school": new.school.code,
                },
            )


def _insert(objects: Sequence[Student | Guardian], school: School) -> None:
    """Insert new pupils or guardians of ``school`` with plain SQL and give them their ids.

    ``bulk_create`` spends most of its time compiling every value through the field API; these
    two tables hold only text, dates, booleans and keys, adapted here the way the backend wants
    them (``connection.ops``), so that a large import writes at about the database's own speed.
    """
    if not objects:
        return
    model = type(objects[0])
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    columns_of = [column for column in model._meta.concrete_fields if not column.primary_key]
    getters = [_column_value(model, column, now) for column in columns_of]
    insert_rows(
        model._meta.db_table,
        [str(column.column) for column in columns_of],
        (tuple(get(item) for get in getters) for item in objects),
    )
    ids = dict(model._default_manager.filter(school=school).values_list("las_key", "id"))
    for item in objects:
        item.pk = ids[item.las_key]
        item._state.adding = False


def insert_rows(table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert plain rows fast: ``COPY … FROM STDIN`` on PostgreSQL, ``executemany`` on SQLite
    (each is the fastest way its database offers; psycopg's executemany is several times slower
    than COPY)."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor behind Django's wrapper
            with raw.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})"  # noqa: S608 (model names)
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 10_000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def _column_value(model: type[models.Model], column: Any, now: Any) -> Callable[[Any], Any]:
    """How :func:`_insert` reads one column's value off an object, adapted for the backend."""
    ops = connection.ops
    read = operator.attrgetter(column.attname)
    kind = column.get_internal_type()
    if getattr(column, "auto_now", False) or getattr(column, "auto_now_add", False):
        return lambda item: now
    if kind == "DateTimeField":
        return lambda item: ops.adapt_datetimefield_value(read(item))
    if kind == "DateField":
        return lambda item: ops.adapt_datefield_value(read(item))
    if kind in {"CharField", "EmailField", "BooleanField", "ForeignKey", "OneToOneField"}:
        return read
    # A field type this fast path does not know: fail loudly (a test covers every model used).
    raise TypeError(f"{model.__name__}.{column.name}: {kind} is not supported by _insert")


PERSON_FIELDS = ("voornamen", "voorvoegsel", "achternaam")


def _with_links(
    rows: Iterable[Mapping[str, Any]], links: Iterable[tuple[int, str]], name: str
) -> dict[str, dict[str, Any]]:
    """Rows by LAS key, each with the set of LAS keys it links to (groups, pupils) as ``name``."""
    linked: dict[int, set[str]] = defaultdict(set)
    for owner, key in links:
        linked[owner].add(key)
    result = {}
    for row in rows:
        item = dict(row)
        item[name] = linked.get(item["id"], set())
        result[item["las_key"]] = item
    return result


STUDENT_FIELDS = (
    "roepnaam",
    "voornamen",
    "voorvoegsel",
    "achternaam",
    "birth_date",
    "gender",
    "year_level",
)


def _chunks(values: list[int], size: int = 900) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def count_summary(plan: ImportPlan) -> dict[str, dict[str, int]]:
    """Totals per kind and change, for the audit log."""
    return {
        kind: {change: plan.total(kind, change) for change in ("new", "changed", "leaving")}
        for kind in KINDS
    }


def today() -> date:
    return timezone.localdate()
