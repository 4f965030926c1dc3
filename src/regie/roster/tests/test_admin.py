"""The admin: boards and schools, and staff roles chosen from the list (who may see what)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from regie.core.models import School, Sector
from regie.roster.models import Staff
from regie.roster.tests.exports import make_board

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_() -> Client:
    user = User.objects.create_superuser("beheer", "beheer@regie.example", "fictief-123")
    client = Client()
    client.force_login(user)
    return client


def test_it_gives_staff_roles_from_the_list_and_checks_the_school_s_board(
    admin_client_: Client,
) -> None:
    board, other = make_board("41001"), make_board("41002", "Stichting Elders (fictief)")
    school = School.objects.create(board=board, brin="99XA", name="A (fictief)", sector=Sector.PO)
    url = reverse("admin:roster_staff_add")
    form = {
        "board": board.pk,
        "school": school.pk,
        "voornamen": "Kim",
        "achternaam": "Visser",
        "email": "kim.visser@school.example",
        "roles": ["teacher", "care_coordinator"],
        "is_active": "on",
    }
    assert admin_client_.post(url, form).status_code == 302
    assert Staff.objects.get().roles == ["teacher", "care_coordinator"]

    wrong = admin_client_.post(url, {**form, "board": other.pk})
    assert wrong.status_code == 200
    assert "De school hoort niet bij dit bestuur." in wrong.content.decode()
    bad_role = admin_client_.post(url, {**form, "roles": ["overlord"]})
    assert bad_role.status_code == 200
    assert Staff.objects.count() == 1
    for name in (
        "admin:core_board_changelist",
        "admin:roster_staff_changelist",
        "admin:roster_importrun_changelist",
    ):
        assert admin_client_.get(reverse(name)).status_code == 200
