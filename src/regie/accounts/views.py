"""Where a login lands, and logging in through the school's own identity provider.

The upstream login is two views around :mod:`.services`: :func:`upstream_start` (a button on the
login page posts here) keeps ``state``, ``nonce`` and the PKCE verifier in the visitor's session
and sends them to their school's provider; :func:`upstream_callback` takes them out again (once),
lets the service check the provider's answer and find the person, and logs them in. A refusal is a
page in plain Dutch that says nobody was logged in; the service has audited it, and it counts
as a failed login from the visitor's address (:mod:`.throttling`): a locked-out address gets the
lockout page instead, before and after its visit to the identity provider.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import oidc, throttling
from .menu import landing
from .models import IdentityProvider
from .services import (
    UpstreamLoginRefused,
    finish_upstream_login,
    start_upstream_login,
)

PENDING_KEY = "accounts.upstream.pending"
PENDING_MAX = 3  # logins started in other windows at the same time
PENDING_TTL_SECONDS = 600
MODEL_BACKEND = "regie.accounts.backends.AccountBackend"


@login_required
def after_login(request: HttpRequest) -> HttpResponse:
    """Where this login's work is: the first entry of its menu (:func:`.menu.landing`, from
    ``regie.roster.access``): pupils their tiles, teachers their groups, privacy officers the
    overview, board and school admins the schools, the hub's administrator the admin site."""
    return redirect(landing(request.user))


# --- The school's own identity provider -----------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    status: int
    title: Promise
    text: Promise


# Nobody is known yet on these pages, and a pupil sees them as well as staff: they address nobody
# in particular ("de school", "dit account"), neither "je" nor "u".
_NOT_TRUSTED = Explanation(
    502,
    _("De school kon niet bevestigen wie er inlogt"),
    _(
        "Het antwoord van %(provider)s klopte niet, dus regie vertrouwt het niet. Probeer het "
        "opnieuw; blijft dit gebeuren, meld het dan bij de beheerder van de school."
    ),
)
_NOT_KNOWN = Explanation(
    403,
    _("Bekend bij de school, maar niet in regie"),
    _(
        "%(provider)s heeft bevestigd wie er inlogt, maar in regie is (nog) geen account van "
        "%(board)s aan dit schoolaccount gekoppeld. Vraag de beheerder van de school om het "
        "account in regie te koppelen."
    ),
)
_TOO_LITTLE = Explanation(
    403,
    _("De school gaf niet genoeg gegevens door"),
    _(
        "%(provider)s gaf regie niet door wie er inlogt, of alleen een e-mailadres dat niet "
        "bevestigd is. De beheerder van de school kan de instellingen nakijken."
    ),
)
EXPLANATIONS: dict[str, Explanation] = {
    "unknown_person": _NOT_KNOWN,
    "link_outside_board": _NOT_KNOWN,
    "missing_claim": _TOO_LITTLE,
    "email_unverified": _TOO_LITTLE,
    "inactive_login": Explanation(
        403,
        _("Dit account in regie staat uit"),
        _("De school heeft dit account in regie uitgezet. Vraag de beheerder van de school."),
    ),
    "ambiguous_person": Explanation(
        403,
        _("Dit e-mailadres hoort bij meer dan één account"),
        _(
            "In regie hoort dit e-mailadres bij meer dan één account. De beheerder van de school "
            "moet dat eerst rechtzetten."
        ),
    ),
    "state_mismatch": Explanation(
        400,
        _("Deze inlogpoging is verlopen"),
        _(
            "regie herkent deze inlogpoging niet: hij is verlopen, al gebruikt, of in een ander "
            "venster begonnen. Begin opnieuw bij Inloggen."
        ),
    ),
    "missing_code": _NOT_TRUSTED,
    "upstream_error": Explanation(
        403,
        _("Inloggen bij de school is niet gelukt"),
        _(
            "%(provider)s heeft het inloggen afgebroken of geweigerd. Probeer het opnieuw; lukt "
            "het niet, vraag het dan de beheerder van de school."
        ),
    ),
    "upstream_unavailable": Explanation(
        502,
        _("%(provider)s is nu niet bereikbaar"),
        _(
            "regie kon de inlogdienst van de school niet bereiken. Probeer het over een paar "
            "minuten opnieuw."
        ),
    ),
}


