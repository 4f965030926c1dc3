"""Teachers' launches: the claims a launch carries. A login's teacher memberships come from
``roster.services.teaching_memberships``; what may go is the release policy's
(:func:`regie.agreements.policy.decide_staff`: a licence of the product this school year for a
group they teach, by group or named pupils, at a school whose board has an active agreement for
it); this module only renders its decision:

- ``sub``: the teacher's keyed id at the supplier (:func:`regie.gateway.identifiers.staff_id`),
  the same value as their OneRoster ``sourcedId``; pairwise, so two suppliers cannot link it;
- ``role`` = ``teacher``, the ``school`` (BRIN and name) and the names of the licensed ``groups``
  they teach — organisational facts the supplier needs to show the teacher their classes.

Names and e-mail addresses of staff are never released: no data schedule covers staff data.
"""

from __future__ import annotations

from typing import Any

from regie.agreements.models import Supplier
from regie.agreements.policy import STAFF_ID, StaffDecision
from regie.roster.models import Staff

from . import identifiers


def released(memberships: list[Staff], decision: StaffDecision) -> Staff:
    """The membership (of those ``decision`` was taken on) that it releases."""
    return next(staff for staff in memberships if staff.pk == decision.staff_id)


def claims(supplier: Supplier, staff: Staff, decision: StaffDecision) -> dict[str, Any]:
    """The claims for what ``decision`` allows about ``staff`` (``sub`` first)."""
    school = staff.school
    assert school is not None  # noqa: S101 (teaching_memberships keeps school memberships only)
    values: dict[str, Any] = {
        STAFF_ID: identifiers.staff_id(supplier, staff.pk),
        "role": "teacher",
        "school": {"brin": school.code, "name": school.name},
        "groups": list(decision.groups),
    }
    names = {STAFF_ID: "sub"}
    return {names.get(key, key): value for key, value in values.items() if key in decision.allowed}
