"""Who at school sees a pupil (:func:`regie.roster.services.pupil_viewers`), per role: the same
rule as :func:`regie.roster.services.visible_students` — teachers of the pupil's groups while the
pupil is active, the school-wide roles of the pupil's school, the board admins of its board; not
staff of another school or board, not an inactive membership."""

from __future__ import annotations

import random

import pytest

from regie.roster import services
from regie.roster.models import Group, StaffRole, Student, StudentStatus

from .exports import load_school, make_board, make_staff

pytestmark = pytest.mark.django_db


def counts(student: Student) -> dict[tuple[str, str], int]:
    return {(v.role, v.reach): v.count for v in services.pupil_viewers(student)}


def test_each_role_that_sees_the_pupil_is_counted_and_no_one_else(rng: random.Random) -> None:
    board = make_board()
    school = load_school(board, rng, "99XA", "A")
    other_school = load_school(board, rng, "99XB", "B")
    other_board = make_board("41002", "Stichting B (fictief)")
    group = Group.objects.get(school=school, las_key="A-G5")
    pupil = Student.objects.filter(school=school, groups=group).order_by("pk")[0]

    _, teacher = make_staff(board, school, StaffRole.TEACHER)
    teacher.groups.add(group)
    make_staff(board, school, StaffRole.TEACHER)  # teaches no group of the pupil
    make_staff(board, school, StaffRole.CARE_COORDINATOR, StaffRole.PRIVACY_OFFICER)
    make_staff(board, other_school, StaffRole.SCHOOL_ADMIN)  # another school
    make_staff(board, None, StaffRole.BOARD_ADMIN)
    make_staff(other_board, None, StaffRole.BOARD_ADMIN)  # another board
    _, gone = make_staff(board, school, StaffRole.SCHOOL_ADMIN)
    gone.is_active = False
    gone.save()

    # The export's own teacher (Eva Smit) teaches group 5 too.
    assert counts(pupil) == {
        (StaffRole.TEACHER, "groups"): 2,
        (StaffRole.CARE_COORDINATOR, "school"): 1,
        (StaffRole.PRIVACY_OFFICER, "school"): 1,
        (StaffRole.BOARD_ADMIN, "board"): 1,
    }
    roles = [viewer.role for viewer in services.pupil_viewers(pupil)]
    assert roles[0] == StaffRole.TEACHER
    assert roles[-1] == StaffRole.BOARD_ADMIN

    pupil.status = StudentStatus.LEFT
    pupil.save()
    assert (StaffRole.TEACHER, "groups") not in counts(pupil)
