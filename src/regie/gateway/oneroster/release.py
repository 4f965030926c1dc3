"""What one supplier may see through OneRoster: its licensed schools, groups and pupils, as the
release policy allows — built once per request, in a fixed number of queries.

- Visible **licences**: this school year's licences of the client's product (or, for a client
  without a product, of all the supplier's products) at boards with an active agreement for it.
- Visible **schools** and their **boards**: those holding a visible licence. Visible
  **academic sessions**: the school years of the visible licences.
- Visible **pupils**: covered by a visible licence with ``supplier_pseudonym`` allowed by
  :func:`regie.agreements.policy.decide_many`; their fields are what the policy allows them (the
  union over the client's products). ``sourcedId`` is the pupil's supplier pseudonym, obtained
  from the number service in one batch for those not known yet and kept in ``SupplierPseudonym``.
- Visible **classes**: licensed groups, and the groups of visible pupils whose ``groups``
  attribute is allowed; **enrollments** only for those pupils.
- Pupils this supplier was given before (a ``SupplierPseudonym`` exists) who are no longer
  visible — they left, or the licence went — are listed as ``tobedeleted`` with nothing else.

Schools, boards, classes, sessions and enrollments get a per-supplier keyed id (HMAC-SHA-256
under a key derived from ``SECRET_KEY`` and the supplier's KvK number): no internal id leaves
the hub, and two suppliers cannot match their ids.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cached_property
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from regie.agreements import policy
from regie.agreements.catalogue import SUPPLIER_PSEUDONYM
from regie.agreements.models import Licence, Product, Supplier
from regie.core.models import Board, School, SchoolYear
from regie.nummervoorziening import client as nv
from regie.roster.models import Gender, Group, GroupKind, Student

from .. import claims, identifiers
from ..models import OAuthClient, SupplierPseudonym

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
# Up to this many missing pseudonyms are asked for one by one; more go in one batch.
SINGLE_LOOKUPS_UP_TO = 5

Record = dict[str, Any]


def moment(value: datetime | date) -> str:
    """``dateLastModified``: ISO 8601 in UTC with milliseconds, as the binding's examples."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min, tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def ref(base: str, kind: str, collection: str, sourced_id: str) -> Record:
    """A GUIDRef: ``{href, sourcedId, type}``."""
    return {"href": f"{base}/{collection}/{sourced_id}", "sourcedId": sourced_id, "type": kind}


@dataclass
class Pupil:
    student: Student
    allowed: frozenset[str]
    pseudonym: str


