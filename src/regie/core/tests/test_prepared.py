"""``regie.lib.prepared``: a queryset compiled once gives, run with new values, exactly what the
ORM gives for those values — rows converted alike, model instances with their related rows — and
a queryset that cannot be prepared is refused when it is compiled."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from regie.core.models import Board, School, SchoolYear
from regie.lib.prepared import Prepared

pytestmark = pytest.mark.django_db

SCHOOLS = Prepared(
    lambda board, brin: (
        School.objects.filter(board_id=board, brin=brin).select_related("board").order_by("pk")
    ),
    board=int,
    brin=str,
)
YEARS = Prepared(
    lambda day: (
        SchoolYear.objects.filter(SchoolYear.containing(day))
        .order_by("start")
        .values_list("title", "start", "end")
    ),
    day=date,
)


@pytest.fixture
def boards() -> tuple[Board, Board]:
    first = Board.objects.create(bestuursnummer="41001", name="Stichting Een (fictief)")
    second = Board.objects.create(bestuursnummer="41002", name="Stichting Twee (fictief)")
    for board, brin, vestiging in (
        (first, "99AA", ""),
        (first, "99AB", ""),
        (second, "99AA", "01"),
    ):
        School.objects.create(
            board=board, brin=brin, vestiging=vestiging, name=f"School {brin}", sector="PO"
        )
    return first, second


def test_it_gives_the_instances_the_orm_gives_for_each_set_of_values(
    boards: tuple[Board, Board],
) -> None:
    for board in boards:
        for brin in ("99AA", "99AB", "99ZZ"):
            expected = list(
                School.objects.filter(board=board, brin=brin).select_related("board").order_by("pk")
            )
            found = list(SCHOOLS.instances(board=board.pk, brin=brin))
            assert found == expected
            assert [school.board.name for school in found] == [board.name for _ in expected]
            assert all(not school._state.adding for school in found)


def test_it_reads_related_rows_in_the_same_query(boards: tuple[Board, Board]) -> None:
    SCHOOLS.first(board=boards[0].pk, brin="99AA")  # compiled
    with CaptureQueriesContext(connection) as queries:
        school = SCHOOLS.first(board=boards[0].pk, brin="99AA")
        assert school is not None
        assert school.board.bestuursnummer == "41001"
    assert len(queries) == 1


def test_it_converts_values_as_the_orm_does() -> None:
    SchoolYear.objects.create(title="2025-2026", start=date(2025, 8, 1), end=date(2026, 7, 31))
    SchoolYear.objects.create(title="2026-2027", start=date(2026, 8, 1), end=date(2027, 7, 31))
    for day in (date(2026, 3, 1), date(2026, 7, 31), date(2026, 8, 1), date(2030, 1, 1)):
        expected = list(
            SchoolYear.objects.filter(SchoolYear.containing(day))
            .order_by("start")
            .values_list("title", "start", "end")
        )
        assert YEARS.rows(day=day) == expected
        for row in YEARS.rows(day=day):
            assert isinstance(row[1], date)


def test_it_refuses_a_queryset_whose_values_do_not_reach_the_sql() -> None:
    branching = Prepared(lambda brin: School.objects.filter(brin__in=[brin, "99AA"]), brin=str)
    assert branching.rows(brin="99AB") == []  # an __in of fixed length is fine
    none_of_it = Prepared(lambda brin: School.objects.all(), brin=str)
    with pytest.raises(ValueError, match="brin"):
        none_of_it.rows(brin="99AB")


def test_it_wants_exactly_its_parameters(boards: tuple[Board, Board]) -> None:
    with pytest.raises(TypeError, match="expected the parameters"):
        SCHOOLS.rows(board=boards[0].pk)


def test_an_insert_stores_what_the_orms_create_stores() -> None:
    from regie.lib.prepared import Insert

    insert = Insert(SchoolYear)
    made = insert(title="2031-2032", start=date(2031, 8, 1), end=date(2032, 7, 31))
    assert made.pk is not None
    assert not made._state.adding
    stored = SchoolYear.objects.get(pk=made.pk)
    assert (stored.title, stored.start, stored.end) == (
        "2031-2032",
        date(2031, 8, 1),
        date(2032, 7, 31),
    )
    second = insert(title="2032-2033", start=date(2032, 8, 1), end=date(2033, 7, 31))
    assert second.pk != made.pk
    assert SchoolYear.objects.filter(title__in=["2031-2032", "2032-2033"]).count() == 2


def test_it_prepares_a_lookup_of_a_32_bit_key() -> None:
    # auth_user's key is an AutoField (a 32-bit integer): PostgreSQL's backend answers a lookup
    # beyond that range with "no rows" at compile time, so the stand-in must fit in it.
    from django.contrib.auth.models import User

    users = Prepared(lambda pk: User.objects.filter(pk=pk).order_by()[:1], pk=int)
    made = User.objects.create_user("prepared-fictief", password=None)
    assert users.first(pk=made.pk) == made
    assert users.first(pk=made.pk + 1) is None
