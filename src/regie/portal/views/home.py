"""The portal's first page: the children whose rights this login exercises.

- A guardian sees their linked children with their school, each with a link to its page; a child
  of 16 or older is listed with the day since which they decide for themselves, and no link.
- A pupil of 16 or older sees themselves, with a link to their own page.
- A pupil under 16 reads what changes at 16: until then their parents act for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from regie.accounts import guardians
from regie.accounts.services import student_for
from regie.roster.models import Student

from ..access import children, portal_required


def own_rights_from(birth_date: date) -> date:
    """The 16th birthday (1 March for a pupil born on 29 February, in a year without one), as
    ``Student.age_on`` counts it."""
    year = birth_date.year + guardians.AGE_OF_OWN_RIGHTS
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


@dataclass(frozen=True)
class ChildLine:
    student: Student
    represented: bool  # the login acts for the child today (a link to its page)
    decides_since: date | None  # 16+: the day since which the child decides for themselves


@portal_required
def home(request: HttpRequest) -> HttpResponse:
    account = guardians.account_of(request.user)
    acting = {child.pk for child in children(request)}
    if account is not None:
        lines = [
            ChildLine(
                child,
                child.pk in acting,
                own_rights_from(child.birth_date)
                if child.pk not in acting and child.birth_date is not None
                else None,
            )
            for child in guardians.linked_children(account)
        ]
        return render(request, "portal/home.html", {"lines": lines, "is_pupil": False})
    pupil = student_for(request.user)
    own = [ChildLine(child, True, None) for child in children(request)]
    context = {
        "lines": own,
        "is_pupil": True,
        "pupil": pupil,
        "from_day": own_rights_from(pupil.birth_date)
        if pupil is not None and pupil.birth_date is not None and not own
        else None,
    }
    return render(request, "portal/home.html", context)
