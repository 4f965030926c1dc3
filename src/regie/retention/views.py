"""Retention's pages for the board's register editors (privacy officers, board admins), under
``/privacy/bewaren/``:

- the overview: the hub's own rules in words, each with a form to change its period (a rule
  that cannot be read is refused with the reason, and nothing changes); the suppliers' rules per
  supplier, in words; what is coming in the next 30 days (counts, never pupils); the last runs;
- a run: its counts, the orders it sent, what its check found, its signed report;
- legal holds: in force and lifted, placing one for a pupil who left (by name, only the pupils
  the login may see), lifting one with a reason.

Access is ``roster.access`` (:meth:`Access.edits_board_register`): anyone else gets 403, a run
of another board 404. A login with several boards chooses one (``?bestuur=``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from regie.agreements.models import Processing, Supplier
from regie.agreements.services import Refused
from regie.core.models import Board
from regie.orders.models import Order
from regie.roster import services as roster
from regie.roster.models import Student, StudentStatus

from . import clock, due, holds, rules, sweeps
from . import run as retention_run
from .forms import HoldForm, LiftForm, RuleForm
from .jobs import run_board
from .models import HubDataKind, LegalHold, RetentionRun

board_register_page = roster.access_required(roster.Access.edits_board_register)

COMING_DAYS = 30
WEEK = 7
RUNS_SHOWN = 10
LIFTED_SHOWN = 50
PUPILS_OFFERED = 2000

# What a run counts (``RetentionRun.counts`` and ``left_over``), in words; a key without words
# is shown as it is.
COUNT_LABELS: dict[str, Promise] = {
    "pupils_deleted": gettext_lazy("leerlingen verwijderd bij de hub"),
    "student_rows_deleted": gettext_lazy(
        "inschrijvingen verwijderd (een leerling kan er meer hebben)"
    ),
    "supplier_erasures": gettext_lazy("verwijderopdrachten per leerling en leverancier"),
    "consent_erasures": gettext_lazy("verwijderopdrachten na ingetrokken toestemming"),
    "orders": gettext_lazy("opdrachten aan leveranciers"),
    "blocked_hold": gettext_lazy("leerlingen met een bewaarplicht (niets verwijderd)"),
    "blocked_request": gettext_lazy("leerlingen met een open verzoek (niets verwijderd)"),
    "waiting_endpoint": gettext_lazy("wacht op het adres voor opdrachten van een leverancier"),
    **{f"sweep_{kind}": label for kind, label in HubDataKind.choices},
    "students": gettext_lazy("leerlingen"),
    "pseudonyms": gettext_lazy("pseudoniemen"),
    "results": gettext_lazy("resultaten"),
    "consents": gettext_lazy("toestemmingen"),
    "pupil_accounts": gettext_lazy("inlogaccounts van leerlingen"),
    "sensitive_records": gettext_lazy("gevoelige gegevens (zorg)"),
    "rights_requests": gettext_lazy("verzoeken"),
    "guardian_links": gettext_lazy("koppelingen met ouders"),
    "audit_details": gettext_lazy("details in het logboek"),
}


def user_of(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise Http404
    return user


def board_for(request: HttpRequest) -> Board:
    """The board the page is about: the one chosen (``bestuur``) among the login's, else the
    first by name."""
    boards = roster.register_boards(user_of(request)).order_by("name")
    chosen = request.POST.get("bestuur") or request.GET.get("bestuur", "")
    if chosen:
        board: Board = get_object_or_404(boards, pk=int(chosen) if chosen.isdigit() else 0)
        return board
    first = boards.first()
    if first is None:
        raise Http404
    return first


def here(name: str, board: Board) -> str:
    return f"{reverse(name)}?bestuur={board.pk}"


def count_lines(counts: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(str(COUNT_LABELS.get(key, key)), value) for key, value in counts.items()]


# --- what is coming -----------------------------------------------------------------------------


@dataclass
class Period:
    """What becomes due from ``start`` to ``end`` (the first period: everything due by its end)."""

    start: dt.date
    end: dt.date
    pupils: int = 0
    orders: Counter[str] = field(default_factory=Counter)  # supplier name → pupils
    consents: int = 0
    sweeps: list[tuple[str, int]] = field(default_factory=list)

    @property
    def order_lines(self) -> list[tuple[str, int]]:
        """(supplier name, pupils), by name (a template cannot read a Counter's items)."""
        return sorted(self.orders.items())

    @property
    def nothing(self) -> bool:
        return not (self.pupils or self.orders or self.consents or any(n for _, n in self.sweeps))


def periods(today: dt.date) -> list[Period]:
    """Weeks from today to today + 30 days (the last one shorter)."""
    found = []
    start = today
    last = today + dt.timedelta(days=COMING_DAYS)
    while start <= last:
        end = min(start + dt.timedelta(days=WEEK - 1), last)
        found.append(Period(start, end))
        start = end + dt.timedelta(days=1)
    return found


def period_of(found: list[Period], day: dt.date) -> Period | None:
    return next((period for period in found if day <= period.end), None)


@dataclass(frozen=True)
class Coming:
    periods: list[Period]
    blocked_hold: int
    blocked_request: int


def coming(board: Board, today: dt.date) -> Coming:
    """Counts of what becomes due in the next 30 days, per week (pupils, orders per supplier,
    withdrawn consents, the sweeps)."""
    found = periods(today)
    plan = due.plan(board, today=today, until=found[-1].end)
    names = dict(Supplier.objects.values_list("pk", "name"))
    blocked = Counter(item.blocked for item in plan.pupils if item.blocked)
    for item in plan.pupils:
        if item.blocked:
            continue
        if not item.hub_done and (period := period_of(found, item.due_on)) is not None:
            period.pupils += 1
        for supplier in item.suppliers:
            if not supplier.done and (period := period_of(found, supplier.due_on)) is not None:
                period.orders[names.get(supplier.supplier_id, "?")] += 1
    for consent in plan.consents:
        if not consent.blocked and (period := period_of(found, consent.due_on)) is not None:
            period.consents += 1
    before: dict[str, int] = dict.fromkeys(sweeps.SWEEPS, 0)
    for period in found:
        by_then = sweeps.coming(board.pk, today=today, on=period.end)
        period.sweeps = [
            (str(HubDataKind(kind).label), by_then[kind] - before[kind]) for kind in sweeps.SWEEPS
        ]
        before = by_then
    return Coming(found, blocked[due.HOLD], blocked[due.OPEN_REQUEST])


# --- the rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HubRuleRow:
    kind: str
    label: str
    words: str
    default: str
    reason: str
    form: RuleForm


@dataclass
class SupplierRules:
    supplier: Supplier
    longest: str  # the longest pupil rule in words; "" when only the end of the contract ends it
    processings: list[Processing] = field(default_factory=list)


def supplier_rules(board: Board) -> list[SupplierRules]:
    longest = rules.supplier_rules(board)
    found: dict[int, SupplierRules] = {}
    processings = (
        Processing.objects.filter(
            schedule__agreement__board=board,
            schedule__agreement__status__in=rules.RELEASED_UNDER,
        )
        .select_related("schedule__product__supplier")
        .order_by("schedule__product__supplier__name", "schedule__product__name", "pk")
    )
    for processing in processings:
        supplier = processing.schedule.product.supplier
        if supplier.pk not in found:
            rule = longest.get(supplier.pk)
            found[supplier.pk] = SupplierRules(supplier, rule.in_words() if rule else "")
        found[supplier.pk].processings.append(processing)
    return list(found.values())


@board_register_page
def overview(request: HttpRequest) -> HttpResponse:
    board = board_for(request)
    forms = {kind: RuleForm(prefix=kind) for kind in rules.KINDS}
    if request.method == "POST" and request.POST.get("action"):
        return act(request, board)
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        if kind not in rules.KINDS:
            raise Http404
        form = RuleForm(request.POST, prefix=kind)
        if form.is_valid():
            try:
                rule = rules.set_hub_rule(
                    board, kind, form.cleaned_data["rule"], user=user_of(request)
                )
            except Refused as error:
                form.add_error("rule", error.reason)
            else:
                messages.success(
                    request,
                    _("De bewaartermijn voor %(kind)s is nu %(rule)s.")
                    % {"kind": HubDataKind(kind).label, "rule": rule.in_words()},
                )
                return redirect(here("retention:overview", board))
        forms[kind] = form
    today = clock.today()
    current = rules.hub_rules(board)
    hub_rows = [
        HubRuleRow(
            kind=kind,
            label=str(known.kind.label),
            words=current[kind].in_words(),
            default=known.default.in_words(),
            reason=str(known.reason),
            form=forms[kind],
        )
        for kind, known in rules.KINDS.items()
    ]
    context = {
        "board": board,
        "boards": roster.register_boards(user_of(request)).order_by("name"),
        "today": today,
        "hub_rows": hub_rows,
        "suppliers": supplier_rules(board),
        "coming": coming(board, today),
        "coming_days": COMING_DAYS,
        "runs": [
            (run, count_lines(run.counts))
            for run in RetentionRun.objects.filter(board=board).order_by("-started_at")[:RUNS_SHOWN]
        ],
        "simulated": clock.simulated(),
    }
    return render(request, "retention/overview.html", context)


CLOCK_STEPS = (30, 365)  # the demo clock's buttons, in days


def act(request: HttpRequest, board: Board) -> HttpResponse:
    """The overview's buttons: a dry run now (counts, nothing changed), the real run as a job,
    and — with the simulated clock only — moving the demo's day ahead."""
    action = request.POST.get("action", "")
    if action == "dry-run":
        found = retention_run.execute(
            board, today=clock.today(), dry_run=True, user=user_of(request)
        )
        messages.success(request, _("De proefrun is klaar: hieronder staat wat de run zou doen."))
        return redirect(reverse("retention:run", args=[found.pk]) + f"?bestuur={board.pk}")
    if action == "run":
        run_board.defer(board=board.pk, dry_run=0)
        messages.success(
            request,
            _(
                "De run is gestart op de achtergrond. Ververs deze pagina straks: de run staat "
                "dan onderaan, met het ondertekende verslag."
            ),
        )
        return redirect(here("retention:overview", board))
    if action == "clock" and clock.simulated():
        try:
            days = int(request.POST.get("days", ""))
        except ValueError:
            raise Http404 from None
        if days not in CLOCK_STEPS:
            raise Http404
        day = clock.advance(days)
        messages.success(
            request,
            _("De demo-klok staat nu op %(day)s.") % {"day": formats.date_format(day, "j F Y")},
        )
        return redirect(here("retention:overview", board))
    raise Http404


# --- a run --------------------------------------------------------------------------------------


@board_register_page
def run(request: HttpRequest, run_uuid: object) -> HttpResponse:
    found: RetentionRun = get_object_or_404(
        RetentionRun.objects.select_related("board"),
        pk=run_uuid,
        board_id__in=roster.access_for(user_of(request)).register_boards,
    )
    ids = [str(item) for item in found.orders]
    existing = {str(pk) for pk in Order.objects.filter(pk__in=ids).values_list("pk", flat=True)}
    context = {
        "run": found,
        "counts": count_lines(found.counts),
        "left_over": count_lines(found.left_over),
        "all_gone": not any(found.left_over.values()),
        "orders": [(order_id, order_id in existing) for order_id in ids],
    }
    return render(request, "retention/run.html", context)


# --- legal holds --------------------------------------------------------------------------------


def holdable(request: HttpRequest, board: Board) -> list[Student]:
    """The pupils a hold may be placed for: who left (and so is or will be due), of ``board``,
    visible to the login, without a hold in force; by name."""
    return list(
        roster.visible_students(user_of(request))
        .filter(school__board=board, status=StudentStatus.LEFT)
        .exclude(pk__in=due.held_pupils(board))
        .select_related("school")
        .order_by("achternaam", "voornamen", "pk")[:PUPILS_OFFERED]
    )


@board_register_page
def holds_page(request: HttpRequest) -> HttpResponse:
    board = board_for(request)
    user = user_of(request)
    pupils = holdable(request, board)
    place_form = HoldForm(pupils=pupils, prefix="place")
    lift_forms: dict[int, LiftForm] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "place":
            place_form = HoldForm(request.POST, pupils=pupils, prefix="place")
            if place_form.is_valid():
                student = next(p for p in pupils if p.pk == place_form.cleaned_data["student"])
                try:
                    holds.place(student, place_form.cleaned_data["reason"], user=user)
                except Refused as error:
                    place_form.add_error("reason", error.reason)
                else:
                    messages.success(
                        request,
                        _("De bewaarplicht voor %(pupil)s is vastgelegd.") % {"pupil": student},
                    )
                    return redirect(here("retention:holds", board))
        elif action == "lift":
            chosen = request.POST.get("hold", "")
            hold = get_object_or_404(
                LegalHold,
                pk=int(chosen) if chosen.isdigit() else 0,
                board=board,
                lifted_at__isnull=True,
            )
            lift_form = LiftForm(request.POST, prefix=f"lift-{hold.pk}")
            if lift_form.is_valid():
                try:
                    holds.lift(hold, lift_form.cleaned_data["reason"], user=user)
                except Refused as error:
                    lift_form.add_error("reason", error.reason)
                else:
                    messages.success(request, _("De bewaarplicht is opgeheven."))
                    return redirect(here("retention:holds", board))
            lift_forms[hold.pk] = lift_form
        else:
            raise Http404
    visible = set(
        roster.visible_students(user).filter(school__board=board).values_list("pk", flat=True)
    )
    rows = LegalHold.objects.filter(board=board).select_related(
        "student__school", "placed_by", "lifted_by"
    )
    in_force = [
        (
            hold,
            hold.student if hold.student_id in visible else None,
            lift_forms.get(hold.pk) or LiftForm(prefix=f"lift-{hold.pk}"),
        )
        for hold in rows.filter(lifted_at__isnull=True).order_by("-placed_at")
    ]
    lifted = [
        (hold, hold.student if hold.student_id in visible else None)
        for hold in rows.filter(lifted_at__isnull=False).order_by("-lifted_at")[:LIFTED_SHOWN]
    ]
    context = {
        "board": board,
        "boards": roster.register_boards(user).order_by("name"),
        "in_force": in_force,
        "lifted": lifted,
        "place_form": place_form,
        "pupils": pupils,
    }
    return render(request, "retention/holds.html", context)
