"""``regie serve --role oversight`` as a real process: it takes a signed report over HTTP, and
serves none of the hub's pages."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from regie.conftest import start_server
from regie.sector.models import Report

from .reports import make_report, register, sign

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_oversight_role_takes_reports_and_serves_no_hub_pages(
    keys_dir: Path, tmp_path: Path
) -> None:
    hub, signer = register()
    log = tmp_path / "server.log"
    process, url = start_server(keys_dir, log, role="oversight")
    try:
        answer = httpx.post(
            f"{url}/sector/api/reports",
            content=sign(make_report(hub.origin, 1), signer),
            headers={"content-type": "text/plain; charset=utf-8"},
        )
        assert (answer.status_code, answer.json()) == (201, {"accepted": 1}), log.read_text()
        again = httpx.post(
            f"{url}/sector/api/reports",
            content=sign(make_report(hub.origin, 1), signer),
            headers={"content-type": "text/plain; charset=utf-8"},
        )
        assert again.status_code == 409
        for path in ("/school/", "/inloggen/", "/privacy/", "/portaal/", "/nummervoorziening/soap"):
            assert httpx.get(f"{url}{path}").status_code == 404, path
        dashboard = httpx.get(f"{url}/sector/")
        assert dashboard.status_code == 302
        assert dashboard.headers["location"].startswith("/sector/inloggen/")
        assert httpx.get(f"{url}/sector/inloggen/").status_code == 200
        assert httpx.get(f"{url}/").status_code == 200
    finally:
        process.terminate()
        process.wait(30)
    assert Report.objects.get().sequence == 1
