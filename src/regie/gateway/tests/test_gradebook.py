"""OneRoster 1.2 gradebook results back against a live hub: a supplier puts a line item and a
result for its own pseudonym of a licensed pupil whose results the policy allows; the teacher of
the pupil's group sees it with the name; everything else is refused, stores nothing and is
audited."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from regie.agreements import services as register
from regie.agreements.models import Processing
from regie.agreements.tests.register import load_school
from regie.audit.models import AuditEvent
from regie.gateway import claims
from regie.gateway.models import LineItem, OAuthClient, Result
from regie.gateway.oneroster.release import SupplierView
from regie.gateway.scopes import GRADEBOOK_CREATEPUT, ROSTER_CORE_READ
from regie.roster.importing.records import StaffRole
from regie.roster.models import Group, GroupKind, Student
from regie.roster.tests.exports import client_for, make_staff

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

    pseudonym = claims.pseudonym(hub.pupil, hub.supplier)
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
    unlicensed = claims.pseudonym(outsider, hub.supplier)
    of_other_supplier = claims.pseudonym(hub.pupil, hub.other_supplier)
    before = refusals()
    for pseudonym in (unlicensed, of_other_supplier, "onbekend-pseudoniem"):
        answer = api.put("/results/r-1", json=result_body(pseudonym))
        assert answer.status_code == 404, answer.text
        assert minor(answer) == "unknownobject"
        assert pseudonym not in answer.text
    unknown_item = api.put(
        "/results/r-1",
        json=result_body(claims.pseudonym(hub.pupil, hub.supplier), lineItem={"sourcedId": "x"}),
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
    answer = api.put("/results/r-1", json=result_body(claims.pseudonym(hub.pupil, hub.supplier)))
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
    pseudonym = claims.pseudonym(hub.pupil, hub.supplier)
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
