"""Issue 16, "Done when": the retention story in the demo, as ``make demo`` serves it.

A fresh ``regie demo`` (its in-process worker, both demo suppliers, the simulated clock it
switches on) is driven over HTTP as the people in the story would, with only what it prints:

1. two demo pupils open both demo suppliers (each receives their pseudonyms);
2. the privacy officer uploads the printed export in which the last demo pupil left, and applies
   it: the importer marks them as left;
3. the officer moves the demo clock a year ahead and runs retention: Taalrijk's 12 months are
   over, Rekenwereld keeps progress data until a year after the school year, so only Taalrijk is
   ordered and the hub keeps the pupil (it waits for every supplier's order); a year later
   Rekenwereld is ordered and the hub deletes the pupil — both orders completed by the demo
   suppliers' signed receipts, the run's check clean and its report signed by the log's key;
4. the officer terminates Taalrijk's agreement: the destruction order's completed receipt takes
   it to "gegevens vernietigd";
5. Rekenwereld registers the named data it held from before pseudonyms: the conversion table,
   the destruction order, and its statement confirm it at the hub.
"""

from __future__ import annotations

import html
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from regie.audit import signed_note
from regie.conftest import free_port, regie_command
from regie.ops.tests.test_demo import demo_env, log_in, read_until

pytestmark = pytest.mark.slow

WAIT_SECONDS = 180


def wait_for(
    condition: Callable[[], bool], what: str, explain: Callable[[], str] = lambda: ""
) -> None:
    """Wait until ``condition``; a failure says what was awaited and what ``explain`` shows."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"still waiting: {what}\n{explain()}"
        time.sleep(0.5)


def csrf(text: str) -> str:
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
    assert token is not None, text[:500]
    return token[1]


@dataclass
class Demo:
    base: str
    rekenwereld: str
    taalrijk: str
    leaving_pupil: str
    leaving_export: Path


@contextmanager
def demo(var_dir: Path) -> Iterator[Demo]:
    port = free_port()
    process = subprocess.Popen(
        regie_command("demo", "--port", str(port)),
        env=demo_env(var_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    try:
        assert process.stdout is not None
        rekenwereld = read_until(process.stdout, r"Demoleverancier Rekenwereld: (\S+)/ \(", seen)[1]
        taalrijk = read_until(process.stdout, r"Demoleverancier Taalrijk: (\S+)/ \(", seen)[1]
        leaving = read_until(process.stdout, r"Bewaartermijnen: (\S+) verlaat de school", seen)[1]
        export = Path(next(process.stdout).strip())
        read_until(process.stdout, r"Demo-schoolbestuur klaar", seen)
        yield Demo(f"http://127.0.0.1:{port}", rekenwereld, taalrijk, leaving, export)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
        assert process.returncode == 0, "".join(seen) + rest
    finally:
        process.kill()


def open_both_suppliers(story: Demo, username: str) -> None:
    pupil = log_in(story.base, username)
    for login in (f"{story.rekenwereld}/login", f"{story.taalrijk}/spelling/login"):
        page = pupil.get(login)
        assert page.status_code == 200, page.text[:500]
        assert "van regie ontving" in page.text


def import_leaving_export(officer: httpx.Client, export: Path) -> None:
    form = officer.get("/school/import/")
    with export.open("rb") as handle:
        preview = officer.post(
            "/school/import/",
            data={"csrfmiddlewaretoken": csrf(form.text)},
            files={"file": (export.name, handle, "application/xml")},
        )
    assert preview.status_code == 200, preview.text[:500]
    run_path = preview.url.path
    officer.post(f"{run_path}toepassen", data={"csrfmiddlewaretoken": csrf(preview.text)})
    wait_for(
        lambda: officer.get(f"{run_path}voortgang.json").json()["status"] == "applied",
        "the import to be applied",
    )


def run_links(page: str) -> list[str]:
    return re.findall(r'href="(/privacy/bewaren/runs/[0-9a-f-]+/)"', page)


def retention_year_later(officer: httpx.Client) -> str:
    """Move the demo clock a year ahead and run retention; the finished run's page."""
    overview = officer.get("/privacy/bewaren/")
    token = csrf(overview.text)
    before = set(run_links(overview.text))
    moved = officer.post(
        "/privacy/bewaren/", data={"csrfmiddlewaretoken": token, "action": "clock", "days": "365"}
    )
    assert "De demo-klok staat nu op" in moved.text
    officer.post("/privacy/bewaren/", data={"csrfmiddlewaretoken": token, "action": "run"})

    def finished() -> str | None:
        for link in run_links(officer.get("/privacy/bewaren/").text):
            if link in before:
                continue
            page = officer.get(link).text
            if "Ondertekend verslag" in page and "Nog geen verslag." not in page:
                return page
        return None

    wait_for(lambda: finished() is not None, "the retention run to finish")
    page = finished()
    assert page is not None
    return page


