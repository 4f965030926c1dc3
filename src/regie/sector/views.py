"""The sector dashboard's pages and its intake endpoint. Views stay thin: the intake's checks are
:mod:`.intake`, the numbers :mod:`.figures`, the drawings :mod:`.charts`.

Who may read: a supervisor (``Supervisor``) or the superuser; another login gets 403, a visitor
the sector's own login page (the oversight deployable serves none of the hub's pages)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from regie.lib.problems import json_response, problem_response

from . import charts, figures, intake, services
from .models import Hub, Refusal

View = Callable[..., HttpResponse]
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
SECTORS = ("po", "vo")


def supervisors_only(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("sector:login"))
        if not services.may_read(request.user):
            return render(request, "sector/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


class SectorLogin(auth_views.LoginView):
    template_name = "sector/login.html"

    def get_default_redirect_url(self) -> str:
        return reverse("sector:dashboard")


class SectorLogout(auth_views.LogoutView):
    def get_default_redirect_url(self) -> str:
        return reverse("sector:login")


def selection_from(request: HttpRequest) -> figures.Selection:
    month = request.GET.get("maand", "")
    sector = request.GET.get("sector", "")
    return figures.Selection(
        month=month if _MONTH.fullmatch(month) else "",
        sector=sector if sector in SECTORS else "",
    )


def _chart(chart: figures.Chart) -> dict[str, Any]:
    return {"chart": chart, "drawing": charts.draw(chart)}


@require_safe
@supervisors_only
def dashboard(request: HttpRequest) -> HttpResponse:
    selection = selection_from(request)
    reports = selection.reports()
    names = figures.supplier_names(reports)

    def supplier_label(kvk: str) -> str:
        return names.get(kvk, {}).get("name", kvk)

    releases = figures.Chart(
        "releases",
        _("Leerlingen met gegevens naast het pseudoniem, per leverancier en categorie"),
        [_("Leerlingen")],
        label_heading=_("Leverancier — categorie — gegeven"),
    )
    for (kvk, category, attribute), value in figures.releases(selection, reports).items():
        releases.rows.append(
            figures.Row(
                f"{supplier_label(kvk)} — {category} — {attribute}",
                [value],
                reverse("sector:supplier", args=[kvk]),
            )
        )
    boards = figures.board_lines(selection, reports)
    overdue = figures.Chart(
        "overdue",
        _("Besturen met verlopen verzoeken of ontvangstbewijzen"),
        [_("Verzoeken over de termijn"), _("Ontvangstbewijzen over de termijn")],
        label_heading=_("Bestuur"),
    )
    for line in boards:
        if line.overdue:
            overdue.rows.append(
                figures.Row(line.name, [line.requests_overdue, line.receipts_overdue])
            )
    coverage = figures.Chart(
        "coverage",
        _("Pseudoniemdekking per bestuur"),
        [_("Actieve leerlingen"), _("Met pseudoniem")],
        label_heading=_("Bestuur"),
    )
    for line in boards:
        coverage.rows.append(figures.Row(line.name, [line.active, line.with_pseudonym]))
    incidents = figures.Chart(
        "incidents",
        _("Datalekken per periode"),
        [_("Geregistreerd"), _("Op tijd gemeld"), _("Te laat gemeld")],
        label_heading=_("Periode"),
    )
    for period in figures.incident_trend(selection, reports):
        incidents.rows.append(
            figures.Row(
                f"{period.start.isoformat()} – {period.end.isoformat()}",
                [period.registered, period.notified_in_time, period.late],
            )
        )
    by_status = figures.Chart(
        "agreements-status",
        _("Verwerkersovereenkomsten per status"),
        [_("Overeenkomsten")],
        label_heading=_("Status"),
    )
    for (status,), value in figures.agreements_by(selection, reports, "status").items():
        by_status.rows.append(figures.Row(status, [value]))
    by_convenant = figures.Chart(
        "agreements-convenant",
        _("Verwerkersovereenkomsten naar convenantstatus van de leverancier"),
        [_("Overeenkomsten")],
        label_heading=_("Convenantstatus"),
    )
    for (status,), value in figures.agreements_by(selection, reports, "convenant").items():
        by_convenant.rows.append(figures.Row(status, [value]))
    now = timezone.now()
    hubs = [
        {
            "hub": hub,
            "last": hub.last_report(),
            "silent": hub.is_silent(now),
            "refusals": hub.refusals.count(),
        }
        for hub in Hub.objects.all()
    ]
    context = {
        "selection": selection,
        "months": figures.months(),
        "sectors": SECTORS,
        "report_count": len(reports),
        "charts": [
            _chart(chart)
            for chart in (releases, overdue, incidents, coverage, by_status, by_convenant)
        ],
        "boards": boards,
        "hubs": hubs,
        "refusals": Refusal.objects.select_related("hub")[:20],
        "stale_days": services.stale_days(),
    }
    return render(request, "sector/dashboard.html", context)


@require_safe
@supervisors_only
def supplier_list(request: HttpRequest) -> HttpResponse:
    selection = selection_from(request)
    sort = request.GET.get("sort", "name")
    sort = sort if sort in figures.SORTS else "name"
    lines = figures.sorted_suppliers(figures.suppliers(selection, selection.reports()), sort)
    return render(
        request,
        "sector/suppliers.html",
        {
            "lines": lines,
            "sort": sort,
            "sort_choices": [
                ("name", _("naam")),
                ("agreements", _("overeenkomsten")),
                ("late", _("te laat")),
                ("outstanding", _("nog niet ontvangen")),
                ("overdue", _("over de termijn")),
                ("canaries", _("controlegevallen")),
                ("incidents", _("datalekken")),
            ],
            "selection": selection,
            "months": figures.months(),
            "sectors": SECTORS,
        },
    )


@require_safe
@supervisors_only
def supplier(request: HttpRequest, kvk: str) -> HttpResponse:
    selection = selection_from(request)
    lines = figures.suppliers(selection, selection.reports())
    line = lines.get(kvk)
    if line is None:
        return render(request, "sector/not_found.html", status=404)
    agreements = figures.Chart(
        "supplier-agreements",
        _("Verwerkersovereenkomsten per status"),
        [_("Overeenkomsten")],
        label_heading=_("Status"),
    )
    for status, value in sorted(line.agreements.items()):
        agreements.rows.append(figures.Row(status, [value]))
    receipts = figures.Chart(
        "supplier-receipts",
        _("Ontvangstbewijzen van opdrachten"),
        [_("Aantal")],
        label_heading=_("Ontvangstbewijzen"),
    )
    for label, value in (
        (_("Op tijd"), line.on_time),
        (_("Te laat"), line.late),
        (_("Nog niet ontvangen"), line.outstanding),
        (_("Over de termijn"), line.overdue),
    ):
        receipts.rows.append(figures.Row(str(label), [value]))
    return render(
        request,
        "sector/supplier.html",
        {
            "line": line,
            "selection": selection,
            "months": figures.months(),
            "sectors": SECTORS,
            "charts": [_chart(agreements), _chart(receipts)],
        },
    )


@csrf_exempt  # the signature on the note is the authentication; no session is read
@require_POST
def intake_view(request: HttpRequest) -> HttpResponse:
    try:
        # read at most one byte past the limit: a larger body is refused, never held
        body = request.read(intake.MAX_BYTES + 1)
        report = intake.receive(request.META.get("CONTENT_TYPE", ""), body)
    except intake.Refused as refusal:
        return problem_response(
            refusal.status, f"report-{refusal.code}", _("Rapport geweigerd"), refusal.reason
        )
    return json_response({"accepted": report.sequence}, status=201)
