"""'Mijn leermiddelen': the tiles a pupil or teacher launches their learning materials from.

A pupil sees one tile per product licensed to them this school year (through a group or by name)
whose board has an active agreement with the supplier. A tile launches through OpenID Connect
Core 1.0 §4 (*Initiating Login from a Third Party*): the link goes to the client's
``initiate_login_uri`` with ``iss`` (this hub) and ``target_link_uri`` (the product), and the
supplier then starts the ordinary authorization-code flow. No pupil identifier is in the link.

Each tile also says what the supplier receives about the pupil (the release policy's decision),
so that pupils see the same thing the policy enforces. Teachers see the products licensed to the
groups they teach and launch them the same way (:mod:`.teachers` says what goes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from regie.accounts.services import student_for
from regie.agreements import catalogue, policy
from regie.agreements.models import Licence, Product
from regie.roster import services as roster
from regie.roster.models import Group, Staff, Student

from . import teachers
from .models import OAuthClient


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


def pupil_tiles(student: Student, day: date | None = None) -> list[Tile]:
    """The tiles of a pupil: licensed to them, under an active agreement of their board."""
    day = day or timezone.localdate()
    this_year = Licence.objects.filter(teachers.this_year(day), school_id=student.school_id)
    candidates = (
        Product.objects.filter(licences__in=this_year)
        .select_related("supplier")
        .distinct()
        .order_by("name", "pk")
    )
    tiles = []
    for product in candidates:
        if not Licence.objects.filter(policy.licences_covering(product, student, day)).exists():
            continue
        if policy.active_agreement(student.school.board_id, product, day) is None:
            continue
        decision = policy.decide(product, student, day=day)
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
    """The products licensed to the groups a teacher teaches (group or named-pupil licences)
    under an active agreement; launchable as in :mod:`.teachers`."""
    day = day or timezone.localdate()
    groups = Group.objects.filter(teachers__in=memberships, is_active=True)
    candidates = (
        Product.objects.filter(
            Q(licences__group__in=groups)
            | Q(licences__students__groups__in=groups, licences__students__status="active"),
            teachers.this_year_of("licences__", day),
        )
        .select_related("supplier")
        .distinct()
        .order_by("name", "pk")
    )
    tiles = []
    for product in candidates:
        launch = teachers.decide(product, memberships, day)
        if not isinstance(launch, teachers.TeacherLaunch):
            continue
        client = _launch_client(product)
        url = third_party_login_url(client, product) if client is not None else ""
        receives = (str(_("je eigen code bij de leverancier")), str(_("je rol")), str(_("school")))
        tiles.append(Tile(product, url, (*receives, str(_("groepen"))), launch.groups))
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
