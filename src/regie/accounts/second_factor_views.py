"""The pages of the second step (:mod:`.second_factor`): pass it, set up an app, the QR code of
the app being set up, and recovery codes.

Only privileged users (:func:`.second_factor.is_privileged`) and guardians, who may choose to set
up an app (:func:`.second_factor.may_use_second_factor`), have these pages; for anyone else they
do not exist (404). Until the step is passed, the pages show the header of someone who is not
logged in: its menu would only lead back here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import second_factor
from .forms import CodeForm
from .second_factor import Refusal

View = Callable[..., HttpResponse]


def _first_url(*names: str) -> str:
    """The first of these URL names that this deployable serves (the number service alone has
    only the admin site)."""
    for name in names[:-1]:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return reverse(names[-1])


def _next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if candidate and allowed else _first_url("after-login", "admin:index")


def _redirect(name: str, next_url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': next_url})}")


def privileged_only(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), _first_url("login", "admin:login"))
        if not second_factor.may_use_second_factor(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    verified = request.user.is_verified()  # type: ignore[union-attr]  # OTPMiddleware
    # A guardian setting up an app of their own accord is logged in already: their menu stays.
    step_due = second_factor.second_step_due(request.user) is not None
    guardian = not second_factor.is_privileged(request.user)
    context = {
        **context,
        "guardian": guardian,
        "username": request.user.get_username(),
        "next": _next(request),
        "logout_url": _first_url("logout", "admin:logout"),
        **({} if verified or (guardian and not step_due) else {"user": AnonymousUser()}),
    }
    return render(request, template, context, status=status)


def _explain(refusal: Refusal) -> str:
    if refusal.reason == "throttled" and refusal.until is not None:
        until = timezone.localtime(refusal.until).strftime("%H:%M:%S")
        return _(
            "Te veel verkeerde codes achter elkaar. Wacht tot %(time)s en probeer het dan opnieuw."
        ) % {"time": until}
    return _("Deze code klopt niet. Vul de code in die uw app nu laat zien, of een herstelcode.")


@never_cache
@require_http_methods(["GET", "POST"])
@privileged_only
def verify(request: HttpRequest) -> HttpResponse:
    """The second step at login."""
    user: Any = request.user
    if user.is_verified():
        return HttpResponseRedirect(_next(request))
    if not second_factor.has_second_factor(user):
        return _redirect("second_factor:enrol", _next(request))
    form = CodeForm(request.POST or None)
    error = ""
    if form.is_valid():
        outcome = second_factor.verify(request, form.cleaned_data["code"])
        if not isinstance(outcome, Refusal):
            if outcome.name == second_factor.RECOVERY_DEVICE:
                left = second_factor.recovery_codes_left(user)
                messages.warning(request, recovery_notice(left))
            return HttpResponseRedirect(_next(request))
        error = _explain(outcome)
    elif request.method == "POST":
        error = _("Vul een code in.")
    return _page(request, "accounts/second_factor/verify.html", {"error": error})


def recovery_notice(left: int) -> str:
    return _(
        "U hebt een herstelcode gebruikt; u hebt er nog %(left)d. Maak nieuwe op de pagina "
        "Herstelcodes."
    ) % {"left": left}


@never_cache
@require_http_methods(["GET", "POST"])
@privileged_only
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan or type the secret, confirm with a code."""
    user: Any = request.user
    replacing = second_factor.has_second_factor(user)
    if replacing and not user.is_verified():
        return _redirect(
            "second_factor:verify", _next(request)
        )  # a password alone never replaces the app
    device = second_factor.pending_app(request)
    form = CodeForm(request.POST or None)
    error = ""
    if form.is_valid():
        outcome = second_factor.confirm_app(request, form.cleaned_data["code"])
        if not isinstance(outcome, Refusal):
            context = {"codes": outcome, "enrolled": True}
            return _page(request, "accounts/second_factor/recovery_codes.html", context)
        error = _explain(outcome)
    elif request.method == "POST":
        error = _("Vul een code in.")
    context = {"secret": second_factor.manual_key(device), "error": error, "replacing": replacing}
    return _page(request, "accounts/second_factor/enrol.html", context)


@never_cache
@require_GET
@privileged_only
def qr(request: HttpRequest) -> HttpResponse:
    """The QR code of the app being set up in this session (an image: no script)."""
    user: Any = request.user
    if second_factor.has_second_factor(user) and not user.is_verified():
        raise Http404
    device = second_factor.pending_app(request)
    svg = second_factor.qr_svg(device, title=_("QR-code voor uw authenticator-app"))
    return HttpResponse(svg, content_type="image/svg+xml")


@never_cache
@require_http_methods(["GET", "POST"])
@privileged_only
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """How many recovery codes are left, and new ones (shown once)."""
    user: Any = request.user
    if not user.is_verified():
        if second_factor.has_second_factor(user):
            return _redirect("second_factor:verify", request.get_full_path())
        return _redirect("second_factor:enrol", request.get_full_path())
    codes = second_factor.regenerate_recovery_codes(user) if request.method == "POST" else None
    context = {"codes": codes, "left": second_factor.recovery_codes_left(user)}
    return _page(request, "accounts/second_factor/recovery_codes.html", context)
