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

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.params.functions import Path

from ..scopes import ROSTER_CORE_READ, ROSTER_DEMOGRAPHICS_READ
from . import binding, schemas
from .errors import UnknownObject
from .release import Record, SupplierView

ROOT_PATH = binding.ROSTERING_ROOT

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


USER_ID = (
    "The user's sourcedId as in the `href` the hub gives (a pupil's pseudonym by its last "
    "segment), or in full: raw or percent-encoded. See docs/oneroster-rest.md, Ids in paths."
)


def _user_id() -> Any:
    return Path(..., description=USER_ID)


CORE = binding.RosterToken(ROSTER_CORE_READ)
DEMOGRAPHICS = binding.RosterToken(ROSTER_DEMOGRAPHICS_READ)

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


binding.install_error_handlers(api)


# --- endpoints ----------------------------------------------------------------------------------

R = STATUS_RESPONSES


@api.get("/orgs", response={200: schemas.Orgs, **R}, operation_id="getAllOrgs")
def get_all_orgs(request: HttpRequest) -> HttpResponse:
    return binding.collection(request, "orgs", SupplierView.org_records, ORG_ALL, ORG_FIELDS)


@api.get("/orgs/{sourced_id}", response={200: schemas.SingleOrg, **R}, operation_id="getOrg")
def get_org(request: HttpRequest, sourced_id: str) -> HttpResponse:
    return binding.single(request, "org", SupplierView.org_records, ORG_ALL, sourced_id)


@api.get("/schools", response={200: schemas.Orgs, **R}, operation_id="getAllSchools")
def get_all_schools(request: HttpRequest) -> HttpResponse:
    return binding.collection(request, "orgs", SupplierView.school_records, ORG_ALL, ORG_FIELDS)


@api.get("/schools/{sourced_id}", response={200: schemas.SingleOrg, **R}, operation_id="getSchool")
def get_school(request: HttpRequest, sourced_id: str) -> HttpResponse:
    return binding.single(request, "org", SupplierView.school_records, ORG_ALL, sourced_id)


@api.get(
    "/academicSessions",
    response={200: schemas.AcademicSessions, **R},
    operation_id="getAllAcademicSessions",
)
def get_all_academic_sessions(request: HttpRequest) -> HttpResponse:
    return binding.collection(
        request, "academicSessions", SupplierView.session_records, SESSION_FIELDS, SESSION_FIELDS
    )


@api.get(
    "/academicSessions/{sourced_id}",
    response={200: schemas.SingleAcademicSession, **R},
    operation_id="getAcademicSession",
)
def get_academic_session(request: HttpRequest, sourced_id: str) -> HttpResponse:
    return binding.single(
        request, "academicSession", SupplierView.session_records, SESSION_FIELDS, sourced_id
    )


@api.get("/classes", response={200: schemas.Classes, **R}, operation_id="getAllClasses")
def get_all_classes(request: HttpRequest) -> HttpResponse:
    return binding.collection(
        request, "classes", SupplierView.class_records, CLASS_ALL, CLASS_FIELDS
    )


@api.get("/classes/{sourced_id}", response={200: schemas.SingleClass, **R}, operation_id="getClass")
def get_class(request: HttpRequest, sourced_id: str) -> HttpResponse:
    return binding.single(request, "class", SupplierView.class_records, CLASS_ALL, sourced_id)


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

    return binding.collection(request, "classes", build, CLASS_ALL, CLASS_FIELDS)


@api.get("/users", response={200: schemas.Users, **R}, operation_id="getAllUsers")
def get_all_users(request: HttpRequest) -> HttpResponse:
    return binding.collection(request, "users", SupplierView.user_records, USER_ALL, USER_FIELDS)


@api.get(
    "/users/{path:sourced_id}", response={200: schemas.SingleUser, **R}, operation_id="getUser"
)
def get_user(request: HttpRequest, sourced_id: str = _user_id()) -> HttpResponse:
    return binding.single(request, "user", SupplierView.user_records, USER_ALL, sourced_id)


@api.get("/students", response={200: schemas.Users, **R}, operation_id="getAllStudents")
def get_all_students(request: HttpRequest) -> HttpResponse:
    return binding.collection(request, "users", SupplierView.student_records, USER_ALL, USER_FIELDS)


@api.get(
    "/students/{path:sourced_id}",
    response={200: schemas.SingleUser, **R},
    operation_id="getStudent",
)
def get_student(request: HttpRequest, sourced_id: str = _user_id()) -> HttpResponse:
    return binding.single(request, "user", SupplierView.student_records, USER_ALL, sourced_id)


@api.get("/teachers", response={200: schemas.Users, **R}, operation_id="getAllTeachers")
def get_all_teachers(request: HttpRequest) -> HttpResponse:
    return binding.collection(request, "users", SupplierView.teacher_records, USER_ALL, USER_FIELDS)


@api.get(
    "/teachers/{path:sourced_id}",
    response={200: schemas.SingleUser, **R},
    operation_id="getTeacher",
)
def get_teacher(request: HttpRequest, sourced_id: str = _user_id()) -> HttpResponse:
    return binding.single(request, "user", SupplierView.teacher_records, USER_ALL, sourced_id)


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
    return binding.collection(request, "users", build, USER_ALL, USER_FIELDS)


@api.get(
    "/classes/{sourced_id}/teachers",
    response={200: schemas.Users, **R},
    operation_id="getTeachersForClass",
)
def get_teachers_for_class(request: HttpRequest, sourced_id: str) -> HttpResponse:
    build = _members(
        sourced_id, SupplierView.teacher_enrollment_records, SupplierView.teacher_records
    )
    return binding.collection(request, "users", build, USER_ALL, USER_FIELDS)


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

    return binding.collection(request, "users", build, USER_ALL, USER_FIELDS)


@api.get("/enrollments", response={200: schemas.Enrollments, **R}, operation_id="getAllEnrollments")
def get_all_enrollments(request: HttpRequest) -> HttpResponse:
    return binding.collection(
        request, "enrollments", SupplierView.enrollment_records, ENROLLMENT_ALL, ENROLLMENT_FIELDS
    )


@api.get(
    "/enrollments/{sourced_id}",
    response={200: schemas.SingleEnrollment, **R},
    operation_id="getEnrollment",
)
def get_enrollment(request: HttpRequest, sourced_id: str) -> HttpResponse:
    return binding.single(
        request, "enrollment", SupplierView.enrollment_records, ENROLLMENT_ALL, sourced_id
    )


@api.get(
    "/demographics",
    response={200: schemas.DemographicsList, **R},
    operation_id="getAllDemographics",
    auth=DEMOGRAPHICS,
)
def get_all_demographics(request: HttpRequest) -> HttpResponse:
    return binding.collection(
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
def get_demographics(request: HttpRequest, sourced_id: str = _user_id()) -> HttpResponse:
    return binding.single(
        request, "demographics", SupplierView.demographic_records, DEMOGRAPHIC_FIELDS, sourced_id
    )
