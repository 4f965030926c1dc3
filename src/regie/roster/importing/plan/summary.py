"""What an import plan says: per school, per kind, how many are new, changed, leaving, unchanged.

:class:`ImportPlan` is what the dry run shows and what an :class:`~regie.roster.models.ImportRun`
keeps (:meth:`ImportPlan.as_json`); :class:`Pseudonyms`, :class:`RemovalConsent` and
:class:`ExportRefused` are the small types that go in and out of
:func:`~regie.roster.importing.plan.apply_export`.

The safety stop: an export that would mark more than a set share of a school's active pupils as
left, or all of them, is a *mass removal* (:meth:`SchoolPlan.removes_many`). It is applied only
with consent: the numbers confirmed in the preview (:attr:`SchoolPlan.removal_key`), or
``regie import --allow-mass-removal``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext_noop

from regie.roster.importing.records import Problem

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
    active_students: int = 0  # the school's active pupils at the hub before the import
    # Pupils who will have neither ECK iD nor a PGN to get one: no pseudonym, so no supplier
    # receives anything about them.
    without_identifier: int = 0

    @property
    def has_changes(self) -> bool:
        return self.is_new or any(counts.touched for counts in self.counts.values())

    @property
    def students_leaving(self) -> int:
        return self.counts["students"].leaving

    def removes_many(self, percent: int) -> bool:
        """Whether the import marks more than ``percent`` % of the active pupils as left, or all."""
        leaving, active = self.students_leaving, self.active_students
        return leaving > 0 and (leaving >= active or leaving * 100 > percent * active)

    @property
    def removal_key(self) -> str:
        """What a confirmation of this school's removal confirms: its code and the numbers."""
        return f"{self.code}:{self.students_leaving}:{self.active_students}"

    def removal_problem(self, file: str, line: int | None) -> Problem:
        return Problem(
            file,
            line,
            "school",
            gettext_noop(
                "deze export schrijft %(leaving)s van de %(active)s leerlingen van school "
                "%(name)s (%(school)s) uit: bevestig dat in het overzicht, of gebruik "
                "--allow-mass-removal bij regie import"
            ),
            {
                "leaving": self.students_leaving,
                "active": self.active_students,
                "name": self.name,
                "school": self.code,
            },
        )


@dataclass
class ImportPlan:
    schools: list[SchoolPlan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    delta: bool = False
    encodings: dict[str, str] = field(default_factory=dict)  # file → encoding, when not UTF-8

    @property
    def has_changes(self) -> bool:
        return any(school.has_changes for school in self.schools)

    def total(self, kind: str, change: str) -> int:
        return sum(getattr(school.counts[kind], change) for school in self.schools)

    def mass_removals(self, percent: int) -> list[SchoolPlan]:
        """Schools of which this import removes many pupils (:meth:`SchoolPlan.removes_many`)."""
        return [school for school in self.schools if school.removes_many(percent)]

    def as_json(self) -> dict[str, Any]:
        return {
            "delta": self.delta,
            "encodings": dict(self.encodings),
            "schools": [asdict(school) for school in self.schools],
        }

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
                    active_students=item.get("active_students", 0),
                    without_identifier=item.get("without_identifier", 0),
                )
            )
        return cls(
            schools=schools, delta=bool(data.get("delta")), encodings=data.get("encodings", {})
        )


class ExportRefused(Exception):
    """An export with problems cannot be applied; ``problems`` say why (never with a value)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems[:3]))
        self.problems = problems


@dataclass(frozen=True)
class RemovalConsent:
    """Which mass removals an apply may make: any (``--allow-mass-removal``), or those whose
    numbers were confirmed in the preview (:attr:`SchoolPlan.removal_key`)."""

    any: bool = False
    confirmed: frozenset[str] = frozenset()

    def allows(self, school: SchoolPlan) -> bool:
        return self.any or school.removal_key in self.confirmed


@dataclass(frozen=True)
class Pseudonyms:
    stampseudonym: str
    eck_id: str


def count_summary(plan: ImportPlan) -> dict[str, dict[str, int]]:
    """Totals per kind and change, for the audit log; for pupils also how many have no
    identifier (no pseudonym)."""
    summary = {
        kind: {change: plan.total(kind, change) for change in ("new", "changed", "leaving")}
        for kind in KINDS
    }
    summary["students"]["without_identifier"] = sum(s.without_identifier for s in plan.schools)
    return summary
