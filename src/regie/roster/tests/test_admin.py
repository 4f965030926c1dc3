"""The admin: boards and schools, and staff roles chosen from the list (who may see what)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from regie.audit.models import AuditEvent
from regie.core.models import School, Sector
from regie.logins import verified_client
from regie.roster.models import Staff
from regie.roster.tests.exports import make_board

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_() -> Client:
    user = User.objects.create_superuser("beheer", "beheer@regie.example", "fictief-123")
    return verified_client(user)


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
    staff = Staff.objects.get()
    assert staff.roles == ["teacher", "care_coordinator"]
    saved = AuditEvent.objects.get(event_type="admin.saved")
    assert saved.subject == f"roster.staff:{staff.pk}"
    assert saved.details["created"] is True
    assert "roles" in saved.details["fields"]
    assert "Visser" not in str(saved.details)  # field names only, never values

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


def test_every_admin_change_is_in_the_audit_log(admin_client_: Client) -> None:
    board = make_board("41001")
    url = reverse("admin:core_board_change", args=[board.pk])
    form = {
        "bestuursnummer": "41001",
        "name": "Stichting Nieuw (fictief)",
        "kvk": "12345678",
        "schools-TOTAL_FORMS": "1",
        "schools-INITIAL_FORMS": "0",
        "schools-0-brin": "99XA",
        "schools-0-vestiging": "",
        "schools-0-name": "A (fictief)",
        "schools-0-sector": "PO",
    }
    assert admin_client_.post(url, form).status_code == 302
    school = School.objects.get()
    events = {
        (e.subject, tuple(e.details["fields"]))
        for e in AuditEvent.objects.filter(event_type="admin.saved")
    }
    assert events == {(f"core.board:{board.pk}", ("name",)), (f"core.school:{school.pk}", ())}
    delete = reverse("admin:core_school_delete", args=[school.pk])
    assert admin_client_.post(delete, {"post": "yes"}).status_code == 302
    deleted = AuditEvent.objects.get(event_type="admin.deleted")
    assert deleted.subject == f"core.school:{school.pk}"
