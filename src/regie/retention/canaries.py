"""Canaries: proof that deletion happened (issue 16, part 5).

A canary is a fictional pupil the hub releases to suppliers exactly like a real one and later
orders deleted. A supplier that still names it after it confirmed the deletion — a result posted
for it, a OneRoster request naming its ``sourcedId``, an access order's answer holding its
pseudonym — is caught: a :class:`~.models.CanarySighting` with ``breach``, and an audit event.

- **Like a real pupil, to the supplier.** A canary is a :class:`~regie.roster.models.Student` row
  (``is_canary``) in a real, active group of the school, with a generated name, a gender, a birth
  date in the range of the group's own pupils, the group's year level, and an ECK iD in the shape
  the school's pupils have. Per supplier that may receive the group it gets a pseudonym that is
  random in exactly the shape of the number service's (:func:`regie.gateway.pseudonyms.
  canary_pseudonym`), kept as a :class:`~regie.gateway.models.SupplierPseudonym`, so every
  channel releases it as it would a real pupil. No BSN or PGN, and the number service is never
  asked about a canary. The pseudonyms at two suppliers are unrelated random values.
- **Never a pupil to the school.** The roster's default manager leaves canaries out
  (:class:`regie.roster.models.StudentManager`): class lists, pupil pages, counts, the import (a
  canary is not "left" because the LAS export lacks it), the portal and the dashboards see only
  real pupils. Only the release to suppliers reads ``Student.with_canaries``.
- **Deleted like a pupil who left.** :func:`order_deleted` writes the canary as left (the
  suppliers' rosters list it as ``tobedeleted`` from then on, as for a real pupil) and sends an
  erasure order to every supplier holding its pseudonym, in the retention run's words. The
  completed receipt confirms it (:func:`order_changed`).
- **Caught.** The gateway sends :data:`regie.gateway.signals.pseudonym_seen` where it resolves a
  pseudonym a supplier named (:func:`pseudonym_seen`); an access order's receipt is read for
  canary pseudonyms (:func:`receipt_saved`). Seen after the deletion was ordered: a sighting;
  after it was confirmed: a breach of the agreement.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User as AuthUser
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Min
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from regie.agreements.models import Licence, Supplier
from regie.agreements.services import Refused
from regie.audit.services import SYSTEM, actor_for, record
from regie.core.models import Board, School
from regie.gateway import pseudonyms
from regie.gateway.models import SupplierPseudonym
from regie.lib.logging import get_logger
from regie.orders import services as orders
from regie.orders.models import Order, OrderState, OrderType, Receipt
from regie.roster import demo_board
from regie.roster.models import Gender, Group, Student, StudentStatus

from . import clock, events, run
from .models import Canary, CanaryChannel, CanaryErasure, CanarySighting

logger = get_logger(__name__)

MAX_PER_PLANTING = 5
# An erasure order about a canary reads as the retention run's order about a pupil who left.
LEGAL_BASIS = run.STORAGE_LIMITATION
ORDER_DAYS = run.ORDER_DAYS
ORDER_DETAILS = run.RETENTION_DETAILS

_random = random.SystemRandom()


# --- planting ------------------------------------------------------------------------------------


def receiving_suppliers(group: Group, day: dt.date) -> list[Supplier]:
    """The suppliers a licence in force on ``day`` lets receive the pupils of ``group``."""
    supplier_ids = (
        Licence.objects.in_force_on(day)
        .filter(school_id=group.school_id, group=group)
        .values("product__supplier_id")
    )
    return list(Supplier.objects.filter(pk__in=supplier_ids).order_by("pk"))


def _prefix_like(values: Iterable[str], fallback: str) -> str:
    for value in values:
        if value.count("/") >= 3:
            return value.rsplit("/", 1)[0] + "/"
    return fallback


def _eck_id_like(school: School) -> str:
    """A random ECK iD in the shape of the pupils' of ``school``'s sector (base, key version,
    128 hex); never issued by the number service, so it names nobody."""
    real = (
        Student.objects.filter(school__sector=school.sector)
        .exclude(eck_id="")
        .order_by("-pk")
        .values_list("eck_id", flat=True)[:1]
    )
    base = f"{settings.NV_PSEUDONYM_BASE.rstrip('/')}/1/"
    return _prefix_like(real, base) + secrets.token_hex(64)


def _birth_date(group: Group) -> dt.date | None:
    """A day between the youngest and the oldest real pupil of ``group``."""
    span = Student.objects.filter(groups=group, status=StudentStatus.ACTIVE).aggregate(
        first=Min("birth_date"), last=Max("birth_date")
    )
    first: dt.date | None = span["first"]
    last: dt.date | None = span["last"]
    if first is None or last is None:
        return None
    return first + dt.timedelta(days=_random.randint(0, (last - first).days))


def _fictional(group: Group) -> Student:
    gender = _random.choice((Gender.MALE, Gender.FEMALE))
    names = demo_board.BOYS if gender == Gender.MALE else demo_board.GIRLS
    first = _random.choice(names)
    voorvoegsel, achternaam = _random.choice(demo_board.SURNAMES)
    return Student(
        school_id=group.school_id,
        las_key=f"canary-{secrets.token_hex(16)}",  # no LAS makes such a key: no import meets it
        voornamen=first,
        roepnaam=first,
        voorvoegsel=voorvoegsel,
        achternaam=achternaam,
        gender=gender,
        birth_date=_birth_date(group),
        year_level=group.year_level,
        is_canary=True,
    )


def plant(
    school: School, group: Group, *, count: int = 1, user: AuthUser | None = None
) -> list[Canary]:
    """``count`` canaries in ``group`` of ``school``, each with a pseudonym at every supplier
    that may receive the group today; :class:`Refused` for a group of another school or an
    inactive one, or a count out of range."""
    if group.school_id != school.pk or not group.is_active:
        raise Refused(_("Kies een actieve groep van deze school."))
    if not 1 <= count <= MAX_PER_PLANTING:
        raise Refused(_("Plant 1 tot %(most)s controlegevallen tegelijk."), most=MAX_PER_PLANTING)
    # Who receives the group is the release policy's: the real day (the demo clock moves only
    # retention).
    suppliers = receiving_suppliers(group, timezone.localdate())
    eck_id_base = _eck_id_like(school)  # once: the prefix (the tail is replaced below)
    planted: list[Canary] = []
    with transaction.atomic():
        for _n in range(count):
            student = _fictional(group)
            student.eck_id = eck_id_base.rsplit("/", 1)[0] + "/" + secrets.token_hex(64)
            student.save()
            student.groups.add(group)
            for supplier in suppliers:
                pseudonyms.for_student(student, supplier)  # a canary's: random, kept
            planted.append(Canary.objects.create(board_id=school.board_id, student=student))
        record(
            events.CANARY_PLANTED,
            actor_for(user) if user else SYSTEM,
            f"board:{school.board_id}",
            {
                "count": count,
                "school": school.pk,
                "group": group.pk,
                "suppliers": [supplier.pk for supplier in suppliers],
                "canaries": [canary.pk for canary in planted],
            },
        )
    return planted


# --- ordering deletion ---------------------------------------------------------------------------


def order_deleted(canary: Canary, *, user: AuthUser | None = None) -> list[CanaryErasure]:
    """Write ``canary`` as left and order every supplier holding its pseudonym to delete it (as
    the retention run orders it for a pupil who left); the erasures made now. A supplier
    without an order address is skipped (it stays "not ordered" on the page)."""
    today = clock.today()
    student = Student.with_canaries.select_related("school").get(pk=canary.student_id)
    done = set(CanaryErasure.objects.filter(canary=canary).values_list("supplier_id", flat=True))
    made: list[CanaryErasure] = []
    with transaction.atomic():
        Student.with_canaries.filter(pk=student.pk, status=StudentStatus.ACTIVE).update(
            status=StudentStatus.LEFT, left_on=today
        )
        student.refresh_from_db()
        for supplier in pseudonyms.holders(student):
            if supplier.pk in done or orders.endpoint_for(supplier) is None:
                continue
            order = orders.create_order(
                type=OrderType.ERASURE,
                supplier=supplier,
                students=[student],
                legal_basis=LEGAL_BASIS,
                deadline=today + dt.timedelta(days=ORDER_DAYS),
                details=dict(ORDER_DETAILS),
                user=user,
            )
            made.append(
                CanaryErasure.objects.create(
                    canary=canary, supplier=supplier, order=order, ordered_at=clock.now()
                )
            )
        if made:
            Canary.objects.filter(pk=canary.pk, deletion_ordered_at__isnull=True).update(
                deletion_ordered_at=clock.now()
            )
            record(
                events.CANARY_DELETION_ORDERED,
                actor_for(user) if user else SYSTEM,
                f"board:{canary.board_id}",
                {
                    "canary": canary.pk,
                    "orders": [str(erasure.order_id) for erasure in made],
                    "suppliers": [erasure.supplier_id for erasure in made],
                },
            )
    return made


def order_changed(sender: Any, order: Order, previous: str, **kwargs: Any) -> None:
    """``orders.signals.order_changed``: a completed erasure confirms the canary's deletion."""
    if order.state != OrderState.COMPLETED or order.type != OrderType.ERASURE:
        return
    for erasure in CanaryErasure.objects.filter(order=order, confirmed_at__isnull=True):
        CanaryErasure.objects.filter(pk=erasure.pk).update(confirmed_at=clock.now())
        record(
            events.CANARY_DELETION_CONFIRMED,
            SYSTEM,
            f"supplier:{erasure.supplier_id}",
            {"canary": erasure.canary_id, "order": str(order.pk)},
        )


