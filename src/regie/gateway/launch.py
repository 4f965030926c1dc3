"""'Mijn leermiddelen': the tiles a pupil or teacher launches their learning materials from.

A pupil sees one tile per product licensed to them this school year (through a group or by name)
whose board has an active agreement with the supplier: the products the release policy's decision
covers them for, one decision per product of their school. A tile launches through OpenID Connect
Core 1.0 §4 (*Initiating Login from a Third Party*): the link goes to the client's
``initiate_login_uri`` with ``iss`` (this hub) and ``target_link_uri`` (the product), and the
supplier then starts the ordinary authorization-code flow. No pupil identifier is in the link.

Each tile also says what the supplier receives about the pupil (the release policy's decision),
so that pupils see the same thing the policy enforces. Teachers see the products licensed to the
groups they teach (the policy's decision for staff) and launch them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from regie.accounts.services import student_for
from regie.agreements import catalogue, policy
from regie.agreements.models import Licence, Product
from regie.roster import services as roster
from regie.roster.models import Staff, Student

from .models import OAuthClient

# What a teacher's tile says the supplier receives, per attribute of the staff release.
STAFF_LABELS: dict[str, Promise] = {
    policy.STAFF_ID: _("uw eigen code bij de leverancier"),
    "role": _("uw rol"),
    "school": _("school"),
    "groups": _("groepen"),
}


@dataclass(frozen=True)
class Tile:
    product: Product
    launch_url: str  # empty: not launchable (yet)
    receives: tuple[str, ...] = ()  # labels of the attributes the supplier receives
    groups: tuple[str, ...] = ()  # for teachers: their groups the product is licensed to


def third_party_login_url(client: OAuthClient, product: Product) -> str:
    """The client's ``initiate_login_uri`` with the query parameters of OIDC Core §4."""
    parts = urlsplit(client.initiate_login_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.append(("iss", settings.OIDC_ISSUER))
    if product.url:
        query.append(("target_link_uri", product.url))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _launch_client(product: Product) -> OAuthClient | None:
    return (
        OAuthClient.objects.filter(product=product, is_active=True)
        .exclude(initiate_login_uri="")
        .order_by("pk")
        .first()
    )


def _licensed_at(school_ids: set[int], day: date) -> list[Product]:
    """The products with a licence in force at these schools: the policy decides which are whose."""
    in_force = Licence.objects.in_force_on(day).filter(school_id__in=school_ids)
    return list(
        Product.objects.filter(licences__in=in_force)
        .select_related("supplier")
        .distinct()
        .order_by("name", "pk")
    )


def pupil_tiles(student: Student, day: date | None = None) -> list[Tile]:
    """The tiles of a pupil: licensed to them, under an active agreement of their board."""
    day = day or timezone.localdate()
    tiles = []
    for product in _licensed_at({student.school_id}, day):
        decision = policy.decide(product, student, day=day)
        if not decision.covered:
            continue
        receives = tuple(
            str(attribute.label)
            for attribute in catalogue.ATTRIBUTES
            if attribute.key in decision.allowed
        )
        # No link where the launch would be refused: without the pseudonym nothing may go.
        client = _launch_client(product)
        if client is None or catalogue.SUPPLIER_PSEUDONYM not in decision.allowed:
            url = ""
        else:
            url = third_party_login_url(client, product)
        tiles.append(Tile(product, url, receives))
    return tiles


def teacher_tiles(memberships: list[Staff], day: date | None = None) -> list[Tile]:
    """The products the release policy lets a teacher launch: licensed to a group they teach
    (group or named-pupil licences) under an active agreement."""
    day = day or timezone.localdate()
    schools = {staff.school_id for staff in memberships if staff.school_id is not None}
    tiles = []
    for product in _licensed_at(schools, day):
        decision = policy.decide_staff(product, memberships, day=day)
        if not decision.may_release:
            continue
        client = _launch_client(product)
        url = third_party_login_url(client, product) if client is not None else ""
        receives = tuple(
            str(label) for key, label in STAFF_LABELS.items() if key in decision.allowed
        )
        tiles.append(Tile(product, url, receives, decision.groups))
    return tiles


@login_required
def tiles(request: HttpRequest) -> HttpResponse:
    """For pupils (their products) and teachers (their groups' products); 403 for anyone else."""
    student = student_for(request.user)
    memberships = roster.teaching_memberships(request.user)
    if student is None and not memberships:
        raise PermissionDenied
    return render(
        request,
        "gateway/tiles.html",
        {
            "student": student,
            "is_teacher": bool(memberships),
            "pupil_tiles": pupil_tiles(student) if student is not None else [],
            "teacher_tiles": teacher_tiles(memberships) if memberships else [],
        },
    )
