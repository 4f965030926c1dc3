"""Two-factor authentication (:mod:`regie.accounts.second_factor`): who must pass the second step,
setting up an app, the step at login, recovery codes, throttling, resets, and the audit log."""

from __future__ import annotations

import json
import random
import re
from base64 import b32decode
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from regie.audit.models import AuditEvent
from regie.core.models import Board, School
from regie.logins import app_for, code_for, verified_client
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import make_board, make_staff

from ..backends import AccountBackend
from ..demo import demo_second_factor
from ..second_factor import second_step_due
from ..services import create_pupil_login

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

PASSWORD = "fictief-wachtwoord-123"
VERIFY = "/inloggen/tweede-stap/"
ENROL = "/inloggen/tweede-stap/instellen/"
QR = "/inloggen/tweede-stap/instellen/qr.svg"
RECOVERY = "/inloggen/tweede-stap/herstelcodes/"


@pytest.fixture
def board() -> Board:
    return make_board()


@pytest.fixture
def school(board: Board, rng: random.Random) -> School:
    from regie.roster.tests.exports import load_school

    return load_school(board, rng, "99XA", "A")


@pytest.fixture
def officer(board: Board, school: School) -> User:
    user, _ = make_staff(board, school, StaffRole.PRIVACY_OFFICER, username="fg-a")
    return user


def logged_in_with_password(username: str, path: str = "/inloggen/") -> Client:
    client = Client()
    answer = client.post(path, {"username": username, "password": PASSWORD})
    assert answer.status_code == 302, answer.content.decode()[:500]
    return client


def events(name: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=name).order_by("pk"))


def secret_on(page: Response) -> bytes:
    match = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', page.content.decode())
    assert match is not None
    return b32decode(match[1].replace(" ", ""))


def code_from(key: bytes) -> str:
    return f"{totp(key):06d}"


def enrolled(client: Client) -> list[str]:
    """Set up an app in ``client``'s session as a person does; the recovery codes shown."""
    page = client.get(ENROL)
    answer = client.post(ENROL, {"code": code_from(secret_on(page)), "next": "/school/"})
    assert answer.status_code == 200
    return re.findall(r"<li><code>([a-z2-7]+)</code></li>", answer.content.decode())


# --- who ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [StaffRole.PRIVACY_OFFICER, StaffRole.BOARD_ADMIN, StaffRole.SCHOOL_ADMIN]
)
def test_a_privileged_role_sets_up_an_app_before_any_page(
    board: Board, school: School, role: StaffRole
) -> None:
    make_staff(board, school, role, username="mw-a")
    client = logged_in_with_password("mw-a")

    for path in ("/school/", "/privacy/", "/leermiddelen/", "/", "/admin/"):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer["Location"] == f"{ENROL}?next={path.replace('/', '%2F')}", path
    assert client.post("/school/groepen/").status_code == 302


def test_an_administrator_passes_the_second_step_before_the_admin_site(db: None) -> None:
    admin = User.objects.create_superuser("beheer", "beheer@regie.example", PASSWORD)
    app_for(admin)
    client = logged_in_with_password("beheer", "/admin/login/")

    answer = client.get("/admin/")

    assert answer["Location"] == f"{VERIFY}?next=%2Fadmin%2F"
    assert client.get("/admin/accounts/loginlockout/").status_code == 302


def test_staff_of_the_admin_site_without_a_role_need_it_too(db: None) -> None:
    User.objects.create_user("redacteur", password=PASSWORD, is_staff=True)
    client = logged_in_with_password("redacteur", "/admin/login/")
    assert client.get("/admin/")["Location"].startswith(ENROL)


@pytest.mark.parametrize("role", [StaffRole.TEACHER, StaffRole.CARE_COORDINATOR])
def test_teachers_and_care_coordinators_are_not_asked_and_do_not_see_it(
    board: Board, school: School, role: StaffRole
) -> None:
    make_staff(board, school, role, username="mw-a")
    client = logged_in_with_password("mw-a")
    assert client.get("/school/").status_code == 200
    for path in (VERIFY, ENROL, QR, RECOVERY):
        assert client.get(path).status_code == 404, path
    assert not TOTPDevice.objects.exists()


def test_pupils_are_not_asked(school: School) -> None:
    create_pupil_login(school.students.order_by("pk")[0], "leerling-a", PASSWORD)
    client = logged_in_with_password("leerling-a")
    assert client.get("/leermiddelen/").status_code == 200
    assert client.get(ENROL).status_code == 404


def test_a_role_that_ended_needs_no_second_step(board: Board, school: School) -> None:
    _user, staff = make_staff(board, school, StaffRole.PRIVACY_OFFICER, username="mw-a")
    staff.is_active = False
    staff.save()
    client = logged_in_with_password("mw-a")
    assert client.get("/").status_code == 200  # not sent to the second step