# --- detection -----------------------------------------------------------------------------------


def sighted(erasure: CanaryErasure, channel: str) -> CanarySighting:
    """The supplier of ``erasure`` named its canary over ``channel``: counted, and the first
    time (per channel, before or after confirming) audited and logged."""
    now = clock.now()
    breach = erasure.confirmed_at is not None
    key = {
        "canary_id": erasure.canary_id,
        "supplier_id": erasure.supplier_id,
        "channel": channel,
        "breach": breach,
    }
    updated = CanarySighting.objects.filter(**key).update(last_seen_at=now, times=F("times") + 1)
    if not updated:
        try:
            with transaction.atomic():
                CanarySighting.objects.create(**key, seen_at=now, last_seen_at=now)
        except IntegrityError:  # a concurrent request recorded it first
            CanarySighting.objects.filter(**key).update(last_seen_at=now, times=F("times") + 1)
        else:
            record(
                events.CANARY_SIGHTED,
                SYSTEM,
                f"supplier:{erasure.supplier_id}",
                {"canary": erasure.canary_id, "channel": channel, "breach": breach},
            )
            if breach:
                logger.warning(
                    "retention.canary.breach",
                    supplier=erasure.supplier_id,
                    canary=erasure.canary_id,
                    channel=channel,
                )
    return CanarySighting.objects.get(**key)


