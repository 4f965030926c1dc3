"""The school invites guardians and a guardian makes their login, over HTTP with Django's test
client: the invitations page, the e-mail (sent by the job, into Django's outbox), the link that
keeps its secret out of every URL after the first, the password form, the portal after it, the
pages for a link that cannot be used, and who may invite whom."""

from __future__ import annotations

import json
import logging
import random
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.accounts.models import GuardianAccount, Invitation
from regie.accounts.services import create_pupil_login
from regie.accounts.tests.families import PASSWORD, Families, families
from regie.audit.models import AuditEvent
from regie.browser import assert_accessible
from regie.conftest import regie_command, subprocess_env
from regie.jobs.services import queued
from regie.logins import code_for, log_in_in_browser, verified_client
from regie.portal.access import child_for
from regie.portal.jobs import send_notification
from regie.portal.models import Notification
from regie.roster.models import Guardian, StaffRole
from regie.roster.tests.exports import make_staff

pytestmark = pytest.mark.django_db

ADDRESS = "ouder0.a@ouders.example"
LIST = "/school/uitnodigingen/"
SEND = "/school/uitnodigingen/versturen/"
FORM = "/portaal/uitnodiging/account-maken/"
LINK = re.compile(r"https?://testserver(/portaal/uitnodiging/([A-Za-z0-9_-]{43})/)")


@pytest.fixture
def board_families(db: None, rng: random.Random) -> Families:
    return families(rng)


@pytest.fixture
def school_admin(board_families: Families) -> Client:
    user, _ = make_staff(
        board_families.board, board_families.school_a, StaffRole.SCHOOL_ADMIN, username="beheer-a"
    )
    return verified_client(user)


def run_jobs() -> int:
    """Run the send job queued for each message not sent yet, here, as a worker would (one job
    queued per message); how many ran."""
    waiting = list(Notification.objects.filter(sent_at__isnull=True).values_list("pk", flat=True))
    for pk in waiting:
        assert queued(send_notification, {"notification": pk}) == 1
        send_notification(notification=pk)
    return len(waiting)


def invite(admin: Client, guardian: Guardian) -> str:
    """Invite ``guardian`` on the school's page; the link's path from the e-mail."""
    before = len(mail.outbox)
    response = admin.post(SEND, {"guardian": guardian.pk})
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert run_jobs() == 1
    assert len(mail.outbox) == before + 1
    message = mail.outbox[-1]
    assert message.to == [guardian.email]
    found = LINK.search(str(message.body))
    assert found is not None, message.body
    return found.group(1)


def make_login(link: str, password: str = PASSWORD) -> tuple[Client, list[str]]:
    """Open the link and choose a password, as the guardian; the client and every URL visited."""
    guardian = Client()
    opened = guardian.get(link)
    assert opened.status_code == 302
    urls = [opened["Location"]]
    assert opened["Location"] == FORM
    form = guardian.get(FORM)
    assert form.status_code == 200
    made = guardian.post(FORM, {"password1": password, "password2": password})
    assert made.status_code == 302, made.content.decode()
    urls.append(made["Location"])
    assert made["Location"] == reverse("portal:home")
    return guardian, urls