@dataclass
class SupplierView:
    """The roster as ``client``'s supplier may see it today. ``base`` is the API's root URL."""

    client: OAuthClient
    base: str
    day: date = field(default_factory=timezone.localdate)

    @property
    def supplier(self) -> Supplier:
        return self.client.supplier

    @cached_property
    def products(self) -> list[Product]:
        if self.client.product is not None:
            return [self.client.product]
        return list(Product.objects.filter(supplier=self.supplier))

    def keyed(self, kind: str, *parts: object) -> str:
        return identifiers.keyed(self.supplier, kind, *parts)

    # --- licences, schools, sessions, classes (no pupil data) ------------------------------------

    @cached_property
    def licences(self) -> list[Licence]:
        found = (
            Licence.objects.filter(
                product__in=self.products,
                school_year__start__lte=self.day,
                school_year__end__gte=self.day,
            )
            .select_related("school__board", "school_year", "group")
            .order_by("pk")
        )
        active: dict[tuple[int, int], bool] = {}
        kept = []
        for licence in found:
            key = (licence.school.board_id, licence.product_id)
            if key not in active:
                agreement = policy.active_agreement(key[0], licence.product, self.day)
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

    def _school_changed(self, school_id: int) -> datetime:
        """When the supplier's view of the school last changed: its newest visible licence."""
        return max(lic.created_at for lic in self.licences if lic.school_id == school_id)

    def org_records(self) -> list[Record]:
        records = []
        for board in self.boards.values():
            children = [
                ref(self.base, "org", "orgs", self.keyed("org", school.pk))
                for school in self.schools.values()
                if school.board_id == board.pk
            ]
            records.append(
                {
                    "sourcedId": self.keyed("board", board.pk),
                    "status": "active",
                    "dateLastModified": moment(board.created_at),
                    "name": board.name,
                    "type": "district",
                    "identifier": board.bestuursnummer,
                    "children": children,
                }
            )
        return records + self.school_records()

    def school_records(self) -> list[Record]:
        return [
            {
                "sourcedId": self.keyed("org", school.pk),
                "status": "active",
                "dateLastModified": moment(school.created_at),
                "name": school.name,
                "type": "school",
                "identifier": school.code,
                "parent": ref(self.base, "org", "orgs", self.keyed("board", school.board_id)),
            }
            for school in self.schools.values()
        ]

    def session_records(self) -> list[Record]:
        return [
            {
                "sourcedId": self.keyed("session", year.pk),
                "status": "active",
                "dateLastModified": moment(year.start),
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

    def class_records(self) -> list[Record]:
        return [
            {
                "sourcedId": self.keyed("class", group.pk),
                "status": "active",
                "dateLastModified": moment(self._school_changed(group.school_id)),
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
        candidates = list(
            Student.objects.filter(school_id__in=list(self.schools))
            .filter(Q(groups__in=group_ids) | Q(licences__in=licence_ids))
            .distinct()
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
        pseudonyms = self._pseudonyms(students)
        return {
            pk: Pupil(student, allowed, pseudonyms[pk])
            for pk, (student, allowed) in self.decisions.items()
            if pk in pseudonyms
        }

    def _pseudonyms(self, students: list[Student]) -> dict[int, str]:
        known = dict(
            SupplierPseudonym.objects.filter(
                supplier=self.supplier, student_id__in=[student.pk for student in students]
            ).values_list("student_id", "value")
        )
        missing = [s for s in students if s.pk not in known and s.eck_id]
        if len(missing) <= SINGLE_LOOKUPS_UP_TO:
            for student in missing:
                known[student.pk] = claims.pseudonym(student, self.supplier)
            return known
        obtained = _batch_pseudonyms(missing, self.supplier, self.schools)
        rows = [
            SupplierPseudonym(student_id=pk, supplier=self.supplier, value=value)
            for pk, value in obtained.items()
        ]
        try:
            with transaction.atomic():
                SupplierPseudonym.objects.bulk_create(rows, ignore_conflicts=True)
        except IntegrityError:  # pragma: no cover - ignore_conflicts covers the race
            pass
        known.update(obtained)
        return known

    @cached_property
    def memberships(self) -> list[tuple[int, int]]:
        """(pupil pk, group pk) of the policy-visible pupils' active groups."""
        return list(
            Student.groups.through.objects.filter(
                student_id__in=list(self.decisions), group__is_active=True
            )
            .order_by("student_id", "group_id")
            .values_list("student_id", "group_id")
        )

    def user_records(self) -> list[Record]:
        records = [self._user(pupil) for pupil in self.pupils.values()]
        active = {pupil.pseudonym for pupil in self.pupils.values()}
        gone = (
            SupplierPseudonym.objects.filter(supplier=self.supplier)
            .exclude(student_id__in=list(self.pupils))
            .select_related("student")
            .order_by("pk")
        )
        seen: set[str] = set()
        for row in gone:
            if row.value in active or row.value in seen:
                continue
            seen.add(row.value)
            changed = row.student.updated_at
            records.append(
                {
                    "sourcedId": row.value,
                    "status": "tobedeleted",
                    "dateLastModified": moment(changed),
                    "_released": {"sourcedId": (SUPPLIER_PSEUDONYM,)},
                    "_pupil": row.student_id,
                }
            )
        return records

    def _user(self, pupil: Pupil) -> Record:
        student, allowed = pupil.student, pupil.allowed
        released: dict[str, tuple[str, ...]] = {"sourcedId": (SUPPLIER_PSEUDONYM,)}
        record: Record = {
            "sourcedId": pupil.pseudonym,
            "status": "active",
            "dateLastModified": moment(student.updated_at),
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

    def demographic_records(self) -> list[Record]:
        records = []
        for pupil in self.pupils.values():
            student, allowed = pupil.student, pupil.allowed
            record: Record = {
                "sourcedId": pupil.pseudonym,
                "status": "active",
                "dateLastModified": moment(student.updated_at),
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

    def enrollment_records(self) -> list[Record]:
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
                    "dateLastModified": moment(pupil.student.updated_at),
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


def _batch_pseudonyms(
    students: Iterable[Student], supplier: Supplier, schools: dict[int, School]
) -> dict[int, str]:
    """Pupil pk → pseudonym at ``supplier``, from the number service's batch API, per sector."""
    service = nv.get_client()
    sector_ids = claims._sector_ids(service)
    by_sector: dict[str, dict[int, str]] = {}
    for student in students:
        sector = schools[student.school_id].sector
        by_sector.setdefault(sector, {})[student.pk] = student.eck_id
    obtained: dict[int, str] = {}
    for sector, eck_ids in by_sector.items():
        result = service.run_batch(
            "supplier", eck_ids, supplier_id=supplier.kvk, sector_id=sector_ids[sector]
        )
        obtained.update(result.success)
    return obtained