def pseudonym_seen(
    sender: Any, supplier: Supplier, student_id: int, channel: str, **kw: Any
) -> None:
    """``gateway.signals.pseudonym_seen``: a supplier named a pupil; a canary whose deletion was
    ordered from it is a sighting (one indexed query for every other pupil)."""
    erasure = CanaryErasure.objects.filter(canary__student_id=student_id, supplier=supplier).first()
    if erasure is not None:
        sighted(erasure, channel)


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value: keys and values, at any depth."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def receipt_saved(sender: Any, instance: Receipt, created: bool, **kwargs: Any) -> None:
    """``post_save`` of a receipt: an access order's answer that holds the pseudonym of a canary
    the supplier was ordered to delete (in full or its last segment) is a sighting."""
    if not created or not instance.data:
        return
    if not Order.objects.filter(pk=instance.order_id, type=OrderType.ACCESS).exists():
        return
    ordered = {
        erasure.canary.student_id: erasure
        for erasure in CanaryErasure.objects.filter(supplier_id=instance.supplier_id)
        .select_related("canary")
        .order_by("pk")
    }
    if not ordered:
        return
    values = SupplierPseudonym.objects.filter(
        supplier_id=instance.supplier_id, student_id__in=list(ordered)
    ).values_list("student_id", "value")
    by_text: dict[str, int] = {}
    for student_id, value in values:
        by_text[value] = student_id
        by_text[value.rstrip("/").rsplit("/", 1)[-1]] = student_id
    found = {by_text[text] for text in _strings(instance.data) if text in by_text}
    for student_id in sorted(found):
        sighted(ordered[student_id], CanaryChannel.ACCESS_ANSWER)


