"""School staff never meet a canary: every page of the URL map, as every role, shows no canary's
name (an active canary and one ordered deleted); counts leave canaries out; a pupil page of a
canary is not found; an import of the school's LAS export, which lacks the canaries, does not
take them for pupils who left. The canaries page plants and orders deletion by counts only."""

from __future__ import annotations

import random

import pytest
from django.urls import reverse

from regie.gateway.models import SupplierPseudonym
from regie.gateway.tests.test_access_map import (
    GET,
    TABLE,
    AccessWorld,
    answer,
    client_as,
    kwargs_for,
    url_patterns,
)
from regie.roster.importing.plan import apply_export
from regie.roster.models import Group, Student, StudentStatus
from regie.roster.tests.exports import make_board, school_export

from .. import canaries
from ..models import Canary

pytestmark = pytest.mark.django_db

SURNAME = "Controlevogeltje"  # no generated pupil is called this


@pytest.fixture
def world(rng: random.Random) -> AccessWorld:
    """The access map's world: boards A and B, every role (gateway/tests/test_access_map.py)."""
    return AccessWorld(rng)


def named_canaries(world: AccessWorld) -> list[Canary]:
    """Two canaries in the teacher's group, one of them ordered deleted (written as left)."""
    planted = canaries.plant(world.a1, world.group, count=2)
    Student.with_canaries.filter(pk__in=[canary.student_id for canary in planted]).update(
        voornamen="Kanarie", roepnaam="Kanarie", voorvoegsel="", achternaam=SURNAME
    )
    canaries.order_deleted(planted[1])  # the supplier has no order address: only written left
    return planted


def test_no_page_shows_a_canary_to_any_role(world: AccessWorld) -> None:
    planted = named_canaries(world)
    assert Student.with_canaries.get(pk=planted[1].student_id).status == StudentStatus.LEFT
    assert SupplierPseudonym.objects.filter(student_id=planted[0].student_id).exists()
    served = {item.key: item for item in url_patterns()}
    ids = world.ids()
    extra = [
        reverse("roster:students") + "?status=left",
        reverse("roster:students") + "?q=Kanarie",  # finds the canaries by first name, if shown
        *(reverse("roster:student", args=[canary.student_id]) for canary in planted),
        *(reverse("pupil-data", args=[canary.student_id]) for canary in planted),
    ]
    shown: list[str] = []
    walked = 0
    for role, user in world.users().items():
        client = client_as(user)
        urls = [
            served[row.key].url(kwargs_for(ids, served[row.key].pattern, row.variant))
            for row in TABLE
            if row.method == GET
        ]
        for url in [*urls, *extra]:
            response = answer(client, GET, url)
            if getattr(response, "streaming", False):
                continue
            walked += response.status_code == 200
            if SURNAME in response.content.decode(errors="replace"):
                shown.append(f"{role}: {url}")
        for url in extra[2:]:  # a canary's own pages: not found (or not this role's at all)
            assert answer(client, GET, url).status_code in (302, 403, 404), f"{role}: {url}"
    assert shown == []
    assert walked > 100  # the walk saw pages, not only refusals


def test_counts_of_pupils_leave_canaries_out(world: AccessWorld) -> None:
    real = Student.objects.filter(groups=world.group, status=StudentStatus.ACTIVE).count()
    named_canaries(world)
    assert Student.with_canaries.filter(groups=world.group).count() == real + 2
    client = client_as(world.officer)
    groups = client.get(reverse("roster:groups")).context["page"].object_list
    assert next(group.pupils for group in groups if group.pk == world.group.pk) == real
    schools = client.get(reverse("roster:schools")).context["schools"]
    a1 = next(school for school in schools if school.pk == world.a1.pk)
    assert a1.pupils == Student.objects.filter(school=world.a1, status="active").count()
    assert world.group.students.filter(achternaam=SURNAME).count() == 0


def test_an_import_without_the_canaries_leaves_them_alone(rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, code="99XD", prefix="D")
    apply_export(export, board, actor="test", pseudonyms={})
    group = Group.objects.filter(school__brin="99XD").order_by("pk")[0]
    [canary] = canaries.plant(group.school, group)
    before = set(Student.objects.filter(school=group.school).values_list("pk", "status"))
    plan = apply_export(export, board, actor="test", pseudonyms={})
    student = Student.with_canaries.get(pk=canary.student_id)
    assert student.status == StudentStatus.ACTIVE
    assert list(student.groups.all()) == [group]
    assert set(Student.objects.filter(school=group.school).values_list("pk", "status")) == before
    assert plan is not None


def test_the_page_plants_and_orders_deletion_and_shows_counts_only(world: AccessWorld) -> None:
    client = client_as(world.officer)
    url = reverse("retention:canaries")
    page = client.get(url)
    assert page.status_code == 200
    assert "Nog geen controlegevallen." in page.content.decode()
    planted = client.post(
        reverse("retention:canaries-plant"), {"group": world.group.pk, "count": "2"}
    )
    assert planted.status_code == 302
    assert Canary.objects.filter(board=world.board_a).count() == 2
    Student.with_canaries.filter(is_canary=True).update(achternaam=SURNAME)
    text = client.get(url).content.decode()
    assert SURNAME not in text
    [row] = canaries.school_rows(world.board_a)
    assert (row.planted, row.active, row.ordered) == (2, 2, 0)
    [supplier_row] = canaries.supplier_rows(world.board_a)
    assert (supplier_row.supplier, supplier_row.released) == (world.supplier, 2)

    other_board_group = world.group_b
    refused = client.post(
        reverse("retention:canaries-plant"), {"group": other_board_group.pk, "count": "1"}
    )
    assert refused.status_code == 302
    assert Canary.objects.count() == 2  # another board's group is not theirs
    too_many = client.post(
        reverse("retention:canaries-plant"), {"group": world.group.pk, "count": "50"}
    )
    assert too_many.status_code == 302
    assert Canary.objects.count() == 2

    ordered = client.post(reverse("retention:canaries-order"), {"school": world.a1.pk})
    assert ordered.status_code == 302
    assert not Student.with_canaries.filter(is_canary=True, status=StudentStatus.ACTIVE).exists()
