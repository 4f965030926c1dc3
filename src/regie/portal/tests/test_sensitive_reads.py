"""The child page shows the reads of the child's sensitive records from the log: the day, the
category and the role that read it — never the reader's name, never the content; and only the
child's own."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from regie.logins import verified_client
from regie.roster import sensitive
from regie.roster.models import SensitiveCategory, SensitiveDesignation, StaffRole
from regie.roster.tests.exports import make_staff

from .people import PortalWorld

pytestmark = pytest.mark.django_db

SECRET = "Fictieve conclusie: kenmerken van dyslexie"


def _section(world: PortalWorld, user: User) -> str:
    response = world.client(user).get(reverse("portal:child", args=[world.child_a.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert SECRET not in html
    return html.split('id="gevoelig"')[1]


def test_a_read_by_the_care_coordinator_shows_day_category_and_role(world: PortalWorld) -> None:
    assert "Niemand heeft gevoelige gegevens gelezen." in _section(world, world.user_a)
    care, _staff = make_staff(world.board_a, world.a1, StaffRole.CARE_COORDINATOR, username="ib-p")
    item = sensitive.add_record(
        world.child_a,
        category=SensitiveCategory.PSYCHODIAGNOSTIC,
        title="Onderzoek lezen (fictief)",
        content=SECRET,
        day=timezone.localdate(),
        user=None,
    )
    assert (
        verified_client(care).get(reverse("roster:sensitive-record", args=[item.pk])).status_code
        == 200
    )
    section = _section(world, world.user_a)
    assert "Psychodiagnostisch onderzoek" in section
    assert "intern begeleider" in section
    assert date_format(timezone.localdate(), "j F Y") in section
    assert "Kim" not in section
    assert "Visser" not in section
    assert "ib-p" not in section
    # What the school holds names the record's own category, marked sensitive.
    assert "Psychodiagnostisch onderzoek (gevoelig)" in _section_all(world)
    # Another child's guardian sees nothing of it.
    other = world.client(world.user_b).get(reverse("portal:child", args=[world.child_b.pk]))
    assert "Niemand heeft gevoelige gegevens gelezen." in other.content.decode()


def _section_all(world: PortalWorld) -> str:
    return (
        world.client(world.user_a)
        .get(reverse("portal:child", args=[world.child_a.pk]))
        .content.decode()
    )


def test_a_designated_reader_is_shown_with_their_role_and_the_designation(
    world: PortalWorld,
) -> None:
    reader, staff = make_staff(world.board_a, world.a1, StaffRole.TEACHER, username="ortho-p")
    SensitiveDesignation.objects.create(
        board=world.board_a, school=world.a1, staff=staff, reason="orthopedagoog"
    )
    sensitive.add_record(
        world.child_a,
        category=SensitiveCategory.HEALTH,
        title="Medicatie (fictief)",
        content=SECRET,
        day=timezone.localdate(),
        user=None,
    )
    response = verified_client(reader).get(
        reverse("roster:sensitive-list", args=[world.child_a.pk])
    )
    assert response.status_code == 200
    section = _section(world, world.user_a)
    assert "Gezondheidsgegevens" in section
    assert "leerkracht, aangewezen door het bestuur" in section
    download = world.client(world.user_a).get(
        reverse("portal:child-download", args=[world.child_a.pk])
    )
    assert download.status_code == 200
    data = json.loads(download.content)
    assert data["sensitive_reads"][0]["role"] == "leerkracht, aangewezen door het bestuur"