def order_ids(run_page: str) -> list[str]:
    return re.findall(r'href="/privacy/opdrachten/([0-9a-f-]+)/"', run_page)


def completed(officer: httpx.Client, order_id: str) -> bool:
    return "uitgevoerd" in officer.get(f"/privacy/opdrachten/{order_id}/").text


def supplier_of(officer: httpx.Client, order_id: str) -> str:
    page = officer.get(f"/privacy/opdrachten/{order_id}/").text
    return "Taalrijk" if "Taalrijk" in page else "Rekenwereld" if "Rekenwereld" in page else ""


def verify_report(base: str, run_page: str) -> dict[str, str]:
    report = re.search(r'<pre class="regie-report"[^>]*>(.*?)</pre>', run_page, re.S)
    assert report is not None
    log_key = httpx.get(f"{base}/log/keys").text.splitlines()[0]
    note = signed_note.open_note(
        html.unescape(report[1]).encode(), [signed_note.verifier_from_vkey(log_key)]
    )
    return {"text": note.text.decode()}


def test_the_retention_story_in_the_demo(tmp_path: Path) -> None:
    with demo(tmp_path) as story:
        # 1. Two pupils use both suppliers; the last demo pupil is about to leave.
        open_both_suppliers(story, story.leaving_pupil)
        open_both_suppliers(story, "leerling1")
        officer = log_in(story.base, "fg")

        # 2. The school's next export, without the pupil, through the importer.
        import_leaving_export(officer, story.leaving_export)

        # 3a. A year later: Taalrijk's period is over; Rekenwereld's is not, so the hub waits.
        first = retention_year_later(officer)
        assert '"pupils_deleted":0' in verify_report(story.base, first)["text"]  # the hub waits
        ordered = order_ids(first)
        assert [supplier_of(officer, order) for order in ordered] == ["Taalrijk"]
        wait_for(lambda: completed(officer, ordered[0]), "Taalrijk's receipt")

        # 3b. Another year: Rekenwereld is ordered and the hub deletes the pupil.
        second = retention_year_later(officer)
        ordered = order_ids(second)
        assert [supplier_of(officer, order) for order in ordered] == ["Rekenwereld"]
        assert "Van de verwijderde leerlingen is niets meer over." in second
        wait_for(lambda: completed(officer, ordered[0]), "Rekenwereld's receipt")
        assert '"pupils_deleted":1' in verify_report(story.base, second)["text"]
        for supplier in (story.rekenwereld, story.taalrijk):
            received = httpx.get(f"{supplier}/opdrachten").text
            assert "Vernietigingsverklaring" in received, received[:1000]
        gone = log_in(story.base, story.leaving_pupil).get("/leermiddelen/")
        assert "Rekenwereld openen" not in gone.text

        # 4. Taalrijk's agreement ends: destroyed only with its completed receipt.
        agreements = officer.get("/privacy/overeenkomsten/").text
        found = re.search(
            r'href="(/privacy/overeenkomsten/(\d+)/)"[^>]*>\s*Verwerkersovereenkomst Taalrijk '
            r"Spelling",
            agreements,
        )
        assert found is not None, agreements[:2000]
        agreement = found[1]
        page = officer.get(agreement).text
        confirm = officer.post(
            f"{agreement}status/",
            data={"csrfmiddlewaretoken": csrf(page), "to": "terminated"},
        )
        officer.post(confirm.url.path, data={"csrfmiddlewaretoken": csrf(confirm.text)})
        wait_for(
            lambda: "gegevens vernietigd" in officer.get(agreement).text,
            "the agreement to reach data destroyed",
        )
        contracts = officer.get("/privacy/bewaren/contracten/").text
        assert "Taalrijk" in contracts

        # 5. Rekenwereld's named data from before pseudonyms: converted, then destroyed.
        back_office = httpx.Client(base_url=story.rekenwereld, follow_redirects=True, timeout=30)
        roster = back_office.get("/rooster").text
        token = re.search(r'name="csrf" value="([^"]+)"', roster)
        assert token is not None, roster[:1000]
        registered = back_office.post("/rooster/oude-gegevens", data={"csrf": token[1]})
        assert registered.status_code == 200, registered.text[:1000]
        wait_for(
            lambda: "data-legacy='destroyed'" in back_office.get("/rooster").text,
            "Rekenwereld to destroy its old named records",
            lambda: (
                back_office.get("/rooster").text
                + officer.get("/privacy/bewaren/oude-gegevens/").text
            ),
        )
        wait_for(
            lambda: "vernietiging bevestigd" in officer.get("/privacy/bewaren/oude-gegevens/").text,
            "the hub to confirm the destruction",
        )
