"""Login throttling (:mod:`regie.accounts.throttling`): lockouts per username at an address, per
username and per address, on the hub's login page, the admin's and the upstream callback; the
lockout page; unlocking; and failures in the audit log and the log without the username or the
password."""

from __future__ import annotations

import json
import logging
import random
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.urls import reverse

from regie.audit.models import AuditEvent
from regie.core.models import Board, School
from regie.logins import verified_client
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import make_board, make_staff

from ..models import IdentityProvider
from ..services import create_pupil_login
from ..throttling import address_key, client_address, upstream_refused

pytestmark = pytest.mark.django_db

PASSWORD = "fictief-wachtwoord-123"
WRONG = "niet-het-wachtwoord"
HOME = "10.1.2.3"  # a school network (one address for a whole school, behind NAT)
ELSEWHERE = "10.9.8.7"


@pytest.fixture
def board() -> Board:
    return make_board()


@pytest.fixture
def school(board: Board, rng: random.Random) -> School:
    from regie.roster.tests.exports import load_school

    return load_school(board, rng, "99XA", "A")


def pupil_login(school: School, username: str = "leerling-a") -> User:
    return create_pupil_login(school.students.order_by("pk")[0], username, PASSWORD)


def at(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def log_in(client: Client, username: str, password: str, path: str = "/inloggen/") -> int:
    """Post the login form; the response's status (302: logged in, 200: refused, 429: locked)."""
    return client.post(path, {"username": username, "password": password}).status_code


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def events(name: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=name).order_by("pk"))


# --- lockouts --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pupil", "teacher"])
def test_it_locks_a_hub_login_out_after_five_wrong_passwords_and_refuses_the_right_one(
    board: Board, school: School, kind: str
) -> None:
    if kind == "pupil":
        pupil_login(school, "slachtoffer")
    else:
        make_staff(board, school, StaffRole.TEACHER, username="slachtoffer")
    client = at(HOME)
    assert [log_in(client, "slachtoffer", WRONG) for _ in range(4)] == [200] * 4

    locked = client.post("/inloggen/", {"username": "slachtoffer", "password": WRONG})

    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Met deze gebruikersnaam is te vaak een verkeerd wachtwoord ingevuld" in page
    assert "Vraag de beheerder van de school" in page
    assert int(locked["Retry-After"]) > 14 * 60
    assert log_in(client, "slachtoffer", PASSWORD) == 429  # the right one, while locked
    assert not logged_in(client)
    assert log_in(at(ELSEWHERE), "slachtoffer", PASSWORD) == 302  # elsewhere: not that rule


def test_thirty_wrong_passwords_for_a_pupil_never_let_the_right_one_in(school: School) -> None:
    pupil_login(school)
    client = at(HOME)
    for _ in range(30):
        log_in(client, "leerling-a", WRONG)
    assert log_in(client, "leerling-a", PASSWORD) == 429
    assert not logged_in(client)


def test_the_admin_login_locks_the_superuser_out_after_wrong_passwords(db: None) -> None:
    User.objects.create_superuser("beheer", "beheer@regie.example", PASSWORD)
    client = at(HOME)
    statuses = [log_in(client, "beheer", WRONG, "/admin/login/") for _ in range(10)]
    assert statuses == [200] * 4 + [429] * 6

    refused = client.post("/admin/login/", {"username": "beheer", "password": PASSWORD})

    assert refused.status_code == 429
    assert 'href="/admin/login/"' in refused.content.decode()
    assert not logged_in(client)


def test_the_lockout_ends_after_its_minutes(school: School, settings: LazySettings) -> None:
    pupil_login(school)
    client = at(HOME)
    for _ in range(5):
        log_in(client, "leerling-a", WRONG)
    assert log_in(client, "leerling-a", PASSWORD) == 429
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    for attempt in AccessAttempt.objects.all():  # as if the last failure was that long ago
        attempt.attempt_time -= timedelta(minutes=minutes, seconds=1)
        attempt.save(update_fields=["attempt_time"])
    assert log_in(client, "leerling-a", PASSWORD) == 302


def test_attempts_while_locked_do_not_prolong_the_lockout(school: School) -> None:
    pupil_login(school)
    client = at(HOME)
    for _ in range(5):
        log_in(client, "leerling-a", WRONG)
    (record,) = AccessAttempt.objects.all()
    for _ in range(3):
        log_in(client, "leerling-a", WRONG)
    again = AccessAttempt.objects.get()
    assert (again.failures_since_start, again.attempt_time) == (5, record.attempt_time)


