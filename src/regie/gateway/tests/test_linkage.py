"""The linkage rule (docs/architecture.md, "What a supplier receives"), against a live hub: two
suppliers with their own clients, licensed for the same pupils, fetch everything they can get —
OneRoster users, enrollments, classes, orgs, sessions and demographics, and each pupil's single
sign-on (ID token, userinfo, introspection) — before and after an import through the real
importer that changes one pupil. Then every (field path, value) pair each supplier holds is
walked: outside the released attributes, no value may single out one pupil at both suppliers,
unless both suppliers' own diffs of what was released to them single that pupil out already.
The walk is general: a new field with the flaw fails it."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import LazySettings, settings
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from regie.accounts.services import create_pupil_login
from regie.agreements import services as register
from regie.agreements.models import Product, Supplier
from regie.agreements.tests.register import (
    license_group,
    make_agreement,
    make_product,
    make_supplier,
)
from regie.gateway import services
from regie.gateway.models import OAuthClient, ReleasedRecord, SupplierPseudonym
from regie.gateway.scopes import OPENID, ROSTER_CORE_READ, ROSTER_DEMOGRAPHICS_READ
from regie.nummervoorziening import services as nv_services
from regie.roster import services as roster
from regie.roster.importing.oneroster import write_oneroster
from regie.roster.importing.records import RosterExport
from regie.roster.models import Group, Student
from regie.roster.tests.exports import make_board, school_export

from .conftest import HUB_OIN, PASSWORD
from .test_oidc_bad_input import Rp, decode_id_token
from .test_oidc_client import logged_in

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]

ROSTER = "/ims/oneroster/rostering/v1p2"
COLLECTIONS = ("users", "enrollments", "classes", "orgs", "academicSessions", "demographics")
PUPILS = 6
CHANGED = "A-LL-0002"  # the LAS key of the pupil the second import changes

# Where the released attributes go, by field path (the catalogue attribute in the comment):
# excluded from the walk — these a supplier is meant to have. Everything else is walked.
RELEASED = {
    "users.givenName",  # first_name
    "users.familyName",  # last_name
    "users.grades",  # year_level
    "users.userIds.identifier",  # eck_id
    "users.userIds.type",
    "users.roles.org.sourcedId",  # school (a keyed id per supplier: never equal anyway)
    "users.roles.org.href",
    "users.roles.org.type",
    "users.primaryOrg.sourcedId",
    "users.primaryOrg.href",
    "users.primaryOrg.type",
    "demographics.birthDate",  # date_of_birth
    "demographics.sex",  # gender
    *(
        f"{message}.{claim}"
        for message in ("id_token", "userinfo")
        for claim in (
            "given_name",
            "family_name",
            "birthdate",
            "gender",
            "eck_id",
            "school.brin",
            "school.name",
            "groups",
            "year_level",
            "role",
        )
    ),
}
# What each supplier observes itself — the moment of its own request, and what it sent — checked
# to be exactly that (see own_observations), not walked.
OWN_OBSERVATION = {"id_token.iat", "id_token.exp", "introspection.iat", "introspection.exp"}


@dataclass
class Side:
    """One supplier: its product, its OneRoster client and its OpenID Connect client."""

    name: str
    supplier: Supplier
    product: Product
    roster_client: OAuthClient
    roster_secret: str
    rp: Rp
    attributes: tuple[str, ...]

    def token(self, base: str) -> str:
        answer = httpx.post(
            f"{base}/oidc/token",
            data={"grant_type": "client_credentials"},
            auth=(self.roster_client.client_id, self.roster_secret),
        )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token


@dataclass
class Hub:
    base: str
    export: RosterExport
    group: Group
    sides: list[Side]
    logins: dict[int, str] = field(default_factory=dict)  # pupil pk → username

    def side(self, name: str) -> Side:
        return next(side for side in self.sides if side.name == name)


def import_export(export: RosterExport, board: Any, directory: Path) -> None:
    """Through the importer's service, as the upload page does: upload (plan), then apply."""
    path = directory / f"export-{time.monotonic_ns()}.zip"
    write_oneroster(export, path)
    run = roster.upload(path, path.name, board, user=None)
    assert run.status == "previewed", run.problems
    roster.apply(run, user=None)


