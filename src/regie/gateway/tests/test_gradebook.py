"""OneRoster 1.2 gradebook results back against a live hub: a supplier puts a line item and a
result for its own pseudonym of a licensed pupil whose results the policy allows; the teacher of
the pupil's group sees it with the name; everything else is refused, stores nothing and is
audited."""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from regie.agreements import services as register
from regie.agreements.models import Processing, Supplier
from regie.agreements.tests.register import license_group, school_year
from regie.audit.models import AuditEvent
from regie.gateway import pseudonyms
from regie.gateway.models import LineItem, OAuthClient, Result
from regie.gateway.oneroster.release import SupplierView
from regie.gateway.scopes import (
    GRADEBOOK_CREATEPUT,
    GRADEBOOK_DELETE,
    GRADEBOOK_READ,
    ROSTER_CORE_READ,
)
from regie.roster.importing.records import StaffRole
from regie.roster.models import Group, GroupKind, Student
from regie.roster.tests.exports import client_for, eck_id, load_school, make_staff

from .conftest import Launchable
from .test_oneroster_rest import make_client, minor, token_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = "/ims/oneroster/gradebook/v1p2"
GRADEBOOK = GRADEBOOK_CREATEPUT.name


def allow_results(hub: Launchable) -> None:
    """Put ``results`` in the product's agreement and switch it on for the school."""
    for processing in Processing.objects.filter(schedule__product=hub.product):
        processing.attributes = [*processing.attributes, "results"]
        processing.save()
    register.set_switch(hub.school, hub.product, "results", True, user=None)


def pseudonym_of(student: Student, supplier: Supplier) -> str:
    """The pupil's pseudonym at ``supplier`` (kept, or from the number service)."""
    value = pseudonyms.for_student(student, supplier)
    assert value is not None
    return value


def gradebook(hub: Launchable, *, other: bool = False) -> tuple[httpx.Client, OAuthClient]:
    client, secret = make_client(hub, other=other, scopes=(GRADEBOOK,))
    token = token_for(hub.base, client, secret, scope=GRADEBOOK)
    api = httpx.Client(base_url=f"{hub.base}{ROOT}", headers={"Authorization": f"Bearer {token}"})
    return api, client


def class_id(client: OAuthClient, group: Group) -> str:
    return SupplierView(client, "").keyed("class", group.pk)


def line_item(api: httpx.Client, client: OAuthClient, group: Group) -> httpx.Response:
    body = {
        "lineItem": {"title": "Tafels oefenen", "class": {"sourcedId": class_id(client, group)}}
    }
    return api.put("/lineItems/li-1", json=body)


def result_body(pseudonym: str, **extra: Any) -> dict[str, Any]:
    given = {
        "lineItem": {"sourcedId": "li-1"},
        "student": {"sourcedId": pseudonym},
        "score": 8.5,
        "scoreStatus": "fully graded",
        "scoreDate": "2026-11-30",
        "comment": "Goed gedaan",
    }
    return {"result": {**given, **extra}}


def refusals() -> int:
    return AuditEvent.objects.filter(event_type="gateway.request.refused").count()


def test_a_supplier_puts_a_result_and_the_teacher_sees_it_with_the_name(
    launchable: Launchable,
) -> None:
    hub = launchable
    allow_results(hub)
    api, client = gradebook(hub)
    created = line_item(api, client, hub.group)
    assert created.status_code == 201, created.text
    assert created.json()["lineItem"]["class"]["sourcedId"] == class_id(client, hub.group)
    assert line_item(api, client, hub.group).status_code == 200  # idempotent
    assert LineItem.objects.count() == 1

    pseudonym = pseudonym_of(hub.pupil, hub.supplier)
    answer = api.put("/results/r-1", json=result_body(pseudonym))
    assert answer.status_code == 201, answer.text
    assert answer.json()["result"]["student"]["sourcedId"] == pseudonym
    again = api.put("/results/r-1", json=result_body(pseudonym, score=7.5))
    assert again.status_code == 200, again.text
    stored = Result.objects.get()
    assert (stored.student_id, stored.score, stored.product_id) == (
        hub.pupil.pk,
        7.5,
        hub.product.pk,
    )

    events = AuditEvent.objects.filter(event_type="gateway.result.received")
    assert events.count() == 2
    event = events.first()
    assert event is not None
    assert event.subject == f"student:{hub.pupil.pk}"
    assert pseudonym not in str(event.details)
    assert pseudonym not in event.subject

    teacher, staff = make_staff(hub.school.board, hub.school, StaffRole.TEACHER)
    staff.groups.add(hub.group)
    page = client_for(teacher).get("/resultaten/")
    assert page.status_code == 200
    text = page.content.decode()
    assert str(hub.pupil) in text
    assert "Tafels oefenen" in text
    assert "7,5" in text

    other_group = Group.objects.create(
        school=hub.school, las_key="A-G8", name="Groep 8", kind=GroupKind.GROUP
    )
    stranger, other_staff = make_staff(hub.school.board, hub.school, StaffRole.TEACHER)
    other_staff.groups.add(other_group)
    for user in (stranger, hub.pupil_user):
        text = client_for(user).get("/resultaten/").content.decode()
        assert str(hub.pupil) not in text
        assert "Tafels oefenen" not in text