def test_a_right_password_before_the_limit_clears_that_logins_failures(school: School) -> None:
    pupil_login(school)
    client = at(HOME)
    for _ in range(4):
        log_in(client, "leerling-a", WRONG)
    assert log_in(client, "leerling-a", PASSWORD) == 302
    assert not AccessAttempt.objects.exists()
    typo = at(HOME)
    assert [log_in(typo, "leerling-a", WRONG) for _ in range(4)] == [200] * 4


def test_guessing_from_many_addresses_locks_the_username_everywhere(
    school: School, settings: LazySettings
) -> None:
    settings.LOGIN_USER_FAILURE_LIMIT = 8
    pupil_login(school)
    statuses = []
    for number in range(4):  # two tries from each of four addresses: below the other rules
        client = at(f"192.0.2.{number}")
        statuses += [log_in(client, "leerling-a", WRONG) for _ in range(2)]
    assert statuses == [200] * 7 + [429]
    assert log_in(at("198.51.100.7"), "leerling-a", PASSWORD) == 429


# --- a school behind one address ------------------------------------------------------------------


def test_a_class_behind_one_address_is_not_locked_out_by_its_typos(db: None) -> None:
    pupils = [
        User.objects.create_user(f"leerling{number}", password=PASSWORD) for number in range(30)
    ]
    classroom = at(HOME)
    for pupil in pupils:  # every pupil mistypes twice, and then gets it right
        assert log_in(classroom, pupil.username, WRONG) == 200
        assert log_in(classroom, pupil.username, WRONG + "!") == 200
        assert log_in(Client(REMOTE_ADDR=HOME), pupil.username, PASSWORD) == 302
    assert not AccessAttempt.objects.exists()


def test_a_success_does_not_lift_someone_elses_lockout_at_the_same_address(db: None) -> None:
    User.objects.create_user("leerling1", password=PASSWORD)
    User.objects.create_user("leerling2", password=PASSWORD)
    classroom = at(HOME)
    for _ in range(5):
        log_in(classroom, "leerling1", WRONG)
    assert log_in(at(HOME), "leerling2", PASSWORD) == 302
    assert log_in(at(HOME), "leerling1", PASSWORD) == 429


def test_many_usernames_from_one_address_lock_that_address_only(
    db: None, settings: LazySettings
) -> None:
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 10
    User.objects.create_user("leerling1", password=PASSWORD)
    spraying = at(HOME)
    statuses = [log_in(spraying, f"geraden{number}", WRONG) for number in range(10)]
    assert statuses == [200] * 9 + [429]

    refused = at(HOME).post("/inloggen/", {"username": "leerling1", "password": PASSWORD})

    assert refused.status_code == 429
    assert "Vanaf dit netwerk is te vaak verkeerd ingelogd" in refused.content.decode()
    assert log_in(at(ELSEWHERE), "leerling1", PASSWORD) == 302


def test_the_default_limits_are_five_twenty_and_a_hundred(settings: LazySettings) -> None:
    limits = (
        settings.LOGIN_FAILURE_LIMIT,
        settings.LOGIN_USER_FAILURE_LIMIT,
        settings.LOGIN_ADDRESS_FAILURE_LIMIT,
        settings.LOGIN_LOCKOUT_MINUTES,
    )
    assert limits == (5, 20, 100, 15)


# --- the client's address ---------------------------------------------------------------------------


def a_request(remote: str, forwarded: str | None = None) -> HttpRequest:
    request = RequestFactory().post("/inloggen/", REMOTE_ADDR=remote)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


def test_it_ignores_a_proxy_header_unless_told_the_hub_is_behind_a_proxy(
    settings: LazySettings,
) -> None:
    settings.LOGIN_ADDRESS_HEADER = ""
    assert client_address(a_request("127.0.0.1", "203.0.113.5")) == "127.0.0.1"


def test_it_reads_the_client_address_from_a_trusted_proxy(settings: LazySettings) -> None:
    settings.LOGIN_ADDRESS_HEADER = "X-Forwarded-For"
    settings.LOGIN_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.2"]
    assert client_address(a_request("127.0.0.1", "203.0.113.5")) == "203.0.113.5"
    # What the client wrote itself stands further left: the rightmost untrusted address counts.
    assert client_address(a_request("127.0.0.1", "1.1.1.1, 203.0.113.5, 10.0.0.2")) == (
        "203.0.113.5"
    )
    assert client_address(a_request("127.0.0.1", "2001:DB8::1")) == "2001:db8::1"
    assert client_address(a_request("198.51.100.9", "203.0.113.5")) == "198.51.100.9"  # no proxy
    assert client_address(a_request("127.0.0.1", "geen-adres")) == "127.0.0.1"
    assert client_address(a_request("127.0.0.1")) == "127.0.0.1"


