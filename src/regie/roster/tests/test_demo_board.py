"""The demo board: a fictional, deterministic and internally consistent LAS export."""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from datetime import date

import pytest

from regie.lib.identifiers import check_brin, check_kvk, check_pgn
from regie.roster.demo_board import DemoBoard, generate_demo_board
from regie.roster.importing.records import Gender, GroupKind, RosterExport, Sector, StaffRole

ECK_ID = re.compile(r"https://nummervoorziening\.regie\.example/1/[0-9a-f]{128}")
EMAIL = re.compile(r"[a-z0-9.]+@[a-z0-9-]+\.example")
TELDATUM = date(2026, 10, 1)


@pytest.fixture(scope="module")
def board() -> DemoBoard:
    return generate_demo_board()


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def assert_consistent(export: RosterExport) -> None:
    """Every reference resolves; every pupil is in exactly one stamgroep of their own school."""
    schools = {school.key for school in export.schools}
    years = {year.key for year in export.school_years}
    groups = {group.key: group for group in export.groups}
    students = {student.key: student for student in export.students}
    assert len(groups) == len(export.groups)
    assert len(students) == len(export.students)
    for group in export.groups:
        assert group.school_key in schools
        assert group.school_year_key in years
    for student in export.students:
        assert student.school_key in schools
        own = [groups[key] for key in student.group_keys]
        assert all(group.school_key == student.school_key for group in own)
        [stamgroep] = [group for group in own if group.kind is GroupKind.GROUP]
        assert stamgroep.year_level == student.year_level
        assert len(set(student.group_keys)) == len(student.group_keys)
    for guardian in export.guardians:
        assert guardian.student_keys
        assert all(key in students for key in guardian.student_keys)
    for staff in export.staff:
        assert staff.school_key in schools
        assert all(groups[key].school_key == staff.school_key for key in staff.group_keys)
    assert export.ok


def test_it_generates_the_same_board_for_the_same_seed(board: DemoBoard) -> None:
    assert generate_demo_board(2026) == board
    assert generate_demo_board(2027) != board


def test_it_leaves_the_global_random_generator_alone() -> None:
    random.seed(7)
    state = random.getstate()
    generate_demo_board(pupils=50)
    assert random.getstate() == state


def test_it_describes_a_fictional_board_with_a_po_and_a_vo_school(board: DemoBoard) -> None:
    assert "fictief" in board.name
    assert re.fullmatch(r"[0-9]{5}", board.bestuursnummer)
    assert check_kvk(board.kvk) == board.kvk
    assert board.export.source_format == "demo"
    assert [school.sector for school in board.export.schools] == [Sector.PO, Sector.VO]
    for school in board.export.schools:
        assert check_brin(school.brin) == school.brin
        assert "(fictief)" in school.name
    [year] = board.export.school_years
    assert (year.title, year.start, year.end) == ("2026-2027", date(2026, 8, 1), date(2027, 7, 31))


def test_it_keeps_every_reference_resolvable(board: DemoBoard) -> None:
    assert_consistent(board.export)


def test_it_splits_the_pupils_over_the_schools(board: DemoBoard) -> None:
    by_sector = Counter(
        school.sector
        for student in board.export.students
        for school in board.export.schools
        if school.key == student.school_key
    )
    assert by_sector[Sector.PO] + by_sector[Sector.VO] == len(board.export.students) == 1200
    assert 0.40 < by_sector[Sector.PO] / 1200 < 0.50


def test_it_fills_groups_1_to_8_and_leerjaar_1_to_6_with_about_25_pupils(board: DemoBoard) -> None:
    sectors = {school.key: school.sector for school in board.export.schools}
    sizes = Counter(key for student in board.export.students for key in student.group_keys)
    levels: dict[Sector | None, set[str]] = defaultdict(set)
    for group in board.export.groups:
        if group.kind is GroupKind.GROUP:
            levels[sectors[group.school_key]].add(group.year_level)
            assert 14 <= sizes[group.key] <= 28, group.key
    assert levels[Sector.PO] == {"1", "2", "3", "4", "5", "6", "7", "8"}
    assert levels[Sector.VO] == {"1", "2", "3", "4", "5", "6"}
    names = {group.name for group in board.export.groups}
    assert {"Groep 1A", "Groep 8A", "1A", "2B", "Plusklas"} <= names


def test_it_has_composite_groups_in_both_schools(board: DemoBoard) -> None:
    composites = Counter(
        group.school_key for group in board.export.groups if group.kind is GroupKind.COMPOSITE
    )
    assert set(composites) == {school.key for school in board.export.schools}
    members = Counter(key for student in board.export.students for key in student.group_keys)
    for group in board.export.groups:
        assert members[group.key] > 0, group.key


def test_it_gives_birth_dates_that_fit_the_year_level(board: DemoBoard) -> None:
    sectors = {school.key: school.sector for school in board.export.schools}
    offsets: dict[Sector | None, int] = {Sector.PO: 3, Sector.VO: 11}
    for student in board.export.students:
        assert student.birth_date is not None
        expected = int(student.year_level) + offsets[sectors[student.school_key]]
        assert age_on(student.birth_date, TELDATUM) in (expected, expected + 1), student.key


def test_it_mixes_genders(board: DemoBoard) -> None:
    genders = Counter(student.gender for student in board.export.students)
    assert genders[Gender.MALE] > 400
    assert genders[Gender.FEMALE] > 400
    assert genders[Gender.OTHER] + genders[Gender.UNKNOWN] > 0


