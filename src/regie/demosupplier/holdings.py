"""What a demo supplier holds about each pupil, by its pseudonym (the ``sub`` it received).

Three sources feed it: the claims received at a sign-in (per product), the roster copy of the
back office (the classes a pupil is in) and the results it sent back. The school's orders
(:mod:`.orders`) read it (an access order), mark it (restriction, objection, a rectification
notice) or delete it (erasure, the end of the contract). In memory only: it is a demo.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# The school's names of the data (the hub's catalogue, as an order's ``details.attributes``
# gives them) and the claims that carry them at sign-in (OIDC Core §5.1 where there is one).
ATTRIBUTE_CLAIMS: dict[str, tuple[str, ...]] = {
    "first_name": ("given_name",),
    "last_name": ("family_name",),
    "date_of_birth": ("birthdate",),
    "gender": ("gender",),
    "email": ("email",),
    "eck_id": ("eck_id",),
    "school": ("school",),
    "groups": ("groups",),
    "year_level": ("year_level",),
    "role": ("role",),
}


def claims_of(attribute: str) -> tuple[str, ...]:
    """The claims that carry ``attribute`` (an unknown one: a claim of that name)."""
    return ATTRIBUTE_CLAIMS.get(attribute, (attribute,))


@dataclass
class Held:
    """What the supplier holds for one pseudonym."""

    received: dict[str, dict[str, Any]] = field(default_factory=dict)  # product → claims
    classes: dict[str, str] = field(default_factory=dict)  # class sourcedId → title
    results: list[dict[str, Any]] = field(default_factory=list)
    restricted: bool = False
    objected: bool = False
    notes: list[str] = field(default_factory=list)

    def as_data(self) -> dict[str, Any]:
        """The answer to an access order: everything, as plain JSON."""
        return {
            "received_at_sign_in": {name: dict(claims) for name, claims in self.received.items()},
            "roster_classes": [
                {"sourcedId": key, "title": title} for key, title in sorted(self.classes.items())
            ],
            "results_sent": [dict(item) for item in self.results],
            "processing_restricted": self.restricted,
            "objection_received": self.objected,
            "notes": list(self.notes),
        }


class Holdings:
    """Per pseudonym, what the supplier holds; safe to use from several request threads."""

    def __init__(self) -> None:
        self._held: dict[str, Held] = {}
        self._lock = threading.Lock()

    def _entry(self, sub: str) -> Held:
        return self._held.setdefault(sub, Held())

    def signed_in(self, sub: str, product: str, claims: dict[str, Any]) -> None:
        with self._lock:
            self._entry(sub).received[product] = dict(claims)

    def roster_copy(self, classes: dict[str, str], members: dict[str, Iterable[str]]) -> None:
        """The roster just fetched: each pupil in it is in these classes (and no others)."""
        with self._lock:
            for sub, class_ids in members.items():
                self._entry(sub).classes = {key: classes.get(key, "") for key in class_ids}

    def result_sent(self, sub: str, record: dict[str, Any]) -> None:
        with self._lock:
            self._entry(sub).results.append(dict(record))

    def may_process(self, sub: str) -> bool:
        """False once the school restricted the processing or the pupil objected."""
        with self._lock:
            held = self._held.get(sub)
            return held is None or not (held.restricted or held.objected)

    def data(self, subs: Iterable[str]) -> dict[str, dict[str, Any]]:
        """What is held for each of ``subs`` (an empty record for one we know nothing about)."""
        with self._lock:
            return {sub: self._held.get(sub, Held()).as_data() for sub in subs}

    def holds(self, sub: str) -> bool:
        with self._lock:
            return sub in self._held

    def erase(self, subs: Iterable[str]) -> int:
        """Delete everything held for ``subs``; how many of them we held something for."""
        with self._lock:
            return sum(self._held.pop(sub, None) is not None for sub in set(subs))

    def erase_attributes(self, subs: Iterable[str], attributes: Iterable[str]) -> int:
        """Delete only ``attributes`` from the claims kept of ``subs`` (every product's copy);
        the rest stays. How many claims were deleted."""
        claims = {claim for attribute in attributes for claim in claims_of(attribute)}
        erased = 0
        with self._lock:
            for sub in set(subs):
                held = self._held.get(sub)
                if held is None:
                    continue
                for received in held.received.values():
                    for claim in claims & set(received):
                        del received[claim]
                        erased += 1
        return erased

    def erase_all(self) -> int:
        with self._lock:
            count = len(self._held)
            self._held.clear()
            return count

    def mark(
        self, subs: Iterable[str], *, restricted: bool = False, objected: bool = False
    ) -> None:
        with self._lock:
            for sub in subs:
                held = self._entry(sub)
                held.restricted = held.restricted or restricted
                held.objected = held.objected or objected

    def note(self, subs: Iterable[str], text: str) -> None:
        with self._lock:
            for sub in subs:
                self._entry(sub).notes.append(text)
