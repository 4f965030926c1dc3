"""The OneRoster 1.2 Rostering Service, REST/JSON binding, for suppliers (read only).

Mounted at ``/ims/oneroster/rostering/v1p2/`` (the binding's base path). Every endpoint needs a
bearer token from the hub's token endpoint (client credentials) with
``roster-core.readonly`` — ``demographics`` needs ``roster-demographics.readonly`` — and shows
only what :class:`.release.SupplierView` lets the token's supplier see. Errors are the binding's
``imsx_StatusInfo`` payloads (:mod:`.errors`); an id the supplier may not see is answered exactly
like an id that does not exist. Each response with pupil or teacher data is one
``gateway.release`` audit event (channel ``oneroster``, counts and attribute names only, pupils
and staff apart); each refusal a ``gateway.request.refused``. The committed OpenAPI file is
``docs/openapi/oneroster.json``.
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

from regie.audit.services import record
from regie.lib.logging import get_logger
from regie.nummervoorziening.client import NummervoorzieningClientError

from .. import events, oidc
from ..models import OAuthClient
from ..scopes import ROSTER_CORE_READ, ROSTER_DEMOGRAPHICS_READ, Scope
from . import query, schemas
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

ROOT_PATH = "/ims/oneroster/rostering/v1p2"

ORG_FIELDS = ("sourcedId", "status", "dateLastModified", "name", "type", "identifier")
ORG_ALL = (*ORG_FIELDS, "parent", "children")
SESSION_FIELDS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "title",
    "type",
    "startDate",
    "endDate",
    "schoolYear",
)
CLASS_FIELDS = ("sourcedId", "status", "dateLastModified", "title", "classType")
CLASS_ALL = (*CLASS_FIELDS, "school", "terms")
USER_FIELDS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "givenName",
    "familyName",
    "grades",
)
USER_ALL = (*USER_FIELDS, "roles", "primaryOrg", "userIds")
ENROLLMENT_FIELDS = ("sourcedId", "status", "dateLastModified", "role", "primary")
ENROLLMENT_ALL = (*ENROLLMENT_FIELDS, "user", "class", "school")
DEMOGRAPHIC_FIELDS = ("sourcedId", "status", "dateLastModified", "birthDate", "sex")


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


CORE = RosterToken(ROSTER_CORE_READ)
DEMOGRAPHICS = RosterToken(ROSTER_DEMOGRAPHICS_READ)

api = NinjaAPI(
    title="regie OneRoster 1.2 rostering (for suppliers)",
    version="1.2",
    description=(
        "The 1EdTech OneRoster 1.2 Rostering Service (REST/JSON binding, read only) as a "
        "supplier sees it: only the schools, classes and pupils its licences cover, only the "
        "fields the release policy allows, and the supplier's own pseudonym as a pupil's "
        "`sourcedId`. See docs/oneroster-rest.md."
    ),
    urls_namespace="oneroster",
    auth=CORE,
    docs_url=None,
)

STATUS_RESPONSES: dict[int, Any] = {
    400: schemas.StatusInfo,
    401: schemas.StatusInfo,
    403: schemas.StatusInfo,
    404: schemas.StatusInfo,
    503: schemas.StatusInfo,
}


def _endpoint(request: HttpRequest) -> str:
    """The route, not the path: a path may hold a pseudonym."""
    match = getattr(request, "resolver_match", None)
    route = str(getattr(match, "route", "") or "")
    return route.removeprefix(ROOT_PATH.lstrip("/") + "/")[-80:]


def _refused(request: HttpRequest, error: OneRosterError) -> HttpResponse:
    record(
        events.REQUEST_REFUSED,
        _actor(request),
        "",
        {"endpoint": _endpoint(request), "error": error.code_minor, "status": error.status},
    )
    response = error.response()
    if isinstance(error, UnauthorisedRequest):
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    elif isinstance(error, Forbidden):
        response["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
    return response


def _actor(request: HttpRequest) -> str:
    client = getattr(request, "auth", None)
    return f"client:{client.pk}" if isinstance(client, OAuthClient) else "system"


def _on_oneroster_error(request: HttpRequest, exc: OneRosterError) -> HttpResponse:
    return _refused(request, exc)


def _on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _refused(request, InvalidData("a parameter has a value the binding does not allow"))


def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, AuthenticationError):
        return _refused(request, UnauthorisedRequest("send a valid access token"))
    return _refused(request, InvalidData("the request is not valid"))


def _on_number_service(request: HttpRequest, exc: NummervoorzieningClientError) -> HttpResponse:
    logger.warning("oneroster.number_service_unavailable", error=type(exc).__name__)
    return _refused(request, ServerBusy("pseudonyms cannot be obtained now; try again later"))


def _on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.error("oneroster.unexpected_error", error=type(exc).__name__, exc_info=exc)
    return _refused(request, InternalServerError("an unexpected error occurred; it was logged"))


api.add_exception_handler(OneRosterError, _on_oneroster_error)  # type: ignore[arg-type]
api.add_exception_handler(ValidationError, _on_validation)  # type: ignore[arg-type]
api.add_exception_handler(HttpError, _on_http_error)  # type: ignore[arg-type]
api.add_exception_handler(NummervoorzieningClientError, _on_number_service)  # type: ignore[arg-type]
api.add_exception_handler(Exception, _on_unexpected)  # type: ignore[arg-type]


# --- answering ----------------------------------------------------------------------------------


def view_for(request: HttpRequest) -> SupplierView:
    client: OAuthClient = request.auth  # type: ignore[attr-defined]
    return SupplierView(client, request.build_absolute_uri(ROOT_PATH))


def _params(request: HttpRequest) -> dict[str, str]:
    return {name: request.GET.get(name, "") for name in request.GET}


def _json(body: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(orjson.dumps(body), content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _audit_release(
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
        f"client:{view.client.pk}",
        f"supplier:{view.supplier.pk}",
        {
            "channel": "oneroster",
            "endpoint": _endpoint(request),
            "supplier": view.supplier.pk,
            "products": sorted(product.pk for product in view.products),
            "pupils": len(pupils),
            "attributes": sorted(attributes),
            "staff": len(staff),
            "staff_attributes": sorted(staff_attributes),
        },
    )


def collection(
    request: HttpRequest,
    name: str,
    build: Callable[[SupplierView], list[Record]],
    fields: Sequence[str],
    filterable: Sequence[str],
) -> HttpResponse:
    params = _params(request)
    asked = query.parse_query(params, fields, filterable)  # refuse before anything is built
    view = view_for(request)
    records = sorted(build(view), key=lambda item: item["sourcedId"])
    page = query.apply(records, asked)
    _audit_release(request, view, page.window, asked.fields)
    headers = page.headers(request.build_absolute_uri(request.path), params)
    return _json({name: page.records}, headers)


def single(
    request: HttpRequest,
    name: str,
    build: Callable[[SupplierView], list[Record]],
    fields: Sequence[str],
    sourced_id: str,
) -> HttpResponse:
    selection = query.parse_selection(_params(request), fields)
    view = view_for(request)
    found = [item for item in build(view) if item["sourcedId"] == sourced_id]
    if not found:
        raise UnknownObject(f"there is no {name} with this sourcedId that you may see")
    _audit_release(request, view, found[:1], selection)
    return _json({name: query.select(found[0], selection)})


# --- endpoints ----------------------------------------------------------------------------------

R = STATUS_RESPONSES


@api.get("/orgs", response={200: schemas.Orgs, **R}, operation_id="getAllOrgs")
def get_all_orgs(request: HttpRequest) -> HttpResponse:
    return collection(request, "orgs", SupplierView.org_records, ORG_ALL, ORG_FIELDS)


@api.get("/orgs/{sourced_id}", response={200: schemas.SingleOrg, **R}, operation_id="getOrg")
def get_org(request: HttpRequest, sourced_id: str) -> HttpResponse:
    return single(request, "org", SupplierView.org_records, ORG_ALL, sourced_id)


@api.get("/schools", response={200: schemas.Orgs, **R}, operation_id="getAllSchools")
def get_all_schools(request: HttpRequest) -> HttpResponse:
    return collection(request, "orgs", SupplierView.school_records, ORG_ALL, ORG_FIELDS)


@api.get("/schools/{sourced_id}", response={200: schemas.SingleOrg, **R}, operation_id="getSchool")
def get_school(request: HttpRequest, sourced_id: str) -> HttpResponse:
    return single(request, "org", SupplierView.school_records, ORG_ALL, sourced_id)


@api.get(
    "/academicSessions",
    response={200: schemas.AcademicSessions, **R},
    operation_id="getAllAcademicSessions",
)
def get_all_academic_sessions(request: HttpRequest) -> HttpResponse:
    return collection(
        request, "academicSessions", SupplierView.session_records, SESSION_FIELDS, SESSION_FIELDS
    )


@api.get(
    "/academicSessions/{sourced_id}",
    response={200: schemas.SingleAcademicSession, **R},
    operation_id="getAcademicSession",
)
def get_academic_session(request: HttpRequest, sourced_id: str) -> HttpResponse:
    return single(
        request, "academicSession", SupplierView.session_records, SESSION_FIELDS, sourced_id
    )


@api.get("/classes", response={200: schemas.Classes, **R}, operation_id="getAllClasses")
def get_all_classes(request: HttpRequest) -> HttpResponse:
    return collection(request, "classes", SupplierView.class_records, CLASS_ALL, CLASS_FIELDS)


@api.get("/classes/{sourced_id}", response={200: schemas.SingleClass, **R}, operation_id="getClass")
def get_class(request: HttpRequest, sourced_id: str) -> HttpResponse:
    return single(request, "class", SupplierView.class_records, CLASS_ALL, sourced_id)


@api.get(
    "/schools/{sourced_id}/classes",
    response={200: schemas.Classes, **R},
    operation_id="getClassesForSchool",
)
def get_classes_for_school(request: HttpRequest, sourced_id: str) -> HttpResponse:
    def build(view: SupplierView) -> list[Record]:
        school = view.school_of(sourced_id)
        if school is None:
            raise UnknownObject("there is no school with this sourcedId that you may see")
        return [item for item in view.class_records() if item["school"]["sourcedId"] == sourced_id]

    return collection(request, "classes", build, CLASS_ALL, CLASS_FIELDS)


@api.get("/users", response={200: schemas.Users, **R}, operation_id="getAllUsers")
def get_all_users(request: HttpRequest) -> HttpResponse:
    return collection(request, "users", SupplierView.user_records, USER_ALL, USER_FIELDS)


@api.get(
    "/users/{path:sourced_id}", response={200: schemas.SingleUser, **R}, operation_id="getUser"
)
def get_user(request: HttpRequest, sourced_id: str) -> HttpResponse:
    return single(request, "user", SupplierView.user_records, USER_ALL, sourced_id)


@api.get("/students", response={200: schemas.Users, **R}, operation_id="getAllStudents")
def get_all_students(request: HttpRequest) -> HttpResponse:
    return collection(request, "users", SupplierView.student_records, USER_ALL, USER_FIELDS)


@api.get(
    "/students/{path:sourced_id}",
    response={200: schemas.SingleUser, **R},
    operation_id="getStudent",
)
def get_student(request: HttpRequest, sourced_id: str) -> HttpResponse:
    return single(request, "user", SupplierView.student_records, USER_ALL, sourced_id)


@api.get("/teachers", response={200: schemas.Users, **R}, operation_id="getAllTeachers")
def get_all_teachers(request: HttpRequest) -> HttpResponse:
    return collection(request, "users", SupplierView.teacher_records, USER_ALL, USER_FIELDS)


@api.get(
    "/teachers/{path:sourced_id}",
    response={200: schemas.SingleUser, **R},
    operation_id="getTeacher",
)
def get_teacher(request: HttpRequest, sourced_id: str) -> HttpResponse:
    return single(request, "user", SupplierView.teacher_records, USER_ALL, sourced_id)


def _members(
    sourced_id: str,
    enrollments: Callable[[SupplierView], list[Record]],
    users: Callable[[SupplierView], list[Record]],
) -> Callable[[SupplierView], list[Record]]:
    """The users enrolled in one visible class (404 for a class the supplier may not see)."""

    def build(view: SupplierView) -> list[Record]:
        if view.class_of(sourced_id) is None:
            raise UnknownObject("there is no class with this sourcedId that you may see")
        members = {
            item["user"]["sourcedId"]
            for item in enrollments(view)
            if item["class"]["sourcedId"] == sourced_id
        }
        return [item for item in users(view) if item["sourcedId"] in members]

    return build


@api.get(
    "/classes/{sourced_id}/students",
    response={200: schemas.Users, **R},
    operation_id="getStudentsForClass",
)
def get_students_for_class(request: HttpRequest, sourced_id: str) -> HttpResponse:
    build = _members(
        sourced_id, SupplierView.student_enrollment_records, SupplierView.student_records
    )
    return collection(request, "users", build, USER_ALL, USER_FIELDS)


@api.get(
    "/classes/{sourced_id}/teachers",
    response={200: schemas.Users, **R},
    operation_id="getTeachersForClass",
)
def get_teachers_for_class(request: HttpRequest, sourced_id: str) -> HttpResponse:
    build = _members(
        sourced_id, SupplierView.teacher_enrollment_records, SupplierView.teacher_records
    )
    return collection(request, "users", build, USER_ALL, USER_FIELDS)


@api.get(
    "/schools/{sourced_id}/teachers",
    response={200: schemas.Users, **R},
    operation_id="getTeachersForSchool",
)
def get_teachers_for_school(request: HttpRequest, sourced_id: str) -> HttpResponse:
    def build(view: SupplierView) -> list[Record]:
        if view.school_of(sourced_id) is None:
            raise UnknownObject("there is no school with this sourcedId that you may see")
        return [
            item
            for item in view.teacher_records()
            if any(role["org"]["sourcedId"] == sourced_id for role in item["roles"])
        ]

    return collection(request, "users", build, USER_ALL, USER_FIELDS)


@api.get("/enrollments", response={200: schemas.Enrollments, **R}, operation_id="getAllEnrollments")
def get_all_enrollments(request: HttpRequest) -> HttpResponse:
    return collection(
        request, "enrollments", SupplierView.enrollment_records, ENROLLMENT_ALL, ENROLLMENT_FIELDS
    )


@api.get(
    "/enrollments/{sourced_id}",
    response={200: schemas.SingleEnrollment, **R},
    operation_id="getEnrollment",
)
def get_enrollment(request: HttpRequest, sourced_id: str) -> HttpResponse:
    return single(
        request, "enrollment", SupplierView.enrollment_records, ENROLLMENT_ALL, sourced_id
    )


@api.get(
    "/demographics",
    response={200: schemas.DemographicsList, **R},
    operation_id="getAllDemographics",
    auth=DEMOGRAPHICS,
)
def get_all_demographics(request: HttpRequest) -> HttpResponse:
    return collection(
        request,
        "demographics",
        SupplierView.demographic_records,
        DEMOGRAPHIC_FIELDS,
        DEMOGRAPHIC_FIELDS,
    )


@api.get(
    "/demographics/{path:sourced_id}",
    response={200: schemas.SingleDemographics, **R},
    operation_id="getDemographics",
    auth=DEMOGRAPHICS,
)
def get_demographics(request: HttpRequest, sourced_id: str) -> HttpResponse:
    return single(
        request, "demographics", SupplierView.demographic_records, DEMOGRAPHIC_FIELDS, sourced_id
    )
