"""What one supplier sees through OneRoster is read in a number of queries that does not grow with
the pupils, teachers or classes — the rostering benchmark (``benchmarks/oneroster.py``) relies on
it for a 1 000-pupil school. That includes what the hub keeps of what went out
(``ReleasedRecord``, for ``dateLastModified``): one read per kind of record, one upsert when
something changed and one delete when something is no longer given."""

from __future__ import annotations

import random
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from regie.agreements import services as register
from regie.agreements.tests.register import (
    license_group,
    make_agreement,
    make_product,
    make_supplier,
)
from regie.gateway.models import OAuthClient, ReleasedRecord, SupplierPseudonym
from regie.gateway.oneroster.release import SupplierView
from regie.gateway.scopes import ROSTER_CORE_READ
from regie.gateway.services import register_client
from regie.roster.models import Group, GroupKind, Staff, StaffRole, Student, StudentStatus
from regie.roster.tests.exports import eck_id, load_school, make_board

pytestmark = pytest.mark.django_db

BASE = "https://hub.regie.example/ims/oneroster/rostering/v1p2"


def keep_pseudonyms(client: OAuthClient) -> None:
    """Pseudonyms as if obtained before (the benchmark's second request): no number service."""
    known = SupplierPseudonym.objects.filter(supplier=client.supplier).values("student_id")
    for student in Student.objects.exclude(pk__in=known):
        SupplierPseudonym.objects.create(
            student=student,
            supplier=client.supplier,
            value=f"https://nummervoorziening.regie.example/lp/1/{student.pk:0128x}",
        )


def add_pupils(group: Group, rng: random.Random, count: int) -> None:
    for number in range(count):
        student = Student.objects.create(
            school=group.school,
            las_key=f"EXTRA-{group.pk}-{number}",
            roepnaam="Sem",
            achternaam="Jansen",
            year_level="5",
            eck_id=eck_id(rng),
        )
        student.groups.add(group)


def add_teacher(group: Group) -> None:
    staff = Staff.objects.create(
        board=group.school.board,
        school=group.school,
        achternaam="Visser",
        roles=[StaffRole.TEACHER.value],
    )
    staff.groups.add(group)


def queries(client: OAuthClient) -> tuple[int, int]:
    """Queries for all users and all enrollments, and how many users there were."""
    view = SupplierView(client, BASE)
    with CaptureQueriesContext(connection) as captured:
        users = view.user_records()
        view.enrollment_records()
    return len(captured), len(users)


def test_the_roster_takes_the_same_number_of_queries_for_more_pupils_and_teachers(
    rng: random.Random,
) -> None:
    board = make_board()
    school = load_school(board, rng, "99XA", "A", pupils=3)
    supplier = make_supplier()
    product = make_product(supplier)
    make_agreement(board, supplier, [product], ["supplier_pseudonym", "school", "groups"])
    for attribute in ("school", "groups"):
        register.set_switch(school, product, attribute, True, user=None)
    group = Group.objects.get(school=school, las_key="A-G5")
    license_group(product, group)
    client, _ = register_client(
        supplier,
        name="Rooster",
        product=product,
        redirect_uris=[],
        auth_method="client_secret_basic",
        scopes=[ROSTER_CORE_READ.name],
    )
    keep_pseudonyms(client)
    ReleasedRecord.objects.create(  # an enrollment given before and gone since: forgotten
        client=client,
        kind="enrollment",
        key="0" * 32,
        fingerprint="0" * 32,
        changed_on=date.today(),
    )
    few, small = queries(client)
    assert small == 3 + 1  # the pupils and the imported teacher

    other = Group.objects.get(school=school, las_key="A-PK")
    license_group(product, other)
    add_pupils(group, rng, 30)
    add_pupils(other, rng, 20)
    unlicensed = Group.objects.create(  # a class only through its pupils, as A-PK was before
        school=school, las_key="EXTRA-PK", name="Extra plusklas", kind=GroupKind.COMPOSITE
    )
    unlicensed.students.set(Student.objects.filter(las_key__startswith="EXTRA-")[:5])
    for each in (group, other, other):
        add_teacher(each)
    keep_pseudonyms(client)
    leaver = Student.objects.filter(school=school).order_by("pk").first()
    assert leaver is not None
    Student.objects.filter(pk=leaver.pk).update(status=StudentStatus.LEFT)  # now tobedeleted
    many, large = queries(client)
    assert large == small + 50 + 3
    assert many == few

    assert not ReleasedRecord.objects.filter(key="0" * 32).exists()
    unchanged, _ = queries(client)  # nothing new to keep or to forget: only the reads
    assert unchanged == few - 3
