"""Guardians' invitations: the only way a guardian gets a portal login (issue 15 §1).

- :func:`invite`: the school invites an address its export holds (an active guardian record of
  the board). A one-time link is made — ``secrets.token_urlsafe(32)``, of which only the SHA-256
  is stored — valid for ``REGIE_INVITATION_DAYS``. Inviting an address again makes its earlier
  open invitations unusable (they expire now). The caller sends the link (the portal's e-mail).
- :func:`accept`: the guardian sets a password with the link; this makes the Django user (the
  address is the username) and the :class:`.models.GuardianAccount`, and uses the invitation up —
  in one transaction, claiming the invitation with a conditional update, so a link used twice at
  once makes one login.
- :func:`statuses`: for the school's page, where each address stands.

Every refusal is an :class:`InvitationRefused` (a Dutch message, a reason code) and an audit
event; nothing changes. Audit details carry ids, dates and reason codes: never the address or the
link.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth.models import User as AuthUser
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from regie.audit.services import ANONYMOUS, actor_for, record
from regie.core.models import Board
from regie.roster.models import Guardian

from . import events
from .models import GuardianAccount, Invitation

Reason = Literal[
    "not_on_export", "has_account", "unknown", "used", "expired", "no_longer_on_export"
]

_MESSAGES: dict[str, Promise] = {
    "not_on_export": _(
        "Dit e-mailadres staat bij geen actieve ouder of verzorger in de leerlingadministratie "
        "van het bestuur. Er is geen uitnodiging gestuurd."
    ),
    "has_account": _(
        "Met dit e-mailadres is al een account gemaakt. Log in met dat e-mailadres en uw "
        "wachtwoord; bent u uw wachtwoord kwijt, vraag de school dan om hulp."
    ),
    "unknown": _(
        "Deze link kennen we niet. Controleer of u de hele link uit de e-mail hebt gebruikt, of "
        "vraag de school om een nieuwe uitnodiging."
    ),
    "used": _(
        "Deze link is al gebruikt: er is al een account mee gemaakt. Log in met uw e-mailadres "
        "en wachtwoord, of vraag de school om een nieuwe uitnodiging."
    ),
    "expired": _(
        "Deze link werkt niet meer: hij is verlopen, of de school heeft u daarna opnieuw "
        "uitgenodigd. Gebruik de nieuwste uitnodiging, of vraag de school om een nieuwe."
    ),
    "no_longer_on_export": _(
        "Dit e-mailadres staat niet meer bij een ouder of verzorger in de leerlingadministratie "
        "van de school. Neem contact op met de school."
    ),
}


# The school's side sees one refusal in its own words (the others above address the guardian).
_HAS_ACCOUNT_FOR_THE_SCHOOL = _(
    "Met dit e-mailadres is al een account voor het ouderportaal gemaakt; een uitnodiging is niet "
    "nodig. Is de ouder het wachtwoord kwijt, dan helpt de beheerder van regie."
)


class InvitationRefused(Exception):
    """An invitation refused; nothing was changed. ``reason`` is a stable code, ``step`` says
    whether the school invited or the guardian accepted, :attr:`message` is the Dutch text (a
    lazy translation: rendered in the active language)."""

    def __init__(self, reason: Reason, step: str = "accept") -> None:
        super().__init__(reason)
        self.reason: Reason = reason
        self.step = step

    @property
    def message(self) -> str:
        if self.step == "invite" and self.reason == "has_account":
            return str(_HAS_ACCOUNT_FOR_THE_SCHOOL)
        return str(_MESSAGES[self.reason])

    def __str__(self) -> str:
        return self.message


def normalised(email: str) -> str:
    return email.strip().lower()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def on_export(board_id: int, email: str) -> bool:
    """Whether an active guardian record of the board has this address."""
    return bool(email) and (
        Guardian.objects.filter(
            school__board_id=board_id, email__iexact=email, is_active=True
        ).exists()
    )


def _has_account(board_id: int, email: str) -> bool:
    return (
        GuardianAccount.objects.filter(board_id=board_id, email=email).exists()
        or AuthUser.objects.filter(username__iexact=email).exists()
    )


def _refuse(step: str, reason: Reason, actor: str, subject: str) -> InvitationRefused:
    record(events.INVITATION_REFUSED, actor, subject, {"step": step, "reason": reason})
    return InvitationRefused(reason, step)


def expiry_days() -> int:
    return int(getattr(settings, "INVITATION_DAYS", 14))


def invite(
    guardian_email: str,
    board: Board,
    user: Any,
    *,
    send: Callable[[str, Invitation], object] | None = None,
) -> str:
    """Invite the address to make a portal login at ``board``; the link's secret (to send, never
    to store or log). Refused (:class:`InvitationRefused`) for an address that is on no active
    guardian record of the board, or that has a login already.

    ``send(token, invitation)`` runs in the same transaction once the invitation is made (the
    portal queues its e-mail there), so an invitation exists only with its message and the other
    way round."""
    email = normalised(guardian_email)
    actor = actor_for(user)
    if not on_export(board.pk, email):
        raise _refuse("invite", "not_on_export", actor, f"board:{board.pk}")
    if _has_account(board.pk, email):
        raise _refuse("invite", "has_account", actor, f"board:{board.pk}")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        replaced = Invitation.objects.filter(
            board=board, email=email, used_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        invitation = Invitation.objects.create(
            board=board,
            email=email,
            token_hash=token_hash(token),
            created_by=user if getattr(user, "pk", None) else None,
            expires_at=now + timedelta(days=expiry_days()),
        )
        record(
            events.INVITATION_SENT,
            actor,
            f"invitation:{invitation.pk}",
            {
                "board": board.pk,
                "expires": timezone.localdate(invitation.expires_at).isoformat(),
                "replaced": replaced,
            },
        )
        if send is not None:
            send(token, invitation)
    return token


def open_invitation(token: str) -> Invitation:
    """The invitation of this link while it can still be accepted; refused (and audited) when
    the link is unknown, used, expired or replaced, or its address left the export."""
    invitation = Invitation.objects.filter(token_hash=token_hash(token)).first()
    if invitation is None:
        raise _refuse("accept", "unknown", ANONYMOUS, "")
    reason = _unusable(invitation)
    if reason is not None:
        raise _refuse("accept", reason, ANONYMOUS, f"invitation:{invitation.pk}")
    return invitation


def _unusable(invitation: Invitation) -> Reason | None:
    """Why the invitation cannot be accepted now, or None."""
    if invitation.used_at is not None:
        return "used"
    if invitation.expires_at <= timezone.now():
        return "expired"
    if not on_export(invitation.board_id, invitation.email):
        return "no_longer_on_export"
    if _has_account(invitation.board_id, invitation.email):
        return "has_account"
    return None


def new_user(invitation: Invitation) -> AuthUser:
    """The (unsaved) login accepting ``invitation`` makes: for the password validators."""
    return AuthUser(username=invitation.email, email=invitation.email)


def accept(token: str, password: str) -> AuthUser:
    """Make the guardian's login with the link and a password (checked with Django's password
    validators: ``ValidationError``); the invitation is used up. Refused
    (:class:`InvitationRefused`) for an unknown, used, expired or replaced link, an address no
    longer on the export, or one that has a login already."""
    invitation = Invitation.objects.filter(token_hash=token_hash(token)).first()
    if invitation is None:
        raise _refuse("accept", "unknown", ANONYMOUS, "")
    validate_password(password, new_user(invitation))
    refusal: InvitationRefused | None = None
    try:
        with transaction.atomic():
            # Checked again under the row's lock: of two uses at once, the second waits here
            # and finds the invitation used.
            locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
            reason = _unusable(locked)
            if reason is not None:
                raise InvitationRefused(reason)
            now = timezone.now()
            claimed = Invitation.objects.filter(pk=locked.pk, used_at__isnull=True).update(
                used_at=now
            )
            if not claimed:
                raise InvitationRefused("used")
            user = AuthUser.objects.create_user(
                username=locked.email, email=locked.email, password=password
            )
            account = GuardianAccount.objects.create(
                user=user, board_id=locked.board_id, email=locked.email
            )
            Invitation.objects.filter(pk=locked.pk).update(account=account)
            record(
                events.INVITATION_ACCEPTED,
                actor_for(user),
                f"invitation:{locked.pk}",
                {"board": locked.board_id, "account": account.pk},
            )
    except InvitationRefused as refused:
        refusal = refused
    except IntegrityError:  # the same address made a login at the same moment
        refusal = InvitationRefused("has_account")
    if refusal is not None:
        raise _refuse("accept", refusal.reason, ANONYMOUS, f"invitation:{invitation.pk}")
    return user


# --- Where each address stands (the school's page) -----------------------------------------------

State = Literal["no_address", "not_invited", "invited", "expired", "account"]


@dataclass(frozen=True)
class Status:
    state: State
    sent_at: datetime | None = None
    expires_at: datetime | None = None


def statuses(guardians: Iterable[Guardian]) -> dict[int, Status]:
    """Per guardian record (by id): no address on the export, not invited, invited (when, until
    when), the invitation expired (or replaced and not used), or a login made."""
    rows = list(guardians)
    keys = {(row.school.board_id, normalised(row.email)) for row in rows if row.email}
    boards = {board for board, _ in keys}
    emails = {email for _, email in keys}
    accounts = set(
        GuardianAccount.objects.filter(board_id__in=boards, email__in=emails).values_list(
            "board_id", "email"
        )
    )
    latest: dict[tuple[int, str], Invitation] = {}
    for made in Invitation.objects.filter(board_id__in=boards, email__in=emails).order_by(
        "created_at", "pk"
    ):
        latest[(made.board_id, made.email)] = made
    now = timezone.now()
    result: dict[int, Status] = {}
    for row in rows:
        key = (row.school.board_id, normalised(row.email))
        invitation = latest.get(key)
        if not row.email:
            result[row.pk] = Status("no_address")
        elif key in accounts:
            result[row.pk] = Status("account")
        elif invitation is None:
            result[row.pk] = Status("not_invited")
        elif invitation.used_at is None and invitation.expires_at > now:
            result[row.pk] = Status("invited", invitation.created_at, invitation.expires_at)
        else:
            result[row.pk] = Status("expired", invitation.created_at, invitation.expires_at)
    return result