def test_the_pages_before_the_second_step_stay_open(officer: User) -> None:
    client = logged_in_with_password("fg-a")
    assert client.get("/inloggen/").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    assert client.post("/uitloggen/").status_code == 302
    assert client.get("/school/")["Location"].startswith("/inloggen/?next=")


def test_anonymous_visitors_go_to_the_login_page(db: None) -> None:
    assert Client().get(VERIFY)["Location"].startswith("/inloggen/?next=")


# --- setting up an app --------------------------------------------------------------------------


def test_an_officer_sets_up_an_app_with_a_code_and_gets_recovery_codes(officer: User) -> None:
    client = logged_in_with_password("fg-a")
    page = client.get(f"{ENROL}?next=/school/")
    text = page.content.decode()
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0")
    assert "Hoofdmenu" not in text  # not logged in yet, as far as the page goes
    key = secret_on(page)
    pending = TOTPDevice.objects.get(user=officer)
    assert (pending.confirmed, pending.bin_key) == (False, key)
    assert secret_on(client.get(ENROL)) == key  # a reload shows the same secret

    answer = client.post(ENROL, {"code": code_from(key), "next": "/school/"})

    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", answer.content.decode())
    assert len(codes) == len(set(codes)) == 10
    assert 'href="/school/"' in answer.content.decode()
    assert TOTPDevice.objects.get(user=officer).confirmed
    assert StaticToken.objects.filter(device__user=officer).count() == 10
    assert client.get("/school/").status_code == 200
    (event,) = events("accounts.second_factor.enrolled")
    assert (event.actor, event.subject, event.details) == (
        f"user:{officer.pk}",
        f"user:{officer.pk}",
        {"replaced": False},
    )


def test_the_qr_code_is_an_svg_image_without_script(officer: User) -> None:
    client = logged_in_with_password("fg-a")
    client.get(ENROL)
    image = client.get(QR)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/svg+xml"
    svg = image.content.decode()
    assert svg.startswith("<?xml")
    assert "<svg" in svg
    assert "<path" in svg
    assert "<script" not in svg
    assert "href" not in svg
    assert "no-store" in image["Cache-Control"]


def test_every_session_sets_up_its_own_secret(officer: User) -> None:
    first = secret_on(logged_in_with_password("fg-a").get(ENROL))
    second = secret_on(logged_in_with_password("fg-a").get(ENROL))
    assert first != second
    assert TOTPDevice.objects.filter(user=officer).count() == 1  # the abandoned one is gone


def test_a_wrong_code_sets_up_nothing(officer: User) -> None:
    client = logged_in_with_password("fg-a")
    key = secret_on(client.get(ENROL))
    wrong = f"{(int(code_from(key)) + 1) % 1_000_000:06d}"

    answer = client.post(ENROL, {"code": wrong})

    assert "Deze code klopt niet" in answer.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
    assert not StaticToken.objects.exists()
    assert client.get("/school/")["Location"].startswith(ENROL)
    (event,) = events("accounts.second_factor.failed")
    assert event.details == {"step": "enrol", "reason": "wrong_code"}
    assert client.post(ENROL, {"code": ""}).status_code == 200


def test_a_password_alone_never_replaces_the_app(officer: User) -> None:
    app_for(officer)
    client = logged_in_with_password("fg-a")
    assert client.get(ENROL)["Location"].startswith(VERIFY)
    assert client.post(ENROL, {"code": "123456"})["Location"].startswith(VERIFY)
    assert client.get(QR).status_code == 404
    assert TOTPDevice.objects.filter(user=officer).count() == 1


def test_a_verified_officer_replaces_the_app(officer: User) -> None:
    old = app_for(officer)
    client = verified_client(officer)
    codes = enrolled(client)
    assert len(codes) == 10
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    (event,) = events("accounts.second_factor.enrolled")
    assert event.details == {"replaced": True}


# --- the second step at login -------------------------------------------------------------------


def test_at_the_next_login_a_code_from_the_app_lets_the_officer_in(officer: User) -> None:
    enrolled(logged_in_with_password("fg-a"))
    app = TOTPDevice.objects.get(user=officer)
    client = logged_in_with_password("fg-a")
    assert client.get("/school/")["Location"] == f"{VERIFY}?next=%2Fschool%2F"
    page = client.get(f"{VERIFY}?next=/school/")
    assert "fg-a" in page.content.decode()
    assert "Hoofdmenu" not in page.content.decode()

    answer = client.post(VERIFY, {"code": code_for(app), "next": "/school/"})

    assert answer["Location"] == "/school/"
    assert client.get("/school/").status_code == 200
    assert client.get(VERIFY)["Location"] == "/na-inloggen/"  # passed already


