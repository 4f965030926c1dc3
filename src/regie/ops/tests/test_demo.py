"""``regie demo`` (what ``make demo`` runs): a fresh embedded setup that serves and prints its logins."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
from pathlib import Path
from typing import IO

import httpx
import pytest

from regie.conftest import free_port, make_hpgn, regie_command


def demo_env(var_dir: Path) -> dict[str, str]:
    """The environment of someone who just cloned: no settings at all but a working directory."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("REGIE_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(REGIE_VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1")
    return env


def read_until(stream: IO[str], pattern: str, seen: list[str]) -> re.Match[str]:
    for line in stream:
        seen.append(line)
        if match := re.search(pattern, line):
            return match
    raise AssertionError("the demo ended before printing it:\n" + "".join(seen))


DEMO_PASSWORD = "regie-demo"  # the demo prints it for everyone


def log_in(base: str, username: str, password: str = DEMO_PASSWORD) -> httpx.Client:
    """A client logged in at the hub's login page with a printed login."""
    client = httpx.Client(base_url=base, follow_redirects=True, timeout=30)
    form = client.get("/inloggen/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token is not None
    client.post(
        "/inloggen/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token[1]},
    )
    return client


def launch_demo_suppliers(base: str, rekenwereld: str, taalrijk: str) -> None:
    """A demo pupil opens both demo suppliers: two pseudonyms; the draft agreement is refused."""
    start = httpx.get(f"{rekenwereld}/")
    assert start.status_code == 200
    assert "Inloggen via je school (regie)" in start.text
    pupil = log_in(base, "leerling1")
    tiles = pupil.get("/leermiddelen/")
    assert "Rekenwereld openen" in tiles.text, tiles.text[:500]
    subs = []
    for login in (f"{rekenwereld}/login", f"{taalrijk}/spelling/login"):
        page = pupil.get(login)
        assert page.status_code == 200, page.text[:500]
        assert "van regie ontving" in page.text
        sub = re.search(r'<tr data-claim="sub">.*?<td>(.*?)</td>', page.text)
        assert sub is not None
        subs.append(sub[1])
    assert subs[0] != subs[1]
    refused = pupil.get(f"{taalrijk}/login")  # Taalrijk Lezen: a draft agreement
    assert refused.status_code == 403
    assert "Dit leermiddel kan nu niet worden geopend" in refused.text


def run_demo(var_dir: Path) -> tuple[str, str, str]:
    """Start the demo, use the printed API key as the printed curl example does, stop it."""
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
        login = read_until(process.stdout, r"login: (\S+) / (\S+)", seen)
        key = read_until(process.stdout, r"API key: (nv_\S+)", seen)[1]
        rekenwereld = read_until(process.stdout, r"Demoleverancier Rekenwereld: (\S+)/ \(", seen)[1]
        taalrijk = read_until(process.stdout, r"Demoleverancier Taalrijk: (\S+)/ \(", seen)[1]
        read_until(process.stdout, r"Demo-schoolbestuur klaar", seen)
        base = f"http://127.0.0.1:{port}"
        answer = httpx.post(
            f"{base}/nummervoorziening/api/v1/stampseudonyms",
            json={"hpgn": make_hpgn(random.Random(7))},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert answer.status_code == 200, answer.text
        assert "/sp/1/" in answer.json()["stampseudonym"]
        admin = httpx.Client(base_url=base)
        form = admin.get("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert token is not None
        logged_in = admin.post(
            "/admin/login/?next=/admin/",
            data={
                "username": login[1],
                "password": login[2],
                "csrfmiddlewaretoken": token[1],
            },
            follow_redirects=True,
        )
        assert logged_in.url.path == "/admin/", logged_in.text[:500]
        # The demo board came in through the importer: the privacy officer sees the pupils.
        school = log_in(base, "fg")
        schools = school.get("/school/")
        assert "OBS De Vlieger (fictief)" in schools.text, schools.text[:500]
        pupils = school.get("/school/leerlingen/")
        assert pupils.text.count('href="/school/leerlingen/') >= 50  # a full first page
        # The privacy register is filled in, and the printed privacy statement is public.
        agreements = school.get("/privacy/overeenkomsten/")
        assert "Verwerkersovereenkomst Rekenwereld" in agreements.text, agreements.text[:500]
        statement_url = re.search(r"Privacyverklaringen \(openbaar\): (\S+?),", "".join(seen))
        assert statement_url is not None, "".join(seen)
        statement = httpx.get(statement_url[1])
        assert statement.status_code == 200
        assert "Rekenwereld" in statement.text
        assert "Taalrijk Lezen" not in statement.text  # a draft: nothing goes there
        launch_demo_suppliers(base, rekenwereld, taalrijk)
        # The printed guardian sees, in the portal, that both demo suppliers received data.
        printed = "".join(seen)  # the board's lines came before "Demo-schoolbestuur klaar"
        guardian = re.search(r"\n\s+(\S+)\s+ouder/verzorger van ", printed)
        assert guardian is not None, printed
        portal = log_in(base, guardian[1])
        home = portal.get("/portaal/")
        child = re.search(r'href="(/portaal/kinderen/\d+/)"', home.text)
        assert child is not None, home.text[:500]
        releases = portal.get(child[1]).text
        assert "Rekenwereld" in releases
        assert "Taalrijk" in releases
        mail = re.search(r"E-mail van de demo \(uitnodigingen, verzoeken\): (\S+)", printed)
        assert mail is not None, printed
        assert Path(mail[1]).is_dir()
        process.send_signal(signal.SIGINT)  # Ctrl-C, as the demo says
        rest, _ = process.communicate(timeout=60)
        seen.append(rest)
        assert process.returncode == 0, "".join(seen)
    finally:
        process.kill()
    return login[1], key, "".join(seen)


@pytest.mark.slow
def test_it_starts_from_nothing_serves_and_keeps_its_data_on_a_second_start(
    tmp_path: Path,
) -> None:
    first_login, first_key, output = run_demo(tmp_path)
    assert (tmp_path / "regie.sqlite3").exists()
    assert "fictief" in output
    assert "created key file" in output
    second_login, second_key, output = run_demo(tmp_path)
    assert second_login == first_login
    assert second_key != first_key  # a fresh key is printed again (and the first one revoked)
    assert "created key file" not in output  # the keys of the first start were kept
