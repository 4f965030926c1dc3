"""Issue 15, "Done when", in a real browser: the demo story of the parents' portal.

A guardian logs in (as the demo prints it) and sees their child's releases to both demo suppliers,
each with its proof, and the newest checkpoint, cosigned by a real witness process; downloads a
proof that ``regie-verify`` confirms; withdraws the consent for the first name at Rekenwereld —
the next time the pupil opens Rekenwereld, its page no longer shows the first name; files an
erasure request, which a real ``regie worker`` fans out as signed orders to both demo suppliers;
and sees it completed with both suppliers' receipts. axe-core checks every portal page on the way
at 1280 and 390 CSS px.

Both demo suppliers are served and registered as ``regie demo`` does it
(:func:`regie.demosupplier.server.start`, :func:`regie.ops.supplier_registration.register_clients`,
which also registers their order endpoints).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from regie.accounts.models import GuardianAccount
from regie.agreements import services as register
from regie.browser import assert_accessible
from regie.demosupplier import server
from regie.demosupplier.suppliers import REKENWERELD, TAALRIJK
from regie.gateway.tests.conftest import PASSWORD, Launchable
from regie.logins import log_in_in_browser
from regie.ops.tests.live import registered_supplier, verify_bundle, wait_for, worker_process
from regie.ops.tests.test_demosupplier import claims_shown, hub_session, launch
from regie.portal.models import RequestState, RightsRequest
from regie.roster.models import Guardian
from regie.transparency import keys
from regie.transparency.models import Witness
from regie.transparency.tests.witnesses import start_witness

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


@dataclass
class Story:
    launchable: Launchable
    suppliers: dict[str, server.Running]
    guardian: User


@pytest.fixture
def story(launchable: Launchable, tmp_path: Path) -> Iterator[Story]:
    """The demo's state: both demo suppliers served and registered; the school switched the first
    name on for Rekenwereld and the guardian consented; the pupil opened both products; the log
    has a witness; the guardian has their portal login."""
    school, pupil = launchable.school, launchable.pupil
    guardian_record = (
        Guardian.objects.filter(students=pupil, is_active=True).exclude(email="").first()
    )
    assert guardian_record is not None
    register.set_switch(school, launchable.product, "first_name", True, user=None)
    register.record_consent(
        pupil, launchable.product, "first_name", True, guardian=guardian_record, user=None
    )
    guardian = User.objects.create_user("ouder-a", password=PASSWORD)
    GuardianAccount.objects.create(
        user=guardian, board=school.board, email=guardian_record.email.lower()
    )
    witness = start_witness(
        tmp_path, "getuige.regie.example/w1", keys.origin(), keys.verifier().vkey
    )
    Witness.objects.create(url=witness.url, vkey=witness.vkey)
    issuer = f"{launchable.base}/oidc"
    try:
        with (
            registered_supplier(
                REKENWERELD, launchable.base, launchable.supplier, launchable.product
            ) as rekenwereld,
            registered_supplier(
                TAALRIJK, launchable.base, launchable.other_supplier, launchable.other_product
            ) as taalrijk,
        ):
            session = hub_session(launchable.base, launchable.pupil_user.username)
            answer = launch(session, rekenwereld, issuer)
            assert answer.status_code == 200
            assert "given_name" in claims_shown(answer.text)  # with the guardian's consent
            assert launch(session, taalrijk, issuer).status_code == 200
            yield Story(launchable, {"Rekenwereld": rekenwereld, "Taalrijk": taalrijk}, guardian)
    finally:
        witness.process.kill()
        witness.process.wait(10)


@pytest.fixture
def worker(launchable: Launchable, keys_dir: Path, tmp_path: Path) -> Iterator[Path]:
    with worker_process(launchable.base, keys_dir, tmp_path / "worker.log", "portal-demo") as log:
        yield log


def check_axe(page: Page, seen: list[str]) -> None:
    """axe-core on the page at 1280 and 390 CSS px; no violations. Counts the pages checked."""
    assert_accessible(page)
    seen.append(page.url)


def test_the_demo_story_of_the_parents_portal(
    story: Story, worker: Path, page: Page, tmp_path: Path
) -> None:
    launchable = story.launchable
    base, pupil = launchable.base, launchable.pupil
    checked: list[str] = []

    # The guardian logs in and lands on their children.
    log_in_in_browser(page, base, story.guardian.username)
    page.wait_for_url(f"{base}/portaal/")
    check_axe(page, checked)
    page.get_by_role("link", name=str(pupil)).click()
    page.wait_for_url(f"{base}/portaal/kinderen/{pupil.pk}/")
    expect(page.locator("h1")).to_have_text(f"Gegevens van {pupil}")
    check_axe(page, checked)

    # The releases to both suppliers, each with its proof; the newest checkpoint, cosigned.
    for product in (launchable.product, launchable.other_product):
        expect(page.get_by_role("heading", name=product.name).first).to_be_visible()
    expect(page.locator("#checkpoint")).to_contain_text("medeondertekend door 1 getuige")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Bewijs downloaden").first.click()
    proof = tmp_path / "bewijs.json"
    download_info.value.save_as(proof)
    bundle = json.loads(proof.read_text())
    assert bundle["event"]["subject"] == f"student:{pupil.pk}"
    verified, witness_keys = verify_bundle(base, proof)
    assert len(witness_keys) == 1
    assert verified.returncode == 0, verified.stdout + verified.stderr
    page.get_by_role("link", name="Afdrukbare versie").click()
    page.wait_for_url(f"{base}/portaal/kinderen/{pupil.pk}/afdrukken/")  # axe on the new page
    check_axe(page, checked)
    page.go_back()
    page.get_by_role("link", name="Zo controleert u een bewijs zelf").click()
    expect(page.locator("h1")).to_have_text("Het logboek zelf controleren")
    check_axe(page, checked)
    page.go_back()

    # Withdrawing the consent: Rekenwereld no longer gets the first name.
    page.get_by_role("link", name="Toestemming geven of intrekken").click()
    page.wait_for_url(f"{base}/portaal/kinderen/{pupil.pk}/toestemming/")
    check_axe(page, checked)
    page.get_by_role(
        "button", name=f"Toestemming intrekken voor voornaam bij {launchable.product.name}"
    ).click()
    expect(page.get_by_role("status")).to_contain_text("Toestemming ingetrokken voor voornaam")
    check_axe(page, checked)
    session = hub_session(base, launchable.pupil_user.username)
    rekenwereld = story.suppliers["Rekenwereld"]
    answer = launch(session, rekenwereld, f"{base}/oidc")
    assert answer.status_code == 200
    assert "given_name" not in claims_shown(answer.text)

    # An erasure request, fanned out to both suppliers, completed with both receipts.
    page.goto(f"{base}/portaal/kinderen/{pupil.pk}/")
    page.get_by_role("link", name="Inzage, correctie of verwijdering vragen").click()
    page.wait_for_url(f"{base}/portaal/kinderen/{pupil.pk}/verzoeken/")
    check_axe(page, checked)
    page.get_by_label("Verwijdering (art. 17)").check()
    page.get_by_role("button", name="Verzoek indienen").click()
    request = RightsRequest.objects.get(student=pupil)
    page.wait_for_url(f"{base}/portaal/verzoeken/{request.pk}/")
    check_axe(page, checked)
    wait_for(
        lambda: RightsRequest.objects.get(pk=request.pk).state == RequestState.COMPLETED,
        "the request to complete",
    )
    page.reload()
    expect(page.locator("dl")).to_contain_text("afgerond")
    table = page.locator("table").first
    for supplier in (launchable.supplier, launchable.other_supplier):
        row = table.get_by_role("row").filter(has_text=supplier.name)
        expect(row.get_by_role("cell").first).to_have_text("uitgevoerd")
        expect(row).to_contain_text("Vernietigingsverklaring")
    check_axe(page, checked)
    assert len(checked) == 9, checked
