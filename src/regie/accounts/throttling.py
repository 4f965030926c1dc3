"""Login throttling (DESIGN §1.8): django-axes with one limit per rule, the client's address from
a trusted proxy only, a lockout page in plain Dutch, and every failure audited.

Axes keeps one record per username, address and browser with the number of failures, and refuses
a login (before the password is looked at) while a rule below is reached. :class:`LoginThrottle`
is its database handler with three rules, each with its own limit (``docs/login.md`` explains
the choice):

============== ===================================================== ==============================
rule           counts the failures                                   limit
============== ===================================================== ==============================
user_address   with one username from one address                    REGIE_LOGIN_FAILURE_LIMIT
user           with one username from any address                    REGIE_LOGIN_USER_FAILURE_LIMIT
address        from one address: any username, and refused logins    REGIE_LOGIN_ADDRESS_FAILURE_
               through a school's identity provider                  LIMIT
============== ===================================================== ==============================

A failure counts for ``REGIE_LOGIN_LOCKOUT_MINUTES`` after the last failure of its record, so a
lockout ends that long after the failure that started it (attempts while locked are refused and
not counted). A successful login removes the failures of its own username only: a class behind
one address does not unlock someone else's username, and an attacker with one account of their
own cannot wipe the address's count.

Every hub and admin login goes through :func:`django.contrib.auth.authenticate`, whose first
backend is axes'; the upstream callback counts its refusals itself (:func:`upstream_refused`).
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_credentials
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from regie.audit.services import record
from regie.lib.logging import Pii, get_logger

from . import events

logger = get_logger(__name__)

ANONYMOUS = "anonymous"
UPSTREAM = "upstream"
FORMS = {"login": "hub", "admin:login": "admin", "accounts:upstream-callback": UPSTREAM}
# Refusals that are not the visitor's doing count against nobody's address.
NOT_THE_VISITORS_FAULT = frozenset({"upstream_unavailable", "misconfigured"})


@dataclass(frozen=True)
class Rule:
    name: str
    fields: tuple[str, ...]
    limit_setting: str

    @property
    def limit(self) -> int:
        return int(getattr(settings, self.limit_setting))


RULES = (
    Rule("user_address", ("username", "ip_address"), "LOGIN_FAILURE_LIMIT"),
    Rule("user", ("username",), "LOGIN_USER_FAILURE_LIMIT"),
    Rule("address", ("ip_address",), "LOGIN_ADDRESS_FAILURE_LIMIT"),
)


@dataclass(frozen=True)
class Reached:
    """A rule whose limit is reached, and when its lockout ends."""

    rule: Rule
    until: datetime


def lockout_duration(request: HttpRequest | None = None) -> timedelta:
    """``AXES_COOLOFF_TIME``: read at every request, so that a changed setting applies at once."""
    return timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


# --- The client's address ------------------------------------------------------------------------


def _address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: the connection's address; or, when the connection comes from a
    trusted proxy and ``REGIE_LOGIN_ADDRESS_HEADER`` names a header, the rightmost address in that
    header that is not a trusted proxy (anything further left the client could have written)."""
    remote = _address(request.META.get("REMOTE_ADDR"))
    header = settings.LOGIN_ADDRESS_HEADER.strip()
    trusted = {_address(proxy) for proxy in settings.LOGIN_TRUSTED_PROXIES} - {None}
    if not header or remote not in trusted:
        return remote
    hops = request.META.get("HTTP_" + header.upper().replace("-", "_"), "").split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return remote  # a proxy that writes something else: count it as the proxy
        if address not in trusted:
            return address
    return remote


def address_key(address: str | None) -> str | None:
    """A keyed hash of an address for the audit log: equal for equal addresses (until the secret
    key is rotated), and no way back to the address without the key."""
    if not address:
        return None
    digest = salted_hmac("regie.accounts.login-address", address, algorithm="sha256")
    return digest.hexdigest()[:16]


# --- The axes handler ----------------------------------------------------------------------------


