"""The demo supplier's legacy named data (motion 9): what *Rekenwereld* held from before
pseudonyms — its own pupil numbers, with the school's LAS keys, names and birth dates, as
Basispoort-era suppliers received them. All of it is fictional.

The back office registers it at the hub (``POST /retention/legacy``, scope ``regie.legacy``,
see ``docs/supplier-orders.md``) and gets a conversion table back: it replaces each converted
old number by its pseudonym, in memory. The hub then sends a ``legacy-conversion`` order; on it
the supplier destroys every named record (names, birth dates, LAS keys, old numbers) and keeps
only the pseudonyms, and says so in its completed receipt (:meth:`LegacyBook.destroy`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class NamedRecord:
    """One old record: the supplier's own number, and what it knew of the pupil."""

    key: str
    las_key: str = ""
    name: str = ""
    birth_date: str = ""

    def as_json(self) -> dict[str, str]:
        found = {"key": self.key}
        for name in ("las_key", "name", "birth_date"):
            value = getattr(self, name)
            if value:
                found[name] = value
        return found


# The demo board's primary school (roster.demo_board.PO_SCHOOL) and pupils by their LAS keys, as
# ``generate_demo_board()`` (seed 2026, 1200 pupils) makes them: six pupils of the groups
# Rekenwereld is licensed for (Groep 1A and 1B: converted), three other pupils of the school
# (not allowed: no licence), two of the secondary school (not found at this school) and one
# record with only a name and birth date that matches nobody. The names and birth dates are the
# supplier's own outdated copies, fictional.
DEMO_SCHOOL = "99XA"
LICENSED = ("LL-000033", "LL-000068", "LL-000097", "LL-000111", "LL-000112", "LL-000119")
UNLICENSED = ("LL-000002", "LL-000003", "LL-000008")
OTHER_SCHOOL = ("LL-000001", "LL-000004")
DEMO_RECORDS = (
    *(
        NamedRecord(f"RW-{number:04d}", las_key, f"Leerling {number} (oud)", "2019-01-01")
        for number, las_key in enumerate((*LICENSED, *UNLICENSED, *OTHER_SCHOOL), start=1)
    ),
    NamedRecord("RW-9001", name="Pim Verhoeven", birth_date="2016-02-29"),
)


@dataclass
class LegacyBook:
    """The old named records of one school, and what became of them."""

    school: str
    records: list[NamedRecord]
    pseudonyms: dict[str, str] = field(default_factory=dict)  # old number → pseudonym
    counts: dict[str, int] = field(default_factory=dict)  # the table's statuses
    kept: list[str] = field(default_factory=list)  # pseudonyms, once the old numbers are gone
    registration: int | None = None
    destroyed: int = 0
    statement: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def body(self) -> dict[str, Any]:
        with self._lock:
            return {"school": self.school, "records": [item.as_json() for item in self.records]}

    def converted(self, answer: dict[str, Any]) -> None:
        """The hub's conversion table: old numbers become pseudonyms (in memory)."""
        table = answer.get("table")
        if not isinstance(table, list):
            raise ValueError("the answer has no table")
        counts: dict[str, int] = {}
        with self._lock:
            for row in table:
                if not isinstance(row, dict):
                    continue
                status = str(row.get("status"))
                counts[status] = counts.get(status, 0) + 1
                if status == "converted" and isinstance(row.get("pseudonym"), str):
                    self.pseudonyms[str(row["key"])] = row["pseudonym"]
            self.counts = counts
            registration = answer.get("registration")
            self.registration = registration if isinstance(registration, int) else None

    @property
    def named(self) -> int:
        with self._lock:
            return len(self.records)

    def destroy(self) -> str:
        """Destroy every named record (the order's ask); the statement for the receipt."""
        today = datetime.now(UTC).date().isoformat()
        with self._lock:
            count = len(self.records)
            self.records = []
            self.destroyed += count
            # The old numbers go too: only the pseudonyms stay.
            self.kept = sorted(set(self.kept) | set(self.pseudonyms.values()))
            self.pseudonyms = {}
            kept = len(self.kept)
            self.statement = (
                f"Vernietigingsverklaring: op {today} heeft de leverancier alle {count} oude "
                "records met namen, geboortedata, LAS-sleutels en eigen leerlingnummers van "
                f"school {self.school} vernietigd. Zij bewaart alleen nog {kept} pseudoniem(en) "
                "van regie."
            )
            return self.statement