def make_side(
    base: str,
    board: Any,
    group: Group,
    name: str,
    kvk: str,
    attributes: tuple[str, ...],
    redirect_uri: str,
) -> Side:
    supplier = make_supplier(f"{name} B.V. (fictief)", kvk)
    product = make_product(supplier, name)
    make_agreement(board, supplier, [product], ("supplier_pseudonym", *attributes))
    license_group(product, group)
    for attribute in attributes:
        register.set_switch(group.school, product, attribute, True, user=None)
    roster_client, roster_secret = services.register_client(
        supplier,
        name=f"{name} roostersynchronisatie",
        product=product,
        redirect_uris=[],
        auth_method="client_secret_basic",
        scopes=(ROSTER_CORE_READ.name, ROSTER_DEMOGRAPHICS_READ.name),
    )
    sso_client, sso_secret = services.register_client(
        supplier,
        name=name,
        product=product,
        redirect_uris=[redirect_uri],
        auth_method="client_secret_basic",
        scopes=(OPENID.name,),
    )
    assert roster_secret is not None
    assert sso_secret is not None
    return Side(
        name,
        supplier,
        product,
        roster_client,
        roster_secret,
        Rp(base, sso_client, sso_secret, redirect_uri),
        attributes,
    )


@pytest.fixture
def hub(live_server: LiveServer, settings: LazySettings, rng: random.Random, tmp_path: Path) -> Hub:
    settings.IDENTIFIER_KEY = "fictieve-sleutel-voor-de-koppeltest"
    _, key = nv_services.register_client(
        oin=HUB_OIN, name="regie-hub (fictief)", role="hub", suppliers=["99000001", "99000002"]
    )
    settings.NV_CLIENT_URL = f"{live_server.url}/nummervoorziening"
    settings.NV_CLIENT_API_KEY = key
    settings.OIDC_ISSUER = f"{live_server.url}/oidc"
    board = make_board()
    export = school_export(rng, pupils=PUPILS)
    import_export(export, board, tmp_path)
    group = Group.objects.get(las_key="A-G5")
    # The first name goes to A only; year level, groups and gender to both; the surname to none.
    sides = [
        make_side(
            live_server.url,
            board,
            group,
            "Rekenwereld",
            "99000001",
            ("first_name", "year_level", "groups", "gender", "school"),
            "https://app.rekenwereld.example/callback",
        ),
        make_side(
            live_server.url,
            board,
            group,
            "Taalrijk",
            "99000002",
            ("year_level", "groups", "gender"),
            "https://app.taalrijk.example/callback",
        ),
    ]
    result = Hub(live_server.url, export, group, sides)
    for number, pupil in enumerate(group.students.order_by("las_key")):
        register.record_consent(
            pupil, sides[0].product, "first_name", True, guardian=pupil.guardians.get(), user=None
        )
        username = f"leerling-{number}"
        create_pupil_login(pupil, username, PASSWORD)
        result.logins[pupil.pk] = username
    return result


# --- what each supplier holds, as (field path, value) per pupil ----------------------------------


def flatten(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    """Every scalar under ``value`` with its field path (list positions left out)."""
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from flatten(f"{prefix}.{name}", inner)
    elif isinstance(value, list):
        for inner in value:
            yield from flatten(prefix, inner)
    else:
        yield prefix, str(value)


@dataclass
class Holdings:
    """(path, value) → the pupils it was seen with; and per pupil what was released of them."""

    pupils_by_pair: dict[tuple[str, str], set[int]] = field(
        default_factory=lambda: defaultdict(set)
    )
    released: dict[int, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))

    def add(self, pupil: int, prefix: str, body: Any) -> None:
        for pair in flatten(prefix, body):
            if pair[0] in RELEASED:
                self.released[pupil].add(pair)
            elif pair[0] not in OWN_OBSERVATION:
                self.pupils_by_pair[pair].add(pupil)

    def singling_out(self) -> dict[tuple[str, str], int]:
        """The pairs seen with exactly one pupil, and that pupil."""
        return {
            pair: next(iter(pupils))
            for pair, pupils in self.pupils_by_pair.items()
            if len(pupils) == 1
        }


def pupil_of(side: Side, sourced_id: str) -> int | None:
    found = SupplierPseudonym.objects.filter(supplier=side.supplier, value=sourced_id).first()
    return None if found is None else found.student_id


def roster_holdings(hub: Hub, side: Side) -> Holdings:
    """Everything the supplier's roster client can get, attributed to pupils where it is theirs."""
    held = Holdings()
    api = httpx.Client(
        base_url=f"{hub.base}{ROSTER}", headers={"Authorization": f"Bearer {side.token(hub.base)}"}
    )
    for collection in COLLECTIONS:
        answer = api.get(f"/{collection}", params={"limit": 1000})
        assert answer.status_code == 200, answer.text
        for record in answer.json()[collection]:
            if collection == "enrollments":
                owner = pupil_of(side, record["user"]["sourcedId"])
            elif collection in {"users", "demographics"}:
                owner = pupil_of(side, record["sourcedId"])
            else:
                owner = None
            if owner is not None:  # not about one pupil (a class, a school, a teacher)
                held.add(owner, collection, record)
    return held