def _refused_page(
    request: HttpRequest, provider: IdentityProvider, refused: UpstreamLoginRefused
) -> HttpResponse:
    explanation = EXPLANATIONS.get(refused.reason, _NOT_TRUSTED)
    names = {"provider": provider.name, "board": provider.board.name}
    context = {
        "title": str(explanation.title) % names,
        "text": str(explanation.text) % names,
        "reason": refused.reason,
    }
    return render(request, "accounts/upstream_refused.html", context, status=explanation.status)


def _redirect_uri(request: HttpRequest, provider: IdentityProvider) -> str:
    return request.build_absolute_uri(reverse("accounts:upstream-callback", args=[provider.pk]))


def _safe_next(request: HttpRequest, next_url: str) -> str:
    allowed = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return next_url if next_url and allowed else ""


def _keep(
    session: SessionBase, provider: IdentityProvider, pending: oidc.Pending, next_url: str
) -> None:
    kept: dict[str, dict[str, Any]] = dict(session.get(PENDING_KEY) or {})
    kept[pending.state] = {
        "provider": provider.pk,
        "nonce": pending.nonce,
        "code_verifier": pending.code_verifier,
        "next": next_url,
        "started": int(time.time()),
    }
    newest = sorted(kept.items(), key=lambda item: item[1]["started"])[-PENDING_MAX:]
    session[PENDING_KEY] = dict(newest)


def _take(
    session: SessionBase, provider: IdentityProvider, state: str
) -> tuple[oidc.Pending | None, str]:
    """The login started for ``state`` at ``provider`` (removed: a state is used once)."""
    kept: dict[str, dict[str, Any]] = dict(session.get(PENDING_KEY) or {})
    entry = kept.pop(state, None) if state else None
    if entry is not None:
        session[PENDING_KEY] = kept
    fresh = entry is not None and time.time() - entry["started"] <= PENDING_TTL_SECONDS
    if entry is None or not fresh or entry["provider"] != provider.pk:
        return None, ""
    pending = oidc.Pending(state, entry["nonce"], entry["code_verifier"])
    return pending, str(entry["next"])


@require_POST
@never_cache
def upstream_start(request: HttpRequest, provider_id: int) -> HttpResponse:
    """Send the visitor to their school's identity provider (a button on the login page)."""
    provider = get_object_or_404(
        IdentityProvider.objects.usable().select_related("board"), pk=provider_id
    )
    if throttling.address_locked_out(request):
        return throttling.lockout_response(request)
    try:
        url, pending = start_upstream_login(provider, _redirect_uri(request, provider))
    except UpstreamLoginRefused as refused:
        return _refused_page(request, provider, refused)
    _keep(request.session, provider, pending, _safe_next(request, request.POST.get("next", "")))
    return HttpResponseRedirect(url)


@require_GET
@never_cache
def upstream_callback(request: HttpRequest, provider_id: int) -> HttpResponse:
    """Where the identity provider sends the visitor back (OIDC Core §3.1.2.5)."""
    provider = get_object_or_404(
        IdentityProvider.objects.usable().select_related("board"), pk=provider_id
    )
    if throttling.address_locked_out(request):
        return throttling.lockout_response(request)
    pending, next_url = _take(request.session, provider, request.GET.get("state", ""))
    try:
        user = finish_upstream_login(
            provider, pending, request.GET.dict(), _redirect_uri(request, provider)
        )
    except UpstreamLoginRefused as refused:
        throttling.upstream_refused(request, refused.reason)  # counts against the address
        return _refused_page(request, provider, refused)
    login(request, user, backend=MODEL_BACKEND)  # a new session key (session fixation)
    return redirect(next_url or "after-login")
