"""The second step before any page: a privileged user who logged in with a password (or through
their school) but has not passed the second step in this session is sent to it — to set up an app
first when they have none — and comes back to the page they asked for afterwards.

Runs after django-otp's ``OTPMiddleware`` (which tells whether the session passed the step), on
every page of the hub and the admin site. Only the login and logout pages, the second step's own
pages, the language switch and the health check are open before it.

Views exempt from CSRF protection are machine endpoints that authenticate with a client secret, a
bearer token or an API key, never with the session (a view that trusted the session would need
CSRF protection): the OIDC token, userinfo and introspection endpoints, OneRoster, and the number
service. The step does not apply to them, and they do not read the session for it
(``test_second_factor`` lists them, so that a new one is looked at).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .second_factor import second_step_due

OPEN_BEFORE_THE_SECOND_STEP = frozenset(
    {
        "login",
        "logout",
        "admin:login",
        "admin:logout",
        "accounts:upstream-start",
        "accounts:upstream-callback",
        "second_factor:verify",
        "second_factor:enrol",
        "second_factor:qr",
        "set_language",
        "healthz",
    }
)


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        if getattr(view_func, "csrf_exempt", False):
            return None  # a machine endpoint: no browser session drives it (see the docstring)
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_BEFORE_THE_SECOND_STEP:
            return None
        due = second_step_due(request.user)
        if due is None:
            return None
        url = reverse(f"second_factor:{due}")
        if request.method in {"GET", "HEAD"}:
            url += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(url)