def test_invite_mail_accept_and_the_guardian_sees_their_children(
    board_families: Families,
    school_admin: Client,
    mailoutbox: list[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    guardian = board_families.guardian(ADDRESS)
    child = guardian.students.get()
    page = school_admin.get(LIST)
    assert page.status_code == 200
    assert ADDRESS in page.content.decode()
    assert "Niet uitgenodigd" in page.content.decode()
    assert "regie-table-scroll" in page.content.decode()

    link = invite(school_admin, guardian)
    token = link.rstrip("/").rsplit("/", 1)[1]
    message = mailoutbox[0]
    assert "Uitnodiging voor het ouderportaal" in message.subject
    assert board_families.school_a.name in message.body
    assert "Uitgenodigd op" in school_admin.get(LIST).content.decode()

    client, urls = make_login(link)
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200
    text = home.content.decode()
    assert child.roepnaam in text
    assert "Uw account is gemaakt" in text
    assert "Tweestapsverificatie instellen" in text
    assert client.get(reverse("after-login"))["Location"] == reverse("portal:home")
    assert "Account gemaakt" in school_admin.get(LIST).content.decode()

    # The secret stays out of every URL after the first, the logs and the audit log.
    assert all(token not in url for url in urls)
    assert token not in caplog.text
    audited = json.dumps(
        [[e.event_type, e.actor, e.subject, e.details] for e in AuditEvent.objects.all()]
    )
    assert "accounts.invitation.accepted" in audited
    assert token not in audited
    assert ADDRESS not in audited
    assert token not in json.dumps(list(Invitation.objects.values()), default=str)

    # Later, the guardian logs in on the login page with the address and the password.
    later = Client()
    logged_in = later.post(
        reverse("login"), {"username": ADDRESS, "password": PASSWORD}, follow=True
    )
    assert logged_in.redirect_chain[-1][0] == reverse("portal:home")
    assert child.roepnaam in logged_in.content.decode()


def test_a_link_used_again_says_so_and_points_to_logging_in(
    board_families: Families, school_admin: Client
) -> None:
    link = invite(school_admin, board_families.guardian(ADDRESS))
    make_login(link)

    again = Client()
    assert again.get(link)["Location"] == FORM
    page = again.get(FORM)
    assert page.status_code == 410
    assert "al gebruikt" in page.content.decode()
    assert reverse("login") in page.content.decode()
    assert "nieuwe uitnodiging" in page.content.decode()
    assert GuardianAccount.objects.count() == 1


def test_an_expired_link_asks_for_a_new_invitation(
    board_families: Families, school_admin: Client
) -> None:
    link = invite(school_admin, board_families.guardian(ADDRESS))
    Invitation.objects.update(expires_at=timezone.now())

    guardian = Client()
    guardian.get(link)
    page = guardian.get(FORM)
    assert page.status_code == 410
    assert "verlopen" in page.content.decode()
    assert "nieuwe uitnodiging" in page.content.decode()
    posted = guardian.post(FORM, {"password1": PASSWORD, "password2": PASSWORD})
    assert posted.status_code == 400  # the session no longer holds a link
    assert not GuardianAccount.objects.exists()


def test_an_unknown_link_and_the_form_without_a_link(board_families: Families) -> None:
    guardian = Client()
    assert guardian.get(FORM).status_code == 400
    guardian.get("/portaal/uitnodiging/" + "x" * 43 + "/")
    page = guardian.get(FORM)
    assert page.status_code == 404
    assert "kennen we niet" in page.content.decode()


def test_inviting_again_voids_the_earlier_link(
    board_families: Families, school_admin: Client
) -> None:
    guardian = board_families.guardian(ADDRESS)
    first = invite(school_admin, guardian)
    second = invite(school_admin, guardian)

    old = Client()
    old.get(first)
    assert old.get(FORM).status_code == 410
    make_login(second)


def test_passwords_that_differ_or_are_weak_are_refused_on_the_form(
    board_families: Families, school_admin: Client
) -> None:
    link = invite(school_admin, board_families.guardian(ADDRESS))
    guardian = Client()
    guardian.get(link)
    differ = guardian.post(FORM, {"password1": PASSWORD, "password2": PASSWORD + "x"})
    assert differ.status_code == 200
    assert "niet hetzelfde" in differ.content.decode()
    weak = guardian.post(FORM, {"password1": "12345678", "password2": "12345678"})
    assert weak.status_code == 200
    assert "utrecht-alert--error" in weak.content.decode()
    assert not GuardianAccount.objects.exists()
    made = guardian.post(FORM, {"password1": PASSWORD, "password2": PASSWORD})
    assert made.status_code == 302


def test_a_guardian_the_next_import_removes_loses_access_at_once(
    board_families: Families, school_admin: Client
) -> None:
    guardian = board_families.guardian(ADDRESS)
    child = guardian.students.get()
    client, _ = make_login(invite(school_admin, guardian))
    assert child.roepnaam in client.get(reverse("portal:home")).content.decode()

    board_families.reimport_a_without(ADDRESS)

    home = client.get(reverse("portal:home"))
    assert home.status_code == 200
    assert child.roepnaam not in home.content.decode()
    assert "Er zijn geen kinderen aan uw account gekoppeld" in home.content.decode()
    request = RequestFactory().get("/")
    request.user = User.objects.get(username=ADDRESS)
    with pytest.raises(Http404):
        child_for(request, child.pk)  # what every page about a child loads it through


def test_invite_all_not_yet_invited_sends_one_mail_per_address(
    board_families: Families, school_admin: Client, mailoutbox: list[Any]
) -> None:
    invite(school_admin, board_families.guardian(ADDRESS))
    no_address = board_families.guardian("ouder1.a@ouders.example")
    no_address.email = ""
    no_address.save()
    page = school_admin.get(LIST).content.decode()
    assert "Geen e-mailadres in de leerlingadministratie" in page
    assert "Nodig alle 2 ouders uit" in page

    response = school_admin.post(SEND, {"all": "1"}, follow=True)
    assert "2 uitnodigingen verstuurd" in response.content.decode()
    assert run_jobs() == 2
    assert sorted(message.to[0] for message in mailoutbox[1:]) == [
        "ouder2.a@ouders.example",
        "ouder3.a@ouders.example",
    ]
    assert Invitation.objects.count() == 3
    again = school_admin.post(SEND, {"all": "1"}, follow=True)
    assert "niemand meer om uit te nodigen" in again.content.decode()
    assert Invitation.objects.count() == 3


def test_a_guardian_without_an_address_is_not_invited(
    board_families: Families, school_admin: Client
) -> None:
    guardian = board_families.guardian(ADDRESS)
    guardian.email = ""
    guardian.save()
    response = school_admin.post(SEND, {"guardian": guardian.pk}, follow=True)
    assert "staat bij geen actieve ouder" in response.content.decode()
    assert not Invitation.objects.exists()
    assert not Notification.objects.exists()


def test_staff_of_another_school_cannot_invite_its_guardians(board_families: Families) -> None:
    user, _ = make_staff(board_families.board, board_families.school_b, StaffRole.SCHOOL_ADMIN)
    other = verified_client(user)
    guardian = board_families.guardian(ADDRESS)

    assert ADDRESS not in other.get(LIST).content.decode()
    assert "ouder0.b@ouders.example" in other.get(LIST).content.decode()
    assert other.post(SEND, {"guardian": guardian.pk}).status_code == 404
    assert other.post(SEND, {"guardian": "nonsense"}).status_code == 404
    other.post(SEND, {"all": "1"})
    assert set(Invitation.objects.values_list("email", flat=True)) == {
        f"ouder{n}.b@ouders.example" for n in range(4)
    }


@pytest.mark.parametrize("who", ["teacher", "pupil"])
def test_logins_that_do_not_see_guardians_get_403(board_families: Families, who: str) -> None:
    if who == "teacher":
        user, _ = make_staff(board_families.board, board_families.school_a, StaffRole.TEACHER)
    else:
        pupil = board_families.school_a.students.order_by("pk")[0]
        user = create_pupil_login(pupil, "leerling-a", PASSWORD)
    client = verified_client(user)
    guardian = board_families.guardian(ADDRESS)
    assert client.get(LIST).status_code == 403
    assert client.post(SEND, {"guardian": guardian.pk}).status_code == 403
    assert not Invitation.objects.exists()


def test_a_guardian_cannot_invite_and_a_visitor_is_sent_to_log_in(
    board_families: Families, school_admin: Client
) -> None:
    guardian, _ = make_login(invite(school_admin, board_families.guardian(ADDRESS)))
    assert guardian.get(LIST).status_code == 403
    assert Client().get(LIST)["Location"].startswith(reverse("login"))


def test_the_guardians_page_links_to_the_invitations(school_admin: Client) -> None:
    assert LIST in school_admin.get(reverse("roster:guardians")).content.decode()


def test_a_guardian_may_set_up_a_second_factor_and_is_asked_for_it_afterwards(
    board_families: Families, school_admin: Client
) -> None:
    client, _ = make_login(invite(school_admin, board_families.guardian(ADDRESS)))
    enrol = client.get(reverse("second_factor:enrol"))
    assert enrol.status_code == 200
    assert "U kiest hier zelf voor" in enrol.content.decode()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user__username=ADDRESS)
    done = client.post(reverse("second_factor:enrol"), {"code": code_for(device)})
    assert done.status_code == 200
    assert "recovery-codes" in done.content.decode()
    assert "Tweestapsverificatie staat aan" in client.get(reverse("portal:home")).content.decode()

    later = Client()
    later.post(reverse("login"), {"username": ADDRESS, "password": PASSWORD})
    asked = later.get(reverse("portal:home"))
    assert asked.status_code == 302
    assert asked["Location"].startswith(reverse("second_factor:verify"))


@pytest.mark.django_db(transaction=True)
def test_the_job_writes_the_invitation_into_the_mail_folder_the_settings_name(
    rng: random.Random, keys_dir: Path, tmp_path: Path
) -> None:
    """REGIE_EMAIL_BACKEND=folder (the demo): a worker process sends the message as a file."""
    board_families = families(rng)
    user, _ = make_staff(
        board_families.board, board_families.school_a, StaffRole.SCHOOL_ADMIN, username="beheer-a"
    )
    verified_client(user).post(SEND, {"guardian": board_families.guardian(ADDRESS).pk})
    notification = Notification.objects.get()
    folder = tmp_path / "mail"
    env = subprocess_env(
        keys_dir,
        REGIE_EMAIL_BACKEND="folder",
        REGIE_EMAIL_FOLDER=str(folder),
        REGIE_EMAIL_FROM="Stichting De Vliet <portaal@devliet.example>",
    )
    script = (
        "from regie.portal.jobs import send_notification; "
        f"send_notification(notification={notification.pk})"
    )
    done = subprocess.run(
        regie_command("shell", "-c", script), env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()

    (written,) = folder.iterdir()
    text = written.read_text(encoding="utf-8")
    assert "From: Stichting De Vliet <portaal@devliet.example>" in text
    assert f"To: {ADDRESS}" in text
    assert LINK.search(text) is not None
    notification.refresh_from_db()
    assert notification.sent_at is not None


def test_smtp_settings_come_from_the_environment(keys_dir: Path) -> None:
    env = subprocess_env(
        keys_dir,
        REGIE_EMAIL_BACKEND="smtp",
        REGIE_EMAIL_HOST="smtp.bestuur.example",
        REGIE_EMAIL_PORT="465",
        REGIE_EMAIL_USER="portaal",
        REGIE_EMAIL_PASSWORD="fictief-geheim",
        REGIE_EMAIL_TLS="tls",
    )
    script = (
        "from django.conf import settings as s; print('email', s.EMAIL_BACKEND, s.EMAIL_HOST, "
        "s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.EMAIL_USE_SSL)"
    )
    done = subprocess.run(
        regie_command("shell", "-c", script), env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()
    (line,) = [line for line in done.stdout.decode().splitlines() if line.startswith("email ")]
    assert line.split()[1:] == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.bestuur.example",
        "465",
        "portaal",
        "fictief-geheim",
        "False",
        "True",
    ]


# --- In a real browser ----------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.django_db(transaction=True)
def test_in_a_browser_the_school_invites_and_the_guardian_makes_a_login(
    live_server: LiveServer, page: Page, rng: random.Random, mailoutbox: list[Any]
) -> None:
    board_families = families(rng)
    make_staff(
        board_families.board, board_families.school_a, StaffRole.SCHOOL_ADMIN, username="beheer-a"
    )
    child = board_families.guardian(ADDRESS).students.get()
    log_in_in_browser(page, live_server.url, "beheer-a")
    page.goto(f"{live_server.url}{reverse('roster:guardians')}")
    page.get_by_role("link", name="Ouders uitnodigen voor het ouderportaal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Ouders uitnodigen voor het ouderportaal"
    )
    assert_accessible(page)
    page.get_by_role("row").filter(has_text=ADDRESS).get_by_role("button").click()
    expect(page.get_by_role("status")).to_have_text("1 uitnodiging verstuurd.")
    expect(page.get_by_role("row").filter(has_text=ADDRESS)).to_contain_text("Uitgenodigd op")
    assert_accessible(page)
    page.get_by_role("button", name="Uitloggen").click()

    assert run_jobs() == 1
    found = re.search(
        r"http://[^\s/]+(/portaal/uitnodiging/[A-Za-z0-9_-]{43}/)", mailoutbox[0].body
    )
    assert found is not None
    page.goto(f"{live_server.url}{found.group(1)}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Uw account voor het ouderportaal maken"
    )
    assert page.url == f"{live_server.url}{FORM}"
    assert_accessible(page)
    page.get_by_label("Kies een wachtwoord").fill(PASSWORD)
    page.get_by_label("Typ het wachtwoord nog een keer").fill(PASSWORD + "!")
    page.get_by_role("button", name="Account maken").click()
    expect(page.get_by_role("alert")).to_contain_text("niet hetzelfde")
    assert_accessible(page)
    page.get_by_label("Kies een wachtwoord").fill(PASSWORD)
    page.get_by_label("Typ het wachtwoord nog een keer").fill(PASSWORD)
    page.get_by_role("button", name="Account maken").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy en rechten")
    expect(page.get_by_text(child.roepnaam, exact=False).first).to_be_visible()
    expect(page.get_by_role("link", name="Tweestapsverificatie instellen")).to_be_visible()
    assert_accessible(page)

    page.goto(f"{live_server.url}{found.group(1)}")  # the link again
    expect(page.get_by_role("heading", level=1)).to_have_text("Deze uitnodiging werkt niet")
    expect(page.get_by_text("al gebruikt")).to_be_visible()
    assert_accessible(page)
