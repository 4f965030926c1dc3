"""A pupil's supplier pseudonym (DESIGN §4, step 4), obtained in one place for every channel:
single sign-on (:mod:`.claims`), OneRoster rostering (:mod:`.oneroster.release`) and the
gradebook (:mod:`.gradebook`).

The number service derives it per (supplier, sector) from the pupil's ECK iD. The hub keeps it in
:class:`~.models.SupplierPseudonym` once obtained: results posted by pseudonym are matched back
through it, and a supplier's past pupils are listed as ``tobedeleted`` from it. A pupil without an
ECK iD has no pseudonym. One at a time for a launch (:func:`for_student`), in batches per sector
for a roster (:func:`for_students`); lookups of what is kept: :func:`kept`, :func:`stored`,
:func:`find`, :func:`find_ending`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from regie.agreements.models import Supplier
from regie.core.models import School
from regie.lib.prepared import Prepared
from regie.nummervoorziening import client as nv
from regie.roster.models import Student

from .models import SupplierPseudonym

# Up to this many missing pseudonyms are asked for one by one; more go in one batch per sector.
SINGLE_LOOKUPS_UP_TO = 5

_SECTORS: dict[str, dict[str, str]] = {}
# The pseudonym kept for (pupil, supplier): asked at every launch (regie.lib.prepared).
_KEPT = Prepared(
    lambda student, supplier: (
        SupplierPseudonym.objects.filter(student_id=student, supplier_id=supplier)
        .order_by()
        .values_list("value")[:1]
    ),
    student=int,
    supplier=int,
)


def sector_ids(service: nv.NummervoorzieningClient) -> dict[str, str]:
    """Sector code → the number service's sector id (asked once per number-service URL)."""
    url = settings.NV_CLIENT_URL
    if url not in _SECTORS:
        _SECTORS[url] = {sector.code: sector.id for sector in service.sectors()}
    return _SECTORS[url]


def issued_prefix(supplier: Supplier) -> str:
    """``{base}/lp/{version}/``: how the number service's supplier pseudonyms begin now, read
    from the newest one the hub keeps (this supplier's first: another supplier's could be of an
    older key version); before any, from the number service's base setting at version 1."""
    for kept_here in (
        SupplierPseudonym.objects.filter(supplier=supplier, student__is_canary=False),
        SupplierPseudonym.objects.filter(student__is_canary=False),
    ):
        newest = kept_here.order_by("-pk").values_list("value", flat=True).first()
        if newest is not None and "/lp/" in newest:
            return newest.rsplit("/", 1)[0] + "/"
    return f"{settings.NV_PSEUDONYM_BASE.rstrip('/')}/lp/1/"


def canary_pseudonym(supplier: Supplier) -> str:
    """A pseudonym for a canary (:mod:`regie.retention.canaries`): random, in exactly the shape
    of a real one at ``supplier`` (prefix, key version, 128 lowercase hex). Not derived from
    anything, so a canary's pseudonyms at two suppliers are unrelated; the number service is
    never asked about a canary."""
    return issued_prefix(supplier) + secrets.token_hex(64)


def _kept_canary(student: Student, supplier: Supplier) -> str:
    value = canary_pseudonym(supplier)
    with transaction.atomic():  # a concurrent request may keep one first: that one holds
        SupplierPseudonym.objects.bulk_create(
            [SupplierPseudonym(student=student, supplier=supplier, value=value)],
            ignore_conflicts=True,
        )
    return SupplierPseudonym.objects.get(student=student, supplier=supplier).value


def for_student(student: Student, supplier: Supplier) -> str | None:
    """The pupil's pseudonym at ``supplier``: kept, or obtained from the number service and kept;
    None for a pupil without an ECK iD. A canary's is made here (:func:`canary_pseudonym`)."""
    known = _KEPT.rows(student=student.pk, supplier=supplier.pk)
    if known:
        return str(known[0][0])
    if student.is_canary:
        return _kept_canary(student, supplier)
    if not student.eck_id:
        return None
    service = nv.get_client()
    sector_id = sector_ids(service)[student.school.sector]
    value = service.supplier_pseudonym(student.eck_id, supplier.kvk, sector_id)
    try:
        with transaction.atomic():
            SupplierPseudonym.objects.create(student=student, supplier=supplier, value=value)
    except IntegrityError:  # obtained by a concurrent request meanwhile: the same value
        pass
    return value


