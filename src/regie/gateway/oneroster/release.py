"""What one supplier may see through OneRoster: its licensed schools, groups and pupils, as the
release policy allows — built once per request, in a fixed number of queries.

- Visible **licences**: this school year's licences of the client's product (or, for a client
  without a product, of all the supplier's products) at boards with an active agreement for it.
- Visible **schools** and their **boards**: those holding a visible licence. Visible
  **academic sessions**: the school years of the visible licences.
- Visible **pupils**: covered by a visible licence with ``supplier_pseudonym`` allowed by
  :func:`regie.agreements.policy.decide_many`; their fields are what the policy allows them (the
  union over the client's products). ``sourcedId`` is the pupil's supplier pseudonym
  (:mod:`regie.gateway.pseudonyms`: kept, or obtained from the number service in one batch).
- Visible **classes**: licensed groups, and the groups of visible pupils whose ``groups``
  attribute is allowed; **enrollments** only for those pupils.
- Pupils this supplier was given before (a ``SupplierPseudonym`` exists) who are no longer
  visible — they left, or the licence went — are listed as ``tobedeleted`` with nothing else.
- Visible **teachers**: active staff with the teacher role who teach a visible class
  (``Group.teachers``), with ``sourcedId`` = :func:`regie.gateway.identifiers.staff_id` (the
  ``sub`` of their launch), the role ``teacher`` at the schools of those classes, and enrollments
  with the role ``teacher``. Names and e-mail addresses of staff are not released (not even read
  from the database): the release policy and the data schedules have no basis for staff data yet.
  A teacher who no longer teaches a visible class is simply absent (the hub keeps what went out
  only as keyed hashes, which do not give the id back), so there is no ``tobedeleted``.

Schools, boards, classes, sessions and enrollments get a per-supplier keyed id
(:mod:`regie.gateway.identifiers`): no internal id leaves the hub, and two suppliers cannot match
their ids. Nothing a supplier receives follows the hub's internal order: records come sorted by
``sourcedId`` (the supplier's own ids), and so do the secondary roles of a teacher and the
children of a board. ``dateLastModified`` is the day the record as released to this client last
changed (:mod:`.changes`); ``href`` values carry the path form of the id (:mod:`.paths`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cached_property
from typing import Any

from django.db.models import Q
from django.utils import timezone

from regie.agreements import policy
from regie.agreements.catalogue import SUPPLIER_PSEUDONYM
from regie.agreements.models import Licence, ProcessingAgreement, Product, Supplier
from regie.core.models import Board, School, SchoolYear
from regie.roster.models import Gender, Group, GroupKind, Staff, StaffRole, Student

from .. import identifiers, pseudonyms
from ..models import OAuthClient
from . import paths
from .changes import Ledger

# The catalogue attributes a roster can carry (results go by the gradebook service, photos and
# care data never by rostering).
ROSTER_ATTRIBUTES = (
    SUPPLIER_PSEUDONYM,
    "eck_id",
    "school",
    "groups",
    "year_level",
    "role",
    "gender",
    "first_name",
    "last_name",
    "date_of_birth",
)
SEX = {Gender.MALE: "male", Gender.FEMALE: "female", Gender.OTHER: "other"}
# What a teacher's records release, as attribute names for the audit log (the teacher launch
# uses the same names, regie.gateway.teachers).
STAFF_ID = "staff_id"
TEACHER_RELEASED: dict[str, tuple[str, ...]] = {
    "sourcedId": (STAFF_ID,),
    "roles": ("role", "school"),
    "primaryOrg": ("school",),
}
TEACHER_ENROLLMENT_RELEASED: dict[str, tuple[str, ...]] = {
    "sourcedId": ("groups",),
    "user": (STAFF_ID, "groups"),
    "class": ("groups",),
}
Record = dict[str, Any]


def moment(value: datetime | date) -> str:
    """ISO 8601 in UTC with milliseconds, as the binding's examples: for what a supplier put
    itself (gradebook); the roster's ``dateLastModified`` is a day (:mod:`.changes`)."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min, tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def ref(base: str, kind: str, collection: str, sourced_id: str) -> Record:
    """A GUIDRef: ``{href, sourcedId, type}``; the ``href`` with the id's path form."""
    href = f"{base}/{collection}/{paths.path_form(sourced_id)}"
    return {"href": href, "sourcedId": sourced_id, "type": kind}


