"""The hub's aggregate reports for the board's privacy officer and board admin
(``/privacy/rapportages/``): the reports made (sequence, period, sent, the sector's answer), one
report's counts in tables with its signed note to download, and "make and send now".

Access is ``roster.access`` (:meth:`Access.edits_board_register`): anyone else gets 403. The
report is the hub's (all its boards, counts only): every register editor of the hub sees it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from regie.roster import services as roster

from . import reports, sending
from .jobs import send_report
from .models import AggregateReport, SectorAnswer

report_page = roster.access_required(roster.Access.edits_board_register)


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]


def _shown(value: Any) -> Any:
    """A count as shown: a suppressed one (null) in words."""
    return _("minder dan 5") if value is None else value


def _pairs(title: str, labels: dict[str, str], block: dict[str, Any]) -> Table:
    return Table(
        title,
        [_("Wat"), _("Aantal")],
        [[label, _shown(block.get(key))] for key, label in labels.items()],
    )


def _list(
    title: str, columns: dict[str, str], items: list[dict[str, Any]], names: dict[str, str]
) -> Table:
    rows = []
    for item in items:
        row = []
        for key in columns:
            value = item.get(key)
            if key == "supplier":
                row.append(names.get(value, value) if value else _("intern"))
            elif isinstance(value, int) or value is None:
                row.append(_shown(value))
            else:
                row.append(value)
        rows.append(row)
    return Table(title, list(columns.values()), rows)


def tables(obj: dict[str, Any]) -> list[tuple[dict[str, Any], list[Table]]]:
    """The report's counts per board as tables with Dutch labels."""
    names = {item["kvk"]: f"{item['name']} ({item['kvk']})" for item in obj.get("suppliers", [])}
    result = []
    for entry in obj.get("boards", []):
        incidents = entry["incidents"]
        result.append(
            (
                entry["board"],
                [
                    _pairs(
                        _("Leerlingen"),
                        {
                            "active": _("ingeschreven"),
                            "with_pseudonym": _("met een ECK iD (pseudoniem)"),
                        },
                        entry["pupils"],
                    ),
                    _list(
                        _("Verwerkersovereenkomsten"),
                        {"supplier": _("Leverancier"), "status": _("Status"), "count": _("Aantal")},
                        entry["agreements"],
                        names,
                    ),
                    _list(
                        _("Verstrekt naast het pseudoniem"),
                        {
                            "supplier": _("Leverancier"),
                            "attribute": _("Gegeven"),
                            "category": _("Categorie"),
                            "pupils": _("Leerlingen"),
                        },
                        entry["releases_beyond_pseudonym"],
                        names,
                    ),
                    _pairs(
                        _("Toestemmingen"),
                        {
                            "in_force": _("van kracht"),
                            "withdrawn_in_period": _("ingetrokken in de periode"),
                        },
                        entry["consents"],
                    ),
                    _pairs(
                        _("Verzoeken van ouders en leerlingen"),
                        {
                            "open": _("open"),
                            "closed_in_period": _("afgerond in de periode"),
                            "overdue": _("te laat"),
                            "median_days": _("mediaan dagen tot afronden"),
                        },
                        entry["requests"],
                    ),
                    _pairs(
                        _("Bewaartermijnen"),
                        {
                            "runs_in_period": _("runs in de periode"),
                            "pupils_deleted_in_period": _("leerlingen verwijderd in de periode"),
                            "receipts_outstanding": _("ontvangstbewijzen open"),
                            "receipts_overdue": _("ontvangstbewijzen te laat"),
                        },
                        entry["retention"],
                    ),
                    _list(
                        _("Opdrachten en ontvangstbewijzen"),
                        {
                            "supplier": _("Leverancier"),
                            "orders_in_period": _("opdrachten"),
                            "on_time": _("op tijd"),
                            "late": _("te laat beantwoord"),
                            "outstanding": _("open"),
                            "overdue": _("open en te laat"),
                        },
                        entry["receipts"],
                        names,
                    ),
                    _list(
                        _("Controlegevallen na bevestigde verwijdering"),
                        {"supplier": _("Leverancier"), "failures": _("Aantal")},
                        entry["canaries"],
                        names,
                    ),
                    _pairs(
                        _("Datalekken"),
                        {
                            "registered_in_period": _("geregistreerd in de periode"),
                            "open": _("open"),
                            "notified": _("gemeld bij de AP"),
                            "notified_in_time": _("binnen 72 uur gemeld"),
                            "not_notified": _("besloten niet te melden"),
                        },
                        incidents,
                    ),
                ],
            )
        )
    return result


@report_page
def report_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "oversight/reports.html",
        {"reports": AggregateReport.objects.order_by("-sequence")[:100]},
    )


@report_page
def report_detail(request: HttpRequest, sequence: int) -> HttpResponse:
    report = get_object_or_404(AggregateReport, sequence=sequence)
    obj = json.loads(report.note.split("\n", 2)[1])
    return render(
        request,
        "oversight/report.html",
        {"report": report, "obj": obj, "boards": tables(obj)},
    )


@report_page
def report_note(request: HttpRequest, sequence: int) -> HttpResponse:
    report = get_object_or_404(AggregateReport, sequence=sequence)
    response = HttpResponse(report.note, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rapportage-{report.sequence}.txt"'
    return response


@report_page
@require_POST
def report_make(request: HttpRequest) -> HttpResponse:
    """Make the report of the last seven days (or take the one made) and send it now."""
    now = timezone.now()
    start, end = reports.last_week(now)
    report = reports.make(start, end, now=now)
    if report.answer == SectorAnswer.ACCEPTED:
        messages.info(request, _("Deze rapportage is al aangenomen door het sectordashboard."))
    else:
        try:
            outcome = sending.send(report)
        except sending.SendFailed:
            send_report.defer(report=report.pk)
            messages.warning(
                request,
                _("Het sectordashboard was niet bereikbaar. De hub probeert het later opnieuw."),
            )
        else:
            if outcome.delivered:
                messages.success(request, _("De rapportage is verstuurd en aangenomen."))
            elif outcome.status is None:
                messages.warning(
                    request,
                    _("De rapportage is gemaakt, maar er is geen adres om haar heen te sturen."),
                )
            else:
                messages.error(
                    request,
                    _("Het sectordashboard weigerde de rapportage: %(reason)s")
                    % {"reason": outcome.reason},
                )
    return redirect("reports:detail", sequence=report.sequence)
