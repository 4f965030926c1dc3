"""A launch (authorize → token → userinfo) reads the register in a number of queries that does not
grow with what surrounds the pupil: more groups, licences, consents, switches and other boards'
agreements. The SSO benchmark (``benchmarks/sso``) and docs/performance.md count on it."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from regie.agreements import services as register_services
from regie.agreements.tests.register import license_group, make_agreement, school_year
from regie.gateway.models import SupplierPseudonym
from regie.roster.importing.records import StaffRole
from regie.roster.models import Group, GroupKind, Guardian
from regie.roster.tests.exports import make_board, make_staff

from .conftest import Launchable
from .test_oidc_bad_input import Rp, register

pytestmark = pytest.mark.django_db

# authorize: session, user with the pupil's account, client, nonce, the policy's facts, the
# pseudonym, the code. token: client, the code, spending it (one conditional UPDATE), the access
# token and whether a replay meanwhile revokes it, facts, switches, consents, pseudonym, groups,
# the release event. userinfo: the access token with its client and user, facts, switches,
# consents, pseudonym, groups, the release event. An audit event is two rows (the event and its
# pending leaf, regie.audit.log); BEGIN and COMMIT around them (SQLite logs them, PostgreSQL does
# not) are not counted.
MOST = {"authorize": 7, "token": 12, "userinfo": 8}
# A teacher's launch: the same steps, with the release policy's staff facts (the teacher's
# memberships, the governing agreement, their licensed groups: three queries) instead of the
# pupil's facts, switches, consents, pseudonym and groups; at authorize (a page in the browser)
# one more: whether the teacher holds a privileged role, which would need the second step
# (regie.accounts.second_factor; a pupil's account comes with the session's user, so no query).
MOST_TEACHER = {"authorize": 9, "token": 10, "userinfo": 6}


def queries(captured: CaptureQueriesContext) -> int:
    """The statements that read or write, without transaction control."""
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
    return sum(1 for query in captured.captured_queries if not query["sql"].startswith(control))


def launch_queries(browser: Client, rp: Rp) -> tuple[dict[str, int], dict[str, Any]]:
    """The queries of each step of one launch, and the claims userinfo released."""
    query = urlencode(rp.authorization_params())
    basic = "Basic " + base64.b64encode(f"{rp.client_id}:{rp.secret}".encode()).decode("ascii")
    with CaptureQueriesContext(connection) as authorize:
        answer = browser.get(f"/oidc/authorize?{query}")
    assert answer.status_code == 302
    code = parse_qs(urlsplit(answer["Location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": rp.redirect_uri,
        "code_verifier": rp.verifier,
    }
    with CaptureQueriesContext(connection) as token:
        answer = browser.post("/oidc/token", form, HTTP_AUTHORIZATION=basic)
    assert answer.status_code == 200
    bearer = f"Bearer {answer.json()['access_token']}"
    with CaptureQueriesContext(connection) as userinfo:
        answer = browser.get("/oidc/userinfo", HTTP_AUTHORIZATION=bearer)
    assert answer.status_code == 200
    counts = {
        "authorize": queries(authorize),
        "token": queries(token),
        "userinfo": queries(userinfo),
    }
    return counts, answer.json()


def test_a_launch_takes_the_same_queries_however_much_surrounds_the_pupil(
    launchable: Launchable,
) -> None:
    rp = register(launchable)
    pupil = launchable.pupil
    SupplierPseudonym.objects.create(  # obtained at an earlier launch: no number service
        student=pupil, supplier=launchable.supplier, value="https://nv.regie.example/lp/1/0a1b"
    )
    browser = Client(HTTP_HOST="localhost")
    browser.force_login(launchable.pupil_user)
    launch_queries(browser, rp)  # the first request of a process loads the URLs
    few, claims = launch_queries(browser, rp)
    assert few == MOST
    groups_before = claims["groups"]
    assert "Groep 5" in groups_before
    assert "given_name" not in claims  # no consent for the first name yet

    school = launchable.school
    for number in range(3):
        group = Group.objects.create(
            school=school, las_key=f"EXTRA-{number}", name=f"Extra {number}", kind=GroupKind.GROUP
        )
        group.students.add(pupil)
        license_group(launchable.product, group)
    register_services.grant_licence(
        launchable.product, school, school_year(), students=[pupil], user=None
    )
    register_services.set_switch(school, launchable.product, "first_name", True, user=None)
    guardian = Guardian.objects.filter(students=pupil).first()
    assert guardian is not None
    for given in (True, False, True):
        register_services.record_consent(
            pupil, launchable.product, "first_name", given, guardian=guardian, user=None
        )
    make_agreement(
        make_board("41009", "Stichting Elders (fictief)"), launchable.supplier, [launchable.product]
    )
    more, claims = launch_queries(browser, rp)
    assert more == few
    assert len(claims["groups"]) > len(groups_before)
    assert claims["given_name"]  # consent in force now


def test_a_teachers_launch_takes_the_same_queries_however_much_surrounds_them(
    launchable: Launchable,
) -> None:
    rp = register(launchable)
    school = launchable.school
    user, teacher = make_staff(school.board, school, StaffRole.TEACHER, username="mw-leerkracht")
    teacher.groups.add(launchable.group)
    browser = Client(HTTP_HOST="localhost")
    browser.force_login(user)
    launch_queries(browser, rp)  # the first request of a process loads the URLs
    few, claims = launch_queries(browser, rp)
    assert few == MOST_TEACHER
    assert claims["groups"] == [launchable.group.name]

    for number in range(3):  # more groups they teach, licensed by group
        group = Group.objects.create(
            school=school, las_key=f"EXTRA-{number}", name=f"Extra {number}", kind=GroupKind.GROUP
        )
        teacher.groups.add(group)
        license_group(launchable.product, group)
    named = Group.objects.create(  # and one licensed through a named pupil
        school=school, las_key="EXTRA-NAMED", name="Extra named", kind=GroupKind.GROUP
    )
    named.students.add(launchable.pupil)
    teacher.groups.add(named)
    register_services.grant_licence(
        launchable.product, school, school_year(), students=[launchable.pupil], user=None
    )
    make_agreement(
        make_board("41009", "Stichting Elders (fictief)"), launchable.supplier, [launchable.product]
    )
    more, claims = launch_queries(browser, rp)
    assert more == few
    assert len(claims["groups"]) == 5
