"""What the OneRoster 1.2 REST services share: bearer tokens, error answers, JSON, release audit.

The rostering service (:mod:`.api`) and the gradebook service (:mod:`regie.gateway.gradebook.api`)
are two django-ninja APIs with the same plumbing: a bearer token of the hub's token endpoint with
the operation's scope (:class:`RosterToken`), every refusal answered with the binding's
``imsx_StatusInfo`` and audited as ``gateway.request.refused`` (:func:`install_error_handlers`),
JSON written with orjson (:func:`json_response`) and one ``gateway.release`` event per response
with pupil or teacher data (:func:`audit_release`). Audit details and log lines name the route,
never the path: a path may hold a pseudonym.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6750 import InsufficientScopeError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from regie.audit.services import SYSTEM, client_actor, record
from regie.lib.logging import get_logger
from regie.nummervoorziening.client import NummervoorzieningClientError

from .. import events, oidc
from ..models import OAuthClient
from ..scopes import Scope
from ..signals import ONEROSTER, pseudonym_seen
from . import paths, query
from .errors import (
    Forbidden,
    InternalServerError,
    InvalidData,
    OneRosterError,
    ServerBusy,
    UnauthorisedRequest,
    UnknownObject,
)
from .release import Record, SupplierView

logger = get_logger(__name__)

ROSTERING_ROOT = "/ims/oneroster/rostering/v1p2"
"""The rostering service's base path; pupils' and classes' ``href`` values point below it."""


class RosterToken(HttpBearer):
    """A bearer token of the hub's token endpoint that carries ``scope``."""

    def __init__(self, scope: Scope) -> None:
        super().__init__()
        self.scope = scope
        self.openapi_description = (
            "An access token from the hub's token endpoint (`/oidc/token`, "
            f"grant_type=client_credentials) with the scope `{scope.name}`."
        )

    def __call__(self, request: HttpRequest) -> OAuthClient:
        try:
            token = oidc.protector().acquire_token(request, [self.scope.name])
        except InsufficientScopeError:
            raise Forbidden(f"insufficient_scope: this needs the scope {self.scope.name}") from None
        except OAuth2Error:
            raise UnauthorisedRequest("send a valid access token as a bearer token") from None
        client: OAuthClient = token.client
        if not client.is_active:
            raise UnauthorisedRequest("send a valid access token as a bearer token")
        return client

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover
        return None  # __call__ does the work


# --- refusals -----------------------------------------------------------------------------------


def endpoint(request: HttpRequest) -> str:
    """The route, not the path (a path may hold a pseudonym), without the rostering base path."""
    match = getattr(request, "resolver_match", None)
    route = str(getattr(match, "route", "") or "")
    return route.removeprefix(ROSTERING_ROOT.lstrip("/") + "/")[-80:]


def _actor(request: HttpRequest) -> str:
    client = getattr(request, "auth", None)
    return client_actor(client) if isinstance(client, OAuthClient) else SYSTEM


def refused(request: HttpRequest, error: OneRosterError) -> HttpResponse:
    """The binding's answer to ``error``, audited; bearer errors carry ``WWW-Authenticate``."""
    record(
        events.REQUEST_REFUSED,
        _actor(request),
        "",
        {"endpoint": endpoint(request), "error": error.code_minor, "status": error.status},
    )
    response = error.response()
    if isinstance(error, UnauthorisedRequest):
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    elif isinstance(error, Forbidden):
        response["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
    return response


def _on_oneroster_error(request: HttpRequest, exc: OneRosterError) -> HttpResponse:
    return refused(request, exc)


def _on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return refused(request, InvalidData("a parameter has a value the binding does not allow"))


def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, AuthenticationError):
        return refused(request, UnauthorisedRequest("send a valid access token"))
    return refused(request, InvalidData("the request is not valid"))


def _on_number_service(request: HttpRequest, exc: NummervoorzieningClientError) -> HttpResponse:
    logger.warning("oneroster.number_service_unavailable", error=type(exc).__name__)
    return refused(request, ServerBusy("pseudonyms cannot be obtained now; try again later"))


def _on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.error("oneroster.unexpected_error", error=type(exc).__name__, exc_info=exc)
    return refused(request, InternalServerError("an unexpected error occurred; it was logged"))


def install_error_handlers(api: NinjaAPI) -> None:
    """Answer every failure of ``api`` as the binding does: no framework error page, ever."""
    api.add_exception_handler(OneRosterError, _on_oneroster_error)  # type: ignore[arg-type]
    api.add_exception_handler(ValidationError, _on_validation)  # type: ignore[arg-type]
    api.add_exception_handler(HttpError, _on_http_error)  # type: ignore[arg-type]
    api.add_exception_handler(
        NummervoorzieningClientError,
        _on_number_service,  # type: ignore[arg-type]
    )
    api.add_exception_handler(Exception, _on_unexpected)  # type: ignore[arg-type]


