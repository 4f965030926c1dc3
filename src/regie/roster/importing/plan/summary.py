"""What an import plan says: per school, per kind, how many are new, changed, leaving, unchanged.

:class:`ImportPlan` is what the dry run shows and what an :class:`~regie.roster.models.ImportRun`
keeps (:meth:`ImportPlan.as_json`); :class:`Pseudonyms` and :class:`ExportRefused` are the small
types that go in and out of :func:`~regie.roster.importing.plan.apply_export`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

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


def count_summary(plan: ImportPlan) -> dict[str, dict[str, int]]:
    """Totals per kind and change, for the audit log."""
    return {
        kind: {change: plan.total(kind, change) for change in ("new", "changed", "leaving")}
        for kind in KINDS
    }
