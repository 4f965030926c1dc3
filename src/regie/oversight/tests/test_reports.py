"""The aggregate report: its counts against data made through the hub's own paths, small-count
suppression, canonical JSON, the signature, and the sequence."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random

import pytest
import rfc8785
from django.utils import timezone
from joserfc.jwk import ECKey

from regie.agreements.services import record_consent
from regie.agreements.services.school import decides_own_consent
from regie.audit.models import AuditEvent
from regie.audit.services import client_actor, record
from regie.gateway import events as gateway_events
from regie.gateway.services import register_client
from regie.orders.models import OrderType, Receipt, SupplierEndpoint
from regie.orders.services import create_order
from regie.portal.models import RequestState, RightsRequest
from regie.roster.models import Student
from regie.transparency import keys

from .. import reports
from ..models import AggregateReport
from .world import World, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(rng: random.Random) -> World:
    return make_world(rng)


def today_period(days: int = 7) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    return today - dt.timedelta(days=days - 1), today


def only_board(obj: dict[str, object]) -> dict[str, object]:
    boards = obj["boards"]
    assert isinstance(boards, list)
    assert len(boards) == 1
    board = boards[0]
    assert isinstance(board, dict)
    return board


def test_suppression_hides_1_to_4_and_keeps_0_and_5_up() -> None:
    assert [reports.suppress(n) for n in range(7)] == [0, None, None, None, None, 5, 6]
    assert reports.suppress(1234) == 1234


def release(world: World, student: Student, attributes: list[str]) -> None:
    """A release to the supplier as ``gateway.claims`` records it (the OIDC channel)."""
    client = world.supplier.clients.first() if hasattr(world.supplier, "clients") else None
    record(
        gateway_events.RELEASE,
        client_actor(client) if client is not None else f"client:{world.supplier.pk}",
        f"student:{student.pk}",
        {
            "channel": "oidc",
            "supplier": world.supplier.pk,
            "product": world.product.pk,
            "attributes": attributes,
        },
    )


def consent(world: World, student: Student, given: bool, at: dt.datetime) -> None:
    guardian = None if decides_own_consent(student) else student.guardians.first()
    record_consent(student, world.product, "first_name", given, guardian=guardian, user=None, at=at)


def test_the_counts_come_from_the_hub_and_its_log(world: World) -> None:
    now = timezone.now()
    pupils = world.students
    assert len(pupils) == 7
    # Coverage: 7 active pupils, 5 with an ECK iD (two without).
    Student.objects.filter(pk__in=[p.pk for p in pupils]).update(eck_id="https://nv.example/1/x")
    Student.objects.filter(pk__in=[p.pk for p in pupils[:2]]).update(eck_id="")
    # Releases: first name of 5 pupils (one twice), groups of 2, the pseudonym alone of 1.
    for student in pupils[:5]:
        release(world, student, ["supplier_pseudonym", "first_name"])
    release(world, pupils[0], ["first_name", "supplier_pseudonym"])
    for student in pupils[:2]:
        release(world, student, ["supplier_pseudonym", "groups"])
    release(world, pupils[6], ["supplier_pseudonym"])
    # Consents: 6 given an hour ago, one of them withdrawn now → 5 in force, 1 withdrawn.
    for student in pupils[:6]:
        consent(world, student, True, now - dt.timedelta(hours=1))
    consent(world, pupils[0], False, now)
    # Requests: 5 closed after 2, 3, 4, 10 and 20 days; one open past its deadline.
    for days, student in zip((2, 3, 4, 10, 20), pupils, strict=False):
        RightsRequest.objects.create(
            board=world.board,
            student=student,
            kind="access",
            filed_as="guardian",
            received_at=now - dt.timedelta(days=days),
            deadline=timezone.localdate() + dt.timedelta(days=20),
            state=RequestState.COMPLETED,
            closed_at=now,
        )
    RightsRequest.objects.create(
        board=world.board,
        student=pupils[6],
        kind="access",
        filed_as="guardian",
        received_at=now - dt.timedelta(days=40),
        deadline=timezone.localdate() - dt.timedelta(days=9),
    )
    # Orders: answered on time, answered late, outstanding and overdue, outstanding not yet due.
    SupplierEndpoint.objects.create(supplier=world.supplier, url="https://rekenwereld.example/o")
    today = timezone.localdate()
    orders = [
        create_order(
            type=OrderType.ACCESS,
            supplier=world.supplier,
            students=[pupils[index]],
            legal_basis="AVG art. 15",
            deadline=today + dt.timedelta(days=offset),
        )
        for index, offset in ((0, 5), (1, -1), (2, -1), (3, 5))
    ]
    key = ECKey.generate_key("P-256", parameters={"kid": "rapport"}, private=True)
    client, _ = register_client(
        world.supplier,
        name="Rekenwereld (fictief)",
        redirect_uris=["https://rekenwereld.example/callback"],
        jwks={"keys": [key.as_dict(private=False)]},
    )
    for order in orders[:2]:
        Receipt.objects.create(
            order=order,
            supplier=world.supplier,
            client=client,
            status="completed",
            jti=f"jti-{order.pk}",
            token="x.y.z",
            issued_at=now,
            verified_at=now,
            received_via="api",
        )

    obj = reports.build(*today_period(), now=now, sequence=1)
    board = only_board(obj)
    kvk = world.supplier.kvk
    assert board["board"] == {"name": world.board.name, "number": "41017", "sectors": ["po"]}
    assert board["pupils"] == {"active": 7, "with_pseudonym": 5}
    assert board["agreements"] == [
        {"supplier": kvk, "status": "active", "count": 1},
        {"supplier": world.other.kvk, "status": "draft", "count": 1},
    ]
    assert board["releases_beyond_pseudonym"] == [
        {"supplier": kvk, "attribute": "first_name", "category": "user.name.first", "pupils": 5},
        {
            "supplier": kvk,
            "attribute": "groups",
            "category": board_category("groups"),
            "pupils": None,
        },
    ]
    assert board["consents"] == {"in_force": 5, "withdrawn_in_period": None}
    assert board["requests"] == {
        "open": None,
        "closed_in_period": 5,
        "overdue": None,
        "median_days": 4.0,
    }
    assert board["receipts"] == [
        {
            "supplier": kvk,
            "orders_in_period": 4,
            "on_time": 1,
            "late": 1,
            "outstanding": 2,
            "overdue": 1,
        }
    ]
    assert board["retention"] == {
        "runs_in_period": 0,
        "pupils_deleted_in_period": 0,
        "receipts_outstanding": 0,
        "receipts_overdue": 0,
    }
    assert board["canaries"] == []
    assert board["incidents"] == {
        "registered_in_period": 0,
        "open": 0,
        "notified": 0,
        "notified_in_time": 0,
        "not_notified": 0,
        "by_source": [],
    }
    assert obj["suppliers"] == [
        {"kvk": kvk, "name": world.supplier.name, "convenant": world.supplier.convenant_status},
        {
            "kvk": world.other.kvk,
            "name": world.other.name,
            "convenant": world.other.convenant_status,
        },
    ]
    assert obj["hub"] == keys.origin()
    assert obj["suppression"]["k"] == 5

    # A period that ended yesterday saw none of today's releases, consents or orders.
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    earlier = only_board(reports.build(yesterday - dt.timedelta(days=6), yesterday, now=now))
    assert earlier["releases_beyond_pseudonym"] == []
    assert earlier["receipts"] == []
    assert earlier["consents"] == {"in_force": 5, "withdrawn_in_period": 0}


def board_category(attribute: str) -> str:
    from regie.agreements import catalogue

    return catalogue.CATALOGUE[attribute].category.key


def test_the_note_is_canonical_json_signed_by_the_log_key(world: World) -> None:
    now = timezone.now()
    obj = reports.build(*today_period(), now=now, sequence=3)
    note = reports.sign(obj)
    header, line, rest = note.split("\n", 2)
    assert header == "regie aggregate report v1"
    assert line.encode() == rfc8785.dumps(json.loads(line))
    assert rest.startswith("\n\u2014 ")  # the signature block after the blank line
    assert reports.verify(note, keys.verifier()) == obj
    # One byte changed anywhere in the text: the signature fails.
    changed = note.replace('"sequence":3', '"sequence":4')
    assert changed != note
    with pytest.raises(reports.ReportInvalid):
        reports.verify(changed, keys.verifier())
    # Another key (another hub's) does not verify it.
    from regie.audit import signed_note

    stranger = signed_note.generate_signer(keys.origin()).verifier
    with pytest.raises(reports.ReportInvalid):
        reports.verify(note, stranger)


def test_a_report_is_kept_logged_and_numbered_once_per_period(world: World) -> None:
    now = timezone.now()
    start, end = today_period()
    first = reports.make(start, end, now=now)
    again = reports.make(start, end, now=now + dt.timedelta(hours=1))
    assert again.pk == first.pk
    assert again.note == first.note
    second = reports.make(start - dt.timedelta(days=7), end - dt.timedelta(days=7), now=now)
    assert (first.sequence, second.sequence) == (1, 2)
    assert AggregateReport.objects.count() == 2
    assert first.sha256 == hashlib.sha256(first.note.encode()).hexdigest()
    obj = reports.verify(first.note, keys.verifier())
    assert obj["sequence"] == 1
    assert obj["issued_at"] == now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    published = AuditEvent.objects.filter(event_type="oversight.report.published").order_by("pk")
    assert [event.details for event in published] == [
        {
            "sequence": 1,
            "sha256": first.sha256,
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
        },
        {
            "sequence": 2,
            "sha256": second.sha256,
            "period_start": (start - dt.timedelta(days=7)).isoformat(),
            "period_end": (end - dt.timedelta(days=7)).isoformat(),
        },
    ]


def test_a_period_must_not_end_before_it_starts(world: World) -> None:
    today = timezone.localdate()
    with pytest.raises(ValueError, match="starts on or before"):
        reports.build(today, today - dt.timedelta(days=1), now=timezone.now())


def test_a_oneroster_read_counts_the_pupils_it_served(world: World) -> None:
    """A OneRoster read is one event about many pupils (their ids in ``students``): the report
    counts them as the breach register does (one reader of the log, ``oversight.releases``)."""
    pupils = world.students
    record(
        gateway_events.RELEASE,
        f"client:{world.supplier.pk}",
        f"supplier:{world.supplier.pk}",
        {
            "channel": "oneroster",
            "supplier": world.supplier.pk,
            "products": [world.product.pk],
            "pupils": 6,
            "students": sorted(p.pk for p in pupils[:6]),
            "attributes": ["first_name", "supplier_pseudonym"],
            "staff": 0,
            "staff_attributes": [],
        },
    )
    board = only_board(reports.build(*today_period(), now=timezone.now()))
    assert board["releases_beyond_pseudonym"] == [
        {
            "supplier": world.supplier.kvk,
            "attribute": "first_name",
            "category": "user.name.first",
            "pupils": 6,
        }
    ]
