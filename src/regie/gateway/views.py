"""The OpenID provider's endpoints. Thin: Authlib (through :mod:`.oidc`) does the protocol;
these views add the login, the release policy's say before a launch, and friendly pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.base import invalid_error_characters
from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oidc.core.errors import LoginRequiredError
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from regie.accounts.services import student_for
from regie.agreements.catalogue import SUPPLIER_PSEUDONYM
from regie.agreements.policy import Condition
from regie.audit.services import SYSTEM, actor_for, record
from regie.nummervoorziening.client import NummervoorzieningClientError

from . import backchannel, claims, events, keys, oidc
from .scopes import SCOPES


def _endpoint(path: str) -> str:
    return settings.OIDC_ISSUER.rstrip("/") + path


def discovery(request: HttpRequest) -> JsonResponse:
    """OpenID Connect Discovery 1.0 §3: the provider's metadata."""
    return JsonResponse(
        {
            "issuer": settings.OIDC_ISSUER,
            "authorization_endpoint": _endpoint("/authorize"),
            "token_endpoint": _endpoint(oidc.TOKEN_PATH),
            "userinfo_endpoint": _endpoint("/userinfo"),
            "jwks_uri": _endpoint("/jwks"),
            "end_session_endpoint": _endpoint("/logout"),
            "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True,
            "introspection_endpoint": _endpoint("/introspect"),
            "scopes_supported": sorted(SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": list(keys.ALGORITHMS),
            "token_endpoint_auth_methods_supported": oidc.CodeGrant.TOKEN_ENDPOINT_AUTH_METHODS,
            "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "sid",
                *sorted(claims.CLAIM_NAMES.values()),
            ],
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
        }
    )


