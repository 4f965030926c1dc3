"""The release policy for teachers (DESIGN §1.1, §6): a teacher's launch carries their keyed id,
the role, the school and their licensed groups — and only when, this school year, a licence of the
product covers a group they teach (by group, or named pupils of it) at a school whose board has an
active agreement for it. Never a name or an e-mail address: no data schedule covers staff data.

First examples through the real register (the ``world`` fixture), then properties of the pure
rule :func:`policy.evaluate_staff` for all facts, and one property through the database.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regie.agreements import catalogue, policy, services
from regie.agreements.catalogue import SUPPLIER_PSEUDONYM
from regie.agreements.models import AgreementStatus, Licence, Product
from regie.agreements.policy import (
    STAFF_ID,
    STAFF_RELEASE,
    Condition,
    Facts,
    StaffDecision,
    StaffFacts,
)
from regie.agreements.tests.register import (
    World,
    license_group,
    make_agreement,
    make_product,
    make_supplier,
    school_year,
)
from regie.core.models import SchoolYear
from regie.roster.models import Group, GroupKind, Staff, StaffRole, Student, StudentStatus

# Attributes of a person that no release to a supplier about staff may ever carry.
PERSONAL = frozenset({"first_name", "last_name", "email", "date_of_birth", "gender", "photo"})


def the_teacher(world: World) -> Staff:
    """``leerkracht-a``: a teacher at school A1 of ``world.group``."""
    return Staff.objects.select_related("school__board").get(user=world.teacher)


def assert_refused(decision: StaffDecision, condition: Condition) -> None:
    assert decision.allowed == frozenset()
    assert not decision.may_release
    assert not decision.covered
    assert decision.staff_id is None
    assert decision.groups == ()
    assert decision.reasons() == dict.fromkeys(STAFF_RELEASE, condition.value)


# --- examples through the register ---------------------------------------------------------------


def test_it_releases_nothing_to_a_teacher_without_a_licence_for_a_group_they_teach(
    world: World,
) -> None:
    teacher = the_teacher(world)
    assert_refused(policy.decide_staff(world.product, [teacher]), Condition.NO_LICENCE)
    # A licence for a group they do not teach does not count.
    other = Group.objects.filter(school=world.a1).exclude(pk=world.group.pk).order_by("pk")[0]
    license_group(world.product, other)
    assert_refused(policy.decide_staff(world.product, [teacher]), Condition.NO_LICENCE)


def test_it_releases_a_teachers_id_role_school_and_licensed_groups(world: World) -> None:
    teacher = the_teacher(world)
    license_group(world.product, world.group)
    untaught = Group.objects.filter(school=world.a1).exclude(pk=world.group.pk).order_by("pk")[0]
    license_group(world.product, untaught)
    taught_unlicensed = Group.objects.create(
        school=world.a1, las_key="X-1", name="Plusklas", kind=GroupKind.GROUP
    )
    teacher.groups.add(taught_unlicensed)

    decision = policy.decide_staff(world.product, [teacher])
    assert decision.allowed == frozenset(STAFF_RELEASE)
    assert decision.refused == ()
    assert decision.may_release
    assert decision.covered
    assert decision.staff_id == teacher.pk
    assert decision.groups == (world.group.name,)
    assert decision.agreement_id == world.agreement.pk


def test_it_counts_a_licence_for_enrolled_pupils_named_from_a_group_they_teach(
    world: World,
) -> None:
    teacher = the_teacher(world)
    pupil = world.pupil()
    licence = services.grant_licence(
        world.product, world.a1, school_year(), students=[pupil], user=None
    )
    assert policy.decide_staff(world.product, [teacher]).groups == (world.group.name,)

    Student.objects.filter(pk=pupil.pk).update(status=StudentStatus.LEFT)
    assert not licence.covers(Student.objects.get(pk=pupil.pk))
    assert_refused(policy.decide_staff(world.product, [teacher]), Condition.NO_LICENCE)


@pytest.mark.parametrize(
    "status", [AgreementStatus.SIGNED, AgreementStatus.TERMINATED, AgreementStatus.DATA_DESTROYED]
)
def test_it_releases_nothing_to_a_teacher_without_an_active_agreement(
    world: World, status: str
) -> None:
    product = make_product(make_supplier("Leeslab B.V. (fictief)", "99000002"), "Leeslab")
    make_agreement(world.board_a, product.supplier, [product], status=status)
    # A licence left over from an earlier agreement does not help: the agreement decides first.
    Licence.objects.create(
        product=product, school=world.a1, school_year=school_year(), group=world.group
    )
    assert_refused(
        policy.decide_staff(product, [the_teacher(world)]), Condition.NO_ACTIVE_AGREEMENT
    )


def test_it_does_not_count_a_licence_of_another_school_year(world: World) -> None:
    last_year, _ = SchoolYear.objects.get_or_create(
        title="2025-2026", defaults={"start": date(2025, 8, 1), "end": date(2026, 7, 31)}
    )
    assert last_year != school_year()
    services.grant_licence(world.product, world.a1, last_year, group=world.group, user=None)
    assert_refused(policy.decide_staff(world.product, [the_teacher(world)]), Condition.NO_LICENCE)


def test_it_does_not_count_a_group_that_is_no_longer_active(world: World) -> None:
    license_group(world.product, world.group)
    Group.objects.filter(pk=world.group.pk).update(is_active=False)
    assert_refused(policy.decide_staff(world.product, [the_teacher(world)]), Condition.NO_LICENCE)


def test_it_counts_only_licences_of_the_memberships_own_school(world: World) -> None:
    teacher = the_teacher(world)
    elsewhere = Group.objects.get(school=world.a2, las_key="B-G5")
    teacher.groups.add(elsewhere)  # a group of school A2, taught from a membership at A1
    license_group(world.product, elsewhere)
    assert_refused(policy.decide_staff(world.product, [teacher]), Condition.NO_LICENCE)


def test_a_membership_that_is_not_an_active_teachers_teaches_no_licensed_group(
    world: World,
) -> None:
    license_group(world.product, world.group)
    teacher = the_teacher(world)
    teacher.roles = [StaffRole.SCHOOL_ADMIN]
    assert_refused(policy.decide_staff(world.product, [teacher]), Condition.NO_LICENCE)
    teacher = the_teacher(world)
    teacher.is_active = False
    assert_refused(policy.decide_staff(world.product, [teacher]), Condition.NO_LICENCE)


def test_it_never_releases_a_teachers_name_or_e_mail_address(world: World) -> None:
    license_group(world.product, world.group)
    asked = [STAFF_ID, "first_name", "last_name", "email", "shoe_size", "groups"]
    decision = policy.decide_staff(world.product, [the_teacher(world)], asked)
    assert decision.allowed == {STAFF_ID, "groups"}
    assert decision.reasons() == {
        "first_name": "not_in_schedule",
        "last_name": "not_in_schedule",
        "email": "not_in_schedule",
        "shoe_size": "unknown_attribute",
    }


def test_it_releases_the_oldest_membership_that_qualifies(world: World) -> None:
    at_a1 = the_teacher(world)
    at_b1 = Staff.objects.create(
        board=world.board_b,
        school=world.b1,
        voornamen="Kim",
        achternaam="Visser",
        roles=[StaffRole.TEACHER],
        user=world.teacher,
    )
    group_b = Group.objects.get(school=world.b1, las_key="C-G5")
    at_b1.groups.add(group_b)
    memberships = [at_a1, at_b1]
    # Board B has no agreement, and A1 no licence: the agreement is the earlier condition.
    assert_refused(policy.decide_staff(world.product, memberships), Condition.NO_ACTIVE_AGREEMENT)

    agreement_b = make_agreement(world.board_b, world.supplier, [world.product])
    license_group(world.product, group_b)
    decision = policy.decide_staff(world.product, memberships)
    assert (decision.staff_id, decision.groups) == (at_b1.pk, (group_b.name,))
    assert decision.agreement_id == agreement_b.pk

    license_group(world.product, world.group)
    decision = policy.decide_staff(world.product, memberships)
    assert (decision.staff_id, decision.groups) == (at_a1.pk, (world.group.name,))
    assert decision.agreement_id == world.agreement.pk


def test_it_refuses_a_login_without_memberships_for_want_of_a_licence(world: World) -> None:
    assert_refused(policy.decide_staff(world.product, []), Condition.NO_LICENCE)


# --- properties of the rule ----------------------------------------------------------------------

GROUP_NAMES = ("Groep 5", "Groep 6", "Plusklas")
memberships_strategy = st.lists(
    st.builds(
        StaffFacts,
        staff_id=st.integers(min_value=1, max_value=6),
        agreement_active=st.booleans(),
        licensed_groups=st.frozensets(st.sampled_from(GROUP_NAMES)),
        agreement_id=st.none() | st.integers(min_value=1, max_value=10_000),
    ),
    max_size=4,
)
requested_strategy = st.none() | st.lists(
    st.sampled_from(STAFF_RELEASE)
    | st.sampled_from(tuple(catalogue.CATALOGUE))
    | st.sampled_from(["shoe_size", "STAFF_ID", "", "staff_id "])
    | st.text(max_size=12),
    max_size=12,
)


def wanted(requested: Sequence[str] | None) -> list[str]:
    return list(dict.fromkeys(requested)) if requested is not None else list(STAFF_RELEASE)


def qualifying(memberships: Sequence[StaffFacts]) -> list[StaffFacts]:
    return [facts for facts in memberships if facts.agreement_active and facts.licensed_groups]


@given(memberships=memberships_strategy, requested=requested_strategy)
def test_it_never_releases_more_than_the_staff_release_and_never_a_name(
    memberships: list[StaffFacts], requested: list[str] | None
) -> None:
    decision = policy.evaluate_staff(memberships, requested)
    assert decision.allowed <= frozenset(STAFF_RELEASE) & set(wanted(requested))
    assert not decision.allowed & PERSONAL
    if not qualifying(memberships):
        assert decision.allowed == frozenset()


@given(memberships=memberships_strategy, requested=requested_strategy)
def test_it_partitions_a_teachers_request_into_allowed_and_refused(
    memberships: list[StaffFacts], requested: list[str] | None
) -> None:
    decision = policy.evaluate_staff(memberships, requested)
    refused = [refusal.attribute for refusal in decision.refused]
    assert len(refused) == len(set(refused))
    assert not decision.allowed & set(refused)
    assert decision.allowed | set(refused) == set(wanted(requested))
    assert refused == [key for key in wanted(requested) if key not in decision.allowed]


@given(memberships=memberships_strategy, requested=requested_strategy)
def test_it_releases_the_first_membership_with_an_agreement_and_a_licensed_group(
    memberships: list[StaffFacts], requested: list[str] | None
) -> None:
    decision = policy.evaluate_staff(memberships, requested)
    candidates = qualifying(memberships)
    assert decision.covered == bool(candidates)
    if not candidates:
        assert (decision.staff_id, decision.groups, decision.agreement_id) == (None, (), None)
        return
    first = candidates[0]
    assert decision.staff_id == first.staff_id
    assert decision.groups == tuple(sorted(first.licensed_groups))
    assert decision.agreement_id == first.agreement_id
    if requested is None:
        assert decision.allowed == frozenset(STAFF_RELEASE)


@given(memberships=memberships_strategy, requested=requested_strategy)
def test_it_names_the_earliest_condition_that_failed_at_any_school(
    memberships: list[StaffFacts], requested: list[str] | None
) -> None:
    decision = policy.evaluate_staff(memberships, requested)
    known = frozenset(catalogue.CATALOGUE) | frozenset(STAFF_RELEASE)
    for refusal in decision.refused:
        assert refusal.explanation == str(policy.EXPLANATIONS[refusal.condition])
        if refusal.attribute not in known:
            assert refusal.condition == Condition.UNKNOWN_ATTRIBUTE
        elif qualifying(memberships):
            assert refusal.attribute not in STAFF_RELEASE
            assert refusal.condition == Condition.NOT_IN_SCHEDULE
        elif any(not facts.agreement_active for facts in memberships):
            assert refusal.condition == Condition.NO_ACTIVE_AGREEMENT
        else:
            assert refusal.condition == Condition.NO_LICENCE


@given(memberships=memberships_strategy, requested=requested_strategy, seed=st.randoms())
def test_the_order_of_memberships_decides_only_which_one_is_released(
    memberships: list[StaffFacts], requested: list[str] | None, seed: random.Random
) -> None:
    shuffled = list(memberships)
    seed.shuffle(shuffled)
    decision = policy.evaluate_staff(memberships, requested)
    other = policy.evaluate_staff(shuffled, requested)
    assert (other.allowed, other.reasons(), other.covered) == (
        decision.allowed,
        decision.reasons(),
        decision.covered,
    )


@given(memberships=memberships_strategy, requested=requested_strategy)
def test_it_never_releases_more_when_a_licence_or_an_agreement_goes(
    memberships: list[StaffFacts], requested: list[str] | None
) -> None:
    allowed = policy.evaluate_staff(memberships, requested).allowed
    for index, facts in enumerate(memberships):
        for name in facts.licensed_groups:
            fewer = StaffFacts(
                facts.staff_id,
                facts.agreement_active,
                facts.licensed_groups - {name},
                facts.agreement_id,
            )
            changed = [*memberships[:index], fewer, *memberships[index + 1 :]]
            assert policy.evaluate_staff(changed, requested).allowed <= allowed
        ended = StaffFacts(facts.staff_id, False, facts.licensed_groups, facts.agreement_id)
        changed = [*memberships[:index], ended, *memberships[index + 1 :]]
        assert policy.evaluate_staff(changed, requested).allowed <= allowed


# The staff release mirrors the pupils': the keyed staff id is a teacher's supplier pseudonym.
AS_PUPIL = {STAFF_ID: SUPPLIER_PSEUDONYM}
STAFF_SCHEDULE = frozenset(AS_PUPIL.get(key, key) for key in STAFF_RELEASE)
COMPARABLE = sorted((frozenset(catalogue.CATALOGUE) - {SUPPLIER_PSEUDONYM}) | {STAFF_ID})


@given(
    agreement_active=st.booleans(),
    groups=st.frozensets(st.sampled_from(GROUP_NAMES)),
    key=st.sampled_from(COMPARABLE) | st.text(max_size=8),
)
def test_at_one_school_it_is_the_pupils_rule_with_the_staff_release_as_schedule(
    agreement_active: bool, groups: frozenset[str], key: str
) -> None:
    staff = policy.evaluate_staff([StaffFacts(1, agreement_active, groups, 7)], [key])
    everything = frozenset(catalogue.CATALOGUE)
    as_pupil = Facts(
        agreement_active=agreement_active,
        licensed=bool(groups),
        schedule=STAFF_SCHEDULE,
        switched_on=everything,
        consents=everything,
        agreement_id=7,
    )
    pupil_key = AS_PUPIL.get(key, key)
    if key == SUPPLIER_PSEUDONYM:  # a pupil's identifier, never a teacher's
        return
    pupil = policy.evaluate(as_pupil, [pupil_key])
    assert (key in staff.allowed) == (pupil_key in pupil.allowed)
    assert [refusal.condition for refusal in staff.refused] == [
        refusal.condition for refusal in pupil.refused
    ]
    assert staff.covered == pupil.covered


# --- a property through the register -------------------------------------------------------------

# How a group is licensed in one example: not, by group, by naming an enrolled pupil of it, by
# naming a pupil of it who left, or by group in another school year.
HOW = ("none", "group", "named", "named_left", "last_year")


@pytest.fixture
def taught(world: World) -> list[Group]:
    """Three groups at A1 the teacher teaches (the first is ``world.group``) and one they do not,
    for a product of its own with an active agreement of board A."""
    extra = []
    for number in range(2):
        group = Group.objects.create(
            school=world.a1, las_key=f"T-{number}", name=f"Taakgroep {number}", kind=GroupKind.GROUP
        )
        group.students.add(*world.group.students.order_by("pk")[number * 2 : number * 2 + 2])
        extra.append(group)
    the_teacher(world).groups.add(*extra)
    untaught = Group.objects.filter(school=world.a1).exclude(
        pk__in=[world.group.pk, *(group.pk for group in extra)]
    )
    return [world.group, *extra, untaught.order_by("pk")[0]]


@pytest.fixture
def last_year(db: None) -> SchoolYear:
    found, _ = SchoolYear.objects.get_or_create(
        title="2025-2026", defaults={"start": date(2025, 8, 1), "end": date(2026, 7, 31)}
    )
    return found


def license_as(product: Product, group: Group, how: str, last_year: SchoolYear) -> None:
    year = last_year if how == "last_year" else school_year()
    if how in ("group", "last_year"):
        Licence.objects.create(product=product, school=group.school, school_year=year, group=group)
    elif how in ("named", "named_left"):
        pupil = Student.objects.create(
            school=group.school,
            las_key=f"N-{group.pk}-{how}",
            voornamen="Noor",
            achternaam="Fictief",
            status=StudentStatus.LEFT if how == "named_left" else StudentStatus.ACTIVE,
        )
        group.students.add(pupil)
        licence = Licence.objects.create(product=product, school=group.school, school_year=year)
        licence.students.add(pupil)


def expected_groups(product: Product, teacher: Staff, day: date) -> set[str]:
    """Plainly, from the register's objects: the teacher's active groups that a licence of their
    school in force on ``day`` covers by group or by an enrolled pupil named on it."""
    found = set()
    licences = [
        licence
        for licence in Licence.objects.filter(product=product, school=teacher.school)
        if licence.school_year.start <= day <= licence.school_year.end
    ]
    for group in teacher.groups.filter(is_active=True):
        for licence in licences:
            named = [pupil for pupil in licence.students.all() if pupil.is_active]
            if licence.group_id == group.pk or any(
                group.students.filter(pk=pupil.pk).exists() for pupil in named
            ):
                found.add(group.name)
    return found


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ways=st.lists(st.sampled_from(HOW), min_size=4, max_size=4),
    inactive=st.booleans(),
    agreement_active=st.booleans(),
)
def test_it_releases_exactly_the_groups_a_licence_in_force_covers(
    world: World,
    taught: list[Group],
    last_year: SchoolYear,
    ways: list[str],
    inactive: bool,
    agreement_active: bool,
) -> None:
    today = timezone.localdate()
    with transaction.atomic():
        supplier = make_supplier("Wereldwijzer B.V. (fictief)", "99000009")
        product = make_product(supplier, "Wereldwijzer")
        status = AgreementStatus.ACTIVE if agreement_active else AgreementStatus.TERMINATED
        make_agreement(world.board_a, supplier, [product], status=status)
        for group, how in zip(taught, ways, strict=True):
            license_as(product, group, how, last_year)
        if inactive:
            Group.objects.filter(pk=taught[1].pk).update(is_active=False)
        teacher = the_teacher(world)

        decision = policy.decide_staff(product, [teacher])
        groups = expected_groups(product, teacher, today) if agreement_active else set()
        assert set(decision.groups) == groups
        assert decision.may_release == bool(groups)
        if not agreement_active:
            assert_refused(decision, Condition.NO_ACTIVE_AGREEMENT)
        transaction.set_rollback(True)
