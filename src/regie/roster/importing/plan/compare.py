"""Comparing a parsed export with what the hub holds, school by school, by the LAS's own keys.

:class:`Comparison` counts what would be new, changed, leaving and unchanged (an
:class:`~regie.roster.importing.plan.summary.ImportPlan`) and remembers the hub's rows for the
apply side (:mod:`regie.roster.importing.plan.write`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.utils import timezone

from regie.core.models import Board, School
from regie.roster.importing.records import (
    GroupRecord,
    GuardianRecord,
    RosterExport,
    SchoolRecord,
    StaffRecord,
    StudentRecord,
)
from regie.roster.models import Group, Guardian, Staff, Student, StudentStatus

from .check import school_code
from .roles import roles_after, roles_kept_when_gone
from .sql import hub_rows, with_links
from .summary import ImportPlan, Pseudonyms, SchoolPlan

T = TypeVar("T")

PERSON_FIELDS = ("voornamen", "voorvoegsel", "achternaam")
STUDENT_FIELDS = (
    "roepnaam",
    "voornamen",
    "voorvoegsel",
    "achternaam",
    "birth_date",
    "gender",
    "year_level",
)


class Comparison:
    """The comparison of one export with the hub, school by school (the dry run's counts).

    It keeps what it found, the hub's rows and the keys of changed records, for
    :class:`~regie.roster.importing.plan.write.Diff` to apply.
    """

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
        self.carries_guardians = export.carries_guardians
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
        # A guardian belongs to every school one of their children is at.
        self.guardians_by_school: dict[str, list[GuardianRecord]] = defaultdict(list)
        for guardian in export.guardians:
            schools = {self.student_school.get(key) for key in guardian.student_keys}
            for school_key in sorted(key for key in schools if key is not None):
                self.guardians_by_school[school_key].append(guardian)
        self.plan = ImportPlan(delta=export.delta, encodings=dict(export.encodings))
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
        plan.active_students = sum(
            1 for row in existing_students.values() if row["status"] == StudentStatus.ACTIVE
        )
        changed_students = self._changed[("students", record.key)]
        seen = set()
        for student in self.students_by_school[record.key]:
            seen.add(student.key)
            row = existing_students.get(student.key)
            if not student.eck_id and not (row and row["eck_id"]):
                if student.pgn:
                    plan.pgns_to_exchange += 1
                else:
                    plan.without_identifier += 1  # no pseudonym: nothing goes to any supplier
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
            elif (
                self._staff_values(member, row["roles"]) != self._staff_row_values(row)
                or not row["is_active"]
            ):
                counts.changed += 1
                self._changed[("staff", record.key)].add(member.key)
            else:
                counts.unchanged += 1
        for _key, row in self._gone(existing_staff, seen, "staff"):
            if not row["is_active"]:
                continue
            kept = roles_kept_when_gone(row["roles"], self.export.carries_all_staff)
            if not kept:
                plan.counts["staff"].leaving += 1
            elif kept != sorted(row["roles"]) or row["group_keys"]:
                plan.counts["staff"].changed += 1  # no teacher any more; the hub's roles stay
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

    def _gone(self, existing: Mapping[str, T], present: set[str], kind: str) -> list[tuple[str, T]]:
        """What the hub has that the export takes away: in a bulk export whatever it leaves out,
        in a delta export what it marks ``tobedeleted``."""
        if self.export.delta:
            deleted = self.export.deleted.get(kind, set())
            return [(key, row) for key, row in existing.items() if key in deleted]
        return [(key, row) for key, row in existing.items() if key not in present]

    def _leaving(
        self,
        existing: Mapping[str, dict[str, Any]],
        seen: set[str],
        kind: str,
        active: Callable[[dict[str, Any]], bool],
    ) -> int:
        return sum(1 for _key, row in self._gone(existing, seen, kind) if active(row))

    def _guardians_of(self, school_key: str) -> list[GuardianRecord]:
        return self.guardians_by_school.get(school_key, [])

    # --- rows as they are in the hub ---------------------------------------------------------

    def _existing_students(self, school: School | None) -> dict[str, dict[str, Any]]:
        if school is None:
            return {}
        fields = ("id", "las_key", *STUDENT_FIELDS, "eck_id", "stampseudonym", "status")
        links = Student.groups.through.objects.filter(student__school=school).values_list(
            "student_id", "group__las_key"
        )
        return hub_rows(Student.objects.filter(school=school), fields, links, "group_keys")

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
        return with_links(rows, links, "group_keys")

    def _existing_guardians(self, school: School | None) -> dict[str, dict[str, Any]]:
        if school is None:
            return {}
        fields = ("id", "las_key", *PERSON_FIELDS, "email", "relation", "is_active")
        links = Guardian.students.through.objects.filter(guardian__school=school).values_list(
            "guardian_id", "student__las_key"
        )
        return hub_rows(Guardian.objects.filter(school=school), fields, links, "student_keys")

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
    def _staff_values(record: StaffRecord, existing_roles: Iterable[str]) -> tuple[Any, ...]:
        """What the member's row holds after the import (their roles: see :mod:`.roles`)."""
        return (
            record.voornamen,
            record.voorvoegsel,
            record.achternaam,
            record.email,
            roles_after(existing_roles, record),
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
