"""The dashboard's numbers, computed from the accepted reports' content (never typed in).

A :class:`Figure` is a sum of report cells that remembers whether a suppressed cell (``null``: 1
to 4 persons) was among them: shown as "< 5" when every cell was suppressed, and with a note
when the sum includes suppressed cells — never as 0.

Which reports count: those whose period ends in the chosen month (or all), of boards in the
chosen sector (or all). Numbers about a moment (pupils, agreements, open requests, outstanding
receipts, open incidents) come from each hub's latest report among them; numbers about a period
(releases, orders and receipts, canary failures, incidents registered and notified) are summed
over all of them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from .models import Hub, Report


@dataclass
class Figure:
    """A sum of report cells; ``suppressed``: how many of them were null."""

    value: int = 0
    cells: int = 0
    suppressed: int = 0

    def add(self, cell: int | None) -> Figure:
        self.cells += 1
        if cell is None:
            self.suppressed += 1
        else:
            self.value += cell
        return self

    def __add__(self, other: Figure) -> Figure:
        return Figure(
            self.value + other.value, self.cells + other.cells, self.suppressed + other.suppressed
        )

    @property
    def hidden(self) -> bool:
        """Every cell suppressed: fewer than 5, not shown."""
        return self.cells > 0 and self.suppressed == self.cells

    @property
    def partial(self) -> bool:
        """A sum that includes suppressed cells (each of 1 to 4)."""
        return 0 < self.suppressed < self.cells

    def __str__(self) -> str:
        if self.hidden:
            return "< 5"
        return f"{self.value}+" if self.partial else str(self.value)


def figure(*cells: int | None) -> Figure:
    total = Figure()
    for cell in cells:
        total.add(cell)
    return total


@dataclass(frozen=True)
class Selection:
    """Which reports the page is about."""

    month: str = ""  # "2026-12", or "" for every period
    sector: str = ""  # "po", "vo", or "" for every sector

    def reports(self) -> list[Report]:
        reports: QuerySet[Report] = Report.objects.select_related("hub").order_by(
            "period_end", "hub_id", "sequence"
        )
        if self.month:
            year, month = (int(part) for part in self.month.split("-"))
            reports = reports.filter(period_end__year=year, period_end__month=month)
        return list(reports)

    def boards(self, report: Report) -> Iterator[dict[str, Any]]:
        for board in report.content["boards"]:
            sectors = {sector.lower() for sector in board["board"]["sectors"]}
            if not self.sector or self.sector in sectors:
                yield board


def months() -> list[str]:
    """Every month a report's period ends in, newest first."""
    days = Report.objects.values_list("period_end", flat=True).distinct()
    return sorted({f"{day.year:04d}-{day.month:02d}" for day in days}, reverse=True)


def latest_per_hub(reports: Sequence[Report]) -> list[Report]:
    latest: dict[int, Report] = {}
    for report in reports:
        if report.hub_id not in latest or report.sequence > latest[report.hub_id].sequence:
            latest[report.hub_id] = report
    return list(latest.values())


def supplier_names(reports: Iterable[Report]) -> dict[str, dict[str, str]]:
    """KvK → {"name", "convenant"}, the newest report's word winning."""
    names: dict[str, dict[str, str]] = {}
    for report in sorted(reports, key=lambda r: r.received_at):
        for supplier in report.content["suppliers"]:
            names[supplier["kvk"]] = {"name": supplier["name"], "convenant": supplier["convenant"]}
    return names


# --- charts --------------------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    values: list[Figure]
    link: str = ""


@dataclass
class Chart:
    """A bar chart and its table: the same rows, the same numbers."""

    slug: str
    title: str
    series: list[str]
    rows: list[Row] = field(default_factory=list)
    label_heading: str = ""

    @property
    def maximum(self) -> int:
        return max((value.value for row in self.rows for value in row.values), default=0)


def _grouped(pairs: Iterable[tuple[tuple[str, ...], int | None]]) -> dict[tuple[str, ...], Figure]:
    sums: dict[tuple[str, ...], Figure] = defaultdict(Figure)
    for key, cell in pairs:
        sums[key].add(cell)
    return dict(sorted(sums.items()))


def releases(selection: Selection, reports: Sequence[Report]) -> dict[tuple[str, ...], Figure]:
    """Pupils whose data went beyond the pseudonym, per (supplier, category, attribute)."""
    return _grouped(
        ((item["supplier"], item["category"], item["attribute"]), item["pupils"])
        for report in reports
        for board in selection.boards(report)
        for item in board["releases_beyond_pseudonym"]
    )


def agreements_by(
    selection: Selection, reports: Sequence[Report], key: str
) -> dict[tuple[str, ...], Figure]:
    """Agreements (latest report per hub) per status, or per the supplier's covenant status."""
    names = supplier_names(reports)

    def group(item: Mapping[str, Any]) -> tuple[str, ...]:
        if key == "status":
            return (item["status"],)
        return (names.get(item["supplier"], {}).get("convenant", "?"),)

    return _grouped(
        (group(item), item["count"])
        for report in latest_per_hub(reports)
        for board in selection.boards(report)
        for item in board["agreements"]
    )


