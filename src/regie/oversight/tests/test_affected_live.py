"""The affected pupils against the log of a live hub: releases made through the gateway's real
paths — a pupil's single sign-on launch and a supplier's OneRoster read, over HTTP — and then an
incident registered for the supplier and a window: the computed set is exactly the pupils (and
categories) that went to this supplier in that window, and nothing outside the window, from
another supplier or of another board. The same releases make a supplier's signed breach report
open incidents at exactly the boards concerned."""

from __future__ import annotations

import random
import time
from typing import Any

import httpx
import pytest
from django.utils import timezone
from joserfc.jwk import ECKey

from regie.audit.models import AuditEvent
from regie.core import datacategories as dc
from regie.gateway.models import SupplierPseudonym
from regie.gateway.services import register_client
from regie.gateway.tests.conftest import (  # noqa: F401  (fixtures)
    Launchable,
    launchable,
    oidc_keys_dir,
    oidc_keys_in_settings,
)
from regie.gateway.tests.test_oidc_bad_input import register
from regie.gateway.tests.test_oidc_client import logged_in
from regie.gateway.tests.test_oneroster_rest import Roster, build_roster, core, token_for
from regie.lib import supplier_orders

from .. import incidents
from ..models import Incident

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),  # the number service's batches, for the pseudonyms
]


def launch(live: Launchable) -> dict[str, Any]:
    """The pupil launches the supplier's product (authorization code flow, then userinfo)."""
    session = logged_in(live.base, live.pupil_user.username)
    rp = register(live)
    tokens = rp.tokens(session)
    info = rp.userinfo(tokens["access_token"])
    assert info.status_code == 200
    claims: dict[str, Any] = info.json()
    return claims


def pupils_read(roster: Roster, *, other: bool = False) -> dict[int, dict[str, Any]]:
    """A OneRoster read of the pupils; per pupil (internal id, by its pseudonym) the record."""
    if other:
        api = roster.api(token_for(roster.hub.base, roster.other_client, roster.other_secret))
        supplier = roster.hub.other_supplier
    else:
        api = core(roster)
        supplier = roster.hub.supplier
    answer = api.get("/students", params={"limit": 1000})
    assert answer.status_code == 200, answer.text
    records = {user["sourcedId"]: user for user in answer.json()["users"]}
    kept = dict(
        SupplierPseudonym.objects.filter(supplier=supplier, value__in=records).values_list(
            "value", "student_id"
        )
    )
    assert len(kept) == len(records)
    return {kept[value]: record for value, record in records.items()}


def test_the_affected_pupils_are_exactly_those_released_to_the_supplier_in_the_window(
    launchable: Launchable,  # noqa: F811
    rng: random.Random,
) -> None:
    live = launchable
    roster = build_roster(live, rng)
    before = launch(live)  # before the window: not counted
    assert before["sub"]
    start = timezone.now()
    read = pupils_read(roster)
    assert live.pupil.pk in read
    assert len(read) > 1
    pupils_read(roster, other=True)  # another supplier in the window: not counted
    claims = launch(live)
    end = timezone.now()
    pupils_read(roster)  # after the window: not counted (the same pupils, but later)

    incident = incidents.register(
        live.school.board,
        description="Een export van de leverancier stond open.",
        detected_at=end,
        window=(start, end),
        supplier=live.supplier,
    )
    rows = {row.student_id: row for row in incident.affected.all()}
    assert set(rows) == set(read)
    other_board = set(roster.other_board_school.students.values_list("pk", flat=True))
    assert not set(rows) & other_board
    for pk, row in rows.items():
        assert dc.SUPPLIER_PSEUDONYM.key in row.categories
        assert (dc.FIRST_NAME.key in row.categories) == (
            "givenName" in read[pk] or (pk == live.pupil.pk and "given_name" in claims)
        )
    assert rows[live.pupil.pk].releases == 3  # the OneRoster read, the ID token, the userinfo
    assert all(row.releases == 1 for pk, row in rows.items() if pk != live.pupil.pk)
    # Before the window only the launch: exactly that pupil.
    earlier = incidents.register(
        live.school.board,
        description="Eerder.",
        detected_at=end,
        window=(start - (end - start) * 1000, start),
        supplier=live.supplier,
    )
    assert list(earlier.affected.values_list("student_id", flat=True)) == [live.pupil.pk]
    # The other supplier's read is its own.
    theirs = incidents.register(
        live.school.board,
        description="Bij de andere leverancier.",
        detected_at=end,
        window=(start, end),
        supplier=live.other_supplier,
    )
    assert set(theirs.affected.values_list("student_id", flat=True)) == set(read)
    # The log names the pupils by internal id only, never by pseudonym.
    details = " ".join(
        str(details)
        for details in AuditEvent.objects.filter(event_type="gateway.release").values_list(
            "details", flat=True
        )
    )
    for value in SupplierPseudonym.objects.values_list("value", flat=True):
        assert value not in details


def test_a_suppliers_report_over_http_opens_the_incident_at_the_board_concerned(
    launchable: Launchable,  # noqa: F811
    rng: random.Random,
) -> None:
    live = launchable
    roster = build_roster(live, rng)
    start = int(time.time()) - 1
    read = pupils_read(roster)
    key = ECKey.generate_key("P-256", parameters={"kid": "rw-1"}, private=True)
    client, _ = register_client(
        live.supplier,
        name="Opdrachten (fictief)",
        redirect_uris=["https://rekenwereld.example/callback"],
        jwks={"keys": [key.as_dict(private=False)]},
    )
    now = int(time.time())
    token = supplier_orders.make_breach_report(
        client_id=client.client_id,
        private_jwk=key.as_dict(private=True),
        audience=f"{live.base}/oidc",
        now=now,
        detected_at=now,
        description="Een export stond open.",
        window=(start, now + 1),
    )
    answer = httpx.post(
        f"{live.base}/oversight/breaches",
        content=token,
        headers={"content-type": "application/jose"},
    )
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"incidents": 1}
    incident = Incident.objects.get()
    assert incident.board == live.school.board
    assert set(incident.affected.values_list("student_id", flat=True)) == set(read)
    replay = httpx.post(
        f"{live.base}/oversight/breaches",
        content=token,
        headers={"content-type": "application/jose"},
    )
    assert replay.status_code == 409
