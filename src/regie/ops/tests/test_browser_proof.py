"""Issue 14, "Done when", in a real browser: a pupil launches the demo supplier Rekenwereld (a
release, recorded in the provable log); the privacy officer finds that release on the audit log
page and downloads its proof; ``regie-verify`` confirms it from a fresh shell — the leaf, its
inclusion proof and the newest checkpoint, signed by the hub and cosigned by a real witness
process — with the keys the hub publishes at ``/log/keys``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from regie.audit.models import AuditEvent
from regie.demosupplier.suppliers import REKENWERELD
from regie.gateway.tests.conftest import Launchable
from regie.logins import log_in_in_browser
from regie.ops.tests.live import registered_supplier, verify_bundle
from regie.ops.tests.test_demosupplier import hub_session, launch
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import make_staff
from regie.transparency import keys
from regie.transparency.models import Witness
from regie.transparency.tests.witnesses import WitnessProcess, start_witness

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


@pytest.fixture
def witness(tmp_path: Path) -> Iterator[WitnessProcess]:
    """A witness of the hub's log (another board's, say), registered at the hub."""
    running = start_witness(
        tmp_path, "getuige.regie.example/w1", keys.origin(), keys.verifier().vkey
    )
    Witness.objects.create(url=running.url, vkey=running.vkey)
    yield running
    running.process.kill()
    running.process.wait(10)


@pytest.fixture
def released(launchable: Launchable) -> Iterator[AuditEvent]:
    """The pupil launches Rekenwereld: the hub releases the pupil's pseudonym (and what the
    school allows) to it, and records the release."""
    with registered_supplier(
        REKENWERELD, launchable.base, launchable.supplier, launchable.product
    ) as running:
        session = hub_session(launchable.base, launchable.pupil_user.username)
        assert launch(session, running, f"{launchable.base}/oidc").status_code == 200
        releases = AuditEvent.objects.filter(
            event_type="gateway.release", subject=f"student:{launchable.pupil.pk}"
        )
        assert releases.exists()
        yield releases.order_by("-pk")[0]


def test_an_officer_downloads_a_release_with_its_proof_and_regie_verify_confirms_it(
    page: Page,
    launchable: Launchable,
    released: AuditEvent,
    witness: WitnessProcess,
    tmp_path: Path,
) -> None:
    officer, _ = make_staff(
        launchable.school.board, launchable.school, StaffRole.PRIVACY_OFFICER, username="fg-a"
    )
    log_in_in_browser(page, launchable.base, officer.username)
    page.goto(f"{launchable.base}/privacy/auditlog/?soort=gateway.release")
    rows = page.locator("table tbody tr")  # newest first: the release above
    expect(rows.first).to_contain_text("gateway.release")
    with page.expect_download() as download_info:
        rows.first.get_by_role("link", name="Download").click()
    proof = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(proof)
    bundle = json.loads(proof.read_text())
    assert bundle["event"]["subject"] == released.subject
    assert bundle["event"]["details"] == released.details
    assert json.loads(bundle["leaf"])["type"] == "gateway.release"

    # From a fresh shell, as a parent or a supervisor would: the keys from the hub's list.
    checked, witness_keys = verify_bundle(launchable.base, proof)
    assert witness_keys == [witness.vkey]
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "gateway.release" in checked.stdout
    assert settings.LOG_ORIGIN in checked.stdout
