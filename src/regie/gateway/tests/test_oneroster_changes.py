"""``dateLastModified`` under the linkage rule (``gateway/oneroster/changes.py``): the day a record
as released to the client last changed — not when the hub's row changed — kept per client in
``ReleasedRecord``, safely when requests of one client run at once."""

from __future__ import annotations

import random
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from regie.agreements import services as register
from regie.agreements.tests.register import (
    license_group,
    make_agreement,
    make_product,
    make_supplier,
)
from regie.gateway.models import OAuthClient, ReleasedRecord
from regie.gateway.oneroster import query
from regie.gateway.oneroster.changes import Ledger, moment
from regie.gateway.oneroster.release import Record, SupplierView
from regie.gateway.scopes import ROSTER_CORE_READ
from regie.gateway.services import register_client
from regie.roster.models import Group, Student
from regie.roster.tests.exports import load_school, make_board

from .test_oneroster_queries import BASE, keep_pseudonyms

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def roster_client(rng: random.Random) -> OAuthClient:
    """A supplier's roster client for a licensed group; pseudonym, groups, year level released."""
    board = make_board()
    school = load_school(board, rng, "99XA", "A", pupils=4)
    supplier = make_supplier()
    product = make_product(supplier)
    attributes = ["supplier_pseudonym", "groups", "year_level"]
    make_agreement(board, supplier, [product], attributes)
    for attribute in attributes[1:]:
        register.set_switch(school, product, attribute, True, user=None)
    license_group(product, Group.objects.get(school=school, las_key="A-G5"))
    client, _ = register_client(
        supplier,
        name="Rooster",
        product=product,
        redirect_uris=[],
        auth_method="client_secret_basic",
        scopes=[ROSTER_CORE_READ.name],
    )
    keep_pseudonyms(client)
    return client


def dates(records: list[Record]) -> dict[str, str]:
    return {record["sourcedId"]: record["dateLastModified"] for record in records}


def synced_days_ago(days: int) -> None:
    ReleasedRecord.objects.update(changed_on=TODAY() - timedelta(days=days))


def test_a_record_keeps_its_day_until_what_is_released_of_it_changes(
    rng: random.Random,
) -> None:
    client = roster_client(rng)
    first = dates(SupplierView(client, BASE).user_records())
    assert set(first.values()) == {moment(TODAY())}
    assert moment(TODAY()) == f"{TODAY().isoformat()}T00:00:00.000Z"
    synced_days_ago(4)
    pupil = Student.objects.filter(groups__las_key="A-G5").order_by("pk").first()
    assert pupil is not None
    pupil.achternaam = "Verhoeven"  # released to nobody
    pupil.save()
    view = SupplierView(client, BASE)
    assert set(dates(view.user_records()).values()) == {moment(TODAY() - timedelta(days=4))}
    enrollments = dates(view.enrollment_records())

    pupil.year_level = "6"  # released: the pupil's record changes, today
    pupil.save()
    view = SupplierView(client, BASE)
    users = {record["_pupil"]: record for record in view.student_records()}
    assert users[pupil.pk]["dateLastModified"] == moment(TODAY())
    assert users[pupil.pk]["grades"] == ["6"]
    others = {record["dateLastModified"] for pk, record in users.items() if pk != pupil.pk}
    assert others == {moment(TODAY() - timedelta(days=4))}
    assert dates(view.enrollment_records()) == enrollments  # what they release did not change


def test_where_the_api_is_reached_is_no_part_of_what_changed(rng: random.Random) -> None:
    client = roster_client(rng)
    SupplierView(client, BASE).enrollment_records()
    synced_days_ago(2)
    elsewhere = SupplierView(client, "https://proxy.regie.example/ims/oneroster/rostering/v1p2")
    records = elsewhere.enrollment_records()
    assert records[0]["user"]["href"].startswith("https://proxy.regie.example/")
    assert set(dates(records).values()) == {moment(TODAY() - timedelta(days=2))}