# --- the page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupplierRow:
    """Per supplier, counts of canaries (never a name)."""

    supplier: Supplier
    released: int
    ordered: int
    confirmed: int
    sightings: int  # after the deletion was ordered, before it was confirmed
    breaches: int  # canaries named after the supplier confirmed their deletion

    @property
    def flagged(self) -> bool:
        return self.breaches > 0


@dataclass(frozen=True)
class SchoolRow:
    school: School
    planted: int
    active: int  # not yet ordered deleted
    ordered: int


def school_rows(board: Board) -> list[SchoolRow]:
    rows = []
    for school in School.objects.filter(board=board).order_by("name"):
        mine = Canary.objects.filter(board=board, student__school=school)
        planted = mine.count()
        if planted:
            ordered = mine.filter(deletion_ordered_at__isnull=False).count()
            rows.append(SchoolRow(school, planted, planted - ordered, ordered))
    return rows


def supplier_rows(board: Board) -> list[SupplierRow]:
    canaries = Canary.objects.filter(board=board)
    released = SupplierPseudonym.objects.filter(
        student_id__in=canaries.values("student_id")
    ).values_list("supplier_id", flat=True)
    erasures = CanaryErasure.objects.filter(canary__board=board)
    sightings = CanarySighting.objects.filter(canary__board=board)
    supplier_ids = set(released) | set(erasures.values_list("supplier_id", flat=True))
    rows = []
    for supplier in Supplier.objects.filter(pk__in=supplier_ids).order_by("name", "pk"):
        rows.append(
            SupplierRow(
                supplier,
                released=sum(1 for pk in released if pk == supplier.pk),
                ordered=erasures.filter(supplier=supplier).count(),
                confirmed=erasures.filter(supplier=supplier, confirmed_at__isnull=False).count(),
                sightings=sightings.filter(supplier=supplier, breach=False)
                .values("canary")
                .distinct()
                .count(),
                breaches=sightings.filter(supplier=supplier, breach=True)
                .values("canary")
                .distinct()
                .count(),
            )
        )
    return rows


def breaching_suppliers(board: Board) -> list[Supplier]:
    """Suppliers that named a canary after confirming its deletion."""
    ids = CanarySighting.objects.filter(canary__board=board, breach=True).values("supplier_id")
    return list(Supplier.objects.filter(pk__in=ids).order_by("name"))


def order_school_deleted(school: School, *, user: AuthUser | None = None) -> int:
    """Order the deletion of every canary of ``school`` not yet ordered; the orders sent."""
    sent = 0
    for canary in Canary.objects.filter(
        student__school=school, deletion_ordered_at__isnull=True
    ).order_by("pk"):
        sent += len(order_deleted(canary, user=user))
    return sent
