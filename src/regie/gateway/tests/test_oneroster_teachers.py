"""OneRoster 1.2 REST teachers against a live hub: the teachers of the classes a supplier sees, with
their keyed staff id (the ``sub`` of their launch), the role ``teacher`` at their school and
teacher enrollments — and nothing else about them: no name, no e-mail address."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
from django.conf import LazySettings

from regie.agreements.tests.register import license_group
from regie.audit.models import AuditEvent
from regie.gateway import identifiers
from regie.gateway.oneroster.release import SupplierView
from regie.roster.models import Group, GroupKind, Staff, StaffRole

from .conftest import Launchable
from .test_oneroster_rest import ROOT, Roster, build_roster, core, minor, token_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]


@pytest.fixture
def roster(launchable: Launchable, rng: random.Random) -> Roster:
    return build_roster(launchable, rng)


def eva(roster: Roster) -> Staff:
    """The imported teacher of the licensed group ``Groep 5`` at school 99XA."""
    return Staff.objects.get(school=roster.hub.school, las_key="A-MW-1")


def view_of(roster: Roster, *, other: bool = False) -> SupplierView:
    return SupplierView(roster.other_client if other else roster.client, f"{roster.hub.base}{ROOT}")


def teachers(api: httpx.Client, path: str = "/teachers", **params: str) -> list[dict[str, Any]]:
    answer = api.get(path, params=params)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["users"]
    return found


def make_teacher(group: Group, *, roles: tuple[str, ...] = (StaffRole.TEACHER,)) -> Staff:
    staff = Staff.objects.create(
        board=group.school.board,
        school=group.school,
        voornamen="Joris",
        achternaam="Kuipers",
        email="joris.kuipers@school.example",
        roles=[str(role) for role in roles],
    )
    staff.groups.add(group)
    return staff


def test_a_teacher_of_a_licensed_class_is_listed_with_their_staff_id(roster: Roster) -> None:
    api = core(roster)
    view = view_of(roster)
    school = view.keyed("org", roster.hub.school.pk)
    listed = teachers(api)
    assert [item["sourcedId"] for item in listed] == [
        identifiers.staff_id(roster.hub.supplier, eva(roster).pk)
    ]
    teacher = listed[0]
    assert set(teacher) == {
        "sourcedId",
        "status",
        "dateLastModified",
        "enabledUser",
        "roles",
        "primaryOrg",
    }
    assert teacher["status"] == "active"
    assert teacher["enabledUser"] is True
    assert teacher["roles"] == [
        {
            "roleType": "primary",
            "role": "teacher",
            "org": {"href": f"{view.base}/orgs/{school}", "sourcedId": school, "type": "org"},
        }
    ]
    assert teacher["primaryOrg"] == teacher["roles"][0]["org"]
    assert api.get(f"/teachers/{teacher['sourcedId']}").json()["user"] == teacher
    assert api.get(f"/schools/{school}/teachers").json()["users"] == [teacher]


def test_no_name_or_e_mail_address_of_a_teacher_leaves(roster: Roster) -> None:
    api = core(roster)
    staff = eva(roster)
    assert staff.voornamen
    assert staff.achternaam
    assert staff.email
    class_id = view_of(roster).keyed("class", roster.hub.group.pk)
    sent = " ".join(
        api.get(path).text
        for path in (
            "/users",
            "/teachers",
            f"/teachers/{identifiers.staff_id(roster.hub.supplier, staff.pk)}",
            f"/classes/{class_id}/teachers",
            "/enrollments",
        )
    )
    for value in (staff.voornamen, staff.achternaam, staff.email, staff.email.split("@")[1]):
        assert value not in sent
    assert str(staff.pk) not in {item["sourcedId"] for item in teachers(api)}


def test_teachers_of_classes_the_supplier_does_not_see_are_not_listed(roster: Roster) -> None:
    api = core(roster)
    school = roster.hub.school
    unseen = Group.objects.create(
        school=school, las_key="A-G8", name="Groep 8", kind=GroupKind.GROUP
    )
    hidden = [
        make_teacher(unseen),  # a group without licence and without visible pupils
        make_teacher(roster.hub.group, roles=(StaffRole.CARE_COORDINATOR,)),  # not a teacher
    ]
    gone = make_teacher(roster.hub.group)
    Staff.objects.filter(pk=gone.pk).update(is_active=False)
    hidden.append(gone)
    hidden += list(Staff.objects.filter(school__in=[roster.unlicensed, roster.other_board_school]))
    assert len(hidden) == 5
    listed = {item["sourcedId"] for item in teachers(api)}
    assert listed == {identifiers.staff_id(roster.hub.supplier, eva(roster).pk)}
    for staff in hidden:
        staff_id = identifiers.staff_id(roster.hub.supplier, staff.pk)
        for endpoint in ("teachers", "users"):
            answer = api.get(f"/{endpoint}/{staff_id}")
            assert answer.status_code == 404
            assert minor(answer) == "unknownobject"
    view = view_of(roster)
    for path in (
        f"/classes/{view.keyed('class', unseen.pk)}/teachers",
        f"/schools/{view.keyed('org', roster.unlicensed.pk)}/teachers",
    ):
        assert minor(api.get(path)) == "unknownobject"


def test_another_supplier_gets_another_id_for_the_same_teacher(roster: Roster) -> None:
    staff = eva(roster)
    other = roster.api(token_for(roster.hub.base, roster.other_client, roster.other_secret))
    theirs = [item["sourcedId"] for item in teachers(other)]
    mine = [item["sourcedId"] for item in teachers(core(roster))]
    assert theirs == [identifiers.staff_id(roster.hub.other_supplier, staff.pk)]
    assert mine != theirs
    assert other.get(f"/teachers/{mine[0]}").status_code == 404


def test_teachers_have_enrollments_with_the_role_teacher(roster: Roster) -> None:
    api = core(roster)
    view = view_of(roster)
    staff = eva(roster)
    staff_id = identifiers.staff_id(roster.hub.supplier, staff.pk)
    answer = api.get("/enrollments", params={"filter": "role='teacher'"})
    assert answer.headers["x-total-count"] == "1"
    (enrollment,) = answer.json()["enrollments"]
    group = roster.hub.group
    assert enrollment["sourcedId"] == view.keyed("enrollment-teacher", group.pk, staff.pk)
    assert enrollment["role"] == "teacher"
    assert enrollment["primary"] is False
    assert enrollment["user"]["sourcedId"] == staff_id
    assert enrollment["class"]["sourcedId"] == view.keyed("class", group.pk)
    assert enrollment["school"]["sourcedId"] == view.keyed("org", group.school_id)
    one = api.get(f"/enrollments/{enrollment['sourcedId']}").json()["enrollment"]
    assert one == enrollment
    students = api.get("/enrollments", params={"filter": "role='student'"}).json()
    assert staff_id not in {item["user"]["sourcedId"] for item in students["enrollments"]}


def test_a_class_lists_its_teachers_and_its_students_apart(roster: Roster) -> None:
    api = core(roster)
    view = view_of(roster)
    staff = eva(roster)
    staff_id = identifiers.staff_id(roster.hub.supplier, staff.pk)
    group_5 = view.keyed("class", roster.hub.group.pk)
    plus = Group.objects.get(school=roster.hub.school, las_key="A-PK")
    plus_id = view.keyed("class", plus.pk)
    assert [item["sourcedId"] for item in teachers(api, f"/classes/{group_5}/teachers")] == [
        staff_id
    ]
    assert teachers(api, f"/classes/{plus_id}/teachers") == []
    pupils = teachers(api, f"/classes/{group_5}/students")
    assert pupils
    assert staff_id not in {item["sourcedId"] for item in pupils}
    staff.groups.add(plus)
    assert [item["sourcedId"] for item in teachers(api, f"/classes/{plus_id}/teachers")] == [
        staff_id
    ]
    assert minor(api.get("/classes/not-a-class/teachers")) == "unknownobject"


def test_a_teacher_at_two_licensed_schools_has_a_role_at_each(
    roster: Roster, settings: LazySettings
) -> None:
    # An identifier key under which the school made first has the greater id at this supplier:
    # the roles, and a board's children, follow the supplier's ids, never the hub's order.
    first, second = roster.hub.school, roster.unlicensed
    assert first.pk < second.pk
    supplier = roster.hub.supplier
    for number in range(100):
        settings.IDENTIFIER_KEY = f"fictieve-sleutel-{number}"
        if identifiers.keyed(supplier, "org", first.pk) > identifiers.keyed(
            supplier, "org", second.pk
        ):
            break
    api = core(roster)
    view = view_of(roster)
    other_group = Group.objects.get(school=roster.unlicensed, las_key="B-G5")
    license_group(roster.hub.product, other_group)
    board_teacher = make_teacher(roster.hub.group)
    Staff.objects.filter(pk=board_teacher.pk).update(school=None)  # a member of the board's staff
    board_teacher.groups.add(other_group)
    staff_id = identifiers.staff_id(roster.hub.supplier, board_teacher.pk)
    teacher = api.get(f"/teachers/{staff_id}").json()["user"]
    assert [(role["roleType"], role["org"]["sourcedId"]) for role in teacher["roles"]] == [
        ("primary", view.keyed("org", second.pk)),
        ("secondary", view.keyed("org", first.pk)),
    ]
    assert teacher["primaryOrg"]["sourcedId"] == view.keyed("org", second.pk)
    board = next(org for org in api.get("/orgs").json()["orgs"] if org["type"] == "district")
    assert [child["sourcedId"] for child in board["children"]] == [
        view.keyed("org", second.pk),
        view.keyed("org", first.pk),
    ]
    for school in (roster.hub.school, roster.unlicensed):
        at_school = teachers(api, f"/schools/{view.keyed('org', school.pk)}/teachers")
        assert staff_id in {item["sourcedId"] for item in at_school}
    enrolled = api.get("/enrollments", params={"filter": "role='teacher'"}).json()["enrollments"]
    assert sorted(
        item["class"]["sourcedId"] for item in enrolled if item["user"]["sourcedId"] == staff_id
    ) == sorted(view.keyed("class", group.pk) for group in (roster.hub.group, other_group))


def test_teachers_can_be_filtered_sorted_and_paged_with_the_users(roster: Roster) -> None:
    api = core(roster)
    staff_id = identifiers.staff_id(roster.hub.supplier, eva(roster).pk)
    second = make_teacher(roster.hub.group)
    second_id = identifiers.staff_id(roster.hub.supplier, second.pk)
    everyone = api.get("/users").json()["users"]
    pupils = api.get("/students").json()["users"]
    assert len(everyone) == len(pupils) + 2
    found = teachers(api, "/users", filter=f"sourcedId='{staff_id}' OR sourcedId='{second_id}'")
    assert sorted(item["sourcedId"] for item in found) == sorted([staff_id, second_id])
    descending = teachers(api, sort="sourcedId", orderBy="desc")
    assert [item["sourcedId"] for item in descending] == sorted([staff_id, second_id])[::-1]
    assert teachers(api, filter="givenName~'o'") == []  # not released, so nothing to match on
    assert teachers(api, filter="enabledUser='true'") == teachers(api)
    page = api.get("/teachers", params={"limit": 1, "offset": 1})
    assert page.headers["x-total-count"] == "2"
    assert page.json()["users"] == teachers(api)[1:]
    selected = teachers(api, fields="sourcedId,roles")
    assert all(set(item) == {"sourcedId", "roles"} for item in selected)


def test_a_teacher_who_no_longer_teaches_a_visible_class_is_simply_absent(roster: Roster) -> None:
    api = core(roster)
    staff = eva(roster)
    staff_id = identifiers.staff_id(roster.hub.supplier, staff.pk)
    assert staff_id in {item["sourcedId"] for item in teachers(api, "/users")}
    staff.groups.clear()
    assert staff_id not in {item["sourcedId"] for item in teachers(api, "/users")}
    assert api.get(f"/teachers/{staff_id}").status_code == 404
    assert api.get("/enrollments", params={"filter": "role='teacher'"}).json()["enrollments"] == []


def test_a_release_of_teachers_is_audited_as_staff_apart_from_pupils(roster: Roster) -> None:
    api = core(roster)
    staff = eva(roster)
    teachers(api)
    teachers(api, "/users")
    api.get("/enrollments", params={"filter": "role='teacher'", "fields": "sourcedId,user"})
    events = list(AuditEvent.objects.filter(event_type="gateway.release").order_by("pk"))
    assert [(event.details["pupils"], event.details["staff"]) for event in events] == [
        (0, 1),
        (roster.hub.group.students.count(), 1),
        (0, 1),
    ]
    assert events[0].details["attributes"] == []
    assert events[0].details["staff_attributes"] == ["role", "school", "staff_id"]
    assert events[1].details["attributes"] == ["supplier_pseudonym"]
    assert events[2].details["staff_attributes"] == ["groups", "staff_id"]
    staff_id = identifiers.staff_id(roster.hub.supplier, staff.pk)
    text = " ".join(str(event.details) + event.subject for event in events)
    assert staff_id not in text
    assert f"staff:{staff.pk}" not in text