def test_behind_a_proxy_each_client_has_its_own_count(db: None, settings: LazySettings) -> None:
    settings.LOGIN_ADDRESS_HEADER = "X-Forwarded-For"
    User.objects.create_user("leerling1", password=PASSWORD)
    proxy = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    for _ in range(5):
        log_in(proxy, "leerling1", WRONG)
    assert log_in(proxy, "leerling1", PASSWORD) == 429
    other = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert log_in(other, "leerling1", PASSWORD) == 302


# --- the upstream login ------------------------------------------------------------------------------


@pytest.fixture
def provider(board: Board) -> IdentityProvider:
    provider = IdentityProvider(
        board=board, name="Inloggen met Entree", issuer="https://idp.example", client_id="regie"
    )
    provider.set_client_secret("fictief-geheim")
    provider.save()
    return provider


def test_refused_upstream_logins_count_against_the_address(
    provider: IdentityProvider, settings: LazySettings
) -> None:
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    User.objects.create_user("leerling1", password=PASSWORD)
    callback = reverse("accounts:upstream-callback", args=[provider.pk])
    visitor = at(HOME)
    statuses = [visitor.get(callback, {"state": "verzonnen"}).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]  # a state the hub never gave out: refused, counted
    assert AccessAttempt.objects.get().username is None  # nobody's username: the address only

    assert visitor.get(callback, {"state": "verzonnen"}).status_code == 429
    start = reverse("accounts:upstream-start", args=[provider.pk])
    assert visitor.post(start).status_code == 429
    assert log_in(at(HOME), "leerling1", PASSWORD) == 429
    assert log_in(at(ELSEWHERE), "leerling1", PASSWORD) == 302
    assert [event.details["reason"] for event in events("accounts.login.upstream_refused")] == [
        "state_mismatch"
    ] * 3
    # An upstream refusal is audited once, as the refusal it is; the hub's form is refused too.
    assert [
        (event.details["form"], event.details["locked"])
        for event in events("accounts.login.failed")
    ] == [("hub", True)]
    (locked,) = events("accounts.login.locked_out")
    assert locked.details["rules"] == ["address"]


def test_an_unreachable_identity_provider_counts_against_nobody(db: None) -> None:
    request = RequestFactory().get("/inloggen/school/1/terug/", REMOTE_ADDR=HOME)
    upstream_refused(request, "upstream_unavailable")
    upstream_refused(request, "misconfigured")
    assert not AccessAttempt.objects.exists()
    upstream_refused(request, "unknown_person")
    assert AccessAttempt.objects.get().ip_address == HOME


# --- audit and log ------------------------------------------------------------------------------------


