"""Logins at the hub: local accounts (embedded default) and the school's own identity provider.

A staff login is a Django user linked from :class:`regie.roster.models.Staff`; a pupil's login is
a Django user linked to their enrolment here (:class:`PupilAccount`). In production the school's
own identity provider logs people in: an upstream OpenID Connect provider configured per board
(:class:`IdentityProvider`). Staff are found by their e-mail address in the board's staff list;
anyone else needs an explicit link from the provider's identifier to a login
(:class:`UpstreamIdentity`), made by the school's administrator.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from regie.core import datacategories as dc
from regie.core.models import Board
from regie.roster.models import Staff, Student, StudentStatus

from . import sealing


class PupilAccount(models.Model):
    """The login of one pupil (at one school)."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "user": dc.USERNAME,
        "student": dc.UNIQUE_ID,
    }

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pupil_account"
    )
    student = models.ForeignKey(
        Student, on_delete=models.CASCADE, related_name="accounts", verbose_name=_("leerling")
    )

    class Meta:
        verbose_name = _("leerlingaccount")
        verbose_name_plural = _("leerlingaccounts")

    def __str__(self) -> str:
        return str(self.user)


class Audience(models.TextChoices):
    STAFF = "staff", _("medewerkers")
    PUPILS = "pupils", _("leerlingen")
    BOTH = "both", _("medewerkers en leerlingen")
    # Parents and guardians with a portal login (made from an invitation), found by e-mail.
    GUARDIANS = "guardians", _("ouders / verzorgers")


DEFAULT_SCOPES = "openid email profile"
# Claims whose values are case-insensitive (an address, a user principal name): compared in
# lower case. Any other claim (``sub`` above all) is compared exactly.
CASE_INSENSITIVE_CLAIMS = frozenset({"email", "preferred_username", "upn"})
_SCOPE = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")  # RFC 6749 §3.3 scope-token


def is_allowed_issuer(url: str) -> bool:
    """https, or plain http on the loopback address only (a provider on the same machine)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and parts.hostname == "127.0.0.1"


class IdentityProviderQuerySet(models.QuerySet["IdentityProvider"]):
    def usable(self) -> IdentityProviderQuerySet:
        """Switched on, with a client secret: shown on the login page and usable."""
        return self.filter(is_active=True).exclude(client_secret_sealed="")


class IdentityProvider(models.Model):
    """A school board's own OpenID Connect provider that people log in to the hub with."""

    PERSONAL_DATA: ClassVar[bool] = False

    board = models.ForeignKey(
        Board,
        on_delete=models.CASCADE,
        related_name="identity_providers",
        verbose_name=_("schoolbestuur"),
    )
    name = models.CharField(
        _("tekst op de knop"),
        max_length=100,
        help_text=_(
            "Zoals leerlingen en medewerkers het kennen, bijvoorbeeld 'Inloggen met Entree'."
        ),
    )
    issuer = models.URLField(
        _("issuer"),
        max_length=500,
        help_text=_(
            "De issuer-URL van de identity provider (OpenID Connect Discovery): regie leest "
            "/.well-known/openid-configuration onder dit adres. Altijd https (http alleen op "
            "127.0.0.1)."
        ),
    )
    client_id = models.CharField(_("client_id"), max_length=255)
    client_secret_sealed = models.TextField(_("client secret (versleuteld)"), blank=True)
    scopes = models.CharField(
        _("scopes"),
        max_length=300,
        default=DEFAULT_SCOPES,
        help_text=_("Gescheiden door spaties; 'openid' hoort erbij."),
    )
    subject_claim = models.CharField(
        _("claim die de persoon aanwijst"),
        max_length=100,
        default="email",
        validators=[RegexValidator(r"^[A-Za-z_][A-Za-z0-9_.:-]*$")],
        help_text=_(
            "Welke claim uit het ID-token regie gebruikt om de persoon te vinden: meestal "
            "'email', anders bijvoorbeeld 'preferred_username' of 'sub'. Medewerkers worden "
            "gevonden op hun e-mailadres in de medewerkerslijst van het bestuur; leerlingen via "
            "een koppeling."
        ),
    )
    audience = models.CharField(
        _("voor wie"), max_length=10, choices=Audience.choices, default=Audience.STAFF
    )
    is_active = models.BooleanField(_("actief"), default=True)
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)

    objects = IdentityProviderQuerySet.as_manager()

    class Meta:
        verbose_name = _("identity provider van de school")
        verbose_name_plural = _("identity providers van scholen")
        ordering = ("board__name", "name")

    def __str__(self) -> str:
        return f"{self.name} ({self.board})"

    def clean(self) -> None:
        if self.issuer and not is_allowed_issuer(self.issuer):
            raise ValidationError(
                {"issuer": _("De issuer gebruikt https (http alleen op 127.0.0.1).")}
            )
        scopes = self.scopes.split()
        if "openid" not in scopes or not all(_SCOPE.fullmatch(scope) for scope in scopes):
            raise ValidationError(
                {"scopes": _("Scopes zijn woorden gescheiden door spaties, met 'openid' erbij.")}
            )

    @property
    def for_staff(self) -> bool:
        return self.audience in {Audience.STAFF, Audience.BOTH}

    @property
    def for_pupils(self) -> bool:
        return self.audience in {Audience.PUPILS, Audience.BOTH}

    @property
    def for_guardians(self) -> bool:
        return self.audience == Audience.GUARDIANS

    @property
    def has_client_secret(self) -> bool:
        return bool(self.client_secret_sealed)

    def set_client_secret(self, secret: str) -> None:
        """Keep ``secret`` sealed (:mod:`.sealing`); it is never stored or shown in the clear."""
        self.client_secret_sealed = sealing.seal(secret)

    def client_secret(self) -> str:
        """The secret in the clear, to authenticate at the provider's token endpoint only."""
        return sealing.unseal(self.client_secret_sealed)

    def normalised(self, value: str) -> str:
        """A value of the identifying claim as it is stored and compared."""
        return value.strip().lower() if self.subject_claim in CASE_INSENSITIVE_CLAIMS else value