def test_it_gives_dutch_names_with_the_roepnaam_first(board: DemoBoard) -> None:
    voorvoegsels = Counter(student.voorvoegsel for student in board.export.students)
    assert set(voorvoegsels) <= {"", "de", "van", "van der", "van den", "ter"}
    assert voorvoegsels[""] > len(board.export.students) / 2
    for student in board.export.students:
        names = student.voornamen.split()
        assert 1 <= len(names) <= 3
        assert names[0] == student.roepnaam
        assert student.achternaam


def test_it_lets_siblings_share_their_surname_and_guardians(board: DemoBoard) -> None:
    students = {student.key: student for student in board.export.students}
    guardians_of: dict[str, set[str]] = defaultdict(set)
    for guardian in board.export.guardians:
        for key in guardian.student_keys:
            guardians_of[key].add(guardian.key)
    assert set(guardians_of) == set(students)
    assert all(1 <= len(keys) <= 2 for keys in guardians_of.values())
    families = [guardian.student_keys for guardian in board.export.guardians]
    assert any(len(family) > 1 for family in families)
    for family in families:
        assert len({frozenset(guardians_of[key]) for key in family}) == 1
        surnames = {(students[key].voorvoegsel, students[key].achternaam) for key in family}
        assert len(surnames) == 1


def test_it_makes_mostly_parents_and_some_guardians(board: DemoBoard) -> None:
    relations = Counter(guardian.relation for guardian in board.export.guardians)
    assert set(relations) == {"parent", "guardian"}
    assert relations["parent"] > 10 * relations["guardian"]


def test_it_uses_unique_example_addresses_only(board: DemoBoard) -> None:
    emails = [guardian.email for guardian in board.export.guardians]
    emails += [staff.email for staff in board.export.staff]
    assert len(set(emails)) == len(emails)
    for email in emails:
        assert EMAIL.fullmatch(email), email
    domains = {"SC-99XA": "@devlieger.example", "SC-99XB": "@vlietcollege.example"}
    for staff in board.export.staff:
        if StaffRole.BOARD_ADMIN not in staff.roles:
            assert staff.email.endswith(domains[staff.school_key])
    assert "familie.devries@ouders.example" in emails


def test_it_gives_most_pupils_an_eck_id_and_a_few_a_pgn(board: DemoBoard) -> None:
    with_pgn = [student for student in board.export.students if student.pgn]
    with_eck_id = [student for student in board.export.students if student.eck_id]
    assert len(with_pgn) == 6
    assert len(with_eck_id) == 1200 - 6
    for student in with_pgn:
        assert check_pgn(student.pgn) == student.pgn
        assert student.eck_id == ""
    for student in with_eck_id:
        assert ECK_ID.fullmatch(student.eck_id)
        assert student.pgn == ""
    assert len({student.eck_id for student in with_eck_id}) == len(with_eck_id)


def test_it_builds_eck_ids_on_the_given_base_and_counts_pgns_as_asked() -> None:
    base = "https://nv.test.example/"
    all_pgn = generate_demo_board(pupils=80, pgn_pupils=80, eck_id_base=base).export
    assert all(student.eck_id == "" for student in all_pgn.students)
    assert len({check_pgn(student.pgn) for student in all_pgn.students}) == 80
    no_pgn = generate_demo_board(pupils=80, pgn_pupils=0, eck_id_base=base).export
    for student in no_pgn.students:
        assert re.fullmatch(r"https://nv\.test\.example/1/[0-9a-f]{128}", student.eck_id)


def test_it_gives_every_group_a_teacher(board: DemoBoard) -> None:
    taught = {
        key
        for staff in board.export.staff
        if StaffRole.TEACHER in staff.roles
        for key in staff.group_keys
    }
    assert taught == {group.key for group in board.export.groups}
    vo_teachers = [
        staff
        for staff in board.export.staff
        if staff.school_key == "SC-99XB" and StaffRole.TEACHER in staff.roles
    ]
    assert all(len(staff.group_keys) >= 2 for staff in vo_teachers)


def test_it_staffs_each_school_with_a_care_coordinator_privacy_officer_and_admin(
    board: DemoBoard,
) -> None:
    roles = Counter(
        (staff.school_key, role) for staff in board.export.staff for role in staff.roles
    )
    for school in board.export.schools:
        for role in (
            StaffRole.CARE_COORDINATOR,
            StaffRole.PRIVACY_OFFICER,
            StaffRole.SCHOOL_ADMIN,
        ):
            assert roles[(school.key, role)] == 1, (school.key, role)
    assert sum(count for (_, role), count in roles.items() if role is StaffRole.BOARD_ADMIN) == 1


def test_it_uses_las_style_keys(board: DemoBoard) -> None:
    export = board.export
    assert all(re.fullmatch(r"LL-[0-9]{6}", student.key) for student in export.students)
    assert all(re.fullmatch(r"OU-[0-9]{6}", guardian.key) for guardian in export.guardians)
    assert all(re.fullmatch(r"MW-[0-9]{4}", staff.key) for staff in export.staff)
    assert all(re.fullmatch(r"GR-(PO|VO)-[0-9A-Z-]+", group.key) for group in export.groups)
    assert {"GR-PO-5A", "GR-VO-1A", "GR-PO-PLUS"} <= {group.key for group in export.groups}


def test_it_refuses_more_pgn_pupils_than_pupils() -> None:
    with pytest.raises(ValueError, match="pgn_pupils"):
        generate_demo_board(pupils=10, pgn_pupils=11)
    with pytest.raises(ValueError, match="at least one pupil"):
        generate_demo_board(pupils=0)


def test_it_stays_consistent_with_a_hundred_thousand_pupils() -> None:
    export = generate_demo_board(pupils=100_000, pgn_pupils=20).export
    assert len(export.students) == 100_000
    assert sum(1 for student in export.students if student.pgn) == 20
    assert_consistent(export)
    emails = [guardian.email for guardian in export.guardians]
    assert len(set(emails)) == len(emails)
