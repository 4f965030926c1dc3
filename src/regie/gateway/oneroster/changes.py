"""``dateLastModified`` under the linkage rule (docs/architecture.md, "What a supplier
receives"): **what a supplier receives changes only when data released to that supplier changes,
and carries no more precision than that change needs.**

A record's ``dateLastModified`` is not a time kept by the hub (a pupil's ``updated_at`` would
move for every pupil an import touched — also for a field no supplier receives — and the same
moment, to the millisecond, would go to every supplier: a value two suppliers could join their
pseudonyms on). It is the **day** the record *as released to this client* last changed, rendered
as that day at ``00:00:00.000Z`` (the binding's DateTime needs a time).

Per (client, record) the hub keeps a :class:`~regie.gateway.models.ReleasedRecord`: a keyed hash
of the record's ``sourcedId`` (no id a supplier holds is stored again), a keyed fingerprint of
the released representation (canonical JSON of the record without ``dateLastModified``, ``href``
values without the host, so a proxy's host name changes nothing; keyed, so that no released value
can be guessed from it) and the day. Building a record compares its fingerprint with the kept one:
the same, and the kept day stands; different or new, and it is today, written back in one upsert
(safe when two requests of one client run at once, on SQLite and PostgreSQL). Per client, not per
supplier: a client's view depends on its product.

A supplier syncs deltas with ``filter=dateLastModified>='<day of its last sync>'`` (one day of
overlap; see docs/oneroster-rest.md). ``tobedeleted`` is a change like any other: the day a
pupil's record turned into it. What the hub keeps of a record that is no longer given at all
(a teacher, a class, an enrollment gone) is forgotten the next time the whole collection is built.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import orjson

from ..identifiers import purpose_key
from ..models import OAuthClient, ReleasedRecord

Record = dict[str, Any]

DATE_LAST_MODIFIED = "dateLastModified"

# The collections whose records are dated this way, and the kind their state is kept under
# (``users``, ``students`` and ``teachers`` are one kind: the same records).
KINDS = {
    "orgs": "org",
    "academicSessions": "session",
    "classes": "class",
    "users": "user",
    "enrollments": "enrollment",
    "demographics": "demographics",
}


def moment(day: date) -> str:
    """``dateLastModified`` of a record that last changed on ``day``: the day, no finer."""
    return f"{day.isoformat()}T00:00:00.000Z"


class Ledger:
    """What ``client`` was last given, read once per kind and request; ``day`` is today."""

    def __init__(self, client: OAuthClient, base: str, day: date) -> None:
        self.client = client
        self.day = day
        self._base = base.encode("utf-8")
        self._kept: dict[str, dict[str, tuple[str, date]]] = {}
        # Keyed BLAKE2b (a MAC) under the supplier's keys, as identifiers.digest computes it.
        self._record_key = purpose_key(client.supplier, "oneroster.record")
        self._print_key = purpose_key(client.supplier, "oneroster.fingerprint")

    def _read(self, kind: str) -> dict[str, tuple[str, date]]:
        found = self._kept.get(kind)
        if found is None:
            rows = ReleasedRecord.objects.filter(client=self.client, kind=kind).values_list(
                "key", "fingerprint", "changed_on"
            )
            found = self._kept[kind] = {key: (print_, day) for key, print_, day in rows}
        return found

    def fingerprint(self, record: Record) -> str:
        """The keyed fingerprint of ``record`` as released (not its date, not the hub's own
        ``_`` keys, ``href`` values without the API's root URL)."""
        released = {
            name: value
            for name, value in record.items()
            if name != DATE_LAST_MODIFIED and not name.startswith("_")
        }
        text = orjson.dumps(released, option=orjson.OPT_SORT_KEYS).replace(self._base, b"")
        return hashlib.blake2b(text, key=self._print_key, digest_size=16).hexdigest()

    def key(self, kind: str, sourced_id: str) -> str:
        """The keyed hash a record is kept under (its kind and ``sourcedId``)."""
        text = f"{kind}:{sourced_id}".encode()
        return hashlib.blake2b(text, key=self._record_key, digest_size=16).hexdigest()

    def date(self, collection: str, records: list[Record], *, complete: bool = False) -> None:
        """Set each record's ``dateLastModified`` (in place) and keep what changed. When
        ``records`` are the whole collection (``complete``), forget what is no longer in it: the
        hub keeps nothing about a record it no longer gives (a record that comes back is new)."""
        kind = KINDS[collection]
        kept = self._read(kind)
        changed: list[ReleasedRecord] = []
        seen: set[str] = set()
        for record in records:
            key = self.key(kind, record["sourcedId"])
            seen.add(key)
            print_ = self.fingerprint(record)
            known = kept.get(key)
            if known is None or known[0] != print_:
                known = kept[key] = (print_, self.day)
                changed.append(
                    ReleasedRecord(
                        client=self.client,
                        kind=kind,
                        key=key,
                        fingerprint=print_,
                        changed_on=self.day,
                    )
                )
            record[DATE_LAST_MODIFIED] = moment(known[1])
        if changed:
            self._write(changed)
        gone = [key for key in kept if key not in seen] if complete else []
        if gone:
            ReleasedRecord.objects.filter(client=self.client, kind=kind, key__in=gone).delete()
            for key in gone:
                del kept[key]

    @staticmethod
    def _write(rows: list[ReleasedRecord]) -> None:
        """One upsert: a row another request wrote meanwhile is overwritten, never a conflict.
        Sorted by key, so that two requests lock rows in the same order (no deadlock)."""
        rows.sort(key=lambda row: row.key)
        ReleasedRecord.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["client", "kind", "key"],
            update_fields=["fingerprint", "changed_on"],
        )