class UpstreamIdentity(models.Model):
    """An explicit link: whoever the provider says has ``subject`` logs in as ``user``.

    ``subject`` is the value of the provider's identifying claim (its ``subject_claim``). Pupils
    need one of these (the LAS gives the hub no address of theirs); staff only when the provider
    does not identify them by the e-mail address in the staff list.
    """

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "provider": dc.ACCOUNT,
        "subject": dc.USERNAME,
        "user": dc.USERNAME,
        "created_at": dc.NOT_PERSONAL,
    }

    provider = models.ForeignKey(
        IdentityProvider,
        on_delete=models.CASCADE,
        related_name="identities",
        verbose_name=_("identity provider"),
    )
    subject = models.CharField(
        _("waarde van de claim"),
        max_length=255,
        help_text=_("Wat de identity provider in de gekozen claim over deze persoon zegt."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="upstream_identities",
        verbose_name=_("inlogaccount in regie"),
    )
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)

    class Meta:
        verbose_name = _("koppeling met de identity provider")
        verbose_name_plural = _("koppelingen met de identity provider")
        constraints = [
            models.UniqueConstraint(
                fields=("provider", "subject"), name="upstream_identity_provider_subject"
            )
        ]

    def __str__(self) -> str:
        return str(self.user)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.subject = self.provider.normalised(self.subject)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.provider_id is None or self.user_id is None:
            return
        self.subject = self.provider.normalised(self.subject)
        if not self.subject:
            raise ValidationError({"subject": _("Vul de waarde van de claim in.")})
        if not belongs_to_board(self.provider, self.user_id):
            raise ValidationError(
                {
                    "user": _(
                        "Dit account is geen leerling of medewerker van %(board)s voor wie deze "
                        "identity provider is."
                    )
                    % {"board": self.provider.board}
                }
            )


