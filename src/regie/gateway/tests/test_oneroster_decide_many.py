"""``policy.decide_many`` — the release policy for a whole roster at once — gives exactly what
``policy.decide`` gives for every pupil, in a number of queries that does not grow with them."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from regie.agreements import policy
from regie.agreements import services as register
from regie.agreements.models import Licence
from regie.agreements.tests.register import (
    World,
    license_group,
    school_year,
)
from regie.roster.models import Group, Student, StudentStatus
from regie.roster.tests.exports import load_school

pytestmark = pytest.mark.django_db

ASKED = (
    "supplier_pseudonym",
    "groups",
    "first_name",
    "last_name",
    "gender",
    "photo",
    "care",
    "nonsense",
)


@pytest.fixture
def world(rng: random.Random) -> World:
    world = World(rng)
    license_group(world.product, world.group)
    plus = Group.objects.get(school=world.a2, las_key="B-PK")
    license_group(world.product, plus)
    named = Student.objects.filter(school=world.a2).exclude(groups=plus).order_by("pk")[:2]
    register.grant_licence(world.product, world.a2, school_year(), students=list(named), user=None)
    # a licence at board B, which has no agreement (the register would refuse to grant it)
    stale = Licence.objects.create(
        product=world.product, school=world.b1, school_year=school_year()
    )
    stale.students.set(world.b1.students.all())
    register.set_switch(world.a1, world.product, "groups", True, user=None)
    register.set_switch(world.a1, world.product, "first_name", True, user=None)
    released = world.pupil()
    register.record_consent(
        released, world.product, "first_name", True, guardian=released.guardians.get(), user=None
    )
    withdrawn = Student.objects.filter(school=world.a1).exclude(pk=released.pk).first()
    assert withdrawn is not None
    for given in (True, False):
        register.record_consent(
            withdrawn,
            world.product,
            "first_name",
            given,
            guardian=withdrawn.guardians.get(),
            user=None,
        )
    left = Student.objects.filter(school=world.a1).order_by("-pk").first()
    assert left is not None
    Student.objects.filter(pk=left.pk).update(status=StudentStatus.LEFT)
    return world


def test_it_decides_for_every_pupil_what_decide_decides(world: World) -> None:
    pupils = list(Student.objects.select_related("school").order_by("pk"))
    assert len(pupils) == 18
    for product in (world.product, world.other_product):
        for requested in (ASKED, None):
            many = policy.decide_many(product, pupils, requested)
            assert many.keys() == {pupil.pk for pupil in pupils}
            for pupil in pupils:
                assert many[pupil.pk] == policy.decide(product, pupil, requested), pupil.pk
    allowed = policy.decide_many(world.product, pupils, ASKED)
    assert any("first_name" in decision.allowed for decision in allowed.values())
    assert any(decision.may_release for decision in allowed.values())
    assert any(not decision.may_release for decision in allowed.values())


def test_its_number_of_queries_does_not_grow_with_the_pupils(
    world: World, rng: random.Random
) -> None:
    few = list(Student.objects.filter(school=world.a1))
    with CaptureQueriesContext(connection) as small:
        policy.decide_many(world.product, few, ASKED)
    more = load_school(world.board_a, rng, "99XD", "D", pupils=40)
    license_group(world.product, Group.objects.get(school=more, las_key="D-G5"))
    many = list(Student.objects.all())
    with CaptureQueriesContext(connection) as large:
        policy.decide_many(world.product, many, ASKED)
    assert len(small.captured_queries) == len(large.captured_queries) == 8


def test_it_decides_nothing_for_no_pupils(world: World) -> None:
    assert policy.decide_many(world.product, []) == {}