def test_a_wrong_code_is_refused_and_audited(officer: User) -> None:
    app = app_for(officer)
    client = logged_in_with_password("fg-a")
    right = code_for(app)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    answer = client.post(VERIFY, {"code": wrong, "next": "/school/"})

    assert answer.status_code == 200
    assert "Deze code klopt niet" in answer.content.decode()
    assert client.get("/school/").status_code == 302
    (event,) = events("accounts.second_factor.failed")
    assert (event.subject, event.details) == (
        f"user:{officer.pk}",
        {"step": "verify", "reason": "wrong_code"},
    )
    assert right not in json.dumps(event.details)
    assert wrong not in json.dumps(event.details)


def test_a_code_works_once(officer: User) -> None:
    app = app_for(officer)
    code = code_for(app)
    first = logged_in_with_password("fg-a")
    assert first.post(VERIFY, {"code": code})["Location"] == "/na-inloggen/"
    second = logged_in_with_password("fg-a")
    assert "Deze code klopt niet" in second.post(VERIFY, {"code": code}).content.decode()


def test_wrong_codes_are_throttled_even_for_the_right_one(
    officer: User, settings: LazySettings
) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 3600  # the first wait: an hour, so no test can outrun it
    app = app_for(officer)
    client = logged_in_with_password("fg-a")
    client.post(VERIFY, {"code": "000000" if code_for(app) != "000000" else "111111"})

    answer = client.post(VERIFY, {"code": code_for(app)})

    assert "Te veel verkeerde codes achter elkaar. Wacht tot" in answer.content.decode()
    assert client.get("/school/").status_code == 302
    reasons = [event.details["reason"] for event in events("accounts.second_factor.failed")]
    assert reasons == ["wrong_code", "throttled"]


def test_throttling_of_codes_is_on() -> None:
    from django.conf import settings

    assert settings.OTP_TOTP_THROTTLE_FACTOR >= 1
    assert settings.OTP_STATIC_THROTTLE_FACTOR >= 1


def test_a_recovery_code_works_once_and_says_how_many_are_left(officer: User) -> None:
    codes = enrolled(logged_in_with_password("fg-a"))
    client = logged_in_with_password("fg-a")

    answer = client.post(VERIFY, {"code": codes[0].upper(), "next": "/school/"}, follow=True)

    assert answer.redirect_chain[0] == ("/school/", 302)
    assert "u hebt er nog 9" in answer.content.decode()
    again = logged_in_with_password("fg-a")
    assert "Deze code klopt niet" in again.post(VERIFY, {"code": codes[0]}).content.decode()
    (used,) = events("accounts.second_factor.recovery_code_used")
    assert used.details == {"left": 9}
    assert codes[0] not in json.dumps([event.details for event in AuditEvent.objects.all()])


def test_unsafe_next_addresses_are_not_followed(officer: User) -> None:
    app = app_for(officer)
    client = logged_in_with_password("fg-a")
    answer = client.post(VERIFY, {"code": code_for(app), "next": "https://elders.example/"})
    assert answer["Location"] == "/na-inloggen/"


# --- recovery codes and resets ------------------------------------------------------------------


def test_new_recovery_codes_replace_the_old_ones(officer: User) -> None:
    client = logged_in_with_password("fg-a")
    old = enrolled(client)
    page = client.get(RECOVERY)
    assert "U hebt nog 10 herstelcodes" in page.content.decode()

    answer = client.post(RECOVERY)

    new = re.findall(r"<li><code>([a-z2-7]+)</code></li>", answer.content.decode())
    assert len(new) == 10
    assert not set(new) & set(old)
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(new)
    assert len(events("accounts.second_factor.recovery_codes_regenerated")) == 1


def test_recovery_codes_need_the_second_step_first(officer: User) -> None:
    app_for(officer)
    client = logged_in_with_password("fg-a")
    assert client.post(RECOVERY)["Location"].startswith(VERIFY)
    assert not StaticToken.objects.exists()


def test_an_administrator_resets_a_login_in_the_admin(officer: User) -> None:
    officer_session = verified_client(officer)
    enrolled(officer_session)
    admin = User.objects.create_superuser("beheer", "beheer@regie.example", PASSWORD)

    answer = verified_client(admin).post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [officer.pk]},
    )

    assert answer.status_code == 302
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert not StaticToken.objects.filter(device__user=officer).exists()
    assert officer_session.get("/school/")["Location"].startswith(ENROL)  # must set up again
    (event,) = events("accounts.second_factor.reset")
    assert (event.actor, event.subject) == (f"user:{admin.pk}", f"user:{officer.pk}")
    assert event.details == {"via": "admin", "devices": 2}


