"""Ids in OneRoster paths behind a proxy that merges slashes (nginx's ``merge_slashes``, its
default): the real hub served over HTTP behind a WSGI middleware that does what such a proxy
does, and a client (httpx) that follows every ``href`` it is given. A pupil's ``sourcedId`` is a
URI; its ``//`` must not cost the supplier a 404 — ``href`` values carry the id's path form, and
what clients already hold (the full URI, raw or percent-encoded) still works."""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

from regie.gateway.oneroster import paths

from .conftest import Launchable
from .test_gradebook import allow_results, class_id, pseudonym_of, result_body
from .test_oneroster_rest import (
    CORE,
    DEMOGRAPHICS,
    ROOT,
    Roster,
    build_roster,
    make_client,
)
from .test_oneroster_rest import token_for as roster_token

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]

GRADEBOOK_ROOT = "/ims/oneroster/gradebook/v1p2"
GRADEBOOK_SCOPES = " ".join(
    f"https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.{name}"
    for name in ("readonly", "createput")
)


class MergeSlashes:
    """What nginx does with ``merge_slashes on``: ``//`` in the decoded path becomes ``/``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ["PATH_INFO"] = re.sub("/{2,}", "/", environ.get("PATH_INFO", ""))
        return self.app(environ, start_response)


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def proxied(launchable: Launchable) -> Iterator[str]:
    """The hub behind a slash-merging proxy: its base URL."""
    server = ThreadedWSGIServer(("localhost", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(MergeSlashes(WSGIHandler()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def roster(launchable: Launchable, rng: random.Random) -> Roster:
    return build_roster(launchable, rng)


def hrefs(value: Any) -> Iterator[tuple[str, str]]:
    """Every GUIDRef under ``value``: (href, sourcedId)."""
    if isinstance(value, dict):
        if "href" in value:
            yield value["href"], value["sourcedId"]
        for inner in value.values():
            yield from hrefs(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from hrefs(inner)


def single(body: dict[str, Any]) -> dict[str, Any]:
    (found,) = body.values()
    assert isinstance(found, dict)
    return found


def test_every_href_works_behind_a_proxy_that_merges_slashes(roster: Roster, proxied: str) -> None:
    token = roster_token(roster.hub.base, roster.client, roster.secret, f"{CORE} {DEMOGRAPHICS}")
    api = httpx.Client(base_url=proxied, headers={"Authorization": f"Bearer {token}"})
    followed = 0
    for collection in ("orgs", "academicSessions", "classes", "users", "enrollments"):
        answer = api.get(f"{ROOT}/{collection}")
        assert answer.status_code == 200, answer.text
        for href, sourced_id in hrefs(answer.json()):
            assert "//" not in href.split("://", 1)[1], href
            target = api.get(href)
            assert target.status_code == 200, (href, target.text)
            assert single(target.json())["sourcedId"] == sourced_id
            followed += 1
    assert followed > 0
    users = api.get(f"{ROOT}/students").json()["users"]
    pupil = users[0]["sourcedId"]
    assert paths.is_uri(pupil)
    enrolled = [
        item
        for item in api.get(f"{ROOT}/enrollments").json()["enrollments"]
        if item["user"]["sourcedId"] == pupil
    ]
    assert enrolled[0]["user"]["href"].endswith(f"/users/{pupil.rsplit('/', 1)[1]}")


def test_a_pupil_is_found_by_every_form_of_its_id_behind_the_proxy(
    roster: Roster, proxied: str
) -> None:
    token = roster_token(roster.hub.base, roster.client, roster.secret, f"{CORE} {DEMOGRAPHICS}")
    api = httpx.Client(base_url=proxied, headers={"Authorization": f"Bearer {token}"})
    pupil = api.get(f"{ROOT}/students").json()["users"][0]
    full = pupil["sourcedId"]
    forms = {
        "path form": paths.path_form(full),
        "raw URI": full,
        "percent-encoded URI": quote(full, safe=""),
    }
    for name, form in forms.items():
        for endpoint in ("users", "students"):
            answer = api.get(f"{ROOT}/{endpoint}/{form}")
            assert answer.status_code == 200, (name, endpoint, answer.text)
            assert answer.json()["user"] == pupil
    changed = full[:-2] + ("00" if not full.endswith("00") else "11")
    for form in (changed, quote(changed, safe=""), paths.path_form(changed)):
        assert api.get(f"{ROOT}/users/{form}").status_code == 404, form
    elsewhere = "https://elders.example/lp/1/" + full.rsplit("/", 1)[1]
    for form in (elsewhere, quote(elsewhere, safe="")):  # another URI with the same tail
        assert api.get(f"{ROOT}/users/{form}").status_code == 404, form


def test_gradebook_hrefs_and_ids_work_behind_the_proxy(roster: Roster, proxied: str) -> None:
    hub = roster.hub
    allow_results(hub)
    client, secret = make_client(hub, scopes=(CORE, *GRADEBOOK_SCOPES.split()))
    token = roster_token(hub.base, client, secret, scope=f"{CORE} {GRADEBOOK_SCOPES}")
    api = httpx.Client(base_url=proxied, headers={"Authorization": f"Bearer {token}"})
    klass = class_id(client, hub.group)
    item = {"lineItem": {"title": "Tafels", "class": {"sourcedId": klass}}}
    assert api.put(f"{GRADEBOOK_ROOT}/lineItems/li-1", json=item).status_code == 201
    pseudonym = pseudonym_of(hub.pupil, hub.supplier)
    answer = api.put(f"{GRADEBOOK_ROOT}/results/r-1", json=result_body(pseudonym))
    assert answer.status_code == 201, answer.text
    result = api.get(f"{GRADEBOOK_ROOT}/results/r-1").json()["result"]
    for href, sourced_id in hrefs(result):
        target = api.get(href)
        assert target.status_code == 200, (href, target.text)
        assert single(target.json())["sourcedId"] == sourced_id
    for form in (pseudonym, quote(pseudonym, safe=""), paths.path_form(pseudonym)):
        found = api.get(f"{GRADEBOOK_ROOT}/classes/{klass}/students/{form}/results")
        assert found.status_code == 200, found.text
        assert [item["sourcedId"] for item in found.json()["results"]] == ["r-1"]
