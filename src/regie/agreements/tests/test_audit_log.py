"""The audit log page: a board's privacy officer filters the events about the board's records by
pupil, supplier, event type and period, page by page; names only of pupils they may see, nothing
of another board, and no pupil identifier in the page or its URLs."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from django.urls import reverse
from django.utils import timezone

from regie.audit.models import AuditEvent
from regie.audit.services import SYSTEM, actor_for, record
from regie.roster.models import Student
from regie.roster.tests.exports import client_for

from .. import events
from .register import World, make_agreement, make_product, make_supplier

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

URL = reverse("agreements:audit-log")


def consent_event(student: Student, product_id: int, when: datetime | None = None) -> AuditEvent:
    details = {"product": product_id, "attribute": "first_name", "given": True, "by": "guardian"}
    if when is None:
        return record(events.CONSENT_RECORDED, SYSTEM, f"student:{student.pk}", details)
    return AuditEvent.objects.create(
        occurred_at=when,
        event_type=events.CONSENT_RECORDED.name,
        actor=SYSTEM,
        subject=f"student:{student.pk}",
        details=details,
    )


def rows_of(response: Response) -> list[str]:
    body = response.content.decode().split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"<[^>]+>", " ", row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def event_count(response: Response) -> int:
    caption = re.search(r"<caption>(\d+) ", response.content.decode())
    assert caption is not None
    return int(caption.group(1))


def test_it_is_for_the_board_register_only(world: World) -> None:
    assert client_for(world.teacher).get(URL).status_code == 403
    assert client_for(world.school_admin).get(URL).status_code == 403
    assert client_for(world.officer).get(URL).status_code == 200
    assert client_for(world.board_admin).get(URL).status_code == 200


def test_it_never_shows_an_event_about_another_board(world: World) -> None:
    pupil_b = Student.objects.filter(school=world.b1)[0]
    make_agreement(world.board_b, world.supplier, [world.product])
    consent_event(pupil_b, world.product.pk)
    consent_event(world.pupil(), world.product.pk)
    consents = {"soort": events.CONSENT_RECORDED.name}
    created = {"soort": events.AGREEMENT_CREATED.name}

    seen_by_a = client_for(world.officer).get(URL, consents)
    seen_by_b = client_for(world.officer_b).get(URL, consents)

    assert event_count(seen_by_a) == 1
    assert str(world.pupil()) in rows_of(seen_by_a)[0]
    assert str(pupil_b) not in seen_by_a.content.decode()
    assert event_count(seen_by_b) == 1
    assert str(pupil_b) in rows_of(seen_by_b)[0]
    assert event_count(client_for(world.officer).get(URL, created)) == 1
    assert event_count(client_for(world.officer_b).get(URL, created)) == 1


def test_it_names_only_pupils_the_viewer_may_see(world: World) -> None:
    other_school_pupil = Student.objects.filter(school=world.a2)[0]
    consent_event(other_school_pupil, world.product.pk)

    officer_view = client_for(world.officer).get(URL, {"soort": events.CONSENT_RECORDED.name})
    board_admin_view = client_for(world.board_admin).get(
        URL, {"soort": events.CONSENT_RECORDED.name}
    )

    assert event_count(officer_view) == 1  # an event of the board, about a school not theirs
    assert str(other_school_pupil) not in officer_view.content.decode()
    assert "een leerling" in rows_of(officer_view)[0]
    assert str(other_school_pupil) in rows_of(board_admin_view)[0]


def test_it_finds_a_pupil_by_a_posted_search_and_filters_by_internal_id(world: World) -> None:
    pupil, other = Student.objects.filter(school=world.a1).order_by("pk")[:2]
    consent_event(pupil, world.product.pk)
    consent_event(other, world.product.pk)
    client = client_for(world.officer)

    found = client.post(URL, {"q": pupil.las_key})
    assert found.status_code == 302
    assert found["Location"] == f"{URL}?leerling={pupil.pk}"
    assert pupil.las_key not in found["Location"]
    filtered = client.get(found["Location"])

    assert event_count(filtered) == 1
    assert str(pupil) in rows_of(filtered)[0]
    assert str(other) not in filtered.content.decode().split("<tbody>", 1)[1]


def test_a_search_with_several_matches_lists_them_by_internal_id(world: World) -> None:
    pupils = list(Student.objects.filter(school=world.a1).order_by("pk")[:2])
    common = pupils[0].achternaam
    Student.objects.filter(pk=pupils[1].pk).update(achternaam=common)

    answer = client_for(world.officer).post(URL, {"q": common}).content.decode()

    for pupil in Student.objects.filter(school=world.a1, achternaam=common):
        assert f"?leerling={pupil.pk}" in answer
    assert f"q={common}" not in answer


def test_a_pupil_the_viewer_may_not_see_is_no_filter(world: World) -> None:
    hidden = Student.objects.filter(school=world.b1)[0]
    answer = client_for(world.officer).post(URL, {"q": hidden.las_key})
    by_id = client_for(world.officer).get(URL, {"leerling": hidden.pk})

    assert answer.status_code == 200
    assert "Geen leerling gevonden." in answer.content.decode()
    assert str(hidden) not in by_id.content.decode()


def test_it_filters_by_supplier_event_type_and_period(world: World) -> None:
    other_supplier = make_supplier("Leesland B.V. (fictief)", "99000002")
    other_product = make_product(other_supplier, "Leesland")
    pupil = world.pupil()
    now = timezone.now()
    consent_event(pupil, world.product.pk, now - timedelta(days=40))
    consent_event(pupil, other_product.pk, now - timedelta(days=10))
    client = client_for(world.officer)
    day = timezone.localdate()

    by_supplier = client.get(
        URL, {"leverancier": str(other_supplier.pk), "soort": events.CONSENT_RECORDED.name}
    )
    recent = client.get(
        URL,
        {"soort": events.CONSENT_RECORDED.name, "van": (day - timedelta(days=20)).isoformat()},
    )
    old = client.get(
        URL,
        {
            "soort": events.CONSENT_RECORDED.name,
            "van": (day - timedelta(days=45)).isoformat(),
            "tot": (day - timedelta(days=30)).isoformat(),
        },
    )
    everything = client.get(URL, {"soort": events.CONSENT_RECORDED.name})

    assert event_count(by_supplier) == 1
    assert event_count(recent) == 1
    assert event_count(old) == 1
    assert timezone.localtime(now - timedelta(days=40)).strftime("%Y-%m-%d") in rows_of(old)[0]
    assert event_count(everything) == 2


def test_a_bad_filter_value_is_shown_and_ignored(world: World) -> None:
    consent_event(world.pupil(), world.product.pk)

    answer = client_for(world.officer).get(
        URL, {"soort": events.CONSENT_RECORDED.name, "van": "gisteren"}
    )

    assert answer.status_code == 200
    assert 'role="alert"' in answer.content.decode()
    assert event_count(answer) == 1


def test_it_pages_and_keeps_the_filters_on_every_page(world: World) -> None:
    pupil = world.pupil()
    for _ in range(55):
        consent_event(pupil, world.product.pk)
    client = client_for(world.officer)

    first = client.get(URL, {"leerling": str(pupil.pk), "soort": events.CONSENT_RECORDED.name})
    link = re.search(r'href="\?(page=2[^"]*)"', first.content.decode())
    assert link is not None
    second = client.get(f"{URL}?{link.group(1).replace('&amp;', '&')}")

    assert len(rows_of(first)) == 50
    assert len(rows_of(second)) == 5
    assert event_count(second) == 55


def test_no_pupil_identifier_reaches_the_page(world: World) -> None:
    pupil = world.pupil()
    Student.objects.filter(pk=pupil.pk).update(
        eck_id="https://id.school/pseudonym-voorbeeld-0001", stampseudonym="stamp-voorbeeld-0001"
    )
    consent_event(pupil, world.product.pk)
    record(events.LICENCE_GRANTED, actor_for(world.officer), f"student:{pupil.pk}", {})
    client = client_for(world.officer)

    pages = [
        client.get(URL),
        client.get(URL, {"leerling": pupil.pk}),
        client.post(URL, {"q": pupil.achternaam}),
    ]

    for answer in pages:
        text = answer.content.decode()
        assert "pseudonym-voorbeeld" not in text
        assert "stamp-voorbeeld" not in text
