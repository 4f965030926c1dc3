"""Rights requests as services: the legal deadline across month ends, who may file, the rate
limit, the fan-out to suppliers, closing only with every supplier's receipt (real HTTP delivery
to live supplier endpoints, signed receipts), a supplier that refuses with a statement, one that
never answers, a receipt that fails verification, the privacy officer's decisions."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from joserfc.jwk import ECKey

from regie.agreements.services import Refused
from regie.audit.models import AuditEvent
from regie.gateway.models import LineItem, Result
from regie.orders import services as orders
from regie.orders.models import Order, OrderState
from regie.roster.models import Student

from .. import requests
from ..jobs import flag_overdue_requests
from ..models import (
    Notification,
    RequestKind,
    RequestOrder,
    RequestState,
    RightsRequest,
)
from ..services import recipients
from .requests_world import (  # noqa: F401  (hub_keys is a fixture)
    STATEMENT,
    World,
    deliver_all,
    hub_keys,
    make_world,
    order_of,
    receipt,
)

D = dt.date


@pytest.fixture
def world(db: None, settings: LazySettings, hub_keys: Path, rng: random.Random) -> Iterator[World]:  # noqa: F811
    yield from make_world(settings, hub_keys, rng)


# --- deadlines -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "deadline"),
    [
        (D(2027, 1, 15), D(2027, 2, 15)),
        (D(2027, 1, 31), D(2027, 2, 28)),  # February has no 31st: its last day
        (D(2028, 1, 31), D(2028, 2, 29)),  # a leap year
        (D(2028, 1, 30), D(2028, 2, 29)),
        (D(2028, 2, 29), D(2028, 3, 29)),  # from the leap day: the same number next month
        (D(2027, 3, 31), D(2027, 4, 30)),
        (D(2027, 5, 31), D(2027, 6, 30)),
        (D(2026, 12, 15), D(2027, 1, 15)),  # over the year end
        (D(2026, 12, 31), D(2027, 1, 31)),
    ],
)
def test_the_deadline_is_one_month_after_receipt(received: dt.date, deadline: dt.date) -> None:
    assert requests.deadline_for(received) == deadline


@pytest.mark.parametrize(
    ("received", "months", "extended"),
    [
        (D(2027, 3, 31), 1, D(2027, 5, 30)),  # 30 April + 1: counted from the deadline
        (D(2027, 3, 31), 2, D(2027, 6, 30)),
        (D(2027, 1, 31), 1, D(2027, 3, 28)),  # 28 February + 1
        (D(2027, 12, 31), 2, D(2028, 3, 31)),  # 31 January 2028 + 2, over the year end
        (D(2027, 11, 30), 2, D(2028, 2, 29)),  # 30 December + 2 → the leap day
        (D(2026, 11, 30), 2, D(2027, 2, 28)),  # 30 December + 2 → the last of February
    ],
)
def test_an_extension_counts_one_or_two_months_from_the_deadline(
    received: dt.date, months: int, extended: dt.date
) -> None:
    deadline = requests.deadline_for(received)
    assert requests.extended_deadline(deadline, months) == extended
    # the whole term is at most three months from receipt
    assert extended <= requests.add_months(received, 3)


@pytest.mark.parametrize("months", [0, 3, -1])
def test_an_extension_is_one_or_two_months(months: int) -> None:
    with pytest.raises(Refused):
        requests.extended_deadline(D(2027, 4, 30), months)


# --- filing --------------------------------------------------------------------------------------


def nothing_stored() -> None:
    assert RightsRequest.objects.count() == 0
    assert Order.objects.count() == 0
    assert Notification.objects.count() == 0
    assert not AuditEvent.objects.filter(event_type="portal.request.filed").exists()


def test_a_request_about_a_child_the_login_does_not_act_for_is_refused(world: World) -> None:
    with pytest.raises(Refused) as refused:
        requests.file(world.other_child, RequestKind.ERASURE, world.guardian, "")
    assert (
        refused.value.reason
        == "Met dit account kan geen verzoek over deze leerling worden ingediend."
    )
    stranger = User.objects.create_user(username="iemand", password="fictief-wachtwoord-123")
    with pytest.raises(Refused):
        requests.file(world.child, RequestKind.ACCESS, stranger, "")
    nothing_stored()


def test_a_guardian_removed_from_the_child_can_no_longer_file(world: World) -> None:
    world.child.guardians.update(is_active=False)
    with pytest.raises(Refused):
        requests.file(world.child, RequestKind.ACCESS, world.guardian, "")
    nothing_stored()


def test_requests_are_rate_limited_per_login(world: World, settings: LazySettings) -> None:
    settings.PORTAL_REQUESTS_PER_DAY = 2
    first = requests.file(world.child, RequestKind.RECTIFICATION, world.guardian, "naam")
    requests.file(world.child, RequestKind.RECTIFICATION, world.guardian, "geboortedatum")
    with pytest.raises(Refused) as refused:
        requests.file(world.child, RequestKind.ERASURE, world.guardian, "")
    assert "in de afgelopen 24 uur al 2 verzoeken ingediend" in refused.value.reason
    assert RightsRequest.objects.count() == 2
    assert Order.objects.count() == 0
    # a day later the first no longer counts
    RightsRequest.objects.filter(pk=first.pk).update(
        received_at=timezone.now() - dt.timedelta(hours=25)
    )
    requests.file(world.child, RequestKind.RECTIFICATION, world.guardian, "adres")
    assert RightsRequest.objects.count() == 3


def test_the_recipients_are_the_suppliers_in_the_log_and_those_holding_a_pseudonym(
    world: World,
) -> None:
    names = [supplier.name for supplier in recipients(world.child)]
    assert names == ["Oefenplein (fictief)", "Rekenwereld (fictief)", "Taalrijk (fictief)"]
    # the other child was released to nobody; two suppliers hold its pseudonym
    assert [s.name for s in recipients(world.other_child)] == names[1:]


@pytest.mark.parametrize(
    ("kind", "order_type", "basis"),
    [
        (RequestKind.ACCESS, "access", "AVG art. 15"),
        (RequestKind.ERASURE, "erasure", "AVG art. 17"),
        (RequestKind.RESTRICTION, "restriction", "AVG art. 18"),
        (RequestKind.OBJECTION, "objection", "AVG art. 21"),
    ],
)
def test_a_request_fans_out_one_order_per_recipient(
    world: World, kind: str, order_type: str, basis: str
) -> None:
    rr = requests.file(world.child, kind, world.guardian, "")
    assert rr.state == RequestState.IN_PROGRESS
    assert rr.deadline == requests.deadline_for(timezone.localdate())
    sent = Order.objects.filter(rights_request_link__request=rr).order_by("supplier__name")
    assert [order.supplier for order in sent] == [party.supplier for party in world.parties]
    assert {(o.type, o.legal_basis, o.deadline) for o in sent} == {(order_type, basis, rr.deadline)}
    assert all(list(order.students.all()) == [world.child] for order in sent)
    # the supplier the hub cannot send to gets a line with the reason, shown to the requester
    missing = RequestOrder.objects.get(request=rr, supplier=world.released_only)
    assert (missing.order, missing.not_sent_reason) == (None, requests.NO_ENDPOINT)
    mail = Notification.objects.get(kind="request_received")
    assert mail.to == "ouder0.a@ouders.example"
    assert f"/portaal/verzoeken/{rr.pk}/" in mail.body
    assert AuditEvent.objects.get(event_type="portal.request.filed").details == {
        "kind": kind,
        "orders": 2,
        "deadline": rr.deadline.isoformat(),
    }


def test_a_rectification_sends_no_order_and_waits_for_the_school(world: World) -> None:
    rr = requests.file(world.child, RequestKind.RECTIFICATION, world.guardian, "Naam klopt niet")
    assert rr.state == RequestState.RECEIVED
    assert not rr.fan_out.exists()
    assert Order.objects.count() == 0
    officer = User.objects.create_user(username="fg", password="fictief-wachtwoord-123")
    rr = requests.mark_rectified(rr, officer)
    assert rr.state == RequestState.COMPLETED
    assert rr.decision == "gecorrigeerd in de leerlingadministratie"
    assert Notification.objects.filter(kind="request_completed", request=rr).count() == 1


# --- closing with the receipts -------------------------------------------------------------------


def state_of(rr: RightsRequest) -> str:
    return RightsRequest.objects.get(pk=rr.pk).state


def post_receipt(token: str) -> int:
    return int(
        Client().post("/orders/receipts", data=token, content_type="application/jose").status_code
    )


def test_the_request_closes_only_when_every_supplier_sent_its_completed_receipt(
    world: World,
) -> None:
    first, second = world.parties
    second.stub.mode = "later"  # takes the order, acts later
    rr = requests.file(world.child, RequestKind.ERASURE, world.guardian, "")
    deliver_all(rr)  # real HTTP to both endpoints; the first answers with signed receipts
    assert order_of(rr, first).state == OrderState.COMPLETED
    assert order_of(rr, second).state == OrderState.SENT
    assert state_of(rr) == RequestState.IN_PROGRESS
    assert not Notification.objects.filter(kind="request_completed").exists()

    later = order_of(rr, second)
    assert post_receipt(receipt(second, later, "accepted")) == 202
    assert state_of(rr) == RequestState.IN_PROGRESS
    assert post_receipt(receipt(second, later, "completed")) == 202
    # The supplier the hub could not send an order to received data all the same: only the
    # privacy officer's recorded decision settles its part.
    assert state_of(rr) == RequestState.IN_PROGRESS
    settle_by_hand(world, rr)
    rr.refresh_from_db()
    assert rr.state == RequestState.COMPLETED
    assert rr.closed_at is not None
    assert Notification.objects.filter(kind="request_completed", request=rr).count() == 1
    steps = list(rr.steps.values_list("what", flat=True))
    assert steps[0] == "received"
    assert steps[-1] == "completed"
    assert steps.count("supplier_completed") == 2
    # the hub erased what it may, and says what it keeps and why
    assert [(item["what"], item["done"]) for item in rr.hub_outcome] == [
        ("results", True),
        ("enrolment", False),
        ("consents", False),
        ("log", False),
    ]


def settle_by_hand(world: World, rr: RightsRequest) -> None:
    """The privacy officer records what the supplier without an order address answered."""
    officer = User.objects.filter(username="fg-hand").first() or User.objects.create_user(
        username="fg-hand", password="fictief-wachtwoord-123"
    )
    requests.refuse_supplier(
        rr,
        world.released_only,
        "Per brief gevraagd; de leverancier bevestigde de verwijdering op 1 december.",
        officer,
    )


def test_a_guardian_the_next_import_removes_loses_access_and_their_open_request_goes_on(
    world: World,
) -> None:
    rr = requests.file(world.child, RequestKind.ERASURE, world.guardian, "")
    guardian_page = reverse("portal:request", args=[rr.pk])
    guardian = Client()
    guardian.force_login(world.guardian)
    assert guardian.get(guardian_page).status_code == 200
    world.child.guardians.update(is_active=False)  # as the importer marks a guardian who left
    assert guardian.get(guardian_page).status_code == 404  # access ends at once
    deliver_all(rr)  # the suppliers still act on the request for the child
    settle_by_hand(world, rr)
    assert state_of(rr) == RequestState.COMPLETED
    assert Order.objects.filter(rights_request_link__request=rr, state="completed").count() == 2


def test_a_refusal_with_a_statement_closes_that_suppliers_part(world: World) -> None:
    first, second = world.parties
    first.stub.mode = "refuse"
    rr = requests.file(world.child, RequestKind.ERASURE, world.guardian, "")
    deliver_all(rr)
    settle_by_hand(world, rr)
    rr.refresh_from_db()
    assert rr.state == RequestState.COMPLETED
    parts = {part.supplier: part for part in requests.parts(rr)}
    assert parts[first.supplier].order is not None
    assert parts[first.supplier].order.state == OrderState.REFUSED  # type: ignore[union-attr]
    assert parts[first.supplier].statement == STATEMENT
    assert parts[second.supplier].statement == "Alle gegevens over deze leerlingen zijn vernietigd."


def test_a_receipt_that_fails_verification_changes_nothing(world: World) -> None:
    first, second = world.parties
    second.stub.mode = "later"
    rr = requests.file(world.child, RequestKind.ERASURE, world.guardian, "")
    deliver_all(rr)
    order = order_of(rr, second)
    steps = rr.steps.count()
    forger = ECKey.generate_key("P-256", parameters={"kid": "lev-1"}, private=True)
    forged = receipt(second, order, "completed", private_jwk=forger.as_dict(private=True))
    assert post_receipt(forged) == 400
    # another supplier's receipt for this order: refused too
    assert post_receipt(receipt(first, order, "completed")) == 400
    assert order_of(rr, second).state == OrderState.SENT
    rr.refresh_from_db()
    assert rr.state == RequestState.IN_PROGRESS
    assert rr.steps.count() == steps
    assert not Notification.objects.filter(kind="request_completed").exists()


def test_a_supplier_that_never_answers_makes_the_request_overdue_and_the_guardian_is_told_once(
    world: World,
) -> None:
    for party in world.parties:
        party.stub.mode = "later"
    rr = requests.file(world.child, RequestKind.ACCESS, world.guardian, "")
    deliver_all(rr)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    RightsRequest.objects.filter(pk=rr.pk).update(deadline=yesterday)
    Order.objects.filter(rights_request_link__request=rr).update(deadline=yesterday)
    assert orders.chase() == 2
    parts = requests.parts(RightsRequest.objects.get(pk=rr.pk))
    assert [part.late for part in parts] == [False, True, True]  # the one not sent is not late
    assert rr.steps.filter(what="supplier_overdue").count() == 2

    assert requests.flag_overdue() == 1
    assert requests.flag_overdue() == 0  # once
    told = Notification.objects.filter(kind="request_overdue", request=rr)
    assert told.count() == 1
    assert told.get().to == "ouder0.a@ouders.example"
    assert AuditEvent.objects.filter(event_type="portal.request.overdue").count() == 1
    assert state_of(rr) == RequestState.IN_PROGRESS
    assert requests.is_overdue(RightsRequest.objects.get(pk=rr.pk))


# --- the privacy officer's decisions -------------------------------------------------------------


def test_the_deadline_is_extended_once_with_a_reason(world: World) -> None:
    officer = User.objects.create_user(username="fg", password="fictief-wachtwoord-123")
    for party in world.parties:
        party.stub.mode = "later"
    rr = requests.file(world.child, RequestKind.ACCESS, world.guardian, "")
    with pytest.raises(Refused):
        requests.extend(rr, 1, "  ", officer)  # a reason is required
    rr = requests.extend(rr, 2, "Veel leveranciers", officer)
    assert rr.extended_to == requests.extended_deadline(rr.deadline, 2)
    assert rr.extension_reason == "Veel leveranciers"
    with pytest.raises(Refused) as refused:
        requests.extend(rr, 1, "Nog meer tijd", officer)
    assert "maar één keer" in refused.value.reason
    event = AuditEvent.objects.get(event_type="portal.request.extended")
    assert (event.actor, event.details["months"]) == (f"user:{officer.pk}", 2)
    mail = Notification.objects.get(kind="request_extended")
    assert "Veel leveranciers" in mail.body


def test_a_reasoned_refusal_for_a_supplier_settles_its_part(world: World) -> None:
    officer = User.objects.create_user(username="fg", password="fictief-wachtwoord-123")
    _first, second = world.parties
    second.stub.mode = "later"
    rr = requests.file(world.child, RequestKind.ERASURE, world.guardian, "")
    deliver_all(rr)
    assert state_of(rr) == RequestState.IN_PROGRESS
    with pytest.raises(Refused):
        requests.refuse_supplier(rr, second.supplier, "", officer)
    requests.refuse_supplier(rr, second.supplier, "Wettelijke bewaarplicht", officer)
    assert state_of(rr) == RequestState.IN_PROGRESS  # the supplier without an order address
    settle_by_hand(world, rr)
    rr.refresh_from_db()
    assert rr.state == RequestState.COMPLETED
    part = next(p for p in requests.parts(rr) if p.supplier == second.supplier)
    assert part.officer_refusal == "Wettelijke bewaarplicht"
    assert part.settled
    event = AuditEvent.objects.filter(event_type="portal.request.supplier_refused").first()
    assert event is not None
    assert event.details == {"supplier": second.supplier.pk}
    assert event.actor == f"user:{officer.pk}"


def test_the_whole_request_may_be_refused_with_a_reason(world: World) -> None:
    officer = User.objects.create_user(username="fg", password="fictief-wachtwoord-123")
    rr = requests.file(world.child, RequestKind.OBJECTION, world.guardian, "")
    rr = requests.refuse(rr, "Het gebruik is nodig voor het onderwijs.", officer)
    assert (rr.state, rr.decision) == (
        RequestState.REFUSED,
        "Het gebruik is nodig voor het onderwijs.",
    )
    with pytest.raises(Refused):
        requests.extend(rr, 1, "te laat", officer)  # closed
    closed = AuditEvent.objects.get(event_type="portal.request.closed")
    assert (closed.actor, closed.details) == (f"user:{officer.pk}", {"state": "refused"})


def test_the_periodic_job_flags_requests_past_their_deadline_on_its_day(world: World) -> None:
    rr = requests.file(world.child, RequestKind.RECTIFICATION, world.guardian, "naam")
    due = dt.datetime.combine(rr.deadline, dt.time(12), tzinfo=dt.UTC)
    flag_overdue_requests(timestamp=int(due.timestamp()))  # on the deadline: not late yet
    assert not rr.steps.filter(what="overdue").exists()
    flag_overdue_requests(timestamp=int((due + dt.timedelta(days=1)).timestamp()))
    assert rr.steps.filter(what="overdue").count() == 1
    assert Notification.objects.filter(kind="request_overdue").count() == 1


def test_an_erasure_erases_the_childs_results_at_the_hub_and_no_one_elses(world: World) -> None:
    supplier = world.parties[0].supplier
    group = world.child.groups.order_by("pk").first()
    assert group is not None
    item = LineItem.objects.create(
        supplier=supplier, sourced_id="li-1", group=group, title="Tafels van 7"
    )
    for number, student in enumerate((world.child, world.child, world.other_child)):
        Result.objects.create(
            supplier=supplier,
            sourced_id=f"r-{number}",
            line_item=item,
            student=student,
            score=7.5,
            score_status="fully graded",
        )
    rr = requests.file(world.child, RequestKind.ERASURE, world.guardian, "")
    assert not Result.objects.filter(student=world.child).exists()
    assert Result.objects.filter(student=world.other_child).count() == 1
    assert rr.hub_outcome[0] == {"what": "results", "done": True, "why": "erased", "count": 2}
    # the enrolment is kept while the pupil is at school
    assert Student.objects.filter(pk=world.child.pk).exists()
