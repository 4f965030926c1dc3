"""A client of the number service acts in the audit log by its OIN (``nv-client:<OIN>``)."""

from __future__ import annotations

from regie.audit.services import nv_client_actor
from regie.nummervoorziening.models import Client


def test_a_number_service_client_is_its_oin() -> None:
    client = Client(oin="00000001000000000003", name="LAS (fictief)")
    assert client.audit_actor == "nv-client:00000001000000000003"
    assert client.audit_actor == nv_client_actor(client.oin)
