"""The privacy officer's proof of one event: a file that ``regie-verify bundle`` confirms from a
shell without Django — the event's leaf, its inclusion proof and the newest checkpoint, cosigned
by a real witness. Only for events of the officer's own board."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from regie.agreements import events
from regie.agreements.tests.register import World
from regie.audit.models import AuditEvent
from regie.audit.services import SYSTEM, record
from regie.roster.models import Student
from regie.roster.tests.exports import client_for

from ..models import Witness
from .witnesses import WitnessProcess

pytestmark = pytest.mark.django_db

VERIFY = str(Path(sys.executable).with_name("regie-verify"))


def consent(student: Student, product_id: int) -> AuditEvent:
    details = {"product": product_id, "attribute": "first_name", "given": True, "by": "guardian"}
    return record(events.CONSENT_RECORDED, SYSTEM, f"student:{student.pk}", details)


def fresh_shell(*args: str) -> subprocess.CompletedProcess[str]:
    """``regie-verify`` as someone else would run it: no Django settings, no regie variables."""
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    return subprocess.run([VERIFY, *args], capture_output=True, text=True, env=env, timeout=60)


def test_an_officer_downloads_an_event_that_verifies_from_a_fresh_shell(
    world: World, witness: WitnessProcess, log_key: str, tmp_path: Path
) -> None:
    Witness.objects.create(url=witness.url, vkey=witness.vkey)
    event = consent(world.pupil(), world.product.pk)
    response = client_for(world.officer).get(reverse("transparency:bundle", args=[event.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    bundle = json.loads(response.content)
    assert bundle["event"]["subject"] == f"student:{world.pupil().pk}"
    assert bundle["witness_keys"] == [witness.vkey]
    leaf = json.loads(bundle["leaf"])
    assert leaf["type"] == events.CONSENT_RECORDED.name
    # The leaf holds the subject and the details only as hashes.
    assert f"student:{world.pupil().pk}" not in bundle["leaf"]
    assert re.fullmatch("[0-9a-f]{64}", leaf["subject"])
    assert "first_name" not in bundle["leaf"]
    path = tmp_path / "bewijs.json"
    path.write_bytes(response.content)

    checked = fresh_shell("bundle", str(path), "--log-key", log_key, "--witness-key", witness.vkey)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # The same file with the event's details changed does not verify.
    bundle["event"]["details"]["given"] = False
    path.write_text(json.dumps(bundle))
    forged = fresh_shell("bundle", str(path), "--log-key", log_key, "--witness-key", witness.vkey)
    assert forged.returncode == 1, forged.stdout + forged.stderr


def test_only_the_boards_register_may_download_and_only_its_own_events(world: World) -> None:
    ours = consent(world.pupil(), world.product.pk)
    theirs = consent(Student.objects.filter(school=world.b1)[0], world.product.pk)
    url = reverse("transparency:bundle", args=[ours.pk])
    assert client_for(world.teacher).get(url).status_code == 403
    assert client_for(world.officer).get(url).status_code == 200
    other = reverse("transparency:bundle", args=[theirs.pk])
    assert client_for(world.officer).get(other).status_code == 404
    assert client_for(world.officer_b).get(other).status_code == 200


def test_the_audit_log_page_links_each_event_to_its_proof(world: World) -> None:
    event = consent(world.pupil(), world.product.pk)
    page = client_for(world.officer).get(reverse("agreements:audit-log")).content.decode()
    assert reverse("transparency:bundle", args=[event.pk]) in page
