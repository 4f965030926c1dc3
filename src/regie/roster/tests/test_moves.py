"""School moves: same sector keeps the ECK iD and links the enrolments; a sector change is explicit."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from django.db import transaction
from django.urls import reverse

from regie.audit.models import AuditEvent
from regie.core.models import Board, Sector
from regie.roster import events, services
from regie.roster.importing.plan import apply_export, plan_import
from regie.roster.importing.records import RosterExport, StaffRole, without_student
from regie.roster.models import LinkReason, Student, StudentStatus
from regie.roster.tests.exports import (
    client_for,
    make_board,
    make_staff,
    merged,
    school_export,
)

pytestmark = pytest.mark.django_db


def apply(export: RosterExport, board: Board) -> None:
    assert plan_import(export, board).problems == []
    with transaction.atomic():
        apply_export(export, board, actor="test", pseudonyms={})


def moved(rng: random.Random, sector: Sector = Sector.PO) -> tuple[RosterExport, RosterExport]:
    """Board export before and after pupil A-LL-0001 moved from school 99XA to 99XB."""
    school_a = school_export(rng, code="99XA", prefix="A")
    school_b = school_export(rng, code="99XB", prefix="B", sector=sector)
    pupil = school_a.students[1]
    arrived = replace(
        pupil,
        key="B-LL-0100",
        school_key=school_b.schools[0].key,
        group_keys=(school_b.groups[0].key,),
    )
    if sector != Sector.PO:
        arrived = replace(arrived, eck_id=f"{pupil.eck_id[:-8]}0badcafe")  # another sector's ECK iD
    school_b_after = replace(school_b, students=[*school_b.students, arrived])
    return merged(school_a, school_b), merged(without_student(school_a, pupil.key), school_b_after)


def test_a_move_within_the_board_and_sector_keeps_the_eck_id_and_links(rng: random.Random) -> None:
    board = make_board()
    before, after = moved(rng)
    apply(before, board)
    apply(after, board)
    old = Student.objects.get(las_key="A-LL-0001")
    new = Student.objects.get(las_key="B-LL-0100")
    assert old.status == StudentStatus.LEFT
    assert new.eck_id == old.eck_id
    assert new.previous == old
    assert new.link_reason == LinkReason.MOVE
    event = AuditEvent.objects.get(event_type=events.STUDENT_MOVED.name)
    assert event.subject == f"student:{new.pk}"
    assert event.details == {"from_student": old.pk, "from_school": "99XA", "to_school": "99XB"}


def test_a_move_to_another_board_links_nothing(rng: random.Random) -> None:
    board, other = make_board("41001"), make_board("41002", "Stichting Elders (fictief)")
    before, after = moved(rng)
    apply(merged(before), board)
    school_b = RosterExport(
        source_format="test",
        schools=[s for s in after.schools if s.brin == "99XB"],
        school_years=after.school_years,
        groups=[g for g in after.groups if g.key.startswith("B-")],
        students=[s for s in after.students if s.key.startswith("B-")],
    )
    # 99XB belongs to the first board already; the other board gets its own school 99XC.
    school_c = replace(school_b, schools=[replace(school_b.schools[0], brin="99XC")])
    apply(school_c, other)
    new = Student.objects.get(las_key="B-LL-0100", school__board=other)
    assert new.previous is None
    assert not AuditEvent.objects.filter(event_type=events.STUDENT_MOVED.name).exists()


def test_a_sector_change_gives_a_new_eck_id_and_is_linked_only_explicitly(
    rng: random.Random,
) -> None:
    board = make_board()
    before, after = moved(rng, sector=Sector.VO)
    apply(before, board)
    apply(after, board)
    old = Student.objects.get(las_key="A-LL-0001")
    new = Student.objects.get(las_key="B-LL-0100")
    assert new.eck_id != old.eck_id
    assert new.previous is None  # not linked by the import

    services.link_sector_change(new, old, user=None)
    new.refresh_from_db()
    assert new.previous == old
    assert new.link_reason == LinkReason.SECTOR_CHANGE
    event = AuditEvent.objects.get(event_type=events.STUDENT_LINKED.name)
    assert event.details == {"from_student": old.pk, "from_sector": "PO", "to_sector": "VO"}
    with pytest.raises(services.LinkRefused, match="al gekoppeld"):
        services.link_sector_change(new, old, user=None)


def test_it_refuses_an_explicit_link_within_a_sector_or_across_boards(rng: random.Random) -> None:
    board, other = make_board("41001"), make_board("41002", "Stichting Elders (fictief)")
    apply(
        merged(
            school_export(rng, code="99XA", prefix="A"), school_export(rng, code="99XB", prefix="B")
        ),
        board,
    )
    apply(school_export(rng, code="99XC", prefix="C", sector=Sector.VO), other)
    a, b, c = (Student.objects.get(las_key=f"{p}-LL-0000") for p in "ABC")
    with pytest.raises(services.LinkRefused, match="dezelfde sector"):
        services.link_sector_change(b, a, user=None)
    with pytest.raises(services.LinkRefused, match="hetzelfde bestuur"):
        services.link_sector_change(c, a, user=None)
    assert not Student.objects.filter(previous__isnull=False).exists()


def test_a_school_admin_links_a_sector_change_on_the_pupil_page(rng: random.Random) -> None:
    board = make_board()
    before, after = moved(rng, sector=Sector.VO)
    apply(before, board)
    apply(after, board)
    old = Student.objects.get(las_key="A-LL-0001")
    new = Student.objects.get(las_key="B-LL-0100")
    Student.objects.filter(pk=new.pk).update(birth_date=old.birth_date)
    vo_school = new.school
    admin, _ = make_staff(board, vo_school, StaffRole.SCHOOL_ADMIN, username="admin-vo")
    teacher, _ = make_staff(board, vo_school, StaffRole.TEACHER, username="leerkracht-vo")
    url = reverse("roster:student-link", args=[new.pk])

    assert client_for(teacher).get(url).status_code == 403  # linking is for school-wide roles
    client = client_for(admin)
    page = client.get(url).content.decode()
    assert f'value="{old.pk}"' in page
    assert client.post(url, {"previous": "x"}).status_code == 200  # a clear message, no change
    assert client.post(url, {"previous": str(new.pk)}).status_code == 200  # not a candidate
    assert Student.objects.get(pk=new.pk).previous is None

    response = client.post(url, {"previous": str(old.pk)})
    assert response.status_code == 302
    assert Student.objects.get(pk=new.pk).previous == old
    assert AuditEvent.objects.filter(event_type=events.STUDENT_LINKED.name).count() == 1
