"""The roster's front door: importing LAS exports, linking enrolments, and who may see whom.

Import, in three steps (DESIGN §6):

1. :func:`upload` — parse and validate the whole file, and check it against the hub; store the
   problems, or the plan (the dry run: new / changed / leaving per school). The file waits in
   ``REGIE_IMPORT_DIR`` for step 3.
2. Pseudonyms (inside :func:`apply`) — pupils whose export carries a PGN instead of an ECK iD
   are hashed on every core (first step, DESIGN §4.1) and exchanged at the number service, through
   its client only, for stampseudonym and ECK iD. What was obtained is kept (PendingPseudonym), so
   an interrupted import does not hash those pupils again. The PGN and HPgn are dropped.
3. :func:`apply` — the diff, in one transaction: all of it or, when anything fails, nothing.
   An export that removes many of a school's pupils needs consent first (the safety stop,
   ``REGIE_IMPORT_MASS_REMOVAL_PERCENT``).

Need-to-know: who may see what is decided in one place, :mod:`.access` (re-exported here):
:func:`access_for`, the ``visible_*`` querysets and the view decorator :func:`access_required`.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from regie.audit.services import SYSTEM, actor_for, record
from regie.core.models import Board, School
from regie.lib.bulk_hpgn import default_workers, hash_lines, make_executor
from regie.lib.collector import collector_paused
from regie.lib.hpgn import decode_salt
from regie.lib.logging import get_logger
from regie.nummervoorziening import client as nv

from . import events
from .access import NO_ACCESS as NO_ACCESS
from .access import Access as Access
from .access import ImportScope as ImportScope
from .access import Viewer as Viewer
from .access import access_for as access_for
from .access import access_required as access_required
from .access import designation_boards as designation_boards
from .access import import_boards as import_boards
from .access import import_scopes as import_scopes
from .access import may_link as may_link
from .access import pupil_viewers as pupil_viewers
from .access import reads_sensitive_of as reads_sensitive_of
from .access import register_boards as register_boards
from .access import register_schools as register_schools
from .access import register_students as register_students
from .access import sensitive_students as sensitive_students
from .access import taught_groups as taught_groups
from .access import teaching_memberships as teaching_memberships
from .access import visible_designations as visible_designations
from .access import visible_groups as visible_groups
from .access import visible_guardians as visible_guardians
from .access import visible_import_runs as visible_import_runs
from .access import visible_schools as visible_schools
from .access import visible_sensitive_records as visible_sensitive_records
from .access import visible_students as visible_students
from .importing.plan import ExportRefused as ExportRefused  # raised by apply: part of this API
from .importing.plan import (
    ImportPlan,
    Pseudonyms,
    RemovalConsent,
    apply_export,
    check_against_hub,
    count_summary,
    pgn_students,
    plan_import,
    schools_file,
    unconfirmed_removals,
)
from .importing.records import ImportRefused, Problem, RosterExport
from .models import (
    ImportFailure,
    ImportRun,
    ImportStatus,
    LinkReason,
    PendingPseudonym,
    Student,
)

logger = get_logger(__name__)

User = AuthUser | AnonymousUser
ProgressCallback = Callable[[int, int], None]

# --- reading -----------------------------------------------------------------------------------


def read_export(path: Path, file_name: str) -> RosterExport:
    """Parse a LAS export of either format, told apart by content (a zip is OneRoster CSV).

    Problems name the file as ``file_name``, the name it was uploaded under (the copy on disk
    has a name of its own).

    Raises :class:`ImportRefused` when the file cannot be read at all.
    """
    with path.open("rb") as handle:
        start = handle.read(4)
    if start.startswith(b"PK"):
        from .importing.oneroster import parse_oneroster

        return parse_oneroster(path, name=file_name)
    from .importing.edexml import parse_edexml

    return parse_edexml(path, name=file_name)


def problems_as_json(problems: list[Problem]) -> list[dict[str, object]]:
    return [
        {
            "file": problem.file,
            "line": problem.line,
            "field": problem.field,
            "reason": problem.reason,
            **({"params": dict(problem.params)} if problem.params else {}),
        }
        for problem in problems
    ]


def _msgid(label: object) -> str:
    """The msgid of a lazily translated ``label`` (the Dutch text as written in the code)."""
    with translation.override(None):
        return str(label)


def _params(stored: object) -> dict[str, str | int]:
    if not isinstance(stored, dict):
        return {}
    return {str(k): v if isinstance(v, int) else str(v) for k, v in stored.items()}


def problems_from_json(items: list[dict[str, object]]) -> list[Problem]:
    return [
        Problem(
            file=str(item["file"]),
            line=int(str(item["line"])) if item.get("line") is not None else None,
            field=str(item["field"]) if item.get("field") else None,
            reason=str(item["reason"]),
            params=_params(item.get("params")),
        )
        for item in items
    ]


# --- the three steps ---------------------------------------------------------------------------


def import_dir() -> Path:
    directory = Path(settings.IMPORT_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def _stored_file(run: ImportRun) -> Path:
    return import_dir() / f"{run.pk}.upload"


def purge_expired_uploads() -> int:
    """Delete uploads that were checked but neither applied nor discarded in time.

    An export can hold PGNs, so it is not kept longer than ``REGIE_IMPORT_UPLOAD_TTL_HOURS``.
    Runs at every upload and whenever the import page is shown. Returns how many were removed.
    """
    cutoff = timezone.now() - timedelta(hours=settings.IMPORT_UPLOAD_TTL_HOURS)
    expired = list(ImportRun.objects.filter(status__in=APPLICABLE, created_at__lt=cutoff))
    for run in expired:
        _stored_file(run).unlink(missing_ok=True)
        run.status = ImportStatus.DISCARDED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at"])
        record(events.IMPORT_DISCARDED, SYSTEM, f"import:{run.pk}", {"reason": "expired"})
    return len(expired)


def upload(source: Path, file_name: str, board: Board, *, user: AuthUser | None) -> ImportRun:
    """Step 1: validate ``source`` whole and plan it; keep a copy for :func:`apply`."""
    return upload_export(source, file_name, board, user=user)[0]


@collector_paused()  # a large export's records and the hub's rows: many objects, no cycles
def upload_export(
    source: Path, file_name: str, board: Board, *, user: AuthUser | None
) -> tuple[ImportRun, RosterExport | None]:
    """:func:`upload`, also returning the parsed export, so that a caller in the same process
    (the import command, the demo) can hand it to :func:`apply` instead of parsing it again."""
    purge_expired_uploads()
    export: RosterExport | None = None
    run = ImportRun(id=uuid.uuid4(), board=board, uploaded_by=user, file_name=file_name[:255])
    try:
        export = read_export(source, file_name)
    except ImportRefused as refused:
        run.status = ImportStatus.REFUSED
        run.problems = problems_as_json([refused.problem])
    else:
        run.source_format = export.source_format
        not_allowed = may_import_export(user, board, export) if user is not None else []
        plan = ImportPlan(problems=not_allowed) if not_allowed else plan_import(export, board)
        if plan.problems:
            run.status = ImportStatus.REFUSED
            run.problems = problems_as_json(plan.problems)
        else:
            run.status = ImportStatus.PREVIEWED
            run.plan = plan.as_json()
            target = _stored_file(run)
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with source.open("rb") as reader, os.fdopen(descriptor, "wb") as writer:
                shutil.copyfileobj(reader, writer)
    run.save()
    record(
        events.IMPORT_PREVIEWED,
        actor_for(user),
        f"import:{run.pk}",
        {"status": run.status, "format": run.source_format, "problems": len(run.problems)},
    )
    return run, (export if run.status == ImportStatus.PREVIEWED else None)


@collector_paused()
def apply(
    run: ImportRun,
    *,
    user: AuthUser | None,
    client: nv.NummervoorzieningClient | None = None,
    on_progress: ProgressCallback | None = None,
    export: RosterExport | None = None,
    consent: RemovalConsent = RemovalConsent(),  # noqa: B008 (frozen: shared safely)
) -> ImportPlan:
    """Steps 2 and 3: obtain the pseudonyms the export needs, then apply it in one transaction.

    The stored file is parsed again unless ``export`` is the one :func:`upload_export` returned
    for this run; the diff is made anew either way (the hub may have changed since the preview).
    An export that removes many of a school's pupils needs ``consent`` (the safety stop: the
    numbers confirmed in the preview, or ``--allow-mass-removal``); without it, or on any failure,
    nothing of the diff is applied and the run stays previewed, to be retried.
    """
    if run.status not in (ImportStatus.PREVIEWED, ImportStatus.APPLYING):
        raise _not_applicable(run)
    stored = _stored_file(run)
    if not stored.exists():
        raise ExportRefused(
            [Problem(run.file_name, None, None, gettext_noop("het bestand is niet meer bewaard"))]
        )
    if export is None:
        export = read_export(stored, run.file_name)
    board = run.board
    not_allowed = may_import_export(user, board, export) if user is not None else []
    if not_allowed:
        raise ExportRefused(not_allowed)
    problems = list(export.problems) or check_against_hub(export, board)
    # The preview's mass removals too: all checked again inside the transaction, but before
    # any PGN is hashed.
    problems = problems or unconfirmed_removals(ImportPlan.from_json(run.plan), export, consent)
    if problems:
        raise ExportRefused(problems)
    pseudonyms = obtain_pseudonyms(
        export, board, client=client, on_progress=on_progress, actor=actor_for(user)
    )
    actor = actor_for(user)
    logger.info("roster.import.applying", run=str(run.pk), schools=len(export.schools))
    with transaction.atomic():
        applied = apply_export(export, board, actor=actor, pseudonyms=pseudonyms, consent=consent)
        PendingPseudonym.objects.filter(board=board).filter(
            _pending_filter(pseudonyms.keys())
        ).delete()
        run.status = ImportStatus.APPLIED
        run.plan = applied.as_json()
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "plan", "finished_at"])
        record(events.IMPORT_APPLIED, actor, f"import:{run.pk}", count_summary(applied))
    stored.unlink(missing_ok=True)
    logger.info("roster.import.applied", run=str(run.pk))
    return applied


# --- applying as a job (the upload page; the import command applies in its own process) ------


class AlreadyApplying(Exception):
    """The run is waiting to be applied or being applied already (a second POST, another tab)."""


APPLICABLE = (ImportStatus.PREVIEWED, ImportStatus.FAILED)


def request_apply(run: ImportRun, *, user: AuthUser, consent: RemovalConsent) -> None:
    """Have a job apply ``run`` (``roster.apply_import``), deferred in this transaction.

    The same checks as :func:`apply` that need no number service are made here first, so that the
    page says at once what is wrong (refused: ``ExportRefused``, nothing queued). Only one request
    wins for a run: the status changes by a conditional update, a second one gets
    ``AlreadyApplying``. A failed run may be requested again while its file is kept.
    """
    from .jobs import apply_import

    if run.status in (ImportStatus.QUEUED, ImportStatus.APPLYING):
        raise AlreadyApplying
    if run.status not in APPLICABLE:
        raise _not_applicable(run)
    if not _stored_file(run).exists():
        raise ExportRefused(
            [Problem(run.file_name, None, None, gettext_noop("het bestand is niet meer bewaard"))]
        )
    plan = ImportPlan.from_json(run.plan)
    unconfirmed = unconfirmed_removals(plan, None, consent)
    if unconfirmed:
        raise ExportRefused(unconfirmed)
    # Only what the preview asked to confirm is kept of what the form sent.
    wanted = {
        school.removal_key for school in plan.mass_removals(settings.IMPORT_MASS_REMOVAL_PERCENT)
    }
    with transaction.atomic():
        taken = ImportRun.objects.filter(pk=run.pk, status__in=APPLICABLE).update(
            status=ImportStatus.QUEUED,
            applied_by=user,
            removal_consent=sorted(wanted & consent.confirmed),
            rows_done=0,
            rows_total=0,
            failure="",
            finished_at=None,
        )
        if not taken:
            raise AlreadyApplying
        apply_import.defer(run=str(run.pk))
        record(events.IMPORT_QUEUED, actor_for(user), f"import:{run.pk}")
    run.refresh_from_db()


# Progress is stored at most every this many seconds, or each 1 % of the total, and at the end:
# a handful of writes for the largest import, never one per pupil.
PROGRESS_SECONDS = 2.0


class ProgressRecorder:
    """An ``on_progress`` that stores pupils done / total on the run, throttled."""

    def __init__(self, run: ImportRun, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.run_pk = run.pk
        self.clock = clock
        self.written: tuple[int, int] | None = None
        self.written_at = 0.0
        self.writes = 0

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if self.written is not None:
            last_done, last_total = self.written
            step = max(1, total // 100)
            due = (
                total != last_total
                or done >= total
                or done - last_done >= step
                or now - self.written_at >= PROGRESS_SECONDS
            )
            if not due or (done, total) == self.written:
                return
        ImportRun.objects.filter(pk=self.run_pk).update(rows_done=done, rows_total=total)
        self.written = (done, total)
        self.written_at = now
        self.writes += 1


FAILURES: tuple[tuple[type[nv.NummervoorzieningClientError], ImportFailure], ...] = (
    (nv.NummervoorzieningUnavailable, ImportFailure.NUMBER_SERVICE_UNAVAILABLE),
    (nv.ClientBlocked, ImportFailure.NUMBER_SERVICE_BLOCKED),
    (nv.QuotaExceeded, ImportFailure.NUMBER_SERVICE_QUOTA),
    (nv.AuthenticationFailed, ImportFailure.NUMBER_SERVICE_LOGIN),
)


def apply_requested(run_id: str, *, client: nv.NummervoorzieningClient | None = None) -> None:
    """The job's work: apply a run that :func:`request_apply` queued, storing its progress.

    Safe to run again (delivery is at least once): a run applied already is left alone; a run
    whose worker died is applied anew — nothing of an interrupted apply was committed (one
    transaction), and the pseudonyms it obtained are kept (PendingPseudonym). A refusal or the
    number service failing ends the run as failed, with a reason the page explains; it may be
    applied again. So does any other fault, logged by its class name only. A database error is
    raised, for the queue to retry.
    """
    taken = ImportRun.objects.filter(
        pk=run_id, status__in=(ImportStatus.QUEUED, ImportStatus.APPLYING)
    ).update(status=ImportStatus.APPLYING)
    if not taken:
        logger.info("roster.import.not_waiting", run=run_id)
        return
    run = ImportRun.objects.select_related("board", "applied_by").get(pk=run_id)
    user = run.applied_by
    if user is None:
        _fail(run, ImportFailure.USER_GONE)
        return
    consent = RemovalConsent(confirmed=frozenset(str(key) for key in run.removal_consent))
    try:
        apply(run, user=user, client=client, consent=consent, on_progress=ProgressRecorder(run))
    except ExportRefused as refused:
        _fail(run, ImportFailure.REFUSED, refused.problems)
    except nv.NummervoorzieningClientError as error:
        reason = next(
            (failure for kind, failure in FAILURES if isinstance(error, kind)),
            ImportFailure.NUMBER_SERVICE_REFUSED,
        )
        _fail(run, reason)
    except DatabaseError:
        raise
    except Exception as error:  # a fault of the hub: the class name only (its text may hold data)
        logger.warning("roster.import.error", run=run_id, error=type(error).__name__)
        _fail(run, ImportFailure.ERROR)


def _fail(run: ImportRun, reason: ImportFailure, problems: Iterable[Problem] = ()) -> None:
    ImportRun.objects.filter(pk=run.pk, status=ImportStatus.APPLYING).update(
        status=ImportStatus.FAILED,
        failure=reason,
        problems=problems_as_json(list(problems)),
        finished_at=timezone.now(),
    )
    record(events.IMPORT_FAILED, SYSTEM, f"import:{run.pk}", {"reason": str(reason)})
    logger.info("roster.import.failed", run=str(run.pk), reason=str(reason))


def _not_applicable(run: ImportRun) -> ExportRefused:
    return ExportRefused(
        [
            Problem(
                run.file_name,
                None,
                None,
                gettext_noop("deze import is %(reason)s"),
                {"reason": _msgid(ImportStatus(run.status).label)},
            )
        ]
    )


def discard(run: ImportRun, *, user: AuthUser | None) -> None:
    if run.status in (ImportStatus.QUEUED, ImportStatus.APPLYING):
        raise AlreadyApplying
    _stored_file(run).unlink(missing_ok=True)
    if run.status in APPLICABLE:
        run.status = ImportStatus.DISCARDED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at"])
        record(events.IMPORT_DISCARDED, actor_for(user), f"import:{run.pk}")


def _pending_filter(keys: Iterable[tuple[str, str]]) -> Q:
    condition = Q(pk__in=[])
    for code, las_key in keys:
        condition |= Q(school_code=code, las_key=las_key)
    return condition


# --- pseudonyms for PGN-bearing pupils -----------------------------------------------------------


def obtain_pseudonyms(
    export: RosterExport,
    board: Board,
    *,
    client: nv.NummervoorzieningClient | None = None,
    on_progress: ProgressCallback | None = None,
    actor: str = SYSTEM,
) -> dict[tuple[str, str], Pseudonyms]:
    """Stampseudonym and ECK iD for every pupil whose PGN must be exchanged, by (school, key).

    Hashes on every core, in input order, and asks the number service in batches. Pupils done by
    an earlier, interrupted run of the same import come from PendingPseudonym without hashing.
    """
    wanted = pgn_students(export, board)
    done = {
        (row.school_code, row.las_key): Pseudonyms(row.stampseudonym, row.eck_id)
        for row in PendingPseudonym.objects.filter(board=board)
    }
    todo = [(code, item) for code, item in wanted if (code, item.key) not in done]
    total = len(wanted)
    if on_progress:
        on_progress(total - len(todo), total)
    if not todo:
        return {
            key: done[key] for key in ((code, item.key) for code, item in wanted) if key in done
        }
    client = client or nv.get_client()
    sectors = {sector.code: sector.id for sector in client.sectors()}
    chain = settings.ECK_CHAIN_ID
    school_sectors = _sectors_by_code(export, board)
    salt = decode_salt(settings.HPGN_SALT)
    workers = min(default_workers(), len(todo))
    obtained = 0
    executor = make_executor(workers)
    try:
        results = hash_lines(
            (item.pgn for _, item in todo), salt, executor, window=max(2, workers * 4)
        )
        # Exchange in slices, so that an interruption keeps what was exchanged so far.
        slice_size = max(workers * 8, 16)
        pending: list[tuple[tuple[str, str], str]] = []
        for (code, item), result in zip(todo, results, strict=True):
            if result.hpgn is None:  # the parser checked every PGN already
                continue
            pending.append(((code, item.key), result.hpgn))
            if len(pending) >= slice_size:
                obtained += _exchange(pending, board, client, chain, sectors, school_sectors, done)
                pending = []
                if on_progress:
                    on_progress(total - len(todo) + obtained, total)
        if pending:
            obtained += _exchange(pending, board, client, chain, sectors, school_sectors, done)
    finally:
        executor.shutdown(cancel_futures=True)
    if on_progress:
        on_progress(total, total)
    record(events.PSEUDONYMS_OBTAINED, actor, f"board:{board.pk}", {"pupils": obtained})
    return {key: done[key] for key in ((code, item.key) for code, item in wanted) if key in done}


def _sectors_by_code(export: RosterExport, board: Board) -> dict[str, str]:
    known = {school.code: school.sector for school in School.objects.filter(board=board)}
    for record_ in export.schools:
        code = record_.brin + record_.vestiging
        known.setdefault(code, str(record_.sector or ""))
    return known


def _exchange(
    pending: list[tuple[tuple[str, str], str]],
    board: Board,
    client: nv.NummervoorzieningClient,
    chain: str,
    sectors: Mapping[str, str],
    school_sectors: Mapping[str, str],
    done: dict[tuple[str, str], Pseudonyms],
) -> int:
    """HPgns → stampseudonyms → ECK iDs (per sector), kept in PendingPseudonym. HPgns dropped."""
    stamps = client.run_batch("stampseudonym", [hpgn for _, hpgn in pending])
    by_sector: dict[str, dict[int, str]] = {}
    for index, ((code, _key), _hpgn) in enumerate(pending):
        if index in stamps.success:
            sector = school_sectors[code]
            by_sector.setdefault(sector, {})[index] = stamps.success[index]
    eck_ids: dict[int, str] = {}
    for sector, values in by_sector.items():
        result = client.run_batch("eckid", values, chain_id=chain, sector_id=sectors[sector])
        eck_ids.update(result.success)
    rows = []
    for index, (key, _hpgn) in enumerate(pending):
        if index in eck_ids:
            pseudonyms = Pseudonyms(stamps.success[index], eck_ids[index])
            done[key] = pseudonyms
            rows.append(
                PendingPseudonym(
                    board=board,
                    school_code=key[0],
                    las_key=key[1],
                    stampseudonym=pseudonyms.stampseudonym,
                    eck_id=pseudonyms.eck_id,
                )
            )
    PendingPseudonym.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# --- linking enrolments across sectors ---------------------------------------------------------


class LinkRefused(Exception):
    """A link the school asked for cannot be made; the message says why (no personal data), in
    the active language (a lazy translation)."""


def link_sector_change(new: Student, previous: Student, *, user: AuthUser | None) -> None:
    """Link a pupil's enrolment to their earlier one in another sector: an explicit, audited act."""
    if new.school.board_id != previous.school.board_id:
        raise LinkRefused(_("beide inschrijvingen moeten bij hetzelfde bestuur horen"))
    if new.school.sector == previous.school.sector:
        raise LinkRefused(
            _(
                "beide inschrijvingen zijn in dezelfde sector: die worden bij de import gekoppeld "
                "via hun ECK iD"
            )
        )
    if new.previous_id is not None:
        raise LinkRefused(_("deze inschrijving is al gekoppeld aan een eerdere"))
    if Student.objects.filter(previous=previous).exists():
        raise LinkRefused(_("de eerdere inschrijving is al gekoppeld aan een andere"))
    new.previous = previous
    new.link_reason = LinkReason.SECTOR_CHANGE
    new.save(update_fields=["previous", "link_reason"])
    record(
        events.STUDENT_LINKED,
        actor_for(user),
        f"student:{new.pk}",
        {
            "from_student": previous.pk,
            "from_sector": previous.school.sector,
            "to_sector": new.school.sector,
        },
    )


def link_candidates(student: Student) -> QuerySet[Student]:
    """Earlier enrolments this pupil may be linked to: same board, another sector, left, unlinked,
    and (when known) the same birth date."""
    candidates = (
        Student.objects.filter(school__board_id=student.school.board_id, status="left")
        .exclude(school__sector=student.school.sector)
        .filter(next__isnull=True)
        .select_related("school")
        .order_by("achternaam", "roepnaam")
    )
    if student.birth_date is not None:
        candidates = candidates.filter(birth_date=student.birth_date)
    return candidates


# --- need-to-know: decided in .access, the one place (re-exported here, the app's front door) ----


def may_import_export(user: User, board: Board, export: RosterExport) -> list[Problem]:
    """Problems when ``user`` may not import every school in ``export`` for ``board``."""
    access = access_for(user)
    if board.pk in access.import_boards:
        return []
    allowed = {
        school.code for school in School.objects.filter(pk__in=access.import_schools, board=board)
    }
    return [
        Problem(
            schools_file(export),
            school.line,
            "school",
            gettext_noop("u mag niet importeren voor school %(school)s"),
            {"school": school.brin + school.vestiging},
        )
        for school in export.schools
        if school.brin + school.vestiging not in allowed
    ]