def test_failures_and_the_lockout_are_audited_and_logged_without_username_or_password(
    school: School, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    pupil = pupil_login(school, "kim.devries")
    client = at(HOME)
    log_in(client, "onbekend.persoon", WRONG)
    for _ in range(5):
        log_in(client, "kim.devries", WRONG)
    log_in(client, "kim.devries", PASSWORD)  # refused: locked

    failed = events("accounts.login.failed")
    assert [event.details for event in failed] == [
        {"form": "hub", "user": None, "address": address_key(HOME), "locked": False},
        *[{"form": "hub", "user": pupil.pk, "address": address_key(HOME), "locked": False}] * 5,
        {"form": "hub", "user": pupil.pk, "address": address_key(HOME), "locked": True},
    ]
    assert [event.subject for event in failed] == ["", *[f"user:{pupil.pk}"] * 6]
    assert {event.actor for event in failed} == {"anonymous"}
    (locked,) = events("accounts.login.locked_out")
    assert locked.details == {
        "rules": ["user_address"],
        "user": pupil.pk,
        "address": address_key(HOME),
        "minutes": 15,
    }
    key = address_key(HOME)
    assert key is not None
    assert len(key) == 16
    audited = json.dumps([[event.subject, event.details] for event in AuditEvent.objects.all()])
    logged = caplog.text
    assert "login.failed" in logged
    assert "login.locked_out" in logged
    for secret in ("kim.devries", "onbekend.persoon", WRONG, PASSWORD, HOME):
        assert secret not in audited
        assert secret not in logged


def test_an_admin_login_failure_names_the_admin_form(db: None) -> None:
    admin = User.objects.create_superuser("beheer", "beheer@regie.example", PASSWORD)
    log_in(at(HOME), "beheer", WRONG, "/admin/login/")
    (failed,) = events("accounts.login.failed")
    assert failed.details["form"] == "admin"
    assert failed.details["user"] == admin.pk


def test_no_login_without_a_request_to_throttle_it(db: None) -> None:
    from axes.exceptions import AxesBackendRequestParameterRequired
    from django.contrib.auth import authenticate

    User.objects.create_user("leerling1", password=PASSWORD)
    with pytest.raises(AxesBackendRequestParameterRequired):
        authenticate(username="leerling1", password=PASSWORD)


# --- unlocking -------------------------------------------------------------------------------------


def lock_out(username: str, address: str = HOME) -> None:
    client = at(address)
    for _ in range(5):
        log_in(client, username, WRONG)
    assert log_in(client, username, PASSWORD) == 429


def test_the_command_lifts_a_usernames_lockout(
    school: School, capsys: pytest.CaptureFixture[str]
) -> None:
    pupil = pupil_login(school)
    lock_out("leerling-a")
    call_command("login_unlock", "--list")
    assert "leerling-a" in capsys.readouterr().out

    call_command("login_unlock", "--username", "leerling-a")

    assert log_in(at(HOME), "leerling-a", PASSWORD) == 302
    (unlocked,) = events("accounts.login.unlocked")
    assert unlocked.actor == "system"
    assert unlocked.details == {
        "via": "command",
        "by": ["username"],
        "user": pupil.pk,
        "address": None,
        "records": 1,
    }


def test_the_command_lifts_an_addresss_lockout(db: None, settings: LazySettings) -> None:
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    User.objects.create_user("leerling1", password=PASSWORD)
    for number in range(3):
        log_in(at(HOME), f"geraden{number}", WRONG)
    assert log_in(at(HOME), "leerling1", PASSWORD) == 429

    call_command("login_unlock", "--address", HOME)

    assert log_in(at(HOME), "leerling1", PASSWORD) == 302
    (unlocked,) = events("accounts.login.unlocked")
    assert unlocked.details["by"] == ["address"]
    assert unlocked.details["address"] == address_key(HOME)
    assert unlocked.details["records"] == 3


def test_the_command_wants_to_know_whose_lockout(db: None) -> None:
    with pytest.raises(CommandError, match="--username, --address or --all"):
        call_command("login_unlock")
    with pytest.raises(CommandError, match="without --username"):
        call_command("login_unlock", "--all", "--username", "leerling1")
    assert not events("accounts.login.unlocked")


def test_an_administrator_lifts_a_lockout_in_the_admin(school: School) -> None:
    pupil = pupil_login(school)
    lock_out("leerling-a")
    admin = User.objects.create_superuser("beheer", "beheer@regie.example", PASSWORD)
    browser = verified_client(admin)
    listing = browser.get(reverse("admin:accounts_loginlockout_changelist"))
    assert listing.status_code == 200
    assert "leerling-a" in listing.content.decode()
    attempt = AccessAttempt.objects.get()

    answer = browser.post(
        reverse("admin:accounts_loginlockout_changelist"),
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )

    assert answer.status_code == 302
    assert log_in(at(HOME), "leerling-a", PASSWORD) == 302
    (unlocked,) = events("accounts.login.unlocked")
    assert unlocked.actor == f"user:{admin.pk}"
    assert unlocked.subject == f"user:{pupil.pk}"
    assert unlocked.details["via"] == "admin"


def test_the_lockout_page_is_in_english_too(school: School) -> None:
    pupil_login(school)
    client = Client(REMOTE_ADDR=HOME, HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(5):
        log_in(client, "leerling-a", WRONG)
    page = client.post("/inloggen/", {"username": "leerling-a", "password": PASSWORD})
    text = page.content.decode()
    assert page.status_code == 429
    assert "Too many wrong passwords were entered for this username" in text
    assert "Ask your school's administrator" in text


def test_the_command_refuses_an_address_that_is_none(db: None) -> None:
    with pytest.raises(CommandError, match="IPv4 or IPv6"):
        call_command("login_unlock", "--address", "school.example")
    assert not events("accounts.login.unlocked")
