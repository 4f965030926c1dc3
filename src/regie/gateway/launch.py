"""'Mijn leermiddelen': the tiles a pupil or teacher launches their learning materials from.

A pupil sees one tile per product licensed to them this school year (through a group or by name)
whose board has an active agreement with the supplier. A tile launches through OpenID Connect
Core 1.0 §4 (*Initiating Login from a Third Party*): the link goes to the client's
``initiate_login_uri`` with ``iss`` (this hub) and ``target_link_uri`` (the product), and the
supplier then starts the ordinary authorization-code flow. No pupil identifier is in the link.

Each tile also says what the supplier receives about the pupil (the release policy's decision),
so that pupils see the same thing the policy enforces. Teachers see the products licensed to the
groups they teach; they cannot launch yet, and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from regie.accounts.services import student_for
from regie.agreements import catalogue, policy
from regie.agreements.models import Licence, Product
from regie.roster.models import Group, Staff, StaffRole, Student

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


def _this_year(day: date) -> Q:
    return Q(school_year__start__lte=day, school_year__end__gte=day)


def pupil_tiles(student: Student, day: date | None = None) -> list[Tile]:
    """The tiles of a pupil: licensed to them, under an active agreement of their board."""
    day = day or timezone.localdate()
    this_year = Licence.objects.filter(_this_year(day), school_id=student.school_id)
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


def teaching(user: AbstractBaseUser | AnonymousUser) -> list[Staff]:
    """The user's active staff memberships with the teacher role."""
    if not user.is_authenticated:
        return []
    memberships = Staff.objects.filter(user_id=user.pk, is_active=True, school__isnull=False)
    return [staff for staff in memberships if staff.has_role(StaffRole.TEACHER)]


def teacher_tiles(teaching: list[Staff], day: date | None = None) -> list[Tile]:
    """The products licensed to the groups a teacher teaches (group or named-pupil licences)."""
    day = day or timezone.localdate()
    groups = Group.objects.filter(teachers__in=teaching, is_active=True).distinct()
    licences = (
        Licence.objects.filter(_this_year(day))
        .filter(Q(group__in=groups) | Q(students__groups__in=groups, students__status="active"))
        .select_related("product__supplier", "school", "group")
        .distinct()
    )
    by_product: dict[int, tuple[Product, set[str]]] = {}
    for licence in licences:
        product = licence.product
        if policy.active_agreement(licence.school.board_id, product, day) is None:
            continue
        _, names = by_product.setdefault(product.pk, (product, set()))
        if licence.group is not None:
            names.add(licence.group.name)
        else:
            names.update(
                groups.filter(students__in=licence.students.all()).values_list("name", flat=True)
            )
    ordered = sorted(by_product.values(), key=lambda item: (item[0].name, item[0].pk))
    return [Tile(product, "", groups=tuple(sorted(names))) for product, names in ordered]


@login_required
def tiles(request: HttpRequest) -> HttpResponse:
    student = student_for(request.user)
    memberships = teaching(request.user)
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
