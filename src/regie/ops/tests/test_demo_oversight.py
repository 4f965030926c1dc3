"""Issue 17, "Done when", in the demo as ``make demo`` serves it, driven over HTTP with only what
it prints:

1. the care coordinator ``ib`` reads the demo guardian's child's psychodiagnostic result, and the
   teacher ``leerkracht`` is refused it (403);
2. the guardian sees in the portal that it was read, and by which role (never by whom);
3. a pupil opens Rekenwereld, and Rekenwereld reports a data breach from its page (signed, over
   the order channel): the privacy officer ``fg`` finds it registered, with the affected pupils
   computed from the log and the 72-hour clock running, and the banner on their pages.

The sector dashboard's part of the story (two hubs, signed reports, charts) is
``test_demo_sector``.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from regie.ops.tests.test_demo import log_in
from regie.ops.tests.test_demo_retention import Demo, csrf, demo, open_both_suppliers
from regie.portal.demo import DEMO_GUARDIAN

pytestmark = pytest.mark.slow


def child_of_guardian(story: Demo) -> tuple[httpx.Client, str]:
    guardian = log_in(story.base, DEMO_GUARDIAN)
    home = guardian.get("/portaal/")
    assert home.status_code == 200, home.text[:500]
    child = re.search(r'href="/portaal/kinderen/(\d+)/"', home.text)
    assert child is not None, home.text[:1000]
    return guardian, child[1]


def test_need_to_know_and_a_breach_in_the_demo(tmp_path: Path) -> None:
    with demo(tmp_path) as story:
        guardian, child = child_of_guardian(story)

        # 1. The care coordinator reads the psychodiagnostic result; the teacher may not.
        ib = log_in(story.base, "ib")
        records = ib.get(f"/school/leerlingen/{child}/zorg/")
        assert records.status_code == 200, records.text[:500]
        assert "Psychodiagnostisch" in records.text or "psychodiagnostisch" in records.text
        record = re.search(r'href="/school/zorg/(\d+)/"', records.text)
        assert record is not None, records.text[:1000]
        assert ib.get(f"/school/zorg/{record[1]}/").status_code == 200
        teacher = log_in(story.base, "leerkracht")
        assert teacher.get(f"/school/zorg/{record[1]}/").status_code == 403
        assert teacher.get(f"/school/leerlingen/{child}/zorg/").status_code == 403

        # 2. The guardian sees that it was read, by the care coordinator's role.
        page = guardian.get(f"/portaal/kinderen/{child}/")
        assert "Wie gevoelige gegevens heeft gelezen" in page.text
        assert "intern begeleider" in page.text

        # 3. Rekenwereld, where a pupil went, reports a breach from its page.
        open_both_suppliers(story, "leerling1")
        supplier = httpx.Client(base_url=story.rekenwereld, follow_redirects=True, timeout=30)
        start = supplier.get("/")
        token = re.search(r'name="csrf" value="([^"]+)"', start.text)
        assert token is not None, start.text[:500]
        reported = supplier.post("/datalek", data={"csrf": token[1]})
        assert "Gemeld. regie registreerde het datalek bij 1 schoolbestuur" in reported.text, (
            reported.text[:1000]
        )
        officer = log_in(story.base, "fg")
        listed = officer.get("/privacy/datalekken/")
        assert listed.status_code == 200
        assert "Rekenwereld" in listed.text
        assert re.search(r"nog \d+ uur om te melden", listed.text), listed.text[-2000:]
        assert "wacht op een besluit of een melding bij de AP" in listed.text  # the banner
        incident = re.search(r'href="/privacy/datalekken/(\d+)/"', listed.text)
        assert incident is not None
        detail = officer.get(f"/privacy/datalekken/{incident[1]}/")
        # At least the pupil who opened Rekenwereld in this story, computed from the log.
        affected = re.search(r"(\d+) leerling(?:en)?, berekend uit het logboek", detail.text)
        assert affected is not None, detail.text[detail.text.find("<main") :][:3000]
        assert int(affected[1]) >= 1
        assert csrf(detail.text)  # the officer can act on it (assess, decide)
