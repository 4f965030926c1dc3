"""The retention run (issue 16): what :func:`regie.retention.due.plan` says is due, done.

:func:`execute` runs for one board on one day. A **dry run** only counts: the same numbers the
real run would produce, nothing changed. A **real run** acts in batches, one transaction per
batch:

1. withdrawn consents: an ``erasure`` order with ``details.attributes`` to the supplier, and a
   :class:`~.models.RetentionAction` (scope ``consent``) in the same transaction;
2. pupils who left: per supplier due, one ``erasure`` order for the batch's pupils it holds, with
   a ``supplier`` action per pupil; then, when the hub's own rule has passed too, the pupil is
   deleted at the hub (:func:`delete_pupils`) and a ``hub`` action is written per row;
3. the hub's other kinds of data (:data:`regie.retention.sweeps.SWEEPS`);
4. the check: what is left of the pupils this run deleted (``left_over``, all zeros);
5. the signed report: canonical JSON signed with the log's key as a C2SP signed note
   (:func:`verify_report` checks it), recorded as ``retention.run.report`` with its SHA-256.

The actions are unique (:class:`~.models.RetentionAction`'s constraints), so a run killed halfway
is continued by the next :func:`execute` of the board (the ``running`` row), and nothing is
deleted twice and no order sent twice: what a committed batch did is not due again, what a
killed batch did was rolled back with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.contrib.auth.models import User as AuthUser
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from regie.accounts.models import PupilAccount
from regie.agreements.models import Consent, Product, Supplier
from regie.audit import signed_note
from regie.audit.events import AUDIT_DETAILS_ERASED
from regie.audit.models import AuditEvent
from regie.audit.services import SYSTEM, actor_for, erase_subjects, record, record_many
from regie.core.models import Board
from regie.gateway.models import Result, SupplierPseudonym
from regie.lib.logging import get_logger
from regie.orders import services as orders
from regie.orders.models import OrderType, SupplierEndpoint
from regie.portal.models import OPEN_REQUEST_STATES, RightsRequest
from regie.roster.models import Guardian, SensitiveRecord, Student
from regie.transparency import keys

from . import due, events
from .models import ActionScope, HubDataKind, LegalHold, RetentionAction, RetentionRun, RunState
from .sweeps import SWEEPS

logger = get_logger(__name__)

# The legal basis each order names.
STORAGE_LIMITATION = "AVG art. 5 lid 1 sub e (bewaartermijn verstreken)"
CONSENT_WITHDRAWN = "AVG art. 7 lid 3 en art. 17 lid 1 sub b (toestemming ingetrokken)"
ORDER_DAYS = 30  # the supplier's deadline: a month
# What a retention erasure order says of itself (the canaries' orders say the same).
RETENTION_DETAILS = {"reason": "retention"}
REPORT_HEADER = "regie retention run report v1"
MAX_LISTED_ORDERS = 1000  # beyond this the report names the orders by their digest (note size)


# What every run counts (a dry run the same), beside the sweeps' ``sweep_<kind>``.
COUNTED = (
    "pupils_deleted",
    "student_rows_deleted",
    "supplier_erasures",
    "consent_erasures",
    "orders",
    "blocked_hold",
    "blocked_request",
    "waiting_endpoint",
)

T = TypeVar("T")


class RunRefused(Exception):
    """:func:`delete_pupils` was asked for a pupil it may not delete (held, an open request,
    another board's); nothing was deleted."""


class ReportInvalid(Exception):
    """A run report that does not verify with the log's key, or is not a run report."""


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Work:
    """What the run does today, after the plan: consents and pupils it acts on."""

    consents: list[due.ConsentDue]
    pupils: list[due.PupilDue]
    blocked_hold: int
    blocked_request: int
    waiting_endpoint: int  # pupils or consents whose supplier has no order endpoint


def work(board_id: int, today: dt.date) -> Work:
    plan = due.plan(board_id, today=today)
    reachable = set(
        SupplierEndpoint.objects.filter(is_active=True).values_list("supplier_id", flat=True)
    )
    consents, pupils = [], []
    blocked = {due.HOLD: 0, due.OPEN_REQUEST: 0}
    waiting = 0
    for item in plan.consents:
        if item.blocked:
            blocked[item.blocked] += 1
        elif item.due_on <= today:
            if item.supplier_id in reachable:
                consents.append(item)
            else:
                waiting += 1
    for pupil in plan.pupils:
        if pupil.blocked:
            blocked[pupil.blocked] += 1
            continue
        orders_due = pupil.orders_due(today)
        if not orders_due and not pupil.delete_due(today):
            continue
        if any(item.supplier_id not in reachable for item in orders_due):
            waiting += 1  # deleted only with every order: it waits for the supplier's address
            continue
        pupils.append(pupil)
    return Work(consents, pupils, blocked[due.HOLD], blocked[due.OPEN_REQUEST], waiting)


def execute(
    board: Board,
    *,
    today: dt.date,
    dry_run: bool,
    user: AuthUser | None = None,
    batch_size: int = 500,
) -> RetentionRun:
    """Run retention for ``board`` on ``today``: counts only (``dry_run``), or act, check and
    report. A real run continues the board's ``running`` run of the same day (a killed one);
    one of an earlier day is closed as failed (what it did stays done)."""
    todo = work(board.pk, today)
    if dry_run:
        run = RetentionRun(board=board, as_of=today, dry_run=True, started_by=user)
        run.counts = {**dry_counts(todo, today, batch_size), **sweep(board.pk, today, dry_run=True)}
        run.state = RunState.DONE
        run.finished_at = timezone.now()
        run.save()
        logger.info("retention.dry_run", board=board.pk, run=str(run.pk), **run.counts)
        return run
    run = start(board, today, user, todo)
    for consents in chunks(todo.consents, batch_size):
        act_on_consents(run, consents, today, user)
    for pupils in chunks(todo.pupils, batch_size):
        act_on_pupils(run, pupils, today, user)
    return finish(run, today, user)


def finish(run: RetentionRun, today: dt.date, user: AuthUser | None) -> RetentionRun:
    """The sweeps, the check and the signed report, once (a run another execution finished
    meanwhile is left as it is)."""
    swept = sweep(run.board_id, today, dry_run=False)
    with transaction.atomic():
        if not lock(run):
            return RetentionRun.objects.get(pk=run.pk)
        run.counts.update(swept)
        run.left_over = check(run)
        run.report = sign_report(run)
        run.state = RunState.DONE
        run.finished_at = timezone.now()
        run.save()
        signature = signed_note.parse_note(run.report.encode()).signatures[0].line.strip()
        record(
            events.RUN_REPORT,
            actor_for(user) if user else SYSTEM,
            f"retention_run:{run.pk}",
            {
                "run": str(run.pk),
                "as_of": today.isoformat(),
                "counts": run.counts,
                "orders": len(run.orders),
                "left_over": run.left_over,
                "sha256": hashlib.sha256(run.report.encode()).hexdigest(),
                "signature": signature,
            },
        )
    logger.info("retention.run.done", board=run.board_id, run=str(run.pk), **run.counts)
    return run


def start(board: Board, today: dt.date, user: AuthUser | None, todo: Work) -> RetentionRun:
    """The board's running run of ``today`` (continued), or a new one; with what it sees
    blocked now. The board's row is locked meanwhile, so two executions share one run."""
    with transaction.atomic():
        Board.objects.select_for_update().filter(pk=board.pk).first()
        running = list(
            RetentionRun.objects.select_for_update()
            .filter(board=board, dry_run=False, state=RunState.RUNNING)
            .order_by("started_at")
        )
        for stale in running:
            if stale.as_of != today:
                stale.state = RunState.FAILED
                stale.finished_at = timezone.now()
                stale.save(update_fields=["state", "finished_at"])
        run = next((item for item in running if item.as_of == today), None)
        if run is None:
            run = RetentionRun(board=board, as_of=today, started_by=user)
        else:
            logger.info("retention.run.continued", board=board.pk, run=str(run.pk))
        for key in COUNTED:
            run.counts.setdefault(key, 0)
        run.counts.update(
            blocked_hold=todo.blocked_hold,
            blocked_request=todo.blocked_request,
            waiting_endpoint=todo.waiting_endpoint,
        )
        run.save()
        return run


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start_at in range(0, len(items), max(1, size)):
        yield items[start_at : start_at + max(1, size)]


def dry_counts(todo: Work, today: dt.date, batch_size: int) -> dict[str, int]:
    """The counts the real run would reach, batch for batch."""
    orders = len(todo.consents)
    for batch in chunks(todo.pupils, batch_size):
        orders += len({item.supplier_id for pupil in batch for item in pupil.orders_due(today)})
    deleted = [pupil for pupil in todo.pupils if pupil.delete_due(today)]
    return {
        "pupils_deleted": len(deleted),
        "student_rows_deleted": sum(len(pupil.student_ids) for pupil in deleted),
        "supplier_erasures": sum(len(pupil.orders_due(today)) for pupil in todo.pupils),
        "consent_erasures": len(todo.consents),
        "orders": orders,
        "blocked_hold": todo.blocked_hold,
        "blocked_request": todo.blocked_request,
        "waiting_endpoint": todo.waiting_endpoint,
    }


def add(run: RetentionRun, **counts: int) -> None:
    for key, value in counts.items():
        run.counts[key] = int(run.counts.get(key, 0)) + value


def act_on_consents(
    run: RetentionRun, batch: Sequence[due.ConsentDue], today: dt.date, user: AuthUser | None
) -> None:
    """One transaction: an order per withdrawn consent, each with its action."""
    with transaction.atomic():
        if not lock(run):
            return  # another execution finished the run meanwhile
        done = set(
            RetentionAction.objects.filter(
                board_id=run.board_id,
                scope=ActionScope.CONSENT,
                scope_key__in=[item.scope_key for item in batch],
            ).values_list("scope_key", flat=True)
        )
        students = Student.objects.select_related("school").in_bulk(
            [item.student_id for item in batch]
        )
        # Not twice, and not about a pupil deleted meanwhile (their order covered everything).
        todo = [
            item for item in batch if item.scope_key not in done and item.student_id in students
        ]
        suppliers = Supplier.objects.in_bulk([item.supplier_id for item in todo])
        products = Product.objects.in_bulk([item.product_id for item in todo])
        now = timezone.now()
        for item in todo:
            order = orders.create_order(
                type=OrderType.ERASURE,
                supplier=suppliers[item.supplier_id],
                students=[students[item.student_id]],
                legal_basis=CONSENT_WITHDRAWN,
                deadline=today + dt.timedelta(days=ORDER_DAYS),
                details={
                    "reason": "consent-withdrawn",
                    "attributes": [item.attribute],
                    "product": products[item.product_id].name,
                },
                user=user,
            )
            RetentionAction.objects.create(
                board_id=run.board_id,
                run=run,
                student_key=item.student_id,
                scope=ActionScope.CONSENT,
                supplier_id=item.supplier_id,
                scope_key=item.scope_key,
                order=order,
                done_at=now,
            )
            run.orders.append(str(order.pk))
        add(run, consent_erasures=len(todo), orders=len(todo))
        run.save(update_fields=["counts", "orders"])


def act_on_pupils(
    run: RetentionRun, batch: Sequence[due.PupilDue], today: dt.date, user: AuthUser | None
) -> None:
    """One transaction: per supplier one order for the batch's pupils due there (an action per
    pupil), then the pupils whose time at the hub is over deleted (an action per row)."""
    with transaction.atomic():
        if not lock(run):
            return  # another execution finished the run meanwhile
        done: set[tuple[int, str, int | None]] = set(
            RetentionAction.objects.filter(
                board_id=run.board_id, student_key__in=[pupil.student_id for pupil in batch]
            ).values_list("student_key", "scope", "supplier_id")
        )
        rows = [row for pupil in batch for row in pupil.student_ids]
        held: dict[int, set[int]] = {}
        for student_id, supplier_id in SupplierPseudonym.objects.filter(
            student_id__in=rows
        ).values_list("student_id", "supplier_id"):
            held.setdefault(supplier_id, set()).add(student_id)
        per_supplier: dict[int, list[due.PupilDue]] = {}
        for pupil in batch:
            for item in pupil.orders_due(today):
                if (pupil.student_id, ActionScope.SUPPLIER, item.supplier_id) not in done:
                    per_supplier.setdefault(item.supplier_id, []).append(pupil)
        students = Student.objects.select_related("school").in_bulk(rows)
        suppliers = Supplier.objects.in_bulk(list(per_supplier))
        now = timezone.now()
        erasures, ordered_before = 0, len(run.orders)
        for supplier_id, pupils in sorted(per_supplier.items()):
            subjects = [
                students[row]
                for pupil in pupils
                for row in pupil.student_ids
                if row in held.get(supplier_id, set()) and row in students
            ]
            if not subjects:
                continue  # the pseudonyms went meanwhile: the supplier holds nothing to delete
            order = orders.create_order(
                type=OrderType.ERASURE,
                supplier=suppliers[supplier_id],
                students=subjects,
                legal_basis=STORAGE_LIMITATION,
                deadline=today + dt.timedelta(days=ORDER_DAYS),
                details=dict(RETENTION_DETAILS),
                user=user,
            )
            RetentionAction.objects.bulk_create(
                RetentionAction(
                    board_id=run.board_id,
                    run=run,
                    student_key=pupil.student_id,
                    scope=ActionScope.SUPPLIER,
                    supplier_id=supplier_id,
                    order=order,
                    done_at=now,
                )
                for pupil in pupils
            )
            run.orders.append(str(order.pk))
            erasures += len(pupils)
        leaving = [
            pupil
            for pupil in batch
            if pupil.delete_due(today) and (pupil.student_id, ActionScope.HUB, None) not in done
        ]
        ids = [row for pupil in leaving for row in pupil.student_ids]
        if ids:
            delete_pupils(ids, board_id=run.board_id, run=run, user=user)
        add(
            run,
            pupils_deleted=len(leaving),
            student_rows_deleted=len(ids),
            supplier_erasures=erasures,
            orders=len(run.orders) - ordered_before,
        )
        run.save(update_fields=["counts", "orders"])


def lock(run: RetentionRun) -> bool:
    """Lock the run's row for the caller's transaction (one batch at a time per run) and read its
    counts and orders again; False when it is no longer running."""
    locked = RetentionRun.objects.select_for_update().get(pk=run.pk)
    if locked.state != RunState.RUNNING:
        return False
    run.counts, run.orders = locked.counts, locked.orders
    return True


# --- deleting at the hub -------------------------------------------------------------------------


def delete_pupils(
    student_ids: Iterable[int],
    *,
    board_id: int,
    run: RetentionRun,
    user: AuthUser | None = None,
) -> dict[str, int]:
    """Delete pupils at the hub, in the caller's transaction: their closed rights requests and
    lifted holds, the Student rows (with them their pseudonyms, results, consents, pupil logins
    and guardian links) and the audit side rows about them (the tree's leaves stay); a ``hub``
    action and a ``retention.pupil.deleted`` event per row. Refused, nothing deleted, for a pupil
    of another board, on hold, or with an open rights request. The rows deleted per kind."""
    ids = sorted(set(student_ids))
    actor = actor_for(user) if user else SYSTEM
    with transaction.atomic():
        found = set(
            Student.objects.filter(pk__in=ids, school__board_id=board_id).values_list(
                "pk", flat=True
            )
        )
        if found != set(ids):
            raise RunRefused("a pupil to delete is not one of the board's")
        if LegalHold.objects.filter(student_id__in=ids, lifted_at__isnull=True).exists():
            raise RunRefused("a pupil to delete is on hold")
        if RightsRequest.objects.filter(student_id__in=ids, state__in=OPEN_REQUEST_STATES).exists():
            raise RunRefused("a pupil to delete has an open rights request")
        per_row = rows_per_pupil(ids)
        RightsRequest.objects.filter(student_id__in=ids).delete()
        LegalHold.objects.filter(student_id__in=ids).delete()
        Student.objects.filter(pk__in=ids).delete()
        now = timezone.now()
        RetentionAction.objects.bulk_create(
            RetentionAction(
                board_id=board_id, run=run, student_key=pk, scope=ActionScope.HUB, done_at=now
            )
            for pk in ids
        )
        # The pupils' audit side rows in one statement, an erasure event each; then the
        # deletions' events, all in one go.
        erased = erase_subjects([f"student:{pk}" for pk in ids], actor)
        record_many(
            (
                events.PUPIL_DELETED,
                actor,
                f"student:{pk}",
                {
                    "run": str(run.pk),
                    "rule": HubDataKind.PUPILS_LEFT.value,
                    "rows": {**per_row.get(pk, {}), "audit_details": erased[f"student:{pk}"]},
                },
            )
            for pk in ids
        )
    totals: dict[str, int] = {}
    for rows in per_row.values():
        for kind, count in rows.items():
            totals[kind] = totals.get(kind, 0) + count
    return totals


def rows_per_pupil(ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per pupil, how many rows of each kind go with them."""
    found: dict[int, dict[str, int]] = {pk: {"student": 1} for pk in ids}
    for kind, query in related_rows(ids).items():
        for pk, count in query:
            found[pk][kind] = count
    return found


def related_rows(ids: Sequence[int]) -> dict[str, Iterable[tuple[int, int]]]:
    def per(model: Any, field: str = "student_id") -> Iterable[tuple[int, int]]:
        return cast(
            Iterable[tuple[int, int]],
            model.objects.filter(**{f"{field}__in": ids})
            .values(field)
            .annotate(n=Count("pk"))
            .values_list(field, "n"),
        )

    links = Guardian.students.through
    return {
        "pseudonyms": per(SupplierPseudonym),
        "results": per(Result),
        "consents": per(Consent),
        "pupil_accounts": per(PupilAccount),
        "sensitive_records": per(SensitiveRecord),
        "rights_requests": per(RightsRequest),
        "guardian_links": per(links),
    }


# --- sweeps, the check and the report ------------------------------------------------------------


def sweep(board_id: int, today: dt.date, *, dry_run: bool) -> dict[str, int]:
    """The hub's other kinds of data (:data:`regie.retention.sweeps.SWEEPS`): the count of
    each, deleted unless ``dry_run``."""
    return {f"sweep_{kind}": run(board_id, today, dry_run) for kind, run in SWEEPS.items()}


def check(run: RetentionRun) -> dict[str, int]:
    """What is left of the pupils this run deleted: every count zero when the data is gone."""
    ids = list(
        RetentionAction.objects.filter(run=run, scope=ActionScope.HUB).values_list(
            "student_key", flat=True
        )
    )
    left = {
        "students": 0,
        "pseudonyms": 0,
        "results": 0,
        "consents": 0,
        "pupil_accounts": 0,
        "sensitive_records": 0,
        "rights_requests": 0,
        "guardian_links": 0,
        "audit_details": 0,
    }
    links = Guardian.students.through
    ours = (AUDIT_DETAILS_ERASED.name, events.PUPIL_DELETED.name)
    for part in chunks(ids, 500):
        left["students"] += Student.objects.filter(pk__in=part).count()
        left["pseudonyms"] += SupplierPseudonym.objects.filter(student_id__in=part).count()
        left["results"] += Result.objects.filter(student_id__in=part).count()
        left["consents"] += Consent.objects.filter(student_id__in=part).count()
        left["pupil_accounts"] += PupilAccount.objects.filter(student_id__in=part).count()
        left["sensitive_records"] += SensitiveRecord.objects.filter(student_id__in=part).count()
        left["rights_requests"] += RightsRequest.objects.filter(student_id__in=part).count()
        left["guardian_links"] += links.objects.filter(student_id__in=part).count()
        left["audit_details"] += (
            AuditEvent.objects.filter(subject__in=[f"student:{pk}" for pk in part])
            .exclude(event_type__in=ours)
            .count()
        )
    return left


def report_body(run: RetentionRun) -> dict[str, Any]:
    """What the report says: counts, orders, the check; never a pupil."""
    order_ids = sorted(run.orders)
    body: dict[str, Any] = {
        "run": str(run.pk),
        "board": run.board_id,
        "as_of": run.as_of.isoformat(),
        "counts": dict(run.counts),
        "left_over": dict(run.left_over),
        "orders": len(order_ids),
        "order_ids_sha256": hashlib.sha256("\n".join(order_ids).encode()).hexdigest(),
    }
    if len(order_ids) <= MAX_LISTED_ORDERS:
        body["order_ids"] = order_ids
    return body


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def sign_report(run: RetentionRun) -> str:
    """The report as a C2SP signed note by the log's key: a header line, the canonical JSON."""
    text = f"{REPORT_HEADER}\n{canonical(report_body(run))}\n".encode()
    return signed_note.sign_note(text, keys.signer()).decode()


def verify_report(text: str) -> dict[str, Any]:
    """The report's body, once its signature verifies with the log's public key."""
    try:
        note = signed_note.open_note(text.encode(), [keys.verifier()])
    except signed_note.NoteError as error:
        raise ReportInvalid(str(error)) from None
    header, _, rest = note.text.decode().partition("\n")
    if header != REPORT_HEADER:
        raise ReportInvalid("the note is not a retention run report")
    try:
        body = json.loads(rest)
    except ValueError:
        raise ReportInvalid("the report is not JSON") from None
    if not isinstance(body, dict) or rest != canonical(body) + "\n":
        raise ReportInvalid("the report is not canonical JSON")
    return body
