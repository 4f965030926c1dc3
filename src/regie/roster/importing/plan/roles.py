"""Which roles an import may change: only what its format carries (issue 11 §3).

Roles the hub assigns — privacy officer, board admin, school admin, care coordinator — are not
the export's to take away. Every format says who teaches (EDEXML lists teachers only); OneRoster's
``role`` column names one more role, which an import adds; only a record that states all of a
member's roles (:attr:`StaffRecord.all_roles`, regie's ``metadata.regie.roles`` column) replaces
them.
"""

from __future__ import annotations

from collections.abc import Iterable

from regie.roster.importing.records import StaffRecord, StaffRole

TEACHER = str(StaffRole.TEACHER)


def roles_after(existing: Iterable[str], record: StaffRecord) -> list[str]:
    """The roles of a member the export lists, after the import (sorted, as stored)."""
    given = {str(role) for role in record.roles}
    if record.all_roles:
        return sorted(given)
    spoken_for = given | {TEACHER}
    return sorted((set(existing) - spoken_for) | given)


def roles_kept_when_gone(existing: Iterable[str], carries_all_staff: bool) -> list[str]:
    """The roles a member keeps when the export no longer lists them (sorted).

    An export that lists all staff (OneRoster) says the member has left: nothing is kept, and
    the member becomes inactive. One that lists only teachers (EDEXML) says only that the member
    teaches no more: the hub's roles stay, and a member with none left becomes inactive.
    """
    if carries_all_staff:
        return []
    return sorted(set(existing) - {TEACHER})
