"""Applying a comparison to the hub: only the rows that differ, in the caller's transaction.

:class:`Diff` extends the comparison (:mod:`regie.roster.importing.plan.compare`) with
:meth:`Diff.apply`: school years, schools, groups, pupils, staff and guardians with their links,
leavers and moves, each written in bulk. Logs ``roster.import.school_applied`` per school.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from regie.audit import services as audit
from regie.core.models import School, SchoolYear
from regie.lib.logging import get_logger
from regie.roster import events, signals
from regie.roster.importing.records import SchoolRecord, StaffRecord, StudentRecord
from regie.roster.models import Group, Guardian, LinkReason, Staff, Student, StudentStatus

from .check import school_code
from .compare import STUDENT_FIELDS, Comparison
from .roles import roles_after, roles_kept_when_gone
from .sql import insert_objects, insert_rows, update_objects

logger = get_logger(__name__)

BULK_BATCH = 2000


class Diff(Comparison):
    """The comparison of one export with the hub, school by school; ``apply`` carries it out."""

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
                self._apply_guardians(school_record, school, new_students)
            logger.info("roster.import.school_applied", school=school.code)
        for student in left:
            audit.record(
                events.STUDENT_LEFT, actor, f"student:{student.pk}", {"school": student.school.code}
            )
        if left:
            signals.students_left.send(Diff, student_ids=[student.pk for student in left])
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
        Group.objects.filter(pk__in=[group.pk for _key, group in gone]).update(is_active=False)
        return {group.las_key: group for group in Group.objects.filter(school=school)}

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
        insert_objects([student for student, _ in created], school)
        update_objects(
            [student for student, _, _ in changed],
            [*STUDENT_FIELDS, "status", "left_on", "eck_id", "stampseudonym", "updated_at"],
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
            for key, row in self._gone(rows, {item.key for item in records}, "students")
            if row["status"] == StudentStatus.ACTIVE
        ]
        update_objects(leaving, ["status", "left_on", "updated_at"])
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
                "roles": roles_after(row["roles"] if row else (), item),
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
        gone = self._gone(rows, {item.key for item in records}, "staff")
        leaving: list[int] = []
        kept: list[Staff] = []
        for _key, row in gone:
            roles = roles_kept_when_gone(row["roles"], self.export.carries_all_staff)
            if roles and row["is_active"]:
                kept.append(Staff(pk=row["id"], roles=roles))  # teaches no more; keeps the rest
            else:
                leaving.append(row["id"])
        Staff.objects.filter(pk__in=leaving).update(is_active=False)
        Staff.objects.bulk_update(kept, ["roles"], batch_size=BULK_BATCH)
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

    def _apply_guardians(
        self, record: SchoolRecord, school: School, new_students: Iterable[Student]
    ) -> None:
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
        insert_objects(created, school)
        update_objects(changed, [*fields, "is_active"])
        gone = self._gone(rows, {item.key for item in records}, "guardians")
        Guardian.objects.filter(pk__in=[row["id"] for _, row in gone]).update(is_active=False)
        guardian_ids = {guardian.las_key: guardian.pk for guardian in created}
        guardian_ids.update({key: row["id"] for key, row in rows.items()})
        # The school's pupils: those the comparison read, and those just created.
        student_ids = {
            key: row["id"] for key, row in self._rows.get(("students", record.key), {}).items()
        }
        student_ids.update((student.las_key, student.pk) for student in new_students)
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