def for_students(
    students: Iterable[Student], supplier: Supplier, schools: Mapping[int, School]
) -> dict[int, str]:
    """Pupil pk → pseudonym at ``supplier`` for those of ``students`` with an ECK iD, kept ones
    read in one query (by school), missing ones obtained in one batch per sector and kept.
    ``schools`` holds the pupils' schools by pk."""
    wanted = list(students)
    keys = {student.pk for student in wanted}
    known = {pk: value for pk, value in kept(supplier, schools).items() if pk in keys}
    for canary in (student for student in wanted if student.is_canary):
        if canary.pk not in known:
            known[canary.pk] = _kept_canary(canary, supplier)
    missing = [student for student in wanted if student.pk not in known and student.eck_id]
    if len(missing) <= SINGLE_LOOKUPS_UP_TO:
        for student in missing:
            value = for_student(student, supplier)
            if value is not None:
                known[student.pk] = value
        return known
    obtained = _batch(missing, supplier, schools)
    rows = [
        SupplierPseudonym(student_id=pk, supplier=supplier, value=value)
        for pk, value in obtained.items()
    ]
    with transaction.atomic():  # a concurrent request may keep some of them first: ignored
        SupplierPseudonym.objects.bulk_create(rows, ignore_conflicts=True)
    known.update(obtained)
    return known


def _batch(
    students: Iterable[Student], supplier: Supplier, schools: Mapping[int, School]
) -> dict[int, str]:
    """Pupil pk → pseudonym from the number service's batch API, one batch per sector."""
    service = nv.get_client()
    sectors = sector_ids(service)
    by_sector: dict[str, dict[int, str]] = {}
    for student in students:
        by_sector.setdefault(schools[student.school_id].sector, {})[student.pk] = student.eck_id
    obtained: dict[int, str] = {}
    for sector, eck_ids in by_sector.items():
        result = service.run_batch(
            "supplier", eck_ids, supplier_id=supplier.kvk, sector_id=sectors[sector]
        )
        obtained.update(result.success)
    return obtained


def kept(supplier: Supplier, schools: Iterable[int]) -> dict[int, str]:
    """Pupil pk → kept pseudonym at ``supplier``, for the pupils of ``schools`` (by school rather
    than by a list of a thousand pupils: far cheaper to build)."""
    return dict(
        SupplierPseudonym.objects.filter(
            supplier=supplier, student__school_id__in=list(schools)
        ).values_list("student_id", "value")
    )


def stored(
    supplier: Supplier, student_ids: Iterable[int] | QuerySet[Any, Any] | None = None
) -> list[tuple[int, str]]:
    """(pupil pk, pseudonym) of every pupil ``supplier`` was given, or of ``student_ids`` (an
    iterable or a subquery), oldest first."""
    found = SupplierPseudonym.objects.filter(supplier=supplier)
    if student_ids is not None:
        found = found.filter(student_id__in=student_ids)
    return list(found.order_by("pk").values_list("student_id", "value"))


def holders(student: Student) -> QuerySet[Supplier]:
    """The suppliers that were given a pseudonym of ``student`` (so may hold data about them),
    by name."""
    held = SupplierPseudonym.objects.filter(student=student).values("supplier_id")
    return Supplier.objects.filter(pk__in=held).order_by("name", "pk")


def find(supplier: Supplier, value: str) -> SupplierPseudonym | None:
    """The kept pseudonym ``value`` of ``supplier``, with its pupil; None for another supplier's
    pseudonym or a made-up one."""
    return (
        SupplierPseudonym.objects.filter(supplier=supplier, value=value)
        .select_related("student")
        .first()
    )


def find_ending(supplier: Supplier, ending: str) -> SupplierPseudonym | None:
    """The kept pseudonym of ``supplier`` that ends with ``ending`` (a path form: the
    pseudonym's last segment is unique on its own), with its pupil."""
    return (
        SupplierPseudonym.objects.filter(supplier=supplier, value__endswith=ending)
        .select_related("student")
        .order_by("pk")
        .first()
    )