def _form(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return FORMS.get(match.view_name, "other") if match is not None else "other"


def _user_id(username: str | None) -> int | None:
    if not username:
        return None
    model = get_user_model()
    found = model._default_manager.filter(**{model.USERNAME_FIELD: username}).values_list(
        "pk", flat=True
    )
    return found.first()


class LoginThrottle(AxesDatabaseHandler):  # type: ignore[misc]  # axes is not annotated
    """Axes' database handler with a limit per rule (``AXES_FAILURE_LIMIT`` is 1: a request is
    locked out when one rule is reached), resets per username, and audited failures."""

    def reached(self, request: Any, credentials: dict[str, Any] | None = None) -> list[Reached]:
        """The rules whose limit this request's username and address have reached."""
        username = get_client_username(request, credentials)
        values = {"username": username, "ip_address": request.axes_ip_address}
        since = get_cool_off_threshold(request)
        reached = []
        for rule in RULES:
            if any(not values[field] for field in rule.fields):
                continue  # no username (an upstream login): only the address counts
            totals = AccessAttempt.objects.filter(
                attempt_time__gte=since, **{field: values[field] for field in rule.fields}
            ).aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            if (totals["failures"] or 0) >= rule.limit:
                reached.append(Reached(rule, totals["last"] + lockout_duration(request)))
        return reached

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        return len(self.reached(request, credentials))

    def reset_user_attempts(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count: int = AccessAttempt.objects.filter(username=username).delete()[0]
        return count

    def user_login_failed(
        self,
        sender: Any,
        credentials: dict[str, Any],
        request: Any = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            super().user_login_failed(sender, credentials, request, **kwargs)
            return
        refused = bool(request.axes_locked_out)  # refused by the lockout, password unseen
        super().user_login_failed(sender, credentials, request, **kwargs)
        username = get_client_username(request, credentials)
        form, user_id = _form(request), _user_id(username)
        address = address_key(request.axes_ip_address)
        if form != UPSTREAM:  # a refused upstream login is audited as such by the service
            record(
                events.LOGIN_FAILED,
                ANONYMOUS,
                f"user:{user_id}" if user_id else "",
                {"form": form, "user": user_id, "address": address, "locked": refused},
            )
            logger.warning(
                "login.failed",
                form=form,
                username=Pii(username),
                user_id=user_id,
                address=address,
                locked=refused,
            )
        if request.axes_locked_out and not refused:
            self._locked_out(request, credentials, user_id, address)

    def _locked_out(
        self,
        request: Any,
        credentials: dict[str, Any] | None,
        user_id: int | None,
        address: str | None,
    ) -> None:
        rules = [reached.rule.name for reached in self.reached(request, credentials)]
        minutes = settings.LOGIN_LOCKOUT_MINUTES
        details = {"rules": rules, "user": user_id, "address": address, "minutes": minutes}
        record(events.LOGIN_LOCKED_OUT, ANONYMOUS, f"user:{user_id}" if user_id else "", details)
        logger.warning("login.locked_out", **details)


def throttle() -> LoginThrottle:
    handler: LoginThrottle = AxesProxyHandler.get_implementation()
    return handler


# --- The upstream login --------------------------------------------------------------------------


def address_locked_out(request: HttpRequest) -> bool:
    """Whether logins from this request's address are locked out (the upstream login asks)."""
    return not AxesProxyHandler.is_allowed(request, get_credentials(None))


def upstream_refused(request: HttpRequest, reason: str) -> None:
    """Count a refused login through a school's identity provider against the address."""
    if reason not in NOT_THE_VISITORS_FAULT:
        AxesProxyHandler.user_login_failed(
            sender=upstream_refused, credentials=get_credentials(None), request=request
        )


# --- The lockout page ----------------------------------------------------------------------------


def _login_url(request: HttpRequest) -> str:
    if _form(request) == "admin" or request.path.startswith("/admin/"):
        return reverse("admin:login")
    try:
        if resolve(request.path).view_name == "sector:login":  # the sector dashboard's own
            return request.path
    except Resolver404:
        pass
    try:
        return reverse("login")
    except NoReverseMatch:  # the number service alone has only the admin
        return reverse("admin:login")


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: a page that says until when, and whom to ask (429)."""
    reached = throttle().reached(request, credentials)
    now = timezone.now()
    until = max((item.until for item in reached), default=now + lockout_duration(request))
    seconds = max(0, math.ceil((until - now).total_seconds()))
    local = timezone.localtime(until + timedelta(seconds=59)).replace(second=0, microsecond=0)
    context = {
        "about_address": bool(reached) and all(item.rule.name == "address" for item in reached),
        "until": local.strftime("%H:%M"),
        "login_url": _login_url(request),
    }
    response = render(request, "accounts/locked_out.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


# --- Lifting lockouts (administrators) -----------------------------------------------------------


def unlock(
    *,
    actor: str,
    via: str,
    username: str | None = None,
    address: str | None = None,
) -> int:
    """Remove the failures of ``username`` and/or from ``address`` (all failures when neither is
    given): their lockouts end at once. Audited; returns the number of records removed.
    :class:`ValueError` when ``address`` is no IP address."""
    attempts = AccessAttempt.objects.all()
    if username:
        attempts = attempts.filter(username=username)
    if address:
        if _address(address) is None:
            raise ValueError("not an IP address")
        attempts = attempts.filter(ip_address=_address(address))
    count: int = attempts.delete()[0]
    by = [name for name, value in (("username", username), ("address", address)) if value]
    record(
        events.LOGIN_UNLOCKED,
        actor,
        "",
        {
            "via": via,
            "by": by or ["all"],
            "user": _user_id(username),
            "address": address_key(_address(address)),
            "records": count,
        },
    )
    return count


def unlock_records(records: list[AccessAttempt], *, actor: str) -> None:
    """Remove these failure records (the admin's delete), audited one by one."""
    for attempt in records:
        user_id = _user_id(attempt.username)
        key = address_key(attempt.ip_address)
        attempt.delete()
        record(
            events.LOGIN_UNLOCKED,
            actor,
            f"user:{user_id}" if user_id else "",
            {"via": "admin", "by": ["record"], "user": user_id, "address": key, "records": 1},
        )
