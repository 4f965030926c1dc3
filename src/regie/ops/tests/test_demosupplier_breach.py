"""The demo supplier Rekenwereld reports a data breach from its page: the button signs a breach
report with the key it registered at the hub and posts it over HTTP; the live hub opens the
incident at the board whose pupils went to Rekenwereld, and the supplier's page says how many."""

from __future__ import annotations

import re

import httpx
import pytest

from regie.audit.services import record
from regie.demosupplier import server
from regie.demosupplier.suppliers import REKENWERELD
from regie.gateway.events import RELEASE
from regie.gateway.services import register_client
from regie.gateway.tests.conftest import (  # noqa: F401  (fixtures)
    Launchable,
    launchable,
    oidc_keys_dir,
    oidc_keys_in_settings,
)
from regie.oversight.models import Incident, IncidentSource

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_rekenwereld_reports_the_demo_breach_from_its_page(launchable: Launchable) -> None:  # noqa: F811
    live = launchable
    record(
        RELEASE,
        "client:1",
        f"student:{live.pupil.pk}",
        {
            "channel": "id_token",
            "supplier": live.supplier.pk,
            "product": live.product.pk,
            "attributes": ["supplier_pseudonym", "first_name"],
        },
    )
    running = server.start(REKENWERELD, f"{live.base}/oidc", port=0)
    try:
        party = running.app.parties[""]
        client, _ = register_client(
            live.supplier,
            name="Rekenwereld (demo)",
            product=live.product,
            redirect_uris=[party.redirect_uri],
            jwks={"keys": [party.key.as_dict(private=False)]},
        )
        party.client_id = client.client_id
        with httpx.Client(base_url=running.url, follow_redirects=True) as browser:
            start = browser.get("/")
            token = re.search(
                r'action="/datalek"><input type="hidden" name="csrf" value="([^"]+)"', start.text
            )
            assert token is not None
            page = browser.post("/datalek", data={"csrf": token[1]})
        assert page.status_code == 200
        found = re.search(r"class=.sent.>([^<]*)<", page.text)
        assert found is not None, page.text[-1500:]
        assert found[1].startswith("Gemeld. regie registreerde het datalek bij 1 "), found[1]
    finally:
        running.stop()
    incident = Incident.objects.get()
    assert (incident.board, incident.source, incident.supplier) == (
        live.school.board,
        IncidentSource.SUPPLIER,
        live.supplier,
    )
    assert list(incident.affected.values_list("student_id", flat=True)) == [live.pupil.pk]
