"""OneRoster 1.2 REST rostering against a live hub: a supplier's client takes a client-credentials
token and reads what its licences cover — with its own pseudonyms, only allowed fields, the
binding's paging, sorting, filtering and errors, and one audit event per release."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import httpx
import pytest
from django.utils import timezone

from regie.agreements import services as register
from regie.agreements.models import Licence
from regie.agreements.tests.register import school_year
from regie.audit.models import AuditEvent
from regie.core.models import School
from regie.gateway import services
from regie.gateway.models import OAuthClient, ReleasedRecord, SupplierPseudonym
from regie.gateway.oneroster.release import SupplierView
from regie.gateway.scopes import OPENID, ROSTER_CORE_READ, ROSTER_DEMOGRAPHICS_READ
from regie.nummervoorziening import client as nv
from regie.roster.models import Student, StudentStatus
from regie.roster.tests.exports import load_school, make_board

from .conftest import Launchable

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]

ROOT = "/ims/oneroster/rostering/v1p2"
CORE = ROSTER_CORE_READ.name
DEMOGRAPHICS = ROSTER_DEMOGRAPHICS_READ.name


@dataclass
class Roster:
    hub: Launchable
    client: OAuthClient
    secret: str
    other_client: OAuthClient
    other_secret: str
    unlicensed: School
    other_board_school: School

    def api(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.hub.base}{ROOT}", headers={"Authorization": f"Bearer {token}"}
        )


def make_client(
    hub: Launchable, *, other: bool = False, scopes: tuple[str, ...] = (CORE, DEMOGRAPHICS)
) -> tuple[OAuthClient, str]:
    client, secret = services.register_client(
        hub.other_supplier if other else hub.supplier,
        name="Roostersynchronisatie",
        product=hub.other_product if other else hub.product,
        redirect_uris=[],
        auth_method="client_secret_basic",
        scopes=scopes,
    )
    assert secret is not None
    return client, secret


def token_for(base: str, client: OAuthClient, secret: str, scope: str | None = CORE) -> str:
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    answer = httpx.post(f"{base}/oidc/token", data=data, auth=(client.client_id, secret))
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


@pytest.fixture
def roster(launchable: Launchable, rng: random.Random) -> Roster:
    return build_roster(launchable, rng)


def build_roster(launchable: Launchable, rng: random.Random) -> Roster:
    """Two suppliers' roster clients, a school without licence and one of another board."""
    client, secret = make_client(launchable)
    other_client, other_secret = make_client(launchable, other=True)
    unlicensed = load_school(launchable.school.board, rng, "99XB", "B")
    board_b = make_board("41002", "Stichting B (fictief)")
    other_board_school = load_school(board_b, rng, "99XC", "C")
    stale = Licence.objects.create(  # board B has no agreement: this licence releases nothing
        product=launchable.product, school=other_board_school, school_year=school_year()
    )
    stale.students.set(other_board_school.students.all())
    return Roster(
        launchable, client, secret, other_client, other_secret, unlicensed, other_board_school
    )


def core(roster: Roster) -> httpx.Client:
    return roster.api(token_for(roster.hub.base, roster.client, roster.secret))


def minor(answer: httpx.Response) -> str:
    field = answer.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]
    assert answer.json()["imsx_codeMajor"] == "failure"
    value: str = field["imsx_codeMinorFieldValue"]
    return value


def releases() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type="gateway.release").order_by("pk"))


# --- tokens and scopes ---------------------------------------------------------------------------


