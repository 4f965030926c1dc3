"""The hub's other data, each kind by its own rule (:data:`regie.retention.rules.KINDS`): the
sweeps the retention run calls after the pupils (:data:`SWEEPS`).

- ``guardians``: a guardian no longer in the school's export (``is_active`` off) for longer than
  the rule: their record (and links), and their portal login (``GuardianAccount`` and the user)
  when no other guardian record of the board has that address. The import does not record the
  day a guardian went; the run notes the day it first sees them inactive
  (:class:`~.models.InactiveGuardian`) and the rule counts from there.
- ``results``: results whose school year (of ``score_date``, or of the day they came in) ended
  longer than the rule ago.
- ``import_uploads``: imports that are done (applied, failed, discarded, or refused at upload)
  for longer than the rule.
- ``orders_evidence``: orders in a final state whose ``done_at`` is longer than the rule ago,
  with their receipts and attempts; never an order a rights request still refers to, nor one
  that a retention action needs while its pupil is still at the hub.

Nothing about a pupil under a legal hold goes (their results, their orders, their guardians).
Every sweep is ``(board_id, today, dry_run) -> count``: a dry run counts what the real run
deletes, the same number, and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TypeVar

from django.contrib.auth.models import User
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate

from regie.accounts.models import GuardianAccount
from regie.gateway.models import Result
from regie.orders.models import FINAL_STATES, Order
from regie.roster.models import Guardian, ImportRun, ImportStatus, Student

from . import rules
from .due import year_end_finder
from .models import HubDataKind, InactiveGuardian, LegalHold, RetentionAction

Sweep = Callable[[int, dt.date, bool], int]
M = TypeVar("M", bound=models.Model)

BATCH = 500
# Imports that are done: nothing more happens to them (a refused one is done at its upload).
DONE_IMPORTS = (ImportStatus.APPLIED, ImportStatus.FAILED, ImportStatus.DISCARDED)


def due_days(days: set[dt.date], rule: rules.Rule, on: dt.date) -> list[dt.date]:
    """The days (of a trigger) whose rule has ended by ``on``."""
    year_end = year_end_finder()
    return sorted(day for day in days if rule.due(day, year_end) <= on)


def held_students(board_id: int) -> QuerySet[LegalHold, int]:
    return LegalHold.objects.filter(board_id=board_id, lifted_at__isnull=True).values_list(
        "student_id", flat=True
    )


def _due(queryset: QuerySet[M], rule: rules.Rule, on: dt.date) -> QuerySet[M]:
    """``queryset`` (annotated with ``trigger_day``) narrowed to the rows due by ``on``."""
    days = set(queryset.order_by().values_list("trigger_day", flat=True).distinct()) - {None}
    return queryset.filter(trigger_day__in=due_days(days, rule, on))


def _delete_in_batches(queryset: QuerySet[M]) -> None:
    model = queryset.model
    keys = list(queryset.values_list("pk", flat=True))
    for start in range(0, len(keys), BATCH):
        with transaction.atomic():
            model._default_manager.filter(pk__in=keys[start : start + BATCH]).delete()


# --- guardians ------------------------------------------------------------------------------------


def inactive_guardians(board_id: int) -> QuerySet[Guardian]:
    return Guardian.objects.filter(school__board_id=board_id, is_active=False).exclude(
        students__in=held_students(board_id)
    )


def guardians_due(board_id: int, *, today: dt.date, on: dt.date) -> QuerySet[Guardian]:
    """The inactive guardians whose rule ends by ``on`` (one not noted yet counts from
    ``today``, the day the run would note them)."""
    rule = rules.hub_rule(board_id, HubDataKind.GUARDIANS)
    noted = InactiveGuardian.objects.filter(guardian=models.OuterRef("pk")).values("since")
    queryset = inactive_guardians(board_id).annotate(
        trigger_day=Coalesce(
            models.Subquery(noted), models.Value(today), output_field=models.DateField()
        )
    )
    return _due(queryset, rule, on)


def guardians(board_id: int, today: dt.date, dry_run: bool) -> int:
    due = list(guardians_due(board_id, today=today, on=today).values_list("pk", "email"))
    if dry_run:
        return len(due)
    with transaction.atomic():
        # Back in the export: the day it went counts no more.
        InactiveGuardian.objects.filter(board_id=board_id, guardian__is_active=True).delete()
        noted = InactiveGuardian.objects.filter(board_id=board_id).values("guardian_id")
        InactiveGuardian.objects.bulk_create(
            InactiveGuardian(guardian_id=pk, board_id=board_id, since=today)
            for pk in inactive_guardians(board_id)
            .exclude(pk__in=noted)
            .order_by()
            .values_list("pk", flat=True)
        )
    for start in range(0, len(due), BATCH):
        batch = due[start : start + BATCH]
        with transaction.atomic():
            Guardian.objects.filter(pk__in=[pk for pk, _ in batch]).delete()
            addresses = {email.lower() for _, email in batch if email}
            still_known = {
                email.lower()
                for email in Guardian.objects.filter(school__board_id=board_id)
                .exclude(email="")
                .values_list("email", flat=True)
            }
            gone = addresses - still_known
            if gone:
                accounts = GuardianAccount.objects.filter(board_id=board_id, email__in=gone)
                # The login goes with its account (the account cascades from the user).
                User.objects.filter(pk__in=accounts.values("user_id")).delete()
    return len(due)


# --- results --------------------------------------------------------------------------------------


def results_due(board_id: int, *, on: dt.date) -> QuerySet[Result]:
    rule = rules.hub_rule(board_id, HubDataKind.RESULTS)
    queryset = (
        Result.objects.filter(student__school__board_id=board_id)
        .exclude(student_id__in=held_students(board_id))
        .annotate(
            trigger_day=Coalesce(
                "score_date", TruncDate("created_at"), output_field=models.DateField()
            )
        )
    )
    return _due(queryset, rule, on)


def results(board_id: int, today: dt.date, dry_run: bool) -> int:
    due = results_due(board_id, on=today)
    count = due.count()
    if not dry_run and count:
        _delete_in_batches(due)
    return count


# --- import uploads -------------------------------------------------------------------------------


def imports_due(board_id: int, *, on: dt.date) -> QuerySet[ImportRun]:
    rule = rules.hub_rule(board_id, HubDataKind.IMPORT_UPLOADS)
    queryset = ImportRun.objects.filter(board_id=board_id).filter(
        Q(status__in=DONE_IMPORTS, finished_at__isnull=False) | Q(status=ImportStatus.REFUSED)
    )
    queryset = queryset.annotate(trigger_day=TruncDate(Coalesce("finished_at", "created_at")))
    return _due(queryset, rule, on)


def import_uploads(board_id: int, today: dt.date, dry_run: bool) -> int:
    due = imports_due(board_id, on=today)
    count = due.count()
    if not dry_run and count:
        _delete_in_batches(due)
    return count


# --- orders as evidence ---------------------------------------------------------------------------


def orders_due(board_id: int, *, on: dt.date) -> QuerySet[Order]:
    rule = rules.hub_rule(board_id, HubDataKind.ORDERS_EVIDENCE)
    # A retention action's order is needed while its pupil is still at the hub (the run checks
    # the pupil's orders before it deletes them).
    needed = RetentionAction.objects.filter(
        board_id=board_id,
        order__isnull=False,
        student_key__in=Student.objects.filter(school__board_id=board_id).values("pk"),
    ).values("order_id")
    queryset = (
        Order.objects.filter(board_id=board_id, state__in=FINAL_STATES, done_at__isnull=False)
        .filter(rights_request_link__isnull=True)
        .exclude(pk__in=needed)
        .exclude(students__in=held_students(board_id))
        .annotate(trigger_day=TruncDate("done_at"))
    )
    return _due(queryset, rule, on)


def orders_evidence(board_id: int, today: dt.date, dry_run: bool) -> int:
    due = orders_due(board_id, on=today)
    count = due.count()
    if not dry_run and count:
        _delete_in_batches(due)
    return count


SWEEPS: Mapping[str, Sweep] = {
    HubDataKind.GUARDIANS: guardians,
    HubDataKind.RESULTS: results,
    HubDataKind.IMPORT_UPLOADS: import_uploads,
    HubDataKind.ORDERS_EVIDENCE: orders_evidence,
}


def coming(board_id: int, *, today: dt.date, on: dt.date) -> dict[str, int]:
    """Per kind, how many rows the sweeps will have deleted by ``on`` (as things stand today)."""
    return {
        HubDataKind.GUARDIANS: guardians_due(board_id, today=today, on=on).count(),
        HubDataKind.RESULTS: results_due(board_id, on=on).count(),
        HubDataKind.IMPORT_UPLOADS: imports_due(board_id, on=on).count(),
        HubDataKind.ORDERS_EVIDENCE: orders_due(board_id, on=on).count(),
    }
