"""What a supplier's client receives about a logged-in user: exactly what the release policy
allows (:func:`regie.agreements.policy.decide` for a pupil, ``decide_staff`` for a teacher), with
the supplier pseudonym (a pupil) or the keyed staff id (a teacher, :mod:`.teachers`) as ``sub`` —
the same value in every token and message type.

:func:`refusal` is asked before a launch; :func:`for_client` builds the claims for an ID token or
the userinfo response and records the release (attribute names, never values);
:func:`subject_for` gives only the ``sub`` (introspection).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from regie.accounts.services import student_for
from regie.agreements import policy
from regie.agreements.catalogue import SUPPLIER_PSEUDONYM
from regie.audit.services import client_actor, record
from regie.lib.prepared import Prepared
from regie.roster import services as roster
from regie.roster.models import Gender, Group, Student

from . import events, pseudonyms, teachers
from .models import OAuthClient

# The catalogue attributes an ID token or userinfo response can carry, and their claim names
# (OIDC Core §5.1 where it has one). Results, photo and care data never go by SSO.
CLAIM_NAMES = {
    "first_name": "given_name",
    "last_name": "family_name",
    "date_of_birth": "birthdate",
    "gender": "gender",
    "eck_id": "eck_id",
    "school": "school",
    "groups": "groups",
    "year_level": "year_level",
    "role": "role",
}
SSO_ATTRIBUTES = (SUPPLIER_PSEUDONYM, *CLAIM_NAMES)
GENDERS = {Gender.MALE: "male", Gender.FEMALE: "female", Gender.OTHER: "other"}
# The names of a pupil's active groups, asked at every launch that releases them.
_GROUP_NAMES = Prepared(
    lambda student: (
        Group.objects.filter(students=student, is_active=True).order_by().values_list("name")
    ),
    student=int,
)


class ReleaseRefused(Exception):
    """Nothing may go to this client for this user; ``reasons`` say which condition failed."""

    def __init__(self, reasons: dict[str, str]) -> None:
        super().__init__("the release policy allows nothing for this launch")
        self.reasons = reasons


def launch_decision(
    client: OAuthClient, student: Student | None, requested: tuple[str, ...] | None = None
) -> policy.Decision | None:
    """The policy's decision for a launch (of ``requested``, by default everything SSO can
    carry), or None when the login is not a pupil's."""
    if student is None or client.product is None:
        return None
    return policy.decide(client.product, student, requested or SSO_ATTRIBUTES)


@dataclass(frozen=True)
class Release:
    """What may go to a client about one user: the claims (``sub`` first) and, for the audit
    log, the subject and the names of the attributes released."""

    subject: str  # "student:<pk>" or "staff:<pk>"
    attributes: tuple[str, ...]
    claims: dict[str, Any]


def audit_subject(user: Any) -> str:
    student = student_for(user)
    return f"student:{student.pk}" if student is not None else f"user:{user.pk}"


def refusal(client: OAuthClient, user: Any) -> dict[str, str] | None:
    """Why a launch of ``client`` by ``user`` must be refused (the failed condition per
    attribute), or None when it may go ahead: the release policy's one decision about the
    ``sub`` (and, for a pupil, whether their pseudonym can be obtained)."""
    try:
        _release(client, user, sub_only=True)
    except ReleaseRefused as refused:
        return refused.reasons
    return None


def _release(client: OAuthClient, user: Any, *, sub_only: bool = False) -> Release:
    student = student_for(user)
    if student is None:
        return _teacher_release(client, user, sub_only=sub_only)
    decision = launch_decision(client, student, (SUPPLIER_PSEUDONYM,) if sub_only else None)
    if decision is None or SUPPLIER_PSEUDONYM not in decision.allowed:
        raise ReleaseRefused(decision.reasons() if decision else {SUPPLIER_PSEUDONYM: "no_pupil"})
    sub = pseudonyms.for_student(student, client.supplier)
    if sub is None:
        raise ReleaseRefused({SUPPLIER_PSEUDONYM: "no_eck_id"})
    result: dict[str, Any] = {"sub": sub}
    if sub_only:
        return Release(f"student:{student.pk}", (SUPPLIER_PSEUDONYM,), result)
    for attribute in sorted(decision.allowed - {SUPPLIER_PSEUDONYM}):
        value = _value(student, attribute)
        if value not in (None, "", []):
            result[CLAIM_NAMES[attribute]] = value
    return Release(f"student:{student.pk}", tuple(sorted(decision.allowed)), result)


def _teacher_release(client: OAuthClient, user: Any, *, sub_only: bool) -> Release:
    memberships = roster.teaching_memberships(user)
    if client.product is None or not memberships:
        raise ReleaseRefused({SUPPLIER_PSEUDONYM: "no_pupil"})
    requested = (policy.STAFF_ID,) if sub_only else None
    decision = policy.decide_staff(client.product, memberships, requested)
    if policy.STAFF_ID not in decision.allowed:
        raise ReleaseRefused({SUPPLIER_PSEUDONYM: decision.reasons()[policy.STAFF_ID]})
    staff = teachers.released(memberships, decision)
    attributes = tuple(key for key in policy.STAFF_RELEASE if key in decision.allowed)
    result = teachers.claims(client.supplier, staff, decision)
    return Release(f"staff:{staff.pk}", attributes, result)


def _record(client: OAuthClient, release: Release, channel: str) -> None:
    record(
        events.RELEASE,
        client_actor(client),
        release.subject,
        {
            "channel": channel,
            "supplier": client.supplier_id,
            "product": client.product_id,
            "attributes": list(release.attributes),
        },
    )


def for_client(client: OAuthClient, user: Any, *, channel: str) -> dict[str, Any]:
    """The claims for ``user`` at ``client``, audited; raises :class:`ReleaseRefused` when none
    may go."""
    release = _release(client, user)
    _record(client, release, channel)
    return release.claims


def subject_for(client: OAuthClient, user: Any, *, channel: str) -> str:
    """Only the ``sub`` (token introspection): the same pairwise value as in the ID token."""
    release = _release(client, user, sub_only=True)
    _record(client, release, channel)
    return str(release.claims["sub"])


def _value(student: Student, attribute: str) -> Any:
    if attribute == "first_name":
        return student.roepnaam or student.voornamen
    if attribute == "last_name":
        return student.family_name
    if attribute == "date_of_birth":
        return student.birth_date.isoformat() if student.birth_date else None
    if attribute == "gender":
        return GENDERS.get(Gender(student.gender)) if student.gender else None
    if attribute == "eck_id":
        return student.eck_id
    if attribute == "school":
        return {"brin": student.school.code, "name": student.school.name}
    if attribute == "groups":
        return sorted(name for (name,) in _GROUP_NAMES.rows(student=student.pk))
    if attribute == "year_level":
        return student.year_level
    if attribute == "role":
        return "student"
    return None
