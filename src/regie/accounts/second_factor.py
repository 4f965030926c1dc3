"""Two-factor authentication for privileged staff (DESIGN §1.8): a time-based one-time password
from an authenticator app (TOTP, RFC 6238) and single-use recovery codes, both django-otp devices.

Who (:func:`is_privileged`): administrators of the admin site (``is_staff``/``is_superuser``) and
members of staff with a privileged role (privacy officer, board admin, school admin) in an active
membership. With ``REGIE_REQUIRE_2FA`` (the default) each of them sets up an app at their first
login and passes the second step at every login after it; with it off (the demo) the step is
asked only of whoever set up an app. Teachers, care coordinators and pupils are never asked, and
the pages are not theirs.

Guardians (a portal login, :class:`.models.GuardianAccount`) may set up an app of their own
accord (:func:`may_use_second_factor`; the portal offers it): once they have, they pass the second
step at every login, as privileged staff do.

:class:`~.middleware.SecondFactorMiddleware` sends a logged-in privileged user whose session has
not passed the step to it (:func:`second_step_due`) before any other page, the admin included.
Wrong codes are throttled per device by django-otp (exponential back-off:
``OTP_TOTP_THROTTLE_FACTOR``, ``OTP_STATIC_THROTTLE_FACTOR``) and audited; a code is never
logged or audited. The secret is shown once, while setting up; recovery codes once, when made.
"""

from __future__ import annotations

import io
from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from regie.audit.services import actor_for, record
from regie.lib.logging import get_logger
from regie.roster.models import Staff, StaffRole

from . import events
from .models import GuardianAccount, PupilAccount

logger = get_logger(__name__)

PRIVILEGED_ROLES = frozenset(
    {StaffRole.PRIVACY_OFFICER, StaffRole.BOARD_ADMIN, StaffRole.SCHOOL_ADMIN}
)
RECOVERY_CODE_COUNT = 10
APP_CODE_DIGITS = 6  # django-otp's default for a TOTP device; recovery codes have 8 characters
APP_DEVICE = "app"
RECOVERY_DEVICE = "herstelcodes"
PENDING_KEY = "accounts.second_factor.pending"
_PUPIL_ACCOUNT = PupilAccount.user.field.remote_field
_GUARDIAN_ACCOUNT = GuardianAccount.user.field.remote_field

Step = Literal["verify", "enrol"]


def is_privileged(user: Any) -> bool:
    """Whether ``user`` needs a second factor: an administrator or a privileged role."""
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    if _PUPIL_ACCOUNT.is_cached(user) and _PUPIL_ACCOUNT.get_cached_value(user) is not None:
        return False  # a pupil (read with the user by the backend: no query)
    memberships = Staff.objects.filter(user_id=user.pk, is_active=True)
    return any(
        PRIVILEGED_ROLES & set(roles) for roles in memberships.values_list("roles", flat=True)
    )


def _is_pupil(user: Any) -> bool:
    return _PUPIL_ACCOUNT.is_cached(user) and _PUPIL_ACCOUNT.get_cached_value(user) is not None


def is_guardian_login(user: Any) -> bool:
    """A guardian's portal login (read with the user by the backend: no query)."""
    if not user.is_authenticated:
        return False
    if _GUARDIAN_ACCOUNT.is_cached(user):
        return _GUARDIAN_ACCOUNT.get_cached_value(user) is not None
    return GuardianAccount.objects.filter(user_id=user.pk).exists()


def may_use_second_factor(user: Any) -> bool:
    """Who has the pages of the second step: privileged users, and guardians (their choice)."""
    return is_privileged(user) or (not _is_pupil(user) and is_guardian_login(user))


def has_second_factor(user: Any) -> bool:
    """A confirmed app, or recovery codes left."""
    return bool(
        TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()
        or StaticToken.objects.filter(device__user_id=user.pk, device__confirmed=True).exists()
    )


def second_step_due(user: Any) -> Step | None:
    """What a logged-in ``user`` (through OTPMiddleware) must do before any other page."""
    if not user.is_authenticated or user.is_verified():
        return None
    if is_privileged(user):
        if has_second_factor(user):
            return "verify"
        return "enrol" if settings.REQUIRE_2FA else None
    if not _is_pupil(user) and is_guardian_login(user) and has_second_factor(user):
        return "verify"  # a guardian who chose to set up an app
    return None


# --- Setting up an app ---------------------------------------------------------------------------


def pending_app(request: HttpRequest) -> TOTPDevice:
    """The app being set up in this session: a fresh secret per session, kept until confirmed."""
    user = request.user
    device_id = request.session.get(PENDING_KEY)
    device = (
        TOTPDevice.objects.filter(pk=device_id, user_id=user.pk, confirmed=False).first()
        if device_id
        else None
    )
    if device is None:
        TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE, confirmed=False)
        request.session[PENDING_KEY] = device.pk
    return device


