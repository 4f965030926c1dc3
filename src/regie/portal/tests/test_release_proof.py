"""The proof of one release of a child (``portal:release-proof``): a file that ``regie-verify
bundle`` confirms from a fresh shell, with the newest checkpoint cosigned by a real witness — the
same checkpoint the child's page names (size, time, witnesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import reverse

from regie.transparency import keys
from regie.transparency.models import Witness
from regie.transparency.tests.witnesses import WitnessProcess, start_witness

from .people import PortalWorld, release

pytestmark = pytest.mark.django_db

VERIFY = str(Path(sys.executable).with_name("regie-verify"))
WITNESS_NAME = "witness.regie.example/w1"


@pytest.fixture
def witness(tmp_path: Path) -> Iterator[WitnessProcess]:
    running = start_witness(tmp_path, WITNESS_NAME, keys.origin(), keys.verifier().vkey)
    yield running
    running.process.kill()
    running.process.wait(10)


def fresh_shell(*args: str) -> subprocess.CompletedProcess[str]:
    """``regie-verify`` as a parent would run it: no Django settings, no regie variables."""
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    return subprocess.run([VERIFY, *args], capture_output=True, text=True, env=env, timeout=60)


def test_a_guardian_downloads_the_proof_of_a_release_and_it_verifies(
    world: PortalWorld, witness: WitnessProcess, tmp_path: Path
) -> None:
    Witness.objects.create(url=witness.url, vkey=witness.vkey)
    event = release(world.child_a, world, ("supplier_pseudonym", "groups"))
    client = world.client(world.user_a)
    response = client.get(reverse("portal:release-proof", args=[world.child_a.pk, event.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    bundle = json.loads(response.content)
    assert bundle["event"]["subject"] == f"student:{world.child_a.pk}"
    assert bundle["witness_keys"] == [witness.vkey]
    path = tmp_path / "bewijs.json"
    path.write_bytes(response.content)
    log_key = keys.verifier().vkey
    checked = fresh_shell("bundle", str(path), "--log-key", log_key, "--witness-key", witness.vkey)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # The page names the checkpoint the proof is in, and the witness that cosigned it.
    html = client.get(reverse("portal:child", args=[world.child_a.pk])).content.decode()
    size = bundle["tree_size"]
    assert f"Laatste ondertekende stand van het logboek: {size} gebeurtenissen" in html
    assert f"medeondertekend door 1 getuige ({WITNESS_NAME})" in html

    # A changed copy does not verify.
    bundle["event"]["details"]["attributes"] = ["supplier_pseudonym"]
    path.write_text(json.dumps(bundle))
    forged = fresh_shell("bundle", str(path), "--log-key", log_key, "--witness-key", witness.vkey)
    assert forged.returncode == 1, forged.stdout + forged.stderr