def sso_holdings(hub: Hub, held: dict[str, Holdings]) -> None:
    """Each pupil logs in at the hub once and launches both products (with max_age, so that
    auth_time comes too): the ID token, userinfo and introspection each supplier receives."""
    for pupil, username in hub.logins.items():
        session = logged_in(hub.base, username)
        for side in hub.sides:
            assert side.rp.secret is not None
            asked = int(time.time())
            tokens = side.rp.tokens(session, max_age="86400")
            answered = int(time.time())
            id_token = decode_id_token(hub.base, tokens["id_token"])
            own_observations(id_token, asked, answered)
            held[side.name].add(pupil, "id_token", id_token)
            info = side.rp.userinfo(tokens["access_token"])
            assert info.status_code == 200
            held[side.name].add(pupil, "userinfo", info.json())
            response = {key: value for key, value in tokens.items() if key != "id_token"}
            held[side.name].add(pupil, "token_response", response)
            introspected = httpx.post(
                f"{hub.base}/oidc/introspect",
                data={"token": tokens["access_token"]},
                auth=(side.rp.client_id, side.rp.secret),
            ).json()
            own_observations(introspected, asked, answered)
            held[side.name].add(pupil, "introspection", introspected)


def own_observations(claims: dict[str, Any], asked: int, answered: int) -> None:
    """``iat`` is the moment of the supplier's own request, ``exp`` a fixed lifetime later."""
    assert asked <= claims["iat"] <= answered
    assert claims["exp"] - claims["iat"] == settings.OIDC_TOKEN_TTL_SECONDS


def links(first: Holdings, second: Holdings, excused: set[int]) -> list[tuple[str, str, int]]:
    """Pairs that single out the same pupil at both suppliers, other than ``excused`` pupils."""
    theirs = second.singling_out()
    return [
        (path, value, pupil)
        for (path, value), pupil in first.singling_out().items()
        if theirs.get((path, value)) == pupil and pupil not in excused
    ]


def released_diff(before: Holdings, after: Holdings) -> set[int]:
    """The pupils whose released attributes changed: what the supplier's own diff shows."""
    pupils = set(before.released) | set(after.released)
    return {pupil for pupil in pupils if before.released[pupil] != after.released[pupil]}


def synced_days_ago(days: int) -> None:
    """As if the suppliers' last sync had been ``days`` days ago."""
    ReleasedRecord.objects.update(changed_on=timezone.localdate() - timedelta(days=days))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"achternaam": "Verhoeven"}, id="surname-released-to-neither"),
        pytest.param({"roepnaam": "Fenna", "voornamen": "Fenna Maria"}, id="first-name-to-one"),
        pytest.param({"year_level": "6"}, id="year-level-to-both"),
    ],
)
def test_no_value_outside_the_released_attributes_links_a_pupil_across_suppliers(
    hub: Hub, tmp_path: Path, change: dict[str, Any]
) -> None:
    before = {side.name: roster_holdings(hub, side) for side in hub.sides}
    synced_days_ago(3)
    changed = replace(
        hub.export,
        students=[
            replace(student, **change) if student.key == CHANGED else student
            for student in hub.export.students
        ],
    )
    board = hub.group.school.board
    import_export(changed, board, tmp_path)
    student = Student.objects.get(las_key=CHANGED)
    assert all(getattr(student, name) == value for name, value in change.items())
    pupil = student.pk

    after = {side.name: roster_holdings(hub, side) for side in hub.sides}
    diffs = {name: released_diff(before[name], after[name]) for name in after}
    sso_holdings(hub, after)
    excused = diffs["Rekenwereld"] & diffs["Taalrijk"]  # both diffs single the pupil out anyway

    assert links(after["Rekenwereld"], after["Taalrijk"], excused) == []
    assert links(before["Rekenwereld"], before["Taalrijk"], set()) == []

    # The walk sees what it should: a released change dates the pupil's record at the supplier
    # that receives it, and only there; with no released change, nothing singles the pupil out.
    dated = {
        name: {
            pair[1]
            for pair, single in held.singling_out().items()
            if single == pupil and pair[0] == "users.dateLastModified"
        }
        for name, held in after.items()
    }
    if "achternaam" in change:
        assert diffs == {"Rekenwereld": set(), "Taalrijk": set()}
        assert dated == {"Rekenwereld": set(), "Taalrijk": set()}
    elif "roepnaam" in change:
        assert diffs == {"Rekenwereld": {pupil}, "Taalrijk": set()}
        today = f"{timezone.localdate().isoformat()}T00:00:00.000Z"
        assert dated == {"Rekenwereld": {today}, "Taalrijk": set()}
    else:
        assert diffs == {"Rekenwereld": {pupil}, "Taalrijk": {pupil}}
        assert excused == {pupil}
        assert links(after["Rekenwereld"], after["Taalrijk"], set()) != []  # excused, not unseen