@dataclass
class BoardLine:
    hub: Hub
    name: str
    number: str
    sectors: str
    active: Figure
    with_pseudonym: Figure
    requests_open: Figure
    requests_overdue: Figure
    receipts_outstanding: Figure
    receipts_overdue: Figure

    @property
    def coverage(self) -> str:
        if self.active.hidden or self.with_pseudonym.hidden or not self.active.value:
            return "–"
        return f"{100 * self.with_pseudonym.value / self.active.value:.0f}%"

    @property
    def overdue(self) -> bool:
        return bool(self.requests_overdue.value or self.receipts_overdue.value)


def board_lines(selection: Selection, reports: Sequence[Report]) -> list[BoardLine]:
    lines = []
    for report in latest_per_hub(reports):
        for board in selection.boards(report):
            receipts = board["receipts"]
            lines.append(
                BoardLine(
                    hub=report.hub,
                    name=board["board"]["name"],
                    number=board["board"]["number"],
                    sectors=", ".join(s.upper() for s in board["board"]["sectors"]),
                    active=figure(board["pupils"]["active"]),
                    with_pseudonym=figure(board["pupils"]["with_pseudonym"]),
                    requests_open=figure(board["requests"]["open"]),
                    requests_overdue=figure(board["requests"]["overdue"]),
                    receipts_outstanding=figure(*(r["outstanding"] for r in receipts)),
                    receipts_overdue=figure(*(r["overdue"] for r in receipts)),
                )
            )
    return sorted(lines, key=lambda line: (line.name, line.number))


@dataclass
class PeriodLine:
    start: dt.date
    end: dt.date
    registered: Figure
    notified_in_time: Figure
    late: Figure


def incident_trend(selection: Selection, reports: Sequence[Report]) -> list[PeriodLine]:
    """Per period of the reports: incidents registered, notified in time, notified late."""
    periods: dict[tuple[dt.date, dt.date], list[Figure]] = defaultdict(
        lambda: [Figure(), Figure(), Figure()]
    )
    for report in reports:
        sums = periods[(report.period_start, report.period_end)]
        for board in selection.boards(report):
            incidents = board["incidents"]
            sums[0].add(incidents["registered_in_period"])
            sums[1].add(incidents["notified_in_time"])
            notified, in_time = incidents["notified"], incidents["notified_in_time"]
            sums[2].add(None if notified is None or in_time is None else notified - in_time)
    return [PeriodLine(start, end, *sums) for (start, end), sums in sorted(periods.items())]


# --- suppliers ---------------------------------------------------------------------------------


@dataclass
class SupplierLine:
    kvk: str
    name: str
    convenant: str
    agreements: dict[str, Figure] = field(default_factory=dict)
    orders: Figure = field(default_factory=Figure)
    on_time: Figure = field(default_factory=Figure)
    late: Figure = field(default_factory=Figure)
    outstanding: Figure = field(default_factory=Figure)
    overdue: Figure = field(default_factory=Figure)
    canary_failures: Figure = field(default_factory=Figure)
    incidents: Figure = field(default_factory=Figure)
    boards: set[str] = field(default_factory=set)

    @property
    def agreements_total(self) -> Figure:
        total = Figure()
        for value in self.agreements.values():
            total = total + value
        return total


SORTS = ("name", "agreements", "late", "outstanding", "overdue", "canaries", "incidents")


def suppliers(selection: Selection, reports: Sequence[Report]) -> dict[str, SupplierLine]:
    names = supplier_names(reports)
    lines = {
        kvk: SupplierLine(kvk, value["name"], value["convenant"]) for kvk, value in names.items()
    }

    def line(kvk: str) -> SupplierLine:
        return lines.setdefault(kvk, SupplierLine(kvk, kvk, "?"))

    for report in latest_per_hub(reports):
        for board in selection.boards(report):
            for item in board["agreements"]:
                supplier = line(item["supplier"])
                supplier.agreements.setdefault(item["status"], Figure()).add(item["count"])
                supplier.boards.add(f"{report.hub_id}:{board['board']['number']}")
            for item in board["receipts"]:
                line(item["supplier"]).outstanding.add(item["outstanding"])
                line(item["supplier"]).overdue.add(item["overdue"])
    for report in reports:
        for board in selection.boards(report):
            for item in board["receipts"]:
                supplier = line(item["supplier"])
                supplier.orders.add(item["orders_in_period"])
                supplier.on_time.add(item["on_time"])
                supplier.late.add(item["late"])
            for item in board["canaries"]:
                line(item["supplier"]).canary_failures.add(item["failures"])
            for item in board["incidents"]["by_source"]:
                if item["supplier"] is not None:
                    line(item["supplier"]).incidents.add(item["count"])
    return lines


def sorted_suppliers(lines: Mapping[str, SupplierLine], sort: str) -> list[SupplierLine]:
    keys = {
        "agreements": lambda line: line.agreements_total.value,
        "late": lambda line: line.late.value,
        "outstanding": lambda line: line.outstanding.value,
        "overdue": lambda line: line.overdue.value,
        "canaries": lambda line: line.canary_failures.value,
        "incidents": lambda line: line.incidents.value,
    }
    by_name = sorted(lines.values(), key=lambda line: (line.name.lower(), line.kvk))
    if sort in keys:
        return sorted(by_name, key=keys[sort], reverse=True)
    return by_name
