"""Guardians' invitations (:mod:`regie.accounts.invitations`): only addresses on the export are
invited, a link works once and until it expires, inviting again voids the earlier link, a link
used twice at once makes one login, and the audit log names neither the address nor the link."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import threading
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from regie.audit.models import AuditEvent
from regie.roster.models import StaffRole
from regie.roster.tests.exports import make_staff

from .. import guardians
from ..invitations import InvitationRefused, accept, invite, statuses
from ..models import Audience, GuardianAccount, Invitation
from . import upstream_op
from .conftest import Visitor, make_provider
from .families import PASSWORD, Families, families

ADDRESS = "ouder0.a@ouders.example"


@pytest.fixture
def board_families(db: None, rng: random.Random) -> Families:
    return families(rng)


@pytest.fixture
def staff(board_families: Families) -> User:
    user, _ = make_staff(board_families.board, board_families.school_a, StaffRole.SCHOOL_ADMIN)
    return user


def refusals() -> list[dict[str, Any]]:
    return [
        event.details
        for event in AuditEvent.objects.filter(event_type="accounts.invitation.refused")
    ]


@pytest.mark.django_db
def test_an_invitation_stores_only_the_hash_of_its_link_and_expires_after_the_setting(
    board_families: Families, staff: User, settings: LazySettings
) -> None:
    settings.INVITATION_DAYS = 3
    before = timezone.now()
    token = invite("  Ouder0.A@Ouders.example ", board_families.board, staff)

    invitation = Invitation.objects.get()
    assert invitation.email == ADDRESS
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 43
    assert token not in json.dumps(list(Invitation.objects.values_list("token_hash", "email")))
    assert before + dt.timedelta(days=3) <= invitation.expires_at
    assert invitation.expires_at <= timezone.now() + dt.timedelta(days=3)
    assert invitation.created_by == staff
    (sent,) = AuditEvent.objects.filter(event_type="accounts.invitation.sent")
    assert sent.subject == f"invitation:{invitation.pk}"
    assert sent.details["board"] == board_families.board.pk
    assert sent.details["replaced"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["vreemde@ouders.example", "eva.smit@99xa.school.example", ""])
def test_an_address_that_is_not_a_guardians_on_the_export_is_refused_and_nothing_changes(
    board_families: Families, staff: User, address: str
) -> None:
    with pytest.raises(InvitationRefused) as refused:
        invite(address, board_families.board, staff)

    assert refused.value.reason == "not_on_export"
    assert "leerlingadministratie" in refused.value.message
    assert not Invitation.objects.exists()
    assert refusals() == [{"step": "invite", "reason": "not_on_export"}]


@pytest.mark.django_db
def test_an_inactive_guardian_or_one_of_another_board_is_not_invited(
    board_families: Families, staff: User, rng: random.Random
) -> None:
    from regie.roster.tests.exports import load_school, make_board

    board_families.guardian(ADDRESS).__class__.objects.filter(email=ADDRESS).update(is_active=False)
    with pytest.raises(InvitationRefused):
        invite(ADDRESS, board_families.board, staff)
    other = make_board("41002", "Stichting Elders (fictief)")
    load_school(other, rng, "98XC", "C")
    with pytest.raises(InvitationRefused):
        invite("ouder0.c@ouders.example", board_families.board, staff)
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_accepting_makes_the_login_and_uses_the_invitation_up(
    board_families: Families, staff: User
) -> None:
    token = invite(ADDRESS, board_families.board, staff)
    user = accept(token, PASSWORD)

    assert user.username == ADDRESS
    assert user.check_password(PASSWORD)
    account = GuardianAccount.objects.get(user=user)
    assert (account.board, account.email) == (board_families.board, ADDRESS)
    invitation = Invitation.objects.get()
    assert invitation.used_at is not None
    assert invitation.account == account
    children = guardians.represented(user)
    assert [child.school for child in children] == [board_families.school_a]
    with pytest.raises(InvitationRefused) as again:
        accept(token, PASSWORD)
    assert again.value.reason == "used"
    assert User.objects.filter(username=ADDRESS).count() == 1


@pytest.mark.django_db
def test_a_weak_password_is_refused_by_djangos_validators_and_the_link_still_works(
    board_families: Families, staff: User
) -> None:
    token = invite(ADDRESS, board_families.board, staff)
    with pytest.raises(ValidationError):
        accept(token, "12345678")
    assert not GuardianAccount.objects.exists()
    assert accept(token, PASSWORD).username == ADDRESS


@pytest.mark.django_db
def test_an_expired_link_is_refused(board_families: Families, staff: User) -> None:
    token = invite(ADDRESS, board_families.board, staff)
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    with pytest.raises(InvitationRefused) as refused:
        accept(token, PASSWORD)
    assert refused.value.reason == "expired"
    assert not User.objects.filter(username=ADDRESS).exists()
    assert refusals() == [{"step": "accept", "reason": "expired"}]


@pytest.mark.django_db
def test_an_unknown_link_is_refused(board_families: Families) -> None:
    with pytest.raises(InvitationRefused) as refused:
        accept("niet-een-echte-link", PASSWORD)
    assert refused.value.reason == "unknown"
    assert not GuardianAccount.objects.exists()


@pytest.mark.django_db
def test_inviting_again_voids_the_earlier_link(board_families: Families, staff: User) -> None:
    first = invite(ADDRESS, board_families.board, staff)
    second = invite(ADDRESS, board_families.board, staff)

    with pytest.raises(InvitationRefused) as refused:
        accept(first, PASSWORD)
    assert refused.value.reason == "expired"
    assert accept(second, PASSWORD).username == ADDRESS
    assert (
        AuditEvent.objects.filter(event_type="accounts.invitation.sent")
        .latest("pk")
        .details["replaced"]
        == 1
    )


@pytest.mark.django_db
def test_a_guardian_the_next_import_removed_can_no_longer_accept(
    board_families: Families, staff: User
) -> None:
    token = invite(ADDRESS, board_families.board, staff)
    board_families.reimport_a_without(ADDRESS)

    with pytest.raises(InvitationRefused) as refused:
        accept(token, PASSWORD)
    assert refused.value.reason == "no_longer_on_export"
    assert not GuardianAccount.objects.exists()


@pytest.mark.django_db
def test_an_address_with_a_login_is_not_invited_again(
    board_families: Families, staff: User
) -> None:
    accept(invite(ADDRESS, board_families.board, staff), PASSWORD)

    with pytest.raises(InvitationRefused) as refused:
        invite(ADDRESS, board_families.board, staff)
    assert refused.value.reason == "has_account"
    assert "een uitnodiging is niet nodig" in refused.value.message  # the school's words
    assert Invitation.objects.count() == 1
    assert GuardianAccount.objects.count() == 1


@pytest.mark.django_db
def test_a_link_for_an_address_that_meanwhile_has_a_login_points_to_logging_in(
    board_families: Families, staff: User
) -> None:
    address = "ouder1.a@ouders.example"
    token = invite(address, board_families.board, staff)
    User.objects.create_user(username=address, password=PASSWORD)  # made some other way

    with pytest.raises(InvitationRefused) as refused:
        accept(token, PASSWORD)
    assert refused.value.reason == "has_account"
    assert "Log in met dat e-mailadres" in refused.value.message  # the guardian's words
    assert not GuardianAccount.objects.exists()
    assert Invitation.objects.get().used_at is None


@pytest.mark.django_db
def test_the_status_of_each_guardian(board_families: Families, staff: User) -> None:
    board = board_families.board
    invite("ouder1.a@ouders.example", board, staff)
    accept(invite("ouder2.a@ouders.example", board, staff), PASSWORD)
    invite("ouder3.a@ouders.example", board, staff)
    Invitation.objects.filter(email="ouder3.a@ouders.example").update(expires_at=timezone.now())
    no_address = board_families.guardian("ouder0.b@ouders.example")
    no_address.email = ""
    no_address.save()

    found = statuses([*board_families.school_a.guardians.all(), no_address])
    by_address = {
        guardian.email: found[guardian.pk].state
        for guardian in [*board_families.school_a.guardians.all(), no_address]
    }
    assert by_address == {
        ADDRESS: "not_invited",
        "ouder1.a@ouders.example": "invited",
        "ouder2.a@ouders.example": "account",
        "ouder3.a@ouders.example": "expired",
        "": "no_address",
    }


@pytest.mark.django_db
def test_the_audit_log_names_neither_the_address_nor_the_link(
    board_families: Families, staff: User
) -> None:
    first = invite(ADDRESS, board_families.board, staff)
    second = invite(ADDRESS, board_families.board, staff)
    with pytest.raises(InvitationRefused):
        accept(first, PASSWORD)
    accept(second, PASSWORD)
    with pytest.raises(InvitationRefused):
        accept(second, PASSWORD)

    audited = json.dumps(
        [
            [event.event_type, event.actor, event.subject, event.details]
            for event in AuditEvent.objects.all()
        ]
    )
    assert "accounts.invitation.accepted" in audited
    for secret in (ADDRESS, "ouders.example", first, second, PASSWORD):
        assert secret not in audited


@pytest.mark.django_db(transaction=True)
def test_one_link_used_twice_at_once_makes_one_login(rng: random.Random) -> None:
    board_families = families(rng)
    user, _ = make_staff(board_families.board, board_families.school_a, StaffRole.SCHOOL_ADMIN)
    token = invite(ADDRESS, board_families.board, user)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def use_the_link() -> None:
        try:
            start.wait()
            accept(token, PASSWORD)
            outcomes.append("made")
        except InvitationRefused as refused:
            outcomes.append(refused.reason)
        finally:
            connection.close()

    threads = [threading.Thread(target=use_the_link) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["made", "used"]
    assert GuardianAccount.objects.count() == 1
    assert User.objects.filter(username=ADDRESS).count() == 1


# --- Logging in through the board's identity provider (audience: guardians) --------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_guardian_with_a_login_may_log_in_through_the_boards_identity_provider(
    rng: random.Random,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    visitor: Visitor,
) -> None:
    board_families = families(rng)
    staff, _ = make_staff(board_families.board, board_families.school_a, StaffRole.SCHOOL_ADMIN)
    user = accept(invite(ADDRESS, board_families.board, staff), PASSWORD)
    provider = make_provider(
        board_families.board, school_idp, live_server.url, audience=Audience.GUARDIANS
    )
    school_idp.app.person = {"sub": "ouder-1", "email": ADDRESS.upper(), "email_verified": True}

    answer, paths = visitor.follow(visitor.to_provider_and_back(provider))

    assert paths == ["/na-inloggen/", "/portaal/"]
    assert answer.status_code == 200
    assert "Privacy en rechten" in answer.text
    (event,) = AuditEvent.objects.filter(event_type="accounts.login.upstream")
    assert event.actor == f"user:{user.pk}"
    assert event.details["kind"] == "guardian"
    assert ADDRESS not in json.dumps(event.details)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_identity_provider_makes_no_guardians_login_and_a_staff_provider_finds_none(
    rng: random.Random,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    visitor: Visitor,
) -> None:
    board_families = families(rng)
    staff, _ = make_staff(board_families.board, board_families.school_a, StaffRole.SCHOOL_ADMIN)
    accept(invite(ADDRESS, board_families.board, staff), PASSWORD)
    for_guardians = make_provider(
        board_families.board, school_idp, live_server.url, audience=Audience.GUARDIANS
    )
    for_staff = make_provider(board_families.board, school_idp, live_server.url, name="Personeel")

    # On the export, invited never: no login is made by logging in.
    school_idp.app.person = {"sub": "ouder-2", "email": "ouder1.a@ouders.example"}
    answer, _ = visitor.follow(visitor.to_provider_and_back(for_guardians))
    assert answer.status_code == 403
    assert not visitor.is_logged_in()
    # A guardian's address through the staff's provider is nobody it knows.
    school_idp.app.person = {"sub": "ouder-1", "email": ADDRESS}
    answer, _ = visitor.follow(visitor.to_provider_and_back(for_staff))
    assert answer.status_code == 403
    assert not visitor.is_logged_in()
    assert [
        event.details["reason"]
        for event in AuditEvent.objects.filter(
            event_type="accounts.login.upstream_refused"
        ).order_by("pk")
    ] == ["unknown_person", "unknown_person"]
    assert GuardianAccount.objects.count() == 1
