"""The page about one pupil, for the school: what each supplier receives about this pupil now, by
which channel, the pupil's consents, the licences that cover them and the results suppliers sent.

It lives in the gateway because the channels are the gateway's (single sign-on, rostering,
results) and so are the results; what may go is the release policy's decision
(:func:`regie.agreements.policy.decide`), the one the channels ask. The page names attributes,
never their values: no pseudonym, ECK iD or other identifier of the pupil is on it.

Who may open it: whoever may see the pupil today (``regie.roster.access``: a teacher their
groups' pupils, school-wide roles their school's, board admins their board's); anyone else's
pupil is a 404, a login without roster access a 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import User
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from regie.agreements import catalogue, policy
from regie.agreements import services as register
from regie.agreements.models import Consent, Licence, Product
from regie.roster import services as roster
from regie.roster.models import Student

from . import pseudonyms, scopes
from .claims import SSO_ATTRIBUTES
from .models import OAuthClient, Result
from .oneroster.release import ROSTER_ATTRIBUTES

RESULTS_SHOWN = 200


@dataclass(frozen=True)
class Channel:
    name: Promise
    attributes: tuple[str, ...]  # what this channel can carry at all
    scopes: frozenset[str]  # a client with one of these uses the channel
    needs_pseudonym: bool  # nothing goes without the supplier pseudonym (rostering, results)


CHANNELS = (
    Channel(_("Inloggen (single sign-on)"), SSO_ATTRIBUTES, frozenset({scopes.OPENID.name}), False),
    Channel(
        _("Roostergegevens (OneRoster)"),
        ROSTER_ATTRIBUTES,
        frozenset({scopes.ROSTER_CORE_READ.name, scopes.ROSTER_DEMOGRAPHICS_READ.name}),
        True,
    ),
    Channel(
        _("Resultaten (OneRoster Gradebook)"),
        (catalogue.SUPPLIER_PSEUDONYM, "results"),
        frozenset(scope.name for scope in scopes.GRADEBOOK_SCOPES),
        True,
    ),
)


@dataclass(frozen=True)
class ChannelRelease:
    channel: Channel
    connected: bool  # the supplier has an active client for this channel
    labels: list[str]  # what the policy lets go through it (labels, never values)


@dataclass(frozen=True)
class ProductRelease:
    product: Product
    channels: list[ChannelRelease]
    refusals: list[tuple[str, str]]  # scheduled attributes that do not go, and why


def _labels(keys: frozenset[str]) -> list[str]:
    return [str(item.label) for item in catalogue.ATTRIBUTES if item.key in keys]


def _client_scopes(product: Product) -> set[str]:
    """The scopes of the supplier's active clients for this product (or for all its products)."""
    found: set[str] = set()
    clients = OAuthClient.objects.filter(
        Q(product=product) | Q(product__isnull=True),
        supplier_id=product.supplier_id,
        is_active=True,
    )
    for client_scopes in clients.values_list("scopes", flat=True):
        found.update(client_scopes or ())
    return found


def _release(student: Student, product: Product) -> ProductRelease:
    decision = policy.decide(product, student)
    used = _client_scopes(product)
    channels = []
    for channel in CHANNELS:
        through = decision.allowed & frozenset(channel.attributes)
        if channel.needs_pseudonym and catalogue.SUPPLIER_PSEUDONYM not in through:
            through = frozenset()
        connected = bool(used & channel.scopes)
        channels.append(ChannelRelease(channel, connected, _labels(through) if connected else []))
    schedule = register.schedule_attributes(student.school.board_id, product)
    refusals = [
        (str(catalogue.CATALOGUE[refusal.attribute].label), refusal.explanation)
        for refusal in decision.refused
        if refusal.attribute in schedule
    ]
    return ProductRelease(product, channels, refusals)


def _licences(student: Student, day: date) -> list[Licence]:
    return list(
        Licence.objects.in_force_on(day)
        .covering(student)
        .select_related("product__supplier", "school_year", "group")
        .distinct()
        .order_by("product__supplier__name", "product__name", "pk")
    )


def _latest_consents(student: Student) -> list[Consent]:
    """Per product and attribute, the decision in force (the latest)."""
    latest: dict[tuple[int, str], Consent] = {}
    history = register.consent_history(student).select_related("product__supplier")
    for consent in history.order_by("-decided_at", "-pk"):
        latest.setdefault((consent.product_id, consent.attribute), consent)
    return sorted(latest.values(), key=lambda c: (c.product.name, c.attribute))


def _products(licences: list[Licence]) -> list[Product]:
    return list(dict.fromkeys(licence.product for licence in licences))


def products_for(student: Student, day: date | None = None) -> list[Product]:
    """The products a licence in force on ``day`` (today) covers the pupil for."""
    return _products(_licences(student, day or timezone.localdate()))


def releases_for(student: Student, day: date | None = None) -> list[ProductRelease]:
    """Per product licensed for the pupil today: what each channel carries now, and what does not
    go (the release policy's decision; attribute labels, never values). The school's page about
    the pupil and the parents' portal show this."""
    return [_release(student, product) for product in products_for(student, day)]


@roster.access_required(roster.Access.sees_roster)
def pupil(request: HttpRequest, student_id: int) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):  # access_required lets only logged-in users through
        raise Http404
    student = get_object_or_404(
        roster.visible_students(user).select_related("school"), pk=student_id
    )
    access = roster.access_for(user)
    day = timezone.localdate()
    licences = _licences(student, day)
    results = (
        Result.objects.filter(student=student)
        .select_related("product", "line_item")
        .order_by("-score_date", "-pk")
    )
    context = {
        "student": student,
        "releases": [_release(student, product) for product in _products(licences)],
        "licences": licences,
        "consents": _latest_consents(student),
        "records_consent": student.school_id in access.register_schools,
        # Who may send orders about the pupil (the orders pages' rule: the board's register
        # keepers, ``edits_board_register``) sees the suppliers holding a pseudonym of them, each
        # with a link to the erasure order (``orders:erasure``; the gateway cannot import it).
        "order_suppliers": list(pseudonyms.holders(student))
        if student.school.board_id in access.register_boards
        else [],
        "results": results[:RESULTS_SHOWN],
    }
    return render(request, "gateway/pupil.html", context)
