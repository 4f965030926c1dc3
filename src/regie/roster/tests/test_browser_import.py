"""A privacy officer imports a LAS export in a real browser: an error, a fix, a preview, apply.

Runs Debian's Chromium through Playwright against a live server (see ``regie.browser``).
"""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.browser import document_language, unlabelled_controls
from regie.core.models import School, Sector
from regie.logins import log_in_in_browser
from regie.roster.importing.oneroster import write_oneroster
from regie.roster.importing.records import StaffRole
from regie.roster.models import Student, StudentStatus
from regie.roster.tests.exports import make_board, make_staff, school_export
from regie.roster.tests.test_browser_import_job import job_runner

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


def break_a_birth_date(good: Path, broken: Path) -> int:
    """Copy the export with one impossible birth date; return the line it is on."""
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "demographics.csv":
                lines = data.decode("utf-8").splitlines(keepends=True)
                header = lines[0].rstrip("\r\n").split(",")
                column = header.index("birthDate")
                cells = lines[3].rstrip("\r\n").split(",")
                cells[column] = "2017-13-45"
                lines[3] = ",".join(cells) + "\r\n"
                data = "".join(lines).encode("utf-8")
            target.writestr(info, data)
    return 4


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/inloggen/")
    assert unlabelled_controls(page) == []
    log_in_in_browser(page, base, username)  # with the app's code at the second step


def test_an_officer_fixes_an_error_previews_and_applies(
    live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    board = make_board()
    school = School.objects.create(
        board=board, brin="99XA", name="School 99XA (fictief)", sector=Sector.PO
    )
    make_staff(board, school, StaffRole.PRIVACY_OFFICER, username="fg-99xa")
    export = school_export(random.Random(3), code="99XA", pupils=6)
    good, broken = tmp_path / "export.zip", tmp_path / "export-met-fout.zip"
    write_oneroster(export, good)
    line = break_a_birth_date(good, broken)

    log_in(page, live_server.url, "fg-99xa")
    page.get_by_role("link", name="Importeren", exact=True).click()
    assert document_language(page) == "nl"
    assert unlabelled_controls(page) == []

    page.get_by_label("Exportbestand").set_input_files(broken)
    page.get_by_role("button", name="Controleren").click()
    expect(page.get_by_role("alert")).to_contain_text("Er is 1 fout gevonden")
    row = page.locator("table.problems tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text("demographics.csv")
    expect(row.locator("td").nth(1)).to_have_text(str(line))
    expect(row.locator("td").nth(2)).to_have_text("birthDate")
    expect(page.get_by_role("button", name="Toepassen")).to_have_count(0)
    with page.expect_download() as download:
        page.get_by_role("link", name="Fouten downloaden (CSV)").click()
    assert "demographics.csv" in Path(download.value.path()).read_text(encoding="utf-8")
    assert Student.objects.count() == 0

    page.get_by_role("link", name="Nieuwe import").click()
    page.get_by_label("Exportbestand").set_input_files(good)
    page.get_by_role("button", name="Controleren").click()
    expect(page.get_by_role("heading", name="Wat er verandert")).to_be_visible()
    pupils = page.get_by_role("row", name="Leerlingen")
    expect(pupils.locator("td").nth(0)).to_have_text("6")
    assert unlabelled_controls(page) == []
    assert Student.objects.count() == 0  # the preview changed nothing

    with job_runner():  # the job that applies it, run as `regie serve` runs it
        page.get_by_role("button", name="Toepassen").click()
        expect(page.get_by_role("status")).to_have_text("De import is toegepast.")
    expect(page.get_by_text("Status: toegepast")).to_be_visible()
    assert Student.objects.filter(school=school, status=StudentStatus.ACTIVE).count() == 6

    page.get_by_role("link", name="Leerlingen").first.click()
    first = Student.objects.order_by("achternaam", "roepnaam").first()
    assert first is not None
    expect(page.get_by_role("link", name=str(first))).to_be_visible()