# --- answers ------------------------------------------------------------------------------------


def view_for(request: HttpRequest) -> SupplierView:
    """What the token's supplier may see; ``href`` values point into the rostering service."""
    client: OAuthClient = request.auth  # type: ignore[attr-defined]
    return SupplierView(client, request.build_absolute_uri(ROSTERING_ROOT))


def params(request: HttpRequest) -> dict[str, str]:
    """The query parameters, one value each (the binding repeats none)."""
    return {name: request.GET.get(name, "") for name in request.GET}


def json_response(
    body: Any, headers: dict[str, str] | None = None, *, status: int = 200
) -> HttpResponse:
    """``body`` as JSON (orjson), with extra headers such as the paging ``Link``."""
    response = HttpResponse(orjson.dumps(body), content_type="application/json", status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def audit_release(
    request: HttpRequest,
    view: SupplierView,
    window: Sequence[Record],
    fields: Sequence[str] | None,
) -> None:
    """One event per response with pupil or teacher data: how many of each, which attributes."""
    pupils: set[int] = set()
    staff: set[int] = set()
    attributes: set[str] = set()
    staff_attributes: set[str] = set()
    for item in window:
        if "_pupil" in item:
            pupils.add(item["_pupil"])
            names = attributes
        elif "_staff" in item:
            staff.add(item["_staff"])
            names = staff_attributes
        else:
            continue
        for name, released in item["_released"].items():
            if fields is None or name in fields:
                names.update(released)
    if not pupils and not staff:
        return
    record(
        events.RELEASE,
        client_actor(view.client),
        f"supplier:{view.supplier.pk}",
        {
            "channel": "oneroster",
            "endpoint": endpoint(request),
            "supplier": view.supplier.pk,
            "products": sorted(product.pk for product in view.products),
            "pupils": len(pupils),
            # The pupils' internal record ids (never a pseudonym): the log then answers which
            # pupils went to which supplier (the data-breach register, regie.oversight).
            "students": sorted(pupils),
            "attributes": sorted(attributes),
            "staff": len(staff),
            "staff_attributes": sorted(staff_attributes),
        },
    )


PUPIL_KEYED = frozenset({"user", "demographics"})
"""Single objects whose ``sourcedId`` is, for a pupil, the pupil's pseudonym."""


def seen(view: SupplierView, named: Sequence[Record]) -> None:
    """The supplier named these pupils by their pseudonym (:data:`..signals.pseudonym_seen`),
    listed or not (a pupil it may no longer see is listed as ``tobedeleted``)."""
    for item in named:
        if "_pupil" in item:
            pseudonym_seen.send(
                sender=SupplierView,
                supplier=view.supplier,
                student_id=item["_pupil"],
                channel=ONEROSTER,
            )


def collection(
    request: HttpRequest,
    name: str,
    build: Callable[[SupplierView], list[Record]],
    fields: Sequence[str],
    filterable: Sequence[str],
) -> HttpResponse:
    """A collection endpoint: the binding's paging, sorting, filtering and field selection."""
    given = params(request)
    asked = query.parse_query(given, fields, filterable)  # refuse before anything is built
    view = view_for(request)
    records = sorted(build(view), key=lambda item: item["sourcedId"])  # the supplier's own order
    page = query.apply(records, asked)
    if asked.filter is not None:
        named = {
            predicate.value
            for group in asked.filter.alternatives
            for predicate in group
            if predicate.field == "sourcedId" and predicate.op == "="
        }
        seen(view, [item for item in records if item["sourcedId"] in named])
    audit_release(request, view, page.window, asked.fields)
    headers = page.headers(request.build_absolute_uri(request.path), given)
    return json_response({name: page.records}, headers)


def single(
    request: HttpRequest,
    name: str,
    build: Callable[[SupplierView], list[Record]],
    fields: Sequence[str],
    sourced_id: str,
) -> HttpResponse:
    """A single object of a collection; one the supplier may not see is one that does not exist.
    ``sourced_id`` as the path holds it: in full or in its path form (:mod:`.paths`)."""
    selection = query.parse_selection(params(request), fields)
    view = view_for(request)
    found = [item for item in build(view) if paths.matches(sourced_id, item["sourcedId"])]
    if name in PUPIL_KEYED:
        seen(view, found[:1])
    if not found:
        raise UnknownObject(f"there is no {name} with this sourcedId that you may see")
    audit_release(request, view, found[:1], selection)
    return json_response({name: query.select(found[0], selection)})