def test_the_results_page_needs_a_login(launchable: Launchable) -> None:
    answer = httpx.get(f"{launchable.base}/resultaten/")
    assert answer.status_code == 302


def test_results_for_pseudonyms_the_supplier_may_not_use_are_unknown(
    launchable: Launchable, rng: random.Random
) -> None:
    hub = launchable
    allow_results(hub)
    api, client = gradebook(hub)
    assert line_item(api, client, hub.group).status_code == 201
    unlicensed_school = load_school(hub.school.board, rng, "99XB", "B")
    outsider = Student.objects.filter(school=unlicensed_school).exclude(eck_id="").first()
    assert outsider is not None
    unlicensed = pseudonym_of(outsider, hub.supplier)
    of_other_supplier = pseudonym_of(hub.pupil, hub.other_supplier)
    before = refusals()
    for pseudonym in (unlicensed, of_other_supplier, "onbekend-pseudoniem"):
        answer = api.put("/results/r-1", json=result_body(pseudonym))
        assert answer.status_code == 404, answer.text
        assert minor(answer) == "unknownobject"
        assert pseudonym not in answer.text
    unknown_item = api.put(
        "/results/r-1",
        json=result_body(pseudonym_of(hub.pupil, hub.supplier), lineItem={"sourcedId": "x"}),
    )
    assert unknown_item.status_code == 404
    assert not Result.objects.exists()
    assert refusals() == before + 4
    event = AuditEvent.objects.filter(event_type="gateway.request.refused").last()
    assert event is not None
    assert unlicensed not in str(event.details)


def test_a_result_the_policy_does_not_allow_is_refused(launchable: Launchable) -> None:
    hub = launchable  # the agreement has no ``results``
    api, client = gradebook(hub)
    assert line_item(api, client, hub.group).status_code == 201
    answer = api.put("/results/r-1", json=result_body(pseudonym_of(hub.pupil, hub.supplier)))
    assert answer.status_code == 403, answer.text
    assert minor(answer) == "forbidden"
    assert not Result.objects.exists()


def test_a_line_item_for_a_class_the_supplier_does_not_see_is_unknown(
    launchable: Launchable, rng: random.Random
) -> None:
    hub = launchable
    api, client = gradebook(hub)
    unlicensed_school = load_school(hub.school.board, rng, "99XB", "B")
    other_group = Group.objects.filter(school=unlicensed_school).first()
    assert other_group is not None
    for group_id in (class_id(client, other_group), "onbekend"):
        body = {"lineItem": {"title": "Toets", "class": {"sourcedId": group_id}}}
        answer = api.put("/lineItems/li-2", json=body)
        assert answer.status_code == 404, answer.text
    assert not LineItem.objects.exists()