def test_the_admin_lists_who_set_up_an_app_and_no_devices_of_their_own(officer: User) -> None:
    app_for(officer)
    admin = User.objects.create_superuser("beheer", "beheer@regie.example", PASSWORD)
    browser = verified_client(admin)
    listing = browser.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "Tweede stap ingesteld" in listing
    assert browser.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert browser.get("/admin/otp_static/staticdevice/").status_code == 404


def test_the_command_resets_a_login(officer: User) -> None:
    app_for(officer)
    call_command("second_factor_reset", "fg-a")
    assert not TOTPDevice.objects.exists()
    (event,) = events("accounts.second_factor.reset")
    assert (event.actor, event.details) == ("system", {"via": "command", "devices": 1})
    with pytest.raises(CommandError, match="No login has that username"):
        call_command("second_factor_reset", "niemand")


# --- the setting and the demo -------------------------------------------------------------------


def test_without_the_requirement_only_who_set_up_an_app_is_asked(
    board: Board, school: School, settings: LazySettings
) -> None:
    settings.REQUIRE_2FA = False
    officer, _ = make_staff(board, school, StaffRole.PRIVACY_OFFICER, username="fg-a")
    make_staff(board, school, StaffRole.BOARD_ADMIN, username="bestuur-a")
    assert logged_in_with_password("bestuur-a").get("/school/").status_code == 200
    app_for(officer)
    assert logged_in_with_password("fg-a").get("/school/")["Location"].startswith(VERIFY)


def test_the_demo_switches_the_requirement_off_unless_it_is_set(settings: LazySettings) -> None:
    settings.REQUIRE_2FA = True
    line = demo_second_factor({"REGIE_REQUIRE_2FA": "true"})
    assert settings.REQUIRE_2FA is True
    assert "aan (REGIE_REQUIRE_2FA)" in line
    line = demo_second_factor({})
    assert settings.REQUIRE_2FA is False
    assert "uit in de demo" in line


def test_the_requirement_is_on_by_default() -> None:
    from django.conf import settings

    assert settings.REQUIRE_2FA is True


def test_a_pupils_pages_ask_no_query_for_the_second_step(board: Board, school: School) -> None:
    pupil = create_pupil_login(school.students.order_by("pk")[0], "leerling-a", PASSWORD)
    teacher, _ = make_staff(board, school, StaffRole.TEACHER, username="mw-a")
    for user, queries in ((pupil, 0), (teacher, 1)):
        loaded = AccountBackend().get_user(user.pk)  # as every request reads the user
        loaded.is_verified = lambda: False  # as OTPMiddleware says for a session without a step
        with CaptureQueriesContext(connection) as asked:
            assert second_step_due(loaded) is None
        assert len(asked) == queries, user.username


MACHINE_ENDPOINTS = {
    "gateway:token",
    "gateway:userinfo",
    "gateway:introspect",
    "orders:receipts",  # suppliers hand in signed receipts (the JWS is the authentication)
    "legacy:register",  # suppliers register old named data (a client-credentials bearer token)
    "sector:intake",  # hubs send signed aggregate reports (the signed note is the authentication)
    "oversight-api:breaches",  # suppliers report a data breach (a signed JWS, like a receipt)
}
MACHINE_NAMESPACES = {"oneroster", "gradebook", "nummervoorziening-api"}


def _views(resolver: URLResolver, namespace: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _views(pattern, inner)
        else:
            yield f"{namespace}{pattern.name}", pattern.callback


def test_only_machine_endpoints_are_left_out_of_the_second_step() -> None:
    """The middleware skips views exempt from CSRF: each must be a machine endpoint that no
    browser session drives. A new one fails here until it is checked and added."""
    exempt = {name for name, view in _views(get_resolver()) if getattr(view, "csrf_exempt", False)}
    others = {
        name
        for name in exempt
        if name not in MACHINE_ENDPOINTS | {"nummervoorziening-soap"}
        and name.split(":")[0] not in MACHINE_NAMESPACES
    }
    assert others == set()
    assert exempt >= MACHINE_ENDPOINTS


def test_a_machine_endpoint_reads_no_session_for_the_second_step(officer: User) -> None:
    client = logged_in_with_password("fg-a")  # a session cookie that is not past the second step
    with CaptureQueriesContext(connection) as asked:
        answer = client.get("/oidc/userinfo")
    assert answer.status_code == 401  # the endpoint's own answer, not a redirect to the step
    assert not any("django_session" in query["sql"] for query in asked.captured_queries)


def test_passing_the_second_step_gives_a_new_session_key(officer: User) -> None:
    app = app_for(officer)
    client = logged_in_with_password("fg-a")
    before = client.cookies["sessionid"].value
    client.post(VERIFY, {"code": code_for(app)})
    assert client.cookies["sessionid"].value != before
    assert client.get("/school/").status_code == 200
