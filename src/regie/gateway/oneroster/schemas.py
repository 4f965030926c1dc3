"""The shapes of the OneRoster 1.2 rostering objects this hub serves, for the OpenAPI document.

Every property is optional: ``fields`` selects some of them, and the release policy withholds
what it does not allow (``givenName``, ``familyName``, the ``org`` of a role …) — a deviation
from the binding, which marks some of these as required; see ``docs/oneroster-rest.md``.
"""

from __future__ import annotations

from typing_extensions import TypedDict


class GUIDRef(TypedDict, total=False):
    href: str
    sourcedId: str
    type: str


class Org(TypedDict, total=False):
    sourcedId: str
    status: str
    dateLastModified: str
    name: str
    type: str
    identifier: str
    parent: GUIDRef
    children: list[GUIDRef]


class AcademicSession(TypedDict, total=False):
    sourcedId: str
    status: str
    dateLastModified: str
    title: str
    type: str
    startDate: str
    endDate: str
    schoolYear: str


class Class(TypedDict, total=False):
    sourcedId: str
    status: str
    dateLastModified: str
    title: str
    classType: str
    school: GUIDRef
    terms: list[GUIDRef]


class Role(TypedDict, total=False):
    roleType: str
    role: str
    org: GUIDRef


class UserId(TypedDict, total=False):
    type: str
    identifier: str


class User(TypedDict, total=False):
    sourcedId: str
    status: str
    dateLastModified: str
    enabledUser: bool
    roles: list[Role]
    primaryOrg: GUIDRef
    givenName: str
    familyName: str
    grades: list[str]
    userIds: list[UserId]


# ``class`` is a Python keyword: the functional form gives the property its spec name.
Enrollment = TypedDict(
    "Enrollment",
    {
        "sourcedId": str,
        "status": str,
        "dateLastModified": str,
        "role": str,
        "primary": bool,
        "user": GUIDRef,
        "class": GUIDRef,
        "school": GUIDRef,
    },
    total=False,
)


class Demographics(TypedDict, total=False):
    sourcedId: str
    status: str
    dateLastModified: str
    birthDate: str
    sex: str


class Orgs(TypedDict):
    orgs: list[Org]


class SingleOrg(TypedDict):
    org: Org


class AcademicSessions(TypedDict):
    academicSessions: list[AcademicSession]


class SingleAcademicSession(TypedDict):
    academicSession: AcademicSession


class Classes(TypedDict):
    classes: list[Class]


SingleClass = TypedDict("SingleClass", {"class": Class})


class Users(TypedDict):
    users: list[User]


class SingleUser(TypedDict):
    user: User


class Enrollments(TypedDict):
    enrollments: list[Enrollment]


class SingleEnrollment(TypedDict):
    enrollment: Enrollment


class DemographicsList(TypedDict):
    demographics: list[Demographics]


class SingleDemographics(TypedDict):
    demographics: Demographics


class CodeMinorField(TypedDict):
    imsx_codeMinorFieldName: str
    imsx_codeMinorFieldValue: str


class CodeMinor(TypedDict):
    imsx_codeMinorField: list[CodeMinorField]


class StatusInfo(TypedDict):
    imsx_codeMajor: str
    imsx_severity: str
    imsx_description: str
    imsx_CodeMinor: CodeMinor
