"""The sector's part of the demo: hubs registered by their keys, one supervisor, idempotent."""

from __future__ import annotations

import pytest

from regie.audit import signed_note
from regie.sector.demo import DEMO_SUPERVISOR, load_demo_sector
from regie.sector.models import Hub, Supervisor
from regie.sector.services import may_read

pytestmark = pytest.mark.django_db


def test_the_demo_registers_its_hubs_and_a_supervisor_once() -> None:
    keys = [signed_note.generate_signer(f"127.0.0.{n}/log") for n in (1, 2)]
    hubs = [(f"Demo-hub {n}", key.verifier.vkey) for n, key in enumerate(keys, start=1)]
    load_demo_sector(hubs, "regie-demo")
    load_demo_sector(hubs, "regie-demo")
    assert sorted(Hub.objects.values_list("origin", flat=True)) == [
        "127.0.0.1/log",
        "127.0.0.2/log",
    ]
    supervisor = Supervisor.objects.get()
    assert supervisor.user.username == DEMO_SUPERVISOR
    assert supervisor.user.check_password("regie-demo")
    assert may_read(supervisor.user)