@dataclass
class Pupil:
    student: Student
    allowed: frozenset[str]
    pseudonym: str


@dataclass
class Teacher:
    """A visible teacher: staff pk, id at the supplier, classes, schools (the primary first)."""

    pk: int
    sourced_id: str
    groups: list[int]
    schools: list[int]


@dataclass
class SupplierView:
    """The roster as ``client``'s supplier may see it today. ``base`` is the API's root URL."""

    client: OAuthClient
    base: str
    day: date = field(default_factory=timezone.localdate)
    _ids: dict[tuple[object, ...], str] = field(default_factory=dict, init=False, repr=False)

    @property
    def supplier(self) -> Supplier:
        return self.client.supplier

    @cached_property
    def products(self) -> list[Product]:
        if self.client.product is not None:
            return [self.client.product]
        return list(Product.objects.filter(supplier=self.supplier))

    def keyed(self, kind: str, *parts: object) -> str:
        """:func:`identifiers.keyed` at this supplier, each id computed once per request."""
        key = (kind, *parts)
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = identifiers.keyed(self.supplier, kind, *parts)
        return found

    # --- licences, schools, sessions, classes (no pupil data) ------------------------------------

    @cached_property
    def licences(self) -> list[Licence]:
        found = (
            Licence.objects.in_force_on(self.day)
            .filter(product__in=self.products)
            .select_related("school__board", "school_year", "group")
            .order_by("pk")
        )
        active: dict[tuple[int, int], bool] = {}
        kept = []
        for licence in found:
            key = (licence.school.board_id, licence.product_id)
            if key not in active:
                agreement = ProcessingAgreement.objects.governing_for(
                    key[0], licence.product, self.day
                )
                active[key] = agreement is not None
            if active[key]:
                kept.append(licence)
        return kept

    @cached_property
    def schools(self) -> dict[int, School]:
        return {licence.school_id: licence.school for licence in self.licences}

    @cached_property
    def boards(self) -> dict[int, Board]:
        return {school.board_id: school.board for school in self.schools.values()}

    @cached_property
    def sessions(self) -> dict[int, SchoolYear]:
        return {licence.school_year_id: licence.school_year for licence in self.licences}

    # --- what goes out: dated, in the supplier's own order ---------------------------------------

    @cached_property
    def ledger(self) -> Ledger:
        return Ledger(self.client, self.base, self.day)

    def _dated(
        self, collection: str, records: list[Record], *, complete: bool = False
    ) -> list[Record]:
        """``records`` with their ``dateLastModified`` (:mod:`.changes`), sorted by sourcedId;
        ``complete``: they are the whole collection."""
        self.ledger.date(collection, records, complete=complete)
        return sorted(records, key=lambda record: record["sourcedId"])

    def org_records(self) -> list[Record]:
        """``orgs``: the boards and the schools."""
        records = self._board_records() + self._school_records()
        return self._dated("orgs", records, complete=True)

    def school_records(self) -> list[Record]:
        return self._dated("orgs", self._school_records())

    def session_records(self) -> list[Record]:
        return self._dated("academicSessions", self._session_records(), complete=True)

    def class_records(self) -> list[Record]:
        return self._dated("classes", self._class_records(), complete=True)

    def user_records(self) -> list[Record]:
        """``users``: the pupils (with those to be deleted) and the teachers."""
        records = self._student_records() + self._teacher_records()
        return self._dated("users", records, complete=True)

    def student_records(self) -> list[Record]:
        return self._dated("users", self._student_records())

    def teacher_records(self) -> list[Record]:
        return self._dated("users", self._teacher_records())

    def demographic_records(self) -> list[Record]:
        return self._dated("demographics", self._demographic_records(), complete=True)

    def enrollment_records(self) -> list[Record]:
        records = self._student_enrollment_records() + self._teacher_enrollment_records()
        return self._dated("enrollments", records, complete=True)

    def student_enrollment_records(self) -> list[Record]:
        return self._dated("enrollments", self._student_enrollment_records())

    def teacher_enrollment_records(self) -> list[Record]:
        return self._dated("enrollments", self._teacher_enrollment_records())

    # --- orgs, sessions, classes (no pupil data) --------------------------------------------------

    def _board_records(self) -> list[Record]:
        records = []
        for board in self.boards.values():
            children = sorted(
                self.keyed("org", school.pk)
                for school in self.schools.values()
                if school.board_id == board.pk
            )
            records.append(
                {
                    "sourcedId": self.keyed("board", board.pk),
                    "status": "active",
                    "dateLastModified": None,
                    "name": board.name,
                    "type": "district",
                    "identifier": board.bestuursnummer,
                    "children": [ref(self.base, "org", "orgs", child) for child in children],
                }
            )
        return records

    def _school_records(self) -> list[Record]:
        return [
            {
                "sourcedId": self.keyed("org", school.pk),
                "status": "active",
                "dateLastModified": None,
                "name": school.name,
                "type": "school",
                "identifier": school.code,
                "parent": ref(self.base, "org", "orgs", self.keyed("board", school.board_id)),
            }
            for school in self.schools.values()
        ]

    def _session_records(self) -> list[Record]:
        return [
            {
                "sourcedId": self.keyed("session", year.pk),
                "status": "active",
                "dateLastModified": None,
                "title": year.title,
                "type": "schoolYear",
                "startDate": year.start.isoformat(),
                "endDate": year.end.isoformat(),
                "schoolYear": str(year.end.year),
            }
            for year in self.sessions.values()
        ]

    @cached_property
    def classes(self) -> dict[int, Group]:
        groups = {lic.group.pk: lic.group for lic in self.licences if lic.group is not None}
        wanted = {
            group_id
            for student_id, group_id in self.memberships
            if group_id not in groups and "groups" in self.decisions[student_id][1]
        }
        for group in Group.objects.filter(pk__in=wanted, school_id__in=self.schools):
            groups[group.pk] = group
        return {pk: group for pk, group in groups.items() if group.is_active}

    def _term(self, group: Group) -> Record:
        years = [lic.school_year for lic in self.licences if lic.group_id == group.pk]
        year = years[0] if years else self.sessions.get(group.school_year_id or 0)
        if year is None:
            year = next(
                lic.school_year for lic in self.licences if lic.school_id == group.school_id
            )
        return ref(self.base, "academicSession", "academicSessions", self.keyed("session", year.pk))

    def _class_records(self) -> list[Record]:
        return [
            {
                "sourcedId": self.keyed("class", group.pk),
                "status": "active",
                "dateLastModified": None,
                "title": group.name,
                "classType": "homeroom" if group.kind == GroupKind.GROUP else "scheduled",
                "school": ref(self.base, "org", "orgs", self.keyed("org", group.school_id)),
                "terms": [self._term(group)],
            }
            for group in self.classes.values()
        ]

    # --- pupils -----------------------------------------------------------------------------------

    @cached_property
    def decisions(self) -> dict[int, tuple[Student, frozenset[str]]]:
        """Pupils the policy lets this supplier have, by pk, with what it allows for each."""
        licence_ids = [lic.pk for lic in self.licences]
        group_ids = [lic.group_id for lic in self.licences if lic.group_id is not None]
        # Subqueries rather than joins: no DISTINCT over a pupil's groups, no long IN lists.
        in_groups = Student.groups.through.objects.filter(group_id__in=group_ids)
        named = Licence.students.through.objects.filter(licence_id__in=licence_ids)
        candidates = list(
            # Canaries are released like real pupils (regie.retention.canaries).
            Student.with_canaries.filter(school_id__in=list(self.schools))
            .filter(Q(pk__in=in_groups.values("student_id")) | Q(pk__in=named.values("student_id")))
            .order_by("pk")
        )
        allowed: dict[int, set[str]] = {}
        for product in self.products:
            for pk, decision in policy.decide_many(
                product, candidates, ROSTER_ATTRIBUTES, day=self.day
            ).items():
                if SUPPLIER_PSEUDONYM in decision.allowed:
                    allowed.setdefault(pk, set()).update(decision.allowed)
        return {
            student.pk: (student, frozenset(allowed[student.pk]))
            for student in candidates
            if student.pk in allowed
        }

    @cached_property
    def pupils(self) -> dict[int, Pupil]:
        """Visible pupils by pk, with their pseudonym (a pupil without an ECK iD has none)."""
        students = [student for student, _ in self.decisions.values()]
        known = pseudonyms.for_students(students, self.supplier, self.schools)
        return {
            pk: Pupil(student, allowed, known[pk])
            for pk, (student, allowed) in self.decisions.items()
            if pk in known
        }

    @cached_property
    def memberships(self) -> list[tuple[int, int]]:
        """(pupil pk, group pk) of the policy-visible pupils' active groups."""
        visible = self.decisions
        rows = (
            Student.groups.through.objects.filter(
                student__school_id__in=list(self.schools), group__is_active=True
            )
            .order_by("student_id", "group_id")
            .values_list("student_id", "group_id")
        )
        return [(student_id, group_id) for student_id, group_id in rows if student_id in visible]

    def _student_records(self) -> list[Record]:
        """The visible pupils, and as ``tobedeleted`` those the supplier was given before."""
        records = [self._user(pupil) for pupil in self.pupils.values()]
        active = {pupil.pseudonym for pupil in self.pupils.values()}
        gone: dict[str, int] = {}  # pseudonym → the pupil it was first kept for
        for student_id, value in pseudonyms.stored(self.supplier):
            if student_id not in self.pupils and value not in active and value not in gone:
                gone[value] = student_id
        for value, student_id in gone.items():
            records.append(
                {
                    "sourcedId": value,
                    "status": "tobedeleted",
                    "dateLastModified": None,
                    "_released": {"sourcedId": (SUPPLIER_PSEUDONYM,)},
                    "_pupil": student_id,
                }
            )
        return records

    def _user(self, pupil: Pupil) -> Record:
        student, allowed = pupil.student, pupil.allowed
        released: dict[str, tuple[str, ...]] = {"sourcedId": (SUPPLIER_PSEUDONYM,)}
        record: Record = {
            "sourcedId": pupil.pseudonym,
            "status": "active",
            "dateLastModified": None,
            "enabledUser": True,
            "roles": [{"roleType": "primary", "role": "student"}],
        }
        if "school" in allowed:
            school = ref(self.base, "org", "orgs", self.keyed("org", student.school_id))
            record["roles"][0]["org"] = school
            record["primaryOrg"] = school
            released["roles"] = released["primaryOrg"] = ("school",)
        optional = {
            "givenName": ("first_name", student.roepnaam or student.voornamen),
            "familyName": ("last_name", student.family_name),
            "grades": ("year_level", [student.year_level] if student.year_level else None),
            "userIds": (
                "eck_id",
                [{"type": "eckId", "identifier": student.eck_id}] if student.eck_id else None,
            ),
        }
        for name, (attribute, value) in optional.items():
            if attribute in allowed and value:
                record[name] = value
                released[name] = (attribute,)
        record["_released"] = released
        record["_pupil"] = student.pk
        return record

    def _demographic_records(self) -> list[Record]:
        records = []
        for pupil in self.pupils.values():
            student, allowed = pupil.student, pupil.allowed
            record: Record = {
                "sourcedId": pupil.pseudonym,
                "status": "active",
                "dateLastModified": None,
            }
            released: dict[str, tuple[str, ...]] = {"sourcedId": (SUPPLIER_PSEUDONYM,)}
            if "date_of_birth" in allowed and student.birth_date:
                record["birthDate"] = student.birth_date.isoformat()
                released["birthDate"] = ("date_of_birth",)
            if "gender" in allowed:
                record["sex"] = SEX.get(Gender(student.gender), "unspecified")
                released["sex"] = ("gender",)
            if len(released) > 1:
                records.append({**record, "_released": released, "_pupil": student.pk})
        return records

    def _student_enrollment_records(self) -> list[Record]:
        records = []
        for student_id, group_id in self.memberships:
            pupil = self.pupils.get(student_id)
            group = self.classes.get(group_id)
            if pupil is None or group is None or "groups" not in pupil.allowed:
                continue
            records.append(
                {
                    "sourcedId": self.keyed("enrollment", group_id, student_id),
                    "status": "active",
                    "dateLastModified": None,
                    "role": "student",
                    "primary": False,
                    "user": ref(self.base, "user", "users", pupil.pseudonym),
                    "class": ref(self.base, "class", "classes", self.keyed("class", group_id)),
                    "school": ref(self.base, "org", "orgs", self.keyed("org", group.school_id)),
                    "_released": {
                        "sourcedId": ("groups",),
                        "user": (SUPPLIER_PSEUDONYM, "groups"),
                        "class": ("groups",),
                    },
                    "_pupil": student_id,
                }
            )
        return records

    def enrolled(self, student_id: int, group_id: int) -> bool:
        """Whether this supplier is given the pupil's enrollment in the group: only where the
        policy releases ``groups`` for the pupil (else no answer may tell the membership)."""
        decided = self.decisions.get(student_id)
        return (
            decided is not None
            and "groups" in decided[1]
            and group_id in self.classes
            and (student_id, group_id) in set(self.memberships)
        )

    # --- teachers ---------------------------------------------------------------------------------

    @cached_property
    def teachers(self) -> dict[int, Teacher]:
        """Active staff with the teacher role who teach a visible class, by pk. Only their pk,
        school and roles are read: nothing else about them is released."""
        taught: dict[int, list[int]] = {}
        for staff_id, group_id in (
            Staff.groups.through.objects.filter(group_id__in=list(self.classes))
            .order_by("staff_id", "group_id")
            .values_list("staff_id", "group_id")
        ):
            taught.setdefault(staff_id, []).append(group_id)
        found: dict[int, Teacher] = {}
        members = (
            Staff.objects.filter(pk__in=list(taught), is_active=True)
            .only("pk", "school", "roles", "is_active")
            .order_by("pk")
        )
        for staff in members:
            if not staff.has_role(StaffRole.TEACHER):
                continue
            groups = taught[staff.pk]
            # Their own school is the primary role's org; the others follow in the supplier's
            # own order (of their ids), never the hub's.
            others = {self.classes[group_id].school_id for group_id in groups}
            own = [staff.school_id] if staff.school_id in others else []
            others -= set(own)
            schools = own + sorted(others, key=lambda pk: self.keyed("org", pk))
            sourced_id = identifiers.staff_id(self.supplier, staff.pk)
            found[staff.pk] = Teacher(staff.pk, sourced_id, groups, schools)
        return found

    def _teacher_records(self) -> list[Record]:
        records = []
        for teacher in self.teachers.values():
            orgs = [ref(self.base, "org", "orgs", self.keyed("org", pk)) for pk in teacher.schools]
            records.append(
                {
                    "sourcedId": teacher.sourced_id,
                    "status": "active",
                    "dateLastModified": None,
                    "enabledUser": True,
                    "roles": [
                        {
                            "roleType": "primary" if number == 0 else "secondary",
                            "role": "teacher",
                            "org": org,
                        }
                        for number, org in enumerate(orgs)
                    ],
                    "primaryOrg": orgs[0],
                    "_released": TEACHER_RELEASED,
                    "_staff": teacher.pk,
                }
            )
        return records

    def _teacher_enrollment_records(self) -> list[Record]:
        records = []
        for teacher in self.teachers.values():
            user = ref(self.base, "user", "users", teacher.sourced_id)
            for group_id in teacher.groups:
                school_id = self.classes[group_id].school_id
                records.append(
                    {
                        "sourcedId": self.keyed("enrollment-teacher", group_id, teacher.pk),
                        "status": "active",
                        "dateLastModified": None,
                        "role": "teacher",
                        "primary": False,
                        "user": user,
                        "class": ref(self.base, "class", "classes", self.keyed("class", group_id)),
                        "school": ref(self.base, "org", "orgs", self.keyed("org", school_id)),
                        "_released": TEACHER_ENROLLMENT_RELEASED,
                        "_staff": teacher.pk,
                    }
                )
        return records

    # --- lookups by sourcedId ---------------------------------------------------------------------

    def class_of(self, sourced_id: str) -> Group | None:
        for group in self.classes.values():
            if hmac.compare_digest(
                self.keyed("class", group.pk).encode(), sourced_id.encode("utf-8", "replace")
            ):
                return group
        return None

    def school_of(self, sourced_id: str) -> School | None:
        for school in self.schools.values():
            if hmac.compare_digest(
                self.keyed("org", school.pk).encode(), sourced_id.encode("utf-8", "replace")
            ):
                return school
        return None