class LoginLockout(AccessAttempt):  # type: ignore[misc]  # django-axes is not annotated
    """Failed logins that count towards a lockout (:mod:`.throttling`): django-axes' record of one
    username, address and browser, as the admin shows it. Removing one lifts its lockout."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "username": dc.USERNAME,
        "ip_address": dc.IP_ADDRESS,
        "user_agent": dc.DEVICE,
        "http_accept": dc.DEVICE,
        "path_info": dc.NOT_PERSONAL,
        "attempt_time": dc.NOT_PERSONAL,
        "get_data": dc.NOT_PERSONAL,  # the query string; usernames and passwords masked by axes
        "post_data": dc.NOT_PERSONAL,  # the form, with usernames and passwords masked by axes
        "failures_since_start": dc.NOT_PERSONAL,
    }

    class Meta:
        proxy = True
        verbose_name = _("mislukte inlogpogingen")
        verbose_name_plural = _("mislukte inlogpogingen en blokkades")


def is_pupil_of(board: Board, user_id: int) -> bool:
    return PupilAccount.objects.filter(
        user_id=user_id, student__school__board=board, student__status=StudentStatus.ACTIVE
    ).exists()


def is_staff_of(board: Board, user_id: int) -> bool:
    return Staff.objects.filter(user_id=user_id, board=board, is_active=True).exists()


def belongs_to_board(provider: IdentityProvider, user_id: int) -> bool:
    """Whether ``provider`` may log in the login ``user_id`` (its board, its audience)."""
    return (
        (provider.for_pupils and is_pupil_of(provider.board, user_id))
        or (provider.for_staff and is_staff_of(provider.board, user_id))
        or (provider.for_guardians and is_guardian_of(provider.board, user_id))
    )


def is_guardian_of(board: Board, user_id: int) -> bool:
    return GuardianAccount.objects.filter(user_id=user_id, board=board).exists()


class GuardianAccount(models.Model):
    """The portal login of a parent or guardian at one board.

    It is made when the guardian accepts an :class:`Invitation` sent to an address the school's
    export holds, so the address is proven theirs. The children it acts for are read from the
    roster every time (:mod:`regie.accounts.guardians`): every active guardian record of the board
    with this address, and their linked pupils. A guardian the next import removes loses access at
    once; one the school's export adds at another school of the board is found without a new
    invitation.
    """

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "user": dc.USERNAME,
        "board": dc.RELATION,
        "email": dc.EMAIL,
        "created_at": dc.NOT_PERSONAL,
    }

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="guardian_account"
    )
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="guardian_accounts")
    email = models.EmailField(_("e-mailadres"))  # stored lower-case
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)

    class Meta:
        verbose_name = _("ouderaccount")
        verbose_name_plural = _("ouderaccounts")
        constraints = [
            models.UniqueConstraint(fields=("board", "email"), name="guardian_account_board_email")
        ]

    def __str__(self) -> str:
        return str(self.user)


class Invitation(models.Model):
    """A one-time link, sent by e-mail, with which a guardian makes their portal login.

    Only the SHA-256 of the link's secret is stored. It is valid until ``expires_at`` and once:
    ``used_at`` is set when the guardian has made their login.
    """

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "board": dc.RELATION,
        "email": dc.EMAIL,
        "token_hash": dc.NOT_PERSONAL,
        "created_by": dc.USERNAME,
        "created_at": dc.NOT_PERSONAL,
        "expires_at": dc.NOT_PERSONAL,
        "used_at": dc.NOT_PERSONAL,
        "account": dc.RELATION,
    }

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mailadres"))  # stored lower-case
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("verstuurd"), auto_now_add=True)
    expires_at = models.DateTimeField(_("verloopt"))
    used_at = models.DateTimeField(_("gebruikt"), null=True, blank=True)
    account = models.ForeignKey(
        GuardianAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("uitnodiging")
        verbose_name_plural = _("uitnodigingen")
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("board", "email"), name="invitation_board_email")]

    def __str__(self) -> str:
        return f"{self.email} ({self.created_at:%Y-%m-%d})"
