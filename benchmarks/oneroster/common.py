"""What the OneRoster benchmark measures: the school's size, the requests, the aim."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

PUPILS = 1000
GROUPS = 40
REPETITIONS = 60
PROFILED_REQUESTS = 5
AIM_MS = 200.0
ROSTER = "/ims/oneroster/rostering/v1p2"


@dataclass(frozen=True)
class Request:
    """One timed request: a page of ``limit=1000`` and what it must answer."""

    name: str
    endpoint: str
    offset: int
    records: int  # on this page
    total: int  # X-Total-Count

    @property
    def path(self) -> str:
        query = {"limit": PUPILS} | ({"offset": self.offset} if self.offset else {})
        return f"{ROSTER}/{self.endpoint}?{urlencode(query)}"

    @property
    def wrapper(self) -> str:
        return "users" if self.endpoint in {"users", "students"} else self.endpoint

    def check(self, status: int, headers: dict[str, str], body: bytes) -> None:
        if status != 200:
            raise RuntimeError(f"GET {self.endpoint}: HTTP {status}")
        found = len(json.loads(body)[self.wrapper])
        total = int(headers.get("x-total-count", "-1"))
        if (found, total) != (self.records, self.total):
            raise RuntimeError(
                f"GET {self.name}: {found} records of {total}, not {self.records} of {self.total}"
            )


REQUESTS = (
    Request("users", "users", 0, PUPILS, PUPILS + GROUPS),
    Request("users, 2nd page", "users", PUPILS, GROUPS, PUPILS + GROUPS),
    Request("students", "students", 0, PUPILS, PUPILS),
    Request("enrollments", "enrollments", 0, PUPILS, PUPILS + GROUPS),
)
CORE_SCOPE = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"
ATTRIBUTES = ("supplier_pseudonym", "school", "groups", "year_level")
SWITCHED = ("school", "groups", "year_level")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]