def test_it_issues_a_client_credentials_token_with_the_roster_scope(roster: Roster) -> None:
    answer = httpx.post(
        f"{roster.hub.base}/oidc/token",
        data={"grant_type": "client_credentials", "scope": CORE},
        auth=(roster.client.client_id, roster.secret),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"].lower() == "bearer"
    assert body["scope"] == CORE
    assert "refresh_token" not in body


def test_a_client_asking_for_no_scope_gets_all_its_roster_scopes(roster: Roster) -> None:
    answer = httpx.post(
        f"{roster.hub.base}/oidc/token",
        data={"grant_type": "client_credentials"},
        auth=(roster.client.client_id, roster.secret),
    )
    assert answer.json()["scope"].split() == sorted([CORE, DEMOGRAPHICS])


def test_it_refuses_a_scope_the_client_was_not_given(roster: Roster) -> None:
    client, secret = make_client(roster.hub, scopes=(CORE,))
    answer = httpx.post(
        f"{roster.hub.base}/oidc/token",
        data={"grant_type": "client_credentials", "scope": f"{CORE} {DEMOGRAPHICS}"},
        auth=(client.client_id, secret),
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"


def test_it_refuses_client_credentials_to_a_client_without_roster_scopes(roster: Roster) -> None:
    client, secret = make_client(roster.hub, scopes=(OPENID.name,))
    answer = httpx.post(
        f"{roster.hub.base}/oidc/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, secret),
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "unauthorized_client"


def test_a_token_without_the_needed_scope_gets_403_insufficient_scope(roster: Roster) -> None:
    client, secret = make_client(roster.hub, scopes=(DEMOGRAPHICS,))
    api = roster.api(token_for(roster.hub.base, client, secret, DEMOGRAPHICS))
    answer = api.get("/users")
    assert answer.status_code == 403
    assert minor(answer) == "forbidden"
    assert "insufficient_scope" in answer.headers["www-authenticate"]
    core_only = roster.api(token_for(roster.hub.base, roster.client, roster.secret, CORE))
    assert core_only.get("/demographics").status_code == 403
    assert not releases()


def test_without_a_valid_token_it_answers_401(roster: Roster) -> None:
    assert minor(roster.api("not-a-token").get("/users")) == "unauthorisedrequest"
    bare = httpx.get(f"{roster.hub.base}{ROOT}/orgs")
    assert bare.status_code == 401
    assert minor(bare) == "unauthorisedrequest"


# --- every endpoint --------------------------------------------------------------------------------


def test_each_endpoint_answers_with_the_binding_shapes(roster: Roster) -> None:
    api = core(roster)
    orgs = api.get("/orgs").json()["orgs"]
    assert sorted(org["type"] for org in orgs) == ["district", "school"]
    school = next(org for org in orgs if org["type"] == "school")
    assert school["identifier"] == "99XA"
    assert api.get(f"/orgs/{school['sourcedId']}").json()["org"] == school
    assert api.get("/schools").json()["orgs"] == [school]
    assert api.get(f"/schools/{school['sourcedId']}").json()["org"] == school

    sessions = api.get("/academicSessions").json()["academicSessions"]
    assert [session["type"] for session in sessions] == ["schoolYear"]
    one = api.get(f"/academicSessions/{sessions[0]['sourcedId']}").json()["academicSession"]
    assert one == sessions[0]

    classes = api.get("/classes").json()["classes"]
    titles = sorted(item["title"] for item in classes)
    assert titles == ["Groep 5", "Plusklas"]  # the licensed group, and its pupils' other group
    group = next(item for item in classes if item["title"] == "Groep 5")
    assert group["school"]["sourcedId"] == school["sourcedId"]
    assert group["terms"][0]["sourcedId"] == sessions[0]["sourcedId"]
    assert api.get(f"/classes/{group['sourcedId']}").json()["class"] == group
    in_school = api.get(f"/schools/{school['sourcedId']}/classes").json()["classes"]
    assert sorted(item["title"] for item in in_school) == titles

    users = api.get("/students").json()["users"]
    pupils = roster.hub.group.students.count()
    assert len(users) == pupils
    assert {user["status"] for user in users} == {"active"}
    assert all(user["roles"][0]["role"] == "student" for user in users)
    teachers = api.get("/teachers").json()["users"]
    assert [user["roles"][0]["role"] for user in teachers] == ["teacher"]  # of the licensed group
    everyone = api.get("/users").json()["users"]
    assert everyone == sorted(users + teachers, key=lambda user: user["sourcedId"])
    one_user = api.get(f"/users/{quote(users[0]['sourcedId'], safe='')}").json()["user"]
    assert one_user == users[0]
    student = api.get(f"/students/{quote(users[0]['sourcedId'], safe='')}").json()["user"]
    assert student == users[0]
    teacher = api.get(f"/teachers/{teachers[0]['sourcedId']}").json()["user"]
    assert teacher == api.get(f"/users/{teachers[0]['sourcedId']}").json()["user"] == teachers[0]
    assert api.get(f"/students/{teachers[0]['sourcedId']}").status_code == 404
    assert api.get(f"/teachers/{quote(users[0]['sourcedId'], safe='')}").status_code == 404

    in_class = api.get(f"/classes/{group['sourcedId']}/students").json()["users"]
    assert sorted(user["sourcedId"] for user in in_class) == sorted(u["sourcedId"] for u in users)

    enrollments = api.get("/enrollments").json()["enrollments"]
    assert {item["role"] for item in enrollments} == {"student", "teacher"}
    assert {item["user"]["sourcedId"] for item in enrollments} == {u["sourcedId"] for u in everyone}
    assert len(enrollments) == (
        pupils
        + Student.objects.filter(groups__las_key="A-PK", school=roster.hub.school).count()
        + len(teachers)
    )
    one_enrollment = api.get(f"/enrollments/{enrollments[0]['sourcedId']}").json()["enrollment"]
    assert one_enrollment == enrollments[0]


def test_a_pupils_sourced_id_is_the_suppliers_pseudonym_and_differs_per_supplier(
    roster: Roster,
) -> None:
    mine = {user["sourcedId"] for user in core(roster).get("/students").json()["users"]}
    other_token = token_for(roster.hub.base, roster.other_client, roster.other_secret)
    answer = roster.api(other_token).get("/students")
    theirs = {user["sourcedId"] for user in answer.json()["users"]}
    stored = set(
        SupplierPseudonym.objects.filter(supplier=roster.hub.supplier).values_list(
            "value", flat=True
        )
    )
    assert mine == stored
    assert len(theirs) == len(mine)
    assert not mine & theirs
    eck_ids = set(Student.objects.values_list("eck_id", flat=True))
    assert not (mine | theirs) & eck_ids


def test_keyed_ids_of_schools_and_classes_differ_per_supplier(roster: Roster) -> None:
    mine = {item["sourcedId"] for item in core(roster).get("/classes").json()["classes"]}
    other_token = token_for(roster.hub.base, roster.other_client, roster.other_secret)
    theirs = roster.api(other_token).get("/classes").json()["classes"]
    assert [item["title"] for item in theirs] == ["Groep 5"]  # 'groups' is not on for them
    assert not mine & {item["sourcedId"] for item in theirs}
    assert str(roster.hub.group.pk) not in mine


def test_it_releases_only_the_fields_the_policy_allows(roster: Roster) -> None:
    hub = roster.hub
    register.set_switch(hub.school, hub.product, "first_name", True, user=None)
    register.record_consent(
        hub.pupil, hub.product, "first_name", True, guardian=hub.pupil.guardians.get(), user=None
    )
    users = core(roster).get("/students").json()["users"]
    named = [user for user in users if "givenName" in user]
    assert [user["givenName"] for user in named] == [hub.pupil.roepnaam]
    assert all("familyName" not in user and "primaryOrg" not in user for user in users)
    other_token = token_for(roster.hub.base, roster.other_client, roster.other_secret)
    other = roster.api(other_token)
    assert all("givenName" not in user for user in other.get("/users").json()["users"])
    enrolled = other.get("/enrollments").json()["enrollments"]
    assert [item["role"] for item in enrolled] == ["teacher"]  # 'groups' is off: no pupils
    both = token_for(roster.hub.base, roster.client, roster.secret, f"{CORE} {DEMOGRAPHICS}")
    assert roster.api(both).get("/demographics").json()["demographics"] == []


# --- paging, sorting, filtering, field selection -------------------------------------------------


def test_it_pages_with_total_count_and_links(roster: Roster) -> None:
    api = core(roster)
    everyone = api.get("/users").json()["users"]
    answer = api.get("/users", params={"limit": 2, "offset": 2})
    assert answer.headers["x-total-count"] == str(len(everyone))
    assert answer.json()["users"] == everyone[2:4]
    links = answer.headers["link"]
    for relation in ("first", "prev", "next", "last"):
        assert f'rel="{relation}"' in links
    assert "offset=4" in links
    assert "offset=0" in links
    assert api.get("/users", params={"limit": 5000}).headers["x-total-count"] == str(len(everyone))
    assert minor(api.get("/users", params={"limit": "zero"})) == "invaliddata"
    assert minor(api.get("/users", params={"offset": "-1"})) == "invaliddata"


def test_it_sorts(roster: Roster) -> None:
    api = core(roster)
    ascending = api.get("/users", params={"sort": "sourcedId"}).json()["users"]
    descending = api.get("/users", params={"sort": "sourcedId", "orderBy": "desc"}).json()["users"]
    assert [u["sourcedId"] for u in ascending] == sorted(u["sourcedId"] for u in ascending)
    assert descending == ascending[::-1]
    assert minor(api.get("/users", params={"sort": "password"})) == "invalid_sort_field"
    assert minor(api.get("/users", params={"sort": "sourcedId", "orderBy": "up"})) == "invaliddata"


def test_it_filters_with_the_basic_syntax(roster: Roster) -> None:
    api = core(roster)
    users = api.get("/users").json()["users"]
    first, second = users[0]["sourcedId"], users[1]["sourcedId"]

    def found(expression: str) -> list[str]:
        answer = api.get("/users", params={"filter": expression})
        assert answer.status_code == 200, answer.text
        return sorted(user["sourcedId"] for user in answer.json()["users"])

    assert found(f"sourcedId='{first}'") == [first]
    assert found(f"sourcedId='{first}' OR sourcedId='{second}'") == sorted([first, second])
    assert found(f"status='active' AND sourcedId!='{first}'") == sorted(
        u["sourcedId"] for u in users[1:]
    )
    assert len(found("status='active'")) == len(users)
    assert found("dateLastModified>'2999-01-01'") == []
    assert len(found("dateLastModified>='2000-01-01T00:00:00Z'")) == len(users)
    assert found(f"sourcedId~'{first[-12:].upper()}'") == [first]
    assert found("givenName~'a'") == []  # withheld by the policy: nothing to match on
    classes = api.get("/classes", params={"filter": "classType='homeroom'"}).json()["classes"]
    assert [item["title"] for item in classes] == ["Groep 5"]


@pytest.mark.parametrize(
    "expression",
    [
        "status=active",
        "status='active' AND",
        "status=='active'",
        "password='secret'",
        "status='active' XOR status='tobedeleted'",
        "'active'=status",
        "status",
        "x" * 3000,
        "status='active",
        "roles='student'",
    ],
)
def test_a_malformed_filter_gets_the_binding_error_and_releases_nothing(
    roster: Roster, expression: str
) -> None:
    answer = core(roster).get("/users", params={"filter": expression})
    assert answer.status_code == 400
    assert minor(answer) == "invalid_filter_field"
    assert "users" not in answer.json()
    assert not releases()
    refused = AuditEvent.objects.filter(event_type="gateway.request.refused").last()
    assert refused is not None
    assert refused.details["error"] == "invalid_filter_field"
    assert "sourcedId" not in str(refused.details)


def test_it_selects_fields(roster: Roster) -> None:
    api = core(roster)
    users = api.get("/users", params={"fields": "sourcedId,status"}).json()["users"]
    assert users
    assert all(set(user) == {"sourcedId", "status"} for user in users)
    assert minor(api.get("/users", params={"fields": "sourcedId,password"})) == (
        "invalid_selection_field"
    )


# --- what a supplier can never reach ----------------------------------------------------------------


def _pseudonym_without_keeping(student: Student, view: SupplierView) -> str:
    service = nv.get_client()
    sectors = {sector.code: sector.id for sector in service.sectors()}
    value: str = service.supplier_pseudonym(
        student.eck_id, view.supplier.kvk, sectors[student.school.sector]
    )
    return value


def test_pupils_of_an_unlicensed_school_or_another_board_are_unreachable_by_any_id(
    roster: Roster,
) -> None:
    api = core(roster)
    view = SupplierView(roster.client, f"{roster.hub.base}{ROOT}")
    both = roster.api(
        token_for(roster.hub.base, roster.client, roster.secret, f"{CORE} {DEMOGRAPHICS}")
    )
    unknown = api.get(f"/users/{quote('https://nummervoorziening.regie.example/lp/1/00', safe='')}")
    assert unknown.status_code == 404
    assert minor(unknown) == "unknownobject"
    listed = {user["sourcedId"] for user in api.get("/users").json()["users"]}
    for school in (roster.unlicensed, roster.other_board_school):
        for student in school.students.all():
            value = _pseudonym_without_keeping(student, view)
            assert value not in listed
            for reader, endpoint in ((api, "users"), (api, "students"), (both, "demographics")):
                answer = reader.get(f"/{endpoint}/{quote(value, safe='')}")
                assert answer.status_code == 404
                assert minor(answer) == "unknownobject"
        for kind, endpoint in (("org", "orgs"), ("org", "schools"), ("board", "orgs")):
            pk = school.pk if kind == "org" else school.board_id
            if school == roster.unlicensed and kind == "board":
                continue  # the same board as the licensed school
            answer = api.get(f"/{endpoint}/{view.keyed(kind, pk)}")
            assert answer.status_code == 404
            assert api.get(f"/{endpoint}/{view.keyed(kind, pk)}/classes").status_code == 404
        for group in school.groups.all():
            for path in (f"/classes/{view.keyed('class', group.pk)}", f"/classes/{group.pk}"):
                assert api.get(path).status_code == 404
                assert api.get(f"{path}/students").status_code == 404
        assert api.get(f"/orgs/{school.pk}").status_code == 404
    everything = " ".join(
        api.get(f"/{name}").text
        for name in ("orgs", "schools", "classes", "users", "enrollments", "academicSessions")
    )
    for school in (roster.unlicensed, roster.other_board_school):
        assert school.name not in everything
    assert "Stichting B" not in everything
    assert not SupplierPseudonym.objects.filter(
        student__school__in=[roster.unlicensed, roster.other_board_school]
    ).exists()


# --- deltas: pupils who left or lost the licence -------------------------------------------------


def days_ago(days: int) -> str:
    """``dateLastModified`` of a record that last changed ``days`` days ago."""
    return f"{(timezone.localdate() - timedelta(days=days)).isoformat()}T00:00:00.000Z"


def synced_days_ago(days: int) -> None:
    """As if everything the suppliers were given so far had last changed ``days`` days ago."""
    ReleasedRecord.objects.update(changed_on=timezone.localdate() - timedelta(days=days))


def test_pupils_who_left_or_lost_the_licence_appear_as_tobedeleted(roster: Roster) -> None:
    api = core(roster)
    before = {user["sourcedId"]: user for user in api.get("/users").json()["users"]}
    assert {user["dateLastModified"] for user in before.values()} == {days_ago(0)}
    synced_days_ago(3)
    assert {user["dateLastModified"] for user in api.get("/users").json()["users"]} == {days_ago(3)}
    leaver = roster.hub.group.students.order_by("pk").last()
    assert leaver is not None
    Student.objects.filter(pk=leaver.pk).update(status=StudentStatus.LEFT)
    gone = SupplierPseudonym.objects.get(student=leaver, supplier=roster.hub.supplier).value
    after = {user["sourcedId"]: user for user in api.get("/users").json()["users"]}
    assert after.keys() == before.keys()
    assert after[gone] == {
        "sourcedId": gone,
        "status": "tobedeleted",
        "dateLastModified": days_ago(0),  # the day it turned, no finer
    }
    assert {user["dateLastModified"] for key, user in after.items() if key != gone} == {days_ago(3)}
    # a supplier that last synced yesterday asks from that day on (a day of overlap)
    since = days_ago(1)[:10]
    delta = api.get("/students", params={"filter": f"dateLastModified>='{since}'"}).json()
    assert [user["sourcedId"] for user in delta["users"]] == [gone]
    assert [
        e for e in api.get("/enrollments").json()["enrollments"] if e["user"]["sourcedId"] == gone
    ] == []

    for licence in Licence.objects.filter(product=roster.hub.product, school=roster.hub.school):
        register.revoke_licence(licence, user=None)
    users = api.get("/users").json()["users"]
    assert {user["status"] for user in users} == {"tobedeleted"}
    assert {user["dateLastModified"] for user in users} == {days_ago(0)}
    assert api.get("/classes").json()["classes"] == []
    assert api.get("/schools").json()["orgs"] == []


# --- audit -------------------------------------------------------------------------------------------


def test_each_response_with_pupil_data_is_one_release_event_without_identifiers(
    roster: Roster,
) -> None:
    api = core(roster)
    api.get("/orgs")
    api.get("/classes")
    assert not releases()
    users = api.get("/students", params={"limit": 3}).json()["users"]
    api.get("/enrollments", params={"filter": "role='student'"})
    api.get("/students", params={"fields": "status"})
    events = releases()
    assert len(events) == 3
    first = events[0].details
    assert first["channel"] == "oneroster"
    assert first["supplier"] == roster.hub.supplier.pk
    assert first["products"] == [roster.hub.product.pk]
    assert first["pupils"] == 3
    assert first["attributes"] == ["supplier_pseudonym"]
    assert (first["staff"], first["staff_attributes"]) == (0, [])
    assert events[1].details["attributes"] == ["groups", "supplier_pseudonym"]
    assert events[2].details["attributes"] == []
    text = " ".join(str(event.details) + event.subject for event in events)
    for user in users:
        assert user["sourcedId"] not in text
    for pupil in roster.hub.group.students.all():
        assert f"student:{pupil.pk}" not in text