def test_each_client_keeps_its_own_days(rng: random.Random) -> None:
    client = roster_client(rng)
    SupplierView(client, BASE).user_records()
    synced_days_ago(2)
    second, _ = register_client(
        client.supplier,
        name="Rooster 2",
        product=client.product,
        redirect_uris=[],
        auth_method="client_secret_basic",
        scopes=[ROSTER_CORE_READ.name],
    )
    assert set(dates(SupplierView(second, BASE).user_records()).values()) == {moment(TODAY())}
    assert set(dates(SupplierView(client, BASE).user_records()).values()) == {
        moment(TODAY() - timedelta(days=2))
    }


def test_two_requests_keeping_the_same_new_records_at_once_do_not_conflict(
    rng: random.Random,
) -> None:
    """Both requests read what was kept before either writes (the race of two requests of one
    client): the second write meets the first one's rows and takes them over, no error."""
    client = roster_client(rng)
    records = SupplierView(client, BASE).student_records()
    ReleasedRecord.objects.all().delete()  # as if nothing had been kept yet
    ledgers = [Ledger(client, BASE, TODAY()) for _ in range(2)]
    for ledger in ledgers:
        ledger.date("users", [])  # each has read the (empty) state
    for ledger in ledgers:
        ledger.date("users", [dict(record) for record in records])
    assert ReleasedRecord.objects.filter(client=client, kind="user").count() == len(records)

    changed = [{**record, "grades": ["7"]} for record in records]
    later = [Ledger(client, BASE, TODAY() + timedelta(days=1)) for _ in range(2)]
    for ledger in later:
        ledger.date("users", [])
    for ledger in later:
        ledger.date("users", [dict(record) for record in changed])
    kept = ReleasedRecord.objects.filter(client=client, kind="user")
    assert set(kept.values_list("changed_on", flat=True)) == {TODAY() + timedelta(days=1)}
    assert kept.count() == len(records)


def test_what_is_no_longer_given_is_forgotten(rng: random.Random) -> None:
    client = roster_client(rng)
    view = SupplierView(client, BASE)
    enrollments = view.enrollment_records()
    assert ReleasedRecord.objects.filter(kind="enrollment").count() == len(enrollments)
    pupil = Student.objects.filter(groups__las_key="A-G5").order_by("pk").first()
    assert pupil is not None
    pupil.groups.clear()  # the pupil leaves the licensed group: no enrollment of theirs is given
    view = SupplierView(client, BASE)
    view.student_enrollment_records()  # a part of the collection: nothing is forgotten
    assert ReleasedRecord.objects.filter(kind="enrollment").count() == len(enrollments)
    left = view.enrollment_records()
    assert len(left) < len(enrollments)
    assert ReleasedRecord.objects.filter(kind="enrollment").count() == len(left)


def changed_since(records: list[Record], expression: str) -> set[str]:
    found = query.parse_filter(expression, ["dateLastModified"])
    assert found is not None
    return {record["sourcedId"] for record in records if found.matches(record)}


def test_a_delta_after_a_moment_includes_the_day_of_that_moment(rng: random.Random) -> None:
    """A day-precise dateLastModified compared with a moment holds when some moment of that day
    would: a client that syncs twice a day with ``>`` its last sync misses no change, and one that
    keeps the greatest dateLastModified as its cursor gets that day again."""
    client = roster_client(rng)
    SupplierView(client, BASE).student_records()
    synced_days_ago(3)
    last_sync = timezone.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    pupil = Student.objects.filter(groups__las_key="A-G5").order_by("pk").first()
    assert pupil is not None
    pupil.year_level = "6"
    pupil.save()
    records = SupplierView(client, BASE).student_records()
    changed = {record["sourcedId"] for record in records if record["_pupil"] == pupil.pk}
    # As text, `today` looks older than the last sync (except in the hours when the hub's date is
    # ahead of UTC's): compared day by day, the change is found at every hour.
    today = moment(TODAY())
    assert changed_since(records, f"dateLastModified>'{last_sync}'") == changed
    assert changed_since(records, f"dateLastModified>='{last_sync}'") == changed
    assert changed_since(records, f"dateLastModified>'{today}'") == changed
    assert changed_since(records, f"dateLastModified>'{TODAY().isoformat()}'") == changed
    everyone = {record["sourcedId"] for record in records}
    assert changed_since(records, f"dateLastModified<'{last_sync}'") == everyone
    assert changed_since(records, f"dateLastModified<'{TODAY().isoformat()}'") == everyone - changed
    assert changed_since(records, f"dateLastModified='{today}'") == changed