def manual_key(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app."""
    text = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[start : start + 4] for start in range(0, len(text), 4))


def qr_svg(device: TOTPDevice, title: str) -> bytes:
    """The device's ``otpauth://`` URI as an SVG QR code (no script, no external reference)."""
    buffer = io.BytesIO()
    segno.make(device.config_url, error="m").save(
        buffer,
        kind="svg",
        scale=5,
        border=4,
        light="#fff",
        title=title,
        svgclass=None,
        lineclass=None,
    )
    return buffer.getvalue()


@dataclass(frozen=True)
class Refusal:
    """A code that was not accepted: ``wrong_code``, or ``throttled`` until ``until``."""

    reason: Literal["wrong_code", "throttled"]
    until: datetime | None = None


def _refuse(user: Any, step: str, refusal: Refusal) -> Refusal:
    record(
        events.SECOND_FACTOR_FAILED,
        actor_for(user),
        actor_for(user),
        {"step": step, "reason": refusal.reason},
    )
    logger.warning("second_factor.failed", user_id=user.pk, step=step, reason=refusal.reason)
    return refusal


def _check(device: Device, code: str) -> Refusal | None:
    """Verify ``code`` on ``device`` (locked for update by the caller), throttle respected."""
    allowed, info = device.verify_is_allowed()
    if not allowed:
        return Refusal("throttled", (info or {}).get("locked_until"))
    return None if device.verify_token(code) else Refusal("wrong_code")


def confirm_app(request: HttpRequest, code: str) -> list[str] | Refusal:
    """Confirm the pending app with a code it shows: it replaces any earlier app, the session has
    passed the second step, and the new recovery codes (to show once) are returned."""
    user = request.user
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(pk=request.session.get(PENDING_KEY), user_id=user.pk, confirmed=False)
            .first()
        )
        if device is None:
            return Refusal("wrong_code")  # set up in another window meanwhile: start again
        refused = _check(device, normalised(code))
        if refused is None:
            replaced = TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).delete()[0]
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _new_recovery_codes(user)
    if refused is not None:
        return _refuse(user, "enrol", refused)
    del request.session[PENDING_KEY]
    request.session.cycle_key()  # a session that passed the step is a new session
    django_otp.login(request, device)
    record(
        events.SECOND_FACTOR_ENROLLED, actor_for(user), actor_for(user), {"replaced": replaced > 0}
    )
    logger.info("second_factor.enrolled", user_id=user.pk, replaced=replaced > 0)
    return codes


# --- The second step at login --------------------------------------------------------------------


def normalised(code: str) -> str:
    """What people type: spaces and hyphens (as codes are shown) and capitals do not matter."""
    return "".join(code.split()).replace("-", "").lower()


def verify(request: HttpRequest, code: str) -> Device | Refusal:
    """Pass the second step with a code from the app or a recovery code (used up)."""
    user = request.user
    code = normalised(code)
    app_code = code.isdigit() and len(code) == APP_CODE_DIGITS  # recovery codes are longer
    model: type[Device] = TOTPDevice if app_code else StaticDevice
    refused: Refusal | None = Refusal("wrong_code")
    with transaction.atomic():
        devices = model.objects.select_for_update().filter(user_id=user.pk, confirmed=True)
        for device in devices.order_by("pk"):
            refused = _check(device, code)
            if refused is None:
                break
    if refused is not None:
        return _refuse(user, "verify", refused)
    request.session.cycle_key()  # a session that passed the step is a new session
    django_otp.login(request, device)
    if isinstance(device, StaticDevice):
        left = device.token_set.count()
        record(
            events.SECOND_FACTOR_RECOVERY_CODE_USED,
            actor_for(user),
            actor_for(user),
            {"left": left},
        )
        logger.info("second_factor.recovery_code_used", user_id=user.pk, left=left)
    return device


# --- Recovery codes and resets -------------------------------------------------------------------


def _new_recovery_codes(user: Any) -> list[str]:
    StaticDevice.objects.filter(user_id=user.pk).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(user: Any) -> int:
    return int(StaticToken.objects.filter(device__user_id=user.pk, device__confirmed=True).count())


def regenerate_recovery_codes(user: Any) -> list[str]:
    """New recovery codes (to show once); the earlier ones stop working."""
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        record(events.SECOND_FACTOR_RECOVERY_CODES_REGENERATED, actor_for(user), actor_for(user))
    return codes


def reset(user: Any, *, actor: str, via: str) -> int:
    """Remove ``user``'s app and recovery codes (an administrator's act, audited): at the next
    login they set up a new app, and sessions that passed the step with them no longer count."""
    with transaction.atomic():
        removed = sum(
            int(model.objects.filter(user_id=user.pk).delete()[1].get(model._meta.label, 0))
            for model in (TOTPDevice, StaticDevice)
        )
        record(events.SECOND_FACTOR_RESET, actor, actor_for(user), {"via": via, "devices": removed})
    logger.info("second_factor.reset", user_id=user.pk, via=via, devices=removed)
    return removed
