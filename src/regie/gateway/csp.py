"""The Content-Security-Policy of every response: django-csp's middleware, with ``form-action``
widened to exactly the sites the hub's own flows send a browser to after a form.

The policy is in the settings (``CONTENT_SECURITY_POLICY``): scripts, styles and images from this
site only, no inline script or style, no plugins, no ``<base>``, no framing, forms to this site.
Chromium applies ``form-action`` to every redirect that follows a form's submission, and two of the
hub's forms end at another site by design:

- logging in, when the login started at a supplier (OpenID Connect Core 1.0 §3.1.2.5): the login
  form (or a later step of it) → ``/oidc/authorize`` → the client's registered redirect URI;
- logging in through the school's identity provider: the button's form → the provider's
  authorization endpoint (its issuer's origin, and the endpoint's own once discovered).

(Confirming a supplier's logout is a form too, but only a request without an ID-token hint asks
for confirmation, and such a request never redirects: RP-Initiated Logout 1.0 §3.)

So an HTML page's ``form-action`` names 'self' and the origins of those registered URIs — places
the hub sends browsers to anyway, and no others.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from regie.accounts import services as accounts

from .models import OAuthClient

# What may stand in a CSP source expression (no spaces, quotes, commas or semicolons).
_SAFE_SOURCE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(//[A-Za-z0-9.\-\[\]:]+)?")


def origin(uri: str) -> str | None:
    """The CSP source for where ``uri`` leads: ``scheme://host[:port]``, or ``scheme:`` for a
    private-use scheme (a native app's redirect URI). None for what cannot be one."""
    parts = urlsplit(uri)
    if parts.scheme in {"http", "https"}:
        source = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else ""
    else:
        source = f"{parts.scheme}:" if parts.scheme else ""
    return source if source and _SAFE_SOURCE.fullmatch(source) else None


def form_destinations() -> list[str]:
    """Origins of the active clients' redirect URIs and of the usable identity providers, sorted
    (two queries)."""
    uris: list[str] = []
    for redirects in OAuthClient.objects.filter(is_active=True).values_list(
        "redirect_uris", flat=True
    ):
        uris.extend(redirects or ())
    uris.extend(accounts.upstream_login_destinations())
    return sorted({source for source in map(origin, uris) if source is not None})


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware; an HTML page of the hub also gets :func:`form_destinations`."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        page = response.get("Content-Type", "").startswith("text/html") and not (
            300 <= response.status_code < 400  # a redirect shows no form (but is "text/html")
        )
        if report_only or not page or settings.ROLE not in {"all", "hub"}:
            return parts
        destinations = form_destinations()
        if destinations:
            update = dict(parts.update or {})
            update["form-action"] = [*update.get("form-action", ()), *destinations]
            parts.update = update
        return parts