def jwks(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(keys.public_jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    """The authorization endpoint: a logged-in pupil is sent on to the supplier, or told why not.

    A visitor who is not logged in goes to the login page first; with ``prompt=none`` (OIDC Core
    §3.1.2.6: no page may be shown) the request is validated and answered ``login_required``."""
    if not request.user.is_authenticated and not _prompt_none(request):
        return redirect_to_login(request.get_full_path())
    if _indescribable(request):
        record(
            events.REQUEST_REFUSED,
            SYSTEM,
            "",
            {"endpoint": request.path, "error": "invalid_request"},
        )
        return render(request, "gateway/error.html", {"error": "invalid_request"}, status=400)
    with oidc.request_scope():
        return _authorize(request)


def _authorize(request: HttpRequest) -> HttpResponse:
    server = oidc.server()
    end_user = request.user if request.user.is_authenticated else None
    try:
        grant = server.get_consent_grant(request, end_user=end_user)
    except OAuth2Error as error:
        if getattr(error, "redirect_uri", None):
            if error.state is None:  # Authlib's own login_required leaves the client's out
                error.state = _params(request).get("state")
            return server.handle_error_response(request, error)  # type: ignore[no-any-return]
        server.handle_error_response(request, error)  # audits the refusal
        return render(request, "gateway/error.html", {"error": error.error}, status=400)
    if end_user is None:  # prompt=none in a form Authlib's own check let through
        missing = LoginRequiredError(
            state=grant.request.payload.state, redirect_uri=grant.redirect_uri
        )
        return server.handle_error_response(request, missing)  # type: ignore[no-any-return]
    client = grant.client
    try:
        authenticated = oidc.authentication(request, grant)
    except OAuth2Error as error:  # max_age no number of seconds; prompt=none, login needed
        return server.handle_error_response(request, error)  # type: ignore[no-any-return]
    if authenticated.needs_login:  # prompt=login, or a login older than max_age allows
        oidc.ask_for_login(request)
        return redirect_to_login(request.get_full_path())
    oidc.login_used(request)
    try:
        reasons = claims.refusal(client, request.user)
    except NummervoorzieningClientError:
        return render(request, "gateway/unavailable.html", {"client": client}, status=503)
    if reasons is not None:
        record(
            events.LAUNCH_REFUSED,
            actor_for(request.user),
            claims.audit_subject(request.user),
            {"client": client.pk, "product": client.product_id, "reasons": reasons},
        )
        denied = server.create_authorization_response(request, grant_user=None, grant=grant)
        return render(
            request,
            "gateway/refused.html",
            {
                "client": client,
                "reason": _explanation(
                    reasons.get(SUPPLIER_PSEUDONYM, ""), pupil=student_for(request.user) is not None
                ),
                "back": denied["Location"],
                "back_host": urlsplit(denied["Location"]).netloc,
            },
            status=403,
        )
    with oidc.issuing(authenticated, hub_session=backchannel.hub_session(request)):
        return server.create_authorization_response(  # type: ignore[no-any-return]
            request, grant_user=request.user, grant=grant
        )


# Why a launch was refused, for the person launching (by the failed condition).
EXPLANATIONS: dict[str, Promise] = {
    Condition.NO_ACTIVE_AGREEMENT: _(
        "je schoolbestuur heeft (nog) geen actieve verwerkersovereenkomst met deze leverancier"
    ),
    Condition.NO_LICENCE: _("er is dit schooljaar geen licentie voor jou of je groep"),
    Condition.NOT_IN_SCHEDULE: _("de overeenkomst staat niet toe dat je schoolpseudoniem meegaat"),
    Condition.NOT_SWITCHED_ON: _("de school heeft dit leermiddel niet aangezet"),
    Condition.NO_CONSENT: _("er is geen toestemming gegeven"),
    "no_eck_id": _("je school heeft nog geen ECK iD voor jou gekregen"),
}
NOT_A_PUPIL = _(
    "je bent niet ingelogd als leerling of leerkracht van een school met dit leermiddel"
)
# The same for staff (a teacher launching, or someone of no school with it), who are addressed
# with "u".
STAFF_EXPLANATIONS: dict[str, Promise] = {
    Condition.NO_ACTIVE_AGREEMENT: _(
        "het schoolbestuur heeft (nog) geen actieve verwerkersovereenkomst met deze leverancier"
    ),
    Condition.NO_LICENCE: _("er is dit schooljaar geen licentie voor u of uw groepen"),
    Condition.NOT_IN_SCHEDULE: _("de overeenkomst staat niet toe dat uw gegevens meegaan"),
    Condition.NOT_SWITCHED_ON: EXPLANATIONS[Condition.NOT_SWITCHED_ON],
    Condition.NO_CONSENT: EXPLANATIONS[Condition.NO_CONSENT],
}
NOT_A_PUPIL_FOR_STAFF = _(
    "u bent niet ingelogd als leerling of leerkracht van een school met dit leermiddel"
)


# Authlib repeats these in an error's description, and refuses to build one (ValueError, a 500)
# when they hold characters RFC 6749 §5.2 does not allow there: such a request is invalid_request.
_REPEATED_IN_ERRORS = ("response_type", "redirect_uri")


def _params(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else request.GET


def _prompt_none(request: HttpRequest) -> bool:
    return "none" in str(_params(request).get("prompt") or "").split()


def _indescribable(request: HttpRequest) -> bool:
    params = _params(request)
    return any(
        invalid_error_characters(value)
        for name in _REPEATED_IN_ERRORS
        for value in params.getlist(name)
    )


def _explanation(condition: str, *, pupil: bool) -> str:
    if pupil:
        return str(EXPLANATIONS.get(condition, NOT_A_PUPIL))
    return str(STAFF_EXPLANATIONS.get(condition, NOT_A_PUPIL_FOR_STAFF))


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    try:
        return oidc.server().create_token_response(request)  # type: ignore[no-any-return]
    except claims.ReleaseRefused:  # RFC 6749 §5.2: the grant is no longer good
        record(
            events.REQUEST_REFUSED,
            SYSTEM,
            "",
            {"endpoint": request.path, "error": "invalid_grant"},
        )
        return JsonResponse(
            {"error": "invalid_grant", "error_description": "Nothing may be released."},
            status=400,
        )


@csrf_exempt
@require_POST
def introspect(request: HttpRequest) -> HttpResponse:
    """RFC 7662: is this token active, and for whom (the pairwise ``sub``)?"""
    return oidc.server().create_endpoint_response("introspection", request)  # type: ignore[no-any-return]


@csrf_exempt
@require_http_methods(["GET", "POST"])
def userinfo(request: HttpRequest) -> HttpResponse:
    """OIDC Core §5.3. The token in the Authorization header, or (RFC 6750 §2.2) a POST body."""
    form_token = request.POST.get("access_token") if request.method == "POST" else None
    if form_token and "HTTP_AUTHORIZATION" not in request.META:
        request.META["HTTP_AUTHORIZATION"] = f"Bearer {form_token}"
    try:
        access = oidc.protector().acquire_token(request, ["openid"])
        try:
            body: dict[str, Any] = claims.for_client(access.client, access.user, channel="userinfo")
        except claims.ReleaseRefused:
            # RFC 6750 §3.1: the token is no good "for other reasons" (licence or agreement ended)
            raise InvalidTokenError(
                "The release policy no longer allows anything for this token."
            ) from None
    except OAuth2Error as error:
        return _bearer_error(request, error)
    return JsonResponse(body)


def _bearer_error(request: HttpRequest, error: OAuth2Error) -> JsonResponse:
    """An RFC 6750 §3 error (with ``WWW-Authenticate``), audited."""
    record(events.REQUEST_REFUSED, SYSTEM, "", {"endpoint": request.path, "error": error.error})
    status, problem, headers = error()
    response = JsonResponse(dict(problem), status=status)
    for name, value in headers:
        if name.lower() != "content-type":
            response[name] = value
    return response


@require_http_methods(["GET", "POST"])
def end_session(request: HttpRequest) -> HttpResponse:
    """RP-initiated logout 1.0: with a valid ID-token hint at once, else after confirmation."""
    server = oidc.server()
    try:
        validated = server.validate_endpoint_request("end_session", request)
    except OAuth2Error as error:  # §4: no redirection on an error
        record(events.REQUEST_REFUSED, SYSTEM, "", {"endpoint": request.path, "error": error.error})
        return render(request, "gateway/error.html", {"error": error.error}, status=400)
    if validated.needs_confirmation and request.method != "POST":
        return render(request, "gateway/logout.html", {"confirm": True, "params": request.GET})
    logout(request)
    if validated.redirect_uri:
        return redirect(validated.redirect_uri)
    return render(request, "gateway/logout.html", {"confirm": False})
