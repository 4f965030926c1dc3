"""The dashboard and the supplier pages: who may read them, and that the charts draw the numbers
of their tables (suppressed counts as "< 5", never 0); silent hubs are flagged."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from regie.sector import services
from regie.sector.intake import receive
from regie.sector.models import Hub, Report

from .reports import LEESLAND, REKENWERELD, make_report, register, sign

pytestmark = pytest.mark.django_db

PASSWORD = "fictief-wachtwoord-123"
TEXT = "text/plain; charset=utf-8"


def supervisor_client() -> Client:
    supervisor = services.add_supervisor("ap-toezicht", "ap", PASSWORD)
    client = Client()
    client.force_login(supervisor.user)
    return client


def two_hubs() -> None:
    hub, signer = register("Hub Noord", "hub-noord.example/log")
    receive(TEXT, sign(make_report(hub.origin, 1), signer))
    other, other_signer = register("Hub Zuid", "hub-zuid.example/log")
    report = make_report(
        other.origin,
        1,
        **{
            "boards.0.board": {"name": "Stichting Zuid", "number": "42AB", "sectors": ["vo"]},
            "boards.0.releases_beyond_pseudonym.0.pupils": 3 * 7,
            "boards.0.requests.overdue": 0,
            "boards.0.receipts.0.overdue": 0,
            "boards.0.retention.receipts_overdue": 0,
            "period": {"start": "2026-12-07", "end": "2026-12-13"},
        },
    )
    receive(TEXT, sign(report, other_signer))


@pytest.mark.parametrize("page", ["sector:dashboard", "sector:suppliers"])
def test_anonymous_visitors_are_sent_to_the_sector_login(page: str) -> None:
    response = Client().get(reverse(page))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("sector:login") + "?next=")


@pytest.mark.parametrize("page", ["sector:dashboard", "sector:suppliers"])
def test_a_login_that_is_no_supervisor_gets_403(page: str) -> None:
    user = User.objects.create_user("docent", password=PASSWORD)
    client = Client()
    client.force_login(user)
    response = client.get(reverse(page))
    assert response.status_code == 403
    assert "alleen voor toezichthouders" in response.content.decode()


def test_a_supervisor_logs_in_on_the_sector_login_and_lands_on_the_dashboard() -> None:
    services.add_supervisor("inspectie-a", "inspectie", PASSWORD)
    client = Client()
    response = client.post(
        reverse("sector:login"), {"username": "inspectie-a", "password": PASSWORD}
    )
    assert (response.status_code, response["Location"]) == (302, reverse("sector:dashboard"))
    assert client.get(reverse("sector:dashboard")).status_code == 200


def test_a_wrong_password_is_refused_on_the_sector_login() -> None:
    services.add_supervisor("inspectie-a", "inspectie", PASSWORD)
    response = Client().post(
        reverse("sector:login"), {"username": "inspectie-a", "password": "fout-wachtwoord"}
    )
    assert response.status_code == 200
    assert "klopt niet" in response.content.decode()


class Figures(HTMLParser):
    """Per chart: the numbers its SVG draws, and the numbers its table shows."""

    def __init__(self) -> None:
        super().__init__()
        self.drawn: dict[str, list[str]] = {}
        self.shown: dict[str, list[str]] = {}
        self.chart = ""
        self.in_table = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "section" and values.get("data-chart"):
            self.chart = values["data-chart"] or ""
        if tag == "table" and values.get("data-chart"):
            self.in_table = values["data-chart"] or ""
        if tag == "text" and values.get("data-value") is not None:
            self.drawn.setdefault(self.chart, []).append(values["data-value"] or "")
        if tag == "td" and self.in_table and values.get("data-value") is not None:
            self.shown.setdefault(self.in_table, []).append(values["data-value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.in_table = ""


def charts_of(html: str) -> Figures:
    parser = Figures()
    parser.feed(html)
    return parser


def test_every_chart_draws_the_numbers_of_its_table() -> None:
    two_hubs()
    html = supervisor_client().get(reverse("sector:dashboard")).content.decode()
    figures = charts_of(html)
    assert set(figures.drawn) == {
        "releases",
        "overdue",
        "incidents",
        "coverage",
        "agreements-status",
        "agreements-convenant",
    }
    assert figures.drawn == figures.shown
    # releases (by KvK): Rekenwereld's givenName 37 + 21 pupils; Leesland's birth dates suppressed
    assert figures.shown["releases"] == ["58", "< 5"]
    # the one board with overdue work (hub Noord): 2 requests, 1 receipt
    assert figures.shown["overdue"] == ["2", "1"]
    # two periods of incidents: registered, notified in time, late
    assert figures.shown["incidents"] == ["3", "1", "1", "3", "1", "1"]
    assert figures.shown["agreements-status"] == ["4", "2"]  # active, draft
    assert figures.shown["agreements-convenant"] == ["4", "2"]  # joined, not_joined


def test_suppressed_counts_read_less_than_5_and_sums_say_they_include_them() -> None:
    hub, signer = register()
    receive(TEXT, sign(make_report(hub.origin, 1, **{"boards.0.pupils.active": None}), signer))
    other, other_signer = register("Hub Zuid", "hub-zuid.example/log")
    receive(
        TEXT,
        sign(
            make_report(
                other.origin,
                1,
                **{"boards.0.receipts.0.outstanding": None, "boards.0.receipts.0.overdue": None},
            ),
            other_signer,
        ),
    )
    client = supervisor_client()
    html = client.get(reverse("sector:dashboard")).content.decode()
    assert charts_of(html).shown["coverage"][0] == "< 5"
    suppliers = client.get(reverse("sector:suppliers")).content.decode()
    # outstanding receipts at Rekenwereld: 1 (Noord) + a suppressed cell (Zuid)
    assert "met cellen onder 5" in suppliers


def test_the_period_and_sector_filters_choose_the_reports() -> None:
    two_hubs()
    client = supervisor_client()
    vo = charts_of(client.get(reverse("sector:dashboard"), {"sector": "vo"}).content.decode())
    assert vo.shown["releases"] == ["21", "< 5"]
    november = client.get(reverse("sector:dashboard"), {"maand": "2026-11"}).content.decode()
    assert 'data-chart="releases"' in november
    assert "Geen gegevens" in november
    december = charts_of(
        client.get(reverse("sector:dashboard"), {"maand": "2026-12"}).content.decode()
    )
    assert december.shown["releases"] == ["58", "< 5"]


def test_a_hub_without_a_recent_report_is_flagged_silent(settings: object) -> None:
    noord, signer = register("Hub Noord", "hub-noord.example/log")
    receive(TEXT, sign(make_report(noord.origin, 1), signer))
    stil, _signer = register("Hub Stil", "hub-stil.example/log")
    long_ago = timezone.now() - dt.timedelta(days=services.stale_days() + 1)
    Hub.objects.filter(pk=stil.pk).update(registered_at=long_ago)
    _nieuw, _signer = register("Hub Nieuw", "hub-nieuw.example/log")
    oud, oud_signer = register("Hub Oud", "hub-oud.example/log")
    receive(TEXT, sign(make_report(oud.origin, 1), oud_signer))
    Report.objects.filter(hub=oud).update(received_at=long_ago)
    Hub.objects.filter(pk=oud.pk).update(registered_at=long_ago)
    html = supervisor_client().get(reverse("sector:dashboard")).content.decode()
    assert 'data-silent="hub-stil.example/log"' in html
    assert 'data-silent="hub-oud.example/log"' in html
    assert 'data-silent="hub-noord.example/log"' not in html
    assert 'data-silent="hub-nieuw.example/log"' not in html
    assert [hub.origin for hub in Hub.objects.all() if hub.is_silent()] == [
        "hub-oud.example/log",
        "hub-stil.example/log",
    ]


def test_the_supplier_page_shows_its_accountability_across_boards() -> None:
    two_hubs()
    client = supervisor_client()
    html = client.get(reverse("sector:supplier", args=[REKENWERELD])).content.decode()
    figures = charts_of(html)
    assert figures.drawn == figures.shown
    assert figures.shown["supplier-agreements"] == ["4"]  # active at both boards
    # on time 5+5, late 3+3, outstanding 1+1, overdue 1+0
    assert figures.shown["supplier-receipts"] == ["10", "6", "2", "1"]
    assert "Rekenwereld B.V." in html
    assert client.get(reverse("sector:supplier", args=["99999999"])).status_code == 404


def test_the_supplier_list_sorts_by_what_is_asked() -> None:
    two_hubs()
    client = supervisor_client()
    by_name = client.get(reverse("sector:suppliers")).content.decode()
    assert by_name.index("Leesland B.V.") < by_name.index("Rekenwereld B.V.")
    by_late = client.get(reverse("sector:suppliers"), {"sort": "late"}).content.decode()
    assert by_late.index("Rekenwereld B.V.") < by_late.index("Leesland B.V.")
    assert LEESLAND in by_late


def test_the_sector_login_is_throttled_like_every_login() -> None:
    services.add_supervisor("inspectie-a", "inspectie", PASSWORD)
    client = Client(REMOTE_ADDR="192.0.2.10")
    login = reverse("sector:login")
    wrong = {"username": "inspectie-a", "password": "fout-wachtwoord"}
    statuses = [client.post(login, wrong).status_code for _ in range(5)]
    assert statuses == [200] * 4 + [429]
    locked = client.post(login, wrong)
    assert f'href="{login}"' in locked.content.decode()  # back to the sector's login page
    right = client.post(login, {"username": "inspectie-a", "password": PASSWORD})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
