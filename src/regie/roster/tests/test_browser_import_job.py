"""A privacy officer applies an import in a real browser: the page says it waits, survives a
reload, follows the job that applies it (run by a runner, as ``regie serve`` runs one) without
being touched, and shows the outcome; axe finds nothing on the waiting page."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.browser import axe_report, axe_violations
from regie.core.models import School, Sector
from regie.jobs.services import run_worker
from regie.logins import log_in_in_browser
from regie.roster.importing.oneroster import write_oneroster
from regie.roster.importing.records import StaffRole
from regie.roster.models import ImportRun, ImportStatus, Student, StudentStatus
from regie.roster.tests.exports import make_board, make_staff, school_export

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@contextmanager
def job_runner() -> Iterator[None]:
    """The hub's job runner in a thread of this process, as ``regie serve`` runs it."""
    stop = threading.Event()

    def work() -> None:
        try:
            run_worker(stop, worker="test-browser-runner")
        finally:
            connection.close()

    thread = threading.Thread(target=work, name="test-browser-runner", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=60)


def test_an_officer_applies_an_import_and_the_page_follows_the_job(
    live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    board = make_board()
    school = School.objects.create(
        board=board, brin="99XA", name="School 99XA (fictief)", sector=Sector.PO
    )
    make_staff(board, school, StaffRole.PRIVACY_OFFICER, username="fg-99xa")
    path = tmp_path / "export.zip"
    write_oneroster(school_export(random.Random(5), code="99XA", pupils=7), path)

    page.goto(f"{live_server.url}/inloggen/")
    log_in_in_browser(page, live_server.url, "fg-99xa")
    page.get_by_role("link", name="Importeren", exact=True).click()
    page.get_by_label("Exportbestand").set_input_files(path)
    page.get_by_role("button", name="Controleren").click()
    page.get_by_role("button", name="Toepassen").click()

    # No runner yet: the import waits, and says so after a reload too.
    waiting = page.get_by_role("status").filter(has_text="De import wacht op verwerking.")
    expect(waiting).to_be_visible()
    expect(page.get_by_text("Status: wacht op verwerking")).to_be_visible()
    expect(page.get_by_label("Voortgang")).to_be_visible()
    expect(page.get_by_role("button", name="Toepassen")).to_have_count(0)
    violations = axe_violations(page)
    assert violations == [], axe_report(violations)
    page.reload()
    expect(waiting).to_be_visible()
    assert not Student.objects.exists()
    (run,) = ImportRun.objects.all()
    assert run.status == ImportStatus.QUEUED

    # The runner applies it; the page, left alone, finds out and shows what changed.
    with job_runner():
        expect(page.get_by_text("De import is toegepast.")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Status: toegepast")).to_be_visible()
    expect(page.get_by_role("heading", name="Wat er is veranderd")).to_be_visible()
    assert Student.objects.filter(school=school, status=StudentStatus.ACTIVE).count() == 7
    page.reload()
    expect(page.get_by_text("De import is toegepast.")).to_be_visible()
    expect(page.get_by_label("Voortgang")).to_have_count(0)
