""" "A licence in force this school year" and "the agreement that governs a product" are written
once, on their managers (``Licence.objects.in_force_on``, ``ProcessingAgreement.objects.governing``
/ ``governing_for``; the school year of a day is ``SchoolYear.containing``), and every page,
channel and document asks them."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from regie.agreements import services
from regie.agreements.models import (
    AgreementStatus,
    Licence,
    ProcessingAgreement,
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
from regie.roster.models import Group

SOURCE = Path(__file__).resolve().parents[2]  # src/regie

# The rules written out by hand: a school year's bounds compared with a day (the licence in force,
# the current school year), and an agreement that is active for a product's schedule.
BY_HAND = {
    "the school year of a day": re.compile(
        r"\b(start|end)__(lte|gte|lt|gt)\b|school_year__(start|end)__(lte|gte|lt|gt)"
    ),
    "the governing agreement": re.compile(r"active_on\([^()]*\)[\s\S]{0,300}?schedules__product"),
}
# Where the rules are written: on the models and their managers.
RULES_LIVE_IN = {SOURCE / "core" / "models.py", SOURCE / "agreements" / "models.py"}


def written_by_hand(root: Path, rules_live_in: set[Path]) -> list[str]:
    """``path: rule`` for every module under ``root`` (tests and migrations aside) that writes out
    one of the rules itself instead of asking its manager."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if path in rules_live_in or {"tests", "migrations"} & set(path.parts):
            continue
        text = path.read_text(encoding="utf-8")
        for rule, pattern in BY_HAND.items():
            if pattern.search(text):
                found.append(f"{path.relative_to(root)}: {rule}")
    return found


def test_no_module_writes_out_a_licence_in_force_or_the_governing_agreement() -> None:
    assert written_by_hand(SOURCE, RULES_LIVE_IN) == []


def test_it_would_find_a_copy_of_either_rule(tmp_path: Path) -> None:
    (tmp_path / "copy.py").write_text(
        "Licence.objects.filter(\n"
        "    product=product,\n"
        "    school_year__start__lte=day,\n"
        "    school_year__end__gte=day,\n"
        ")\n"
        "SchoolYear.objects.filter(start__lte=day, end__gte=day)\n"
        "ProcessingAgreement.objects.active_on(day)\n"
        "    .filter(board_id=board_id, supplier_id=supplier, schedules__product=product)\n",
        encoding="utf-8",
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_copy.py").write_text("Q(start__lte=day)\n", encoding="utf-8")
    assert written_by_hand(tmp_path, set()) == [
        "copy.py: the school year of a day",
        "copy.py: the governing agreement",
    ]


def test_a_licence_is_in_force_from_the_first_to_the_last_day_of_its_school_year(
    world: World,
) -> None:
    year = school_year()
    licence = license_group(world.product, world.group)
    for day in (year.start, year.start + timedelta(days=100), year.end):
        assert list(Licence.objects.in_force_on(day)) == [licence]
        assert list(SchoolYear.objects.filter(SchoolYear.containing(day))) == [year]
    for day in (year.start - timedelta(days=1), year.end + timedelta(days=1)):
        assert not Licence.objects.in_force_on(day).exists()
    # Through a relation, as the pages ask it:
    in_force = Group.objects.filter(
        SchoolYear.containing(year.end, "licences__school_year__"), pk=world.group.pk
    )
    assert list(in_force) == [world.group]
    assert not Group.objects.filter(
        SchoolYear.containing(year.end + timedelta(days=1), "licences__school_year__")
    ).exists()


def test_a_licence_covers_the_pupils_of_its_group_and_the_pupils_it_names(world: World) -> None:
    by_group = license_group(world.product, world.group)
    pupil = world.pupil()
    outside = world.a1.students.order_by("-pk")[0]
    world.group.students.remove(outside)
    named = services.grant_licence(
        world.product, world.a1, school_year(), students=[outside], user=None
    )
    assert set(Licence.objects.covering(pupil)) == {by_group}
    assert set(Licence.objects.covering(outside)) == {named}
    at_another_school = world.a2.students.order_by("pk")[0]
    assert not Licence.objects.covering(at_another_school).exists()


def test_the_governing_agreement_is_the_active_one_with_a_schedule_that_started_last(
    world: World,
) -> None:
    today = timezone.localdate()
    product = world.product
    assert ProcessingAgreement.objects.governing_for(world.board_a.pk, product, today) == (
        world.agreement
    )
    # Not another board's, not one without a schedule for the product, not one that is not active.
    assert ProcessingAgreement.objects.governing_for(world.board_b.pk, product, today) is None
    assert (
        ProcessingAgreement.objects.governing_for(world.board_a.pk, world.other_product, today)
        is None
    )
    leeslab = make_product(make_supplier("Leeslab B.V. (fictief)", "99000002"), "Leeslab")
    make_agreement(world.board_a, leeslab.supplier, [leeslab], status=AgreementStatus.SIGNED)
    assert ProcessingAgreement.objects.governing_for(world.board_a.pk, leeslab, today) is None
    # Before it started it governs nothing.
    start = world.agreement.start_date
    assert start is not None
    assert (
        ProcessingAgreement.objects.governing_for(
            world.board_a.pk, product, start - timedelta(days=1)
        )
        is None
    )
    # Of two active agreements (the lifecycle allows one; the register may hold an older one that
    # was activated before), the one that started last governs.
    later = make_agreement(world.board_a, world.supplier, [product], status=AgreementStatus.SIGNED)
    ProcessingAgreement.objects.filter(pk=later.pk).update(
        status=AgreementStatus.ACTIVE, start_date=start + timedelta(days=1)
    )
    assert ProcessingAgreement.objects.governing_for(world.board_a.pk, product, today) == later
    assert ProcessingAgreement.objects.governing_for(world.board_a.pk, product, start) == (
        world.agreement
    )
    assert list(
        ProcessingAgreement.objects.governing(product, today).filter(board=world.board_a)
    ) == [later, world.agreement]