def test_oversized_and_invalid_bodies_and_wrong_scopes_are_refused(
    launchable: Launchable,
) -> None:
    hub = launchable
    allow_results(hub)
    api, client = gradebook(hub)
    assert line_item(api, client, hub.group).status_code == 201
    pseudonym = pseudonym_of(hub.pupil, hub.supplier)
    huge = api.put("/results/r-1", json=result_body(pseudonym, comment="x" * 70_000))
    assert huge.status_code == 413
    long_comment = api.put("/results/r-1", json=result_body(pseudonym, comment="x" * 1001))
    assert long_comment.status_code == 400
    bad_status = api.put("/results/r-1", json=result_body(pseudonym, scoreStatus="great"))
    assert bad_status.status_code == 400
    other_id = api.put("/results/r-1", json=result_body(pseudonym, sourcedId="r-2"))
    assert other_id.status_code == 400
    assert not Result.objects.exists()

    roster_client, secret = make_client(hub, scopes=(ROSTER_CORE_READ.name,))
    token = token_for(hub.base, roster_client, secret)
    answer = httpx.put(
        f"{hub.base}{ROOT}/results/r-1",
        json=result_body(pseudonym),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 403
    no_token = httpx.put(f"{hub.base}{ROOT}/results/r-1", json=result_body(pseudonym))
    assert no_token.status_code == 401
    assert not Result.objects.exists()


# --- reading back and deleting -------------------------------------------------------------------

READ = GRADEBOOK_READ.name
DELETE = GRADEBOOK_DELETE.name
ALL = (GRADEBOOK, READ, DELETE)


def full_gradebook(hub: Launchable, *, other: bool = False) -> tuple[httpx.Client, OAuthClient]:
    """A client with all three gradebook scopes, and an API client with one token for them."""
    client, secret = make_client(hub, other=other, scopes=ALL)
    token = token_for(hub.base, client, secret, scope=" ".join(ALL))
    api = httpx.Client(base_url=f"{hub.base}{ROOT}", headers={"Authorization": f"Bearer {token}"})
    return api, client


def with_a_result(hub: Launchable) -> tuple[httpx.Client, OAuthClient, str]:
    allow_results(hub)
    api, client = full_gradebook(hub)
    assert line_item(api, client, hub.group).status_code == 201
    pseudonym = pseudonym_of(hub.pupil, hub.supplier)
    answer = api.put("/results/r-1", json=result_body(pseudonym))
    assert answer.status_code == 201, answer.text
    return api, client, pseudonym


def test_a_supplier_reads_back_its_own_line_items_and_results(launchable: Launchable) -> None:
    hub = launchable
    api, client, pseudonym = with_a_result(hub)
    klass = class_id(client, hub.group)
    before = AuditEvent.objects.filter(event_type="gateway.release").count()

    items = api.get("/lineItems")
    assert items.status_code == 200, items.text
    assert [item["sourcedId"] for item in items.json()["lineItems"]] == ["li-1"]
    assert items.json()["lineItems"][0]["class"]["sourcedId"] == klass
    assert items.headers["X-Total-Count"] == "1"
    one = api.get("/lineItems/li-1", params={"fields": "sourcedId,title"})
    assert one.json() == {"lineItem": {"sourcedId": "li-1", "title": "Tafels oefenen"}}
    assert api.get(f"/classes/{klass}/lineItems").json()["lineItems"][0]["sourcedId"] == "li-1"

    result = api.get("/results/r-1").json()["result"]
    assert result["student"]["sourcedId"] == pseudonym
    assert result["lineItem"]["sourcedId"] == "li-1"
    assert (result["score"], result["scoreStatus"], result["scoreDate"]) == (
        8.5,
        "fully graded",
        "2026-11-30",
    )
    student_path = quote(pseudonym, safe="")
    for path in (
        "/results",
        f"/classes/{klass}/results",
        f"/classes/{klass}/lineItems/li-1/results",
        f"/classes/{klass}/students/{student_path}/results",
    ):
        answer = api.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert [item["sourcedId"] for item in answer.json()["results"]] == ["r-1"], path

    filtered = api.get("/results", params={"filter": "scoreStatus='exempt'"})
    assert filtered.json() == {"results": []}
    assert api.get("/results", params={"sort": "student"}).status_code == 400

    releases = AuditEvent.objects.filter(event_type="gateway.release").order_by("pk")[before:]
    assert len(releases) == 5  # one per answer with a result; none for line items or no results
    assert all(event.details["pupils"] == 1 for event in releases)
    assert "results" in releases[0].details["attributes"]
    assert all(pseudonym not in str(event.details) for event in releases)


def test_another_suppliers_ids_are_unknown_and_nothing_is_deleted(launchable: Launchable) -> None:
    hub = launchable
    _, client, _ = with_a_result(hub)
    other, _ = full_gradebook(hub, other=True)
    klass = class_id(client, hub.group)
    for path in ("/lineItems/li-1", "/results/r-1", f"/classes/{klass}/lineItems"):
        answer = other.get(path)
        assert answer.status_code == 404, (path, answer.text)
        assert minor(answer) == "unknownobject"
    for path in ("/lineItems/li-1", "/results/r-1"):
        assert other.delete(path).status_code == 404
    assert other.get("/lineItems").json() == {"lineItems": []}
    assert other.get("/results").json() == {"results": []}
    assert LineItem.objects.count() == Result.objects.count() == 1


def test_reading_and_deleting_need_their_own_scopes(launchable: Launchable) -> None:
    hub = launchable
    _, _, pseudonym = with_a_result(hub)

    def only(scope: str) -> httpx.Client:
        client, secret = make_client(hub, scopes=(scope,))
        token = token_for(hub.base, client, secret, scope=scope)
        return httpx.Client(
            base_url=f"{hub.base}{ROOT}", headers={"Authorization": f"Bearer {token}"}
        )

    writer, reader, deleter = only(GRADEBOOK), only(READ), only(DELETE)
    for answer in (
        writer.get("/results/r-1"),
        writer.delete("/results/r-1"),
        reader.delete("/results/r-1"),
        reader.put("/results/r-1", json=result_body(pseudonym)),
        deleter.get("/results/r-1"),
        deleter.get("/lineItems"),
    ):
        assert answer.status_code == 403, answer.text
        assert minor(answer) == "forbidden"
    assert Result.objects.count() == 1
    assert reader.get("/results/r-1").status_code == 200
    assert deleter.delete("/results/r-1").status_code == 204


def test_deleting_a_result_removes_it_and_is_audited(launchable: Launchable) -> None:
    hub = launchable
    api, _, pseudonym = with_a_result(hub)
    answer = api.delete("/results/r-1")
    assert answer.status_code == 204
    assert answer.content == b""
    assert not Result.objects.exists()
    assert LineItem.objects.count() == 1
    assert api.get("/results/r-1").status_code == 404
    assert api.delete("/results/r-1").status_code == 404
    event = AuditEvent.objects.get(event_type="gateway.result.deleted")
    assert event.subject == f"student:{hub.pupil.pk}"
    assert event.details["with_line_item"] is False
    assert pseudonym not in str(event.details)


def test_deleting_a_line_item_deletes_its_results(launchable: Launchable) -> None:
    hub = launchable
    api, _, _ = with_a_result(hub)
    assert api.delete("/lineItems/li-1").status_code == 204
    assert not LineItem.objects.exists()
    assert not Result.objects.exists()
    assert api.get("/lineItems/li-1").status_code == 404
    event = AuditEvent.objects.get(event_type="gateway.result.deleted")
    assert event.details["with_line_item"] is True
    teacher, staff = make_staff(hub.school.board, hub.school, StaffRole.TEACHER)
    staff.groups.add(hub.group)
    assert "Tafels oefenen" not in client_for(teacher).get("/resultaten/").content.decode()


def test_a_result_for_a_pupil_not_in_the_line_items_class_is_refused(
    launchable: Launchable,
) -> None:
    hub = launchable
    allow_results(hub)
    api, client = full_gradebook(hub)
    other_group = Group.objects.create(
        school=hub.school, las_key="A-G6", name="Groep 6", kind=GroupKind.GROUP
    )
    license_group(hub.product, other_group)  # visible to the supplier, but hub.pupil is not in it
    assert line_item(api, client, other_group).status_code == 201, "the class is visible"
    before = refusals()
    answer = api.put("/results/r-1", json=result_body(pseudonym_of(hub.pupil, hub.supplier)))
    assert answer.status_code == 422, answer.text
    assert minor(answer) == "invaliddata"
    assert not Result.objects.exists()
    assert refusals() == before + 1
    assert not AuditEvent.objects.filter(event_type="gateway.result.received").exists()


def test_without_groups_released_a_result_tells_no_class_membership(
    launchable: Launchable, rng: random.Random
) -> None:
    """A supplier that is not given the pupils' groups cannot learn them by putting results: a
    pupil of the line item's class is refused exactly like a pupil who is not in it."""
    hub = launchable
    allow_results(hub)
    register.set_switch(hub.school, hub.product, "groups", False, user=None)
    outsider = Student.objects.create(
        school=hub.school,
        las_key="A-LL-9999",
        roepnaam="Mees",
        achternaam="Smit",
        eck_id=eck_id(rng),
    )
    register.grant_licence(hub.product, hub.school, school_year(), students=[outsider], user=None)
    api, client = full_gradebook(hub)
    assert line_item(api, client, hub.group).status_code == 201
    answers = [
        api.put("/results/r-1", json=result_body(pseudonym_of(student, hub.supplier)))
        for student in (hub.pupil, outsider)
    ]
    assert [answer.status_code for answer in answers] == [422, 422]
    assert answers[0].json() == answers[1].json()
    assert not Result.objects.exists()


def test_a_line_item_with_results_cannot_move_to_another_class(launchable: Launchable) -> None:
    hub = launchable
    api, client, _ = with_a_result(hub)
    other_group = Group.objects.create(
        school=hub.school, las_key="A-G6", name="Groep 6", kind=GroupKind.GROUP
    )
    license_group(hub.product, other_group)
    answer = line_item(api, client, other_group)
    assert answer.status_code == 422, answer.text
    assert LineItem.objects.get().group_id == hub.group.pk


def test_ids_and_texts_with_nul_are_refused_not_a_server_error(launchable: Launchable) -> None:
    """No database stores NUL: such an id can never be known, such a text never be put."""
    hub = launchable
    api, client, pseudonym = with_a_result(hub)
    for answer in (
        api.get("/lineItems/li%001"),
        api.delete("/results/r%00"),
        api.put(
            "/lineItems/li%002", json={"lineItem": {"title": "x", "class": {"sourcedId": "c"}}}
        ),
        api.put(
            "/lineItems/li-1",
            json={
                "lineItem": {
                    "title": "a\u0000b",
                    "class": {"sourcedId": class_id(client, hub.group)},
                }
            },
        ),
        api.put("/results/r-1", json=result_body(pseudonym, comment="\u0000")),
        api.put("/results/r-1", json=result_body("\u0000")),
        api.put(
            f"/lineItems/{'x' * 256}",
            json={"lineItem": {"title": "x", "class": {"sourcedId": "c"}}},
        ),
    ):
        assert answer.status_code == 400, answer.text
        assert minor(answer) == "invaliddata"
    assert Result.objects.get().comment == "Goed gedaan"
    assert LineItem.objects.get().title == "Tafels oefenen"


def test_a_suppliers_own_ids_with_slashes_work_percent_encoded_in_paths(
    launchable: Launchable,
) -> None:
    """docs/oneroster-rest.md: a supplier's own line-item and result ids may hold any character,
    percent-encoded in a path (a slash as %2F, which the server decodes before routing)."""
    hub = launchable
    allow_results(hub)
    api, client = full_gradebook(hub)
    pseudonym = pseudonym_of(hub.pupil, client.supplier)
    item_id, result_id = "rw/tafels/2026", "https://results.rekenwereld.example/r/1"
    item_path, result_path = quote(item_id, safe=""), quote(result_id, safe="")
    body = {"lineItem": {"title": "Tafels", "class": {"sourcedId": class_id(client, hub.group)}}}
    assert api.put(f"/lineItems/{item_path}", json=body).status_code == 201
    answer = api.put(
        f"/results/{result_path}",
        json=result_body(pseudonym, lineItem={"sourcedId": item_id}),
    )
    assert answer.status_code == 201, answer.text
    assert api.get(f"/lineItems/{item_path}").json()["lineItem"]["sourcedId"] == item_id
    assert api.get(f"/results/{result_path}").json()["result"]["lineItem"]["sourcedId"] == item_id
    klass = class_id(client, hub.group)
    in_class = api.get(f"/classes/{klass}/lineItems/{item_path}/results")
    assert [result["sourcedId"] for result in in_class.json()["results"]] == [result_id]
    unknown = api.get(f"/lineItems/{quote('rw/onbekend', safe='')}")
    assert unknown.status_code == 404
    assert unknown.json()["imsx_codeMajor"] == "failure"  # the binding's answer, not a bare 404
    assert api.delete(f"/results/{result_path}").status_code == 204
    assert api.delete(f"/lineItems/{item_path}").status_code == 204
