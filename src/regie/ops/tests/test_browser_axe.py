"""In a real browser, axe-core on every page each role can reach, at 1280 and 390 CSS px: no
violations (issue 12, "Done when").

With demo-like data (the launchable hub of the gateway tests plus the demo register: an active, a
draft and a terminated agreement, an offer, DPIA screenings, consents), each role logs in once
and walks its site: from its landing page it follows every same-origin GET link, breadth first,
and runs axe on each page it reaches at both widths (the same page, resized: the style sheets'
media queries apply). The walk is bounded: one page per kind of page (Django's view name; the
first one found, so the second pupil's page looks like the first), at most ``MAX_PAGES`` pages.
It does not follow logging out, the language switch, static files, the protocol endpoints
(OpenID Connect, OneRoster, the number service) or downloads; a link that answers 403 or 404 (a
page for another role) is recorded and printed, not checked. The public pages are walked the
same way without a login, plus the 404 page.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urlsplit

import pytest
from django.contrib.auth.models import User
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

from regie.accounts.models import GuardianAccount
from regie.agreements.demo import load_demo_register
from regie.browser import AxeViolation, CspViolations, axe_report, axe_violations
from regie.gateway.models import SupplierPseudonym
from regie.gateway.tests.conftest import PASSWORD, Launchable
from regie.logins import log_in_in_browser
from regie.orders import services as orders
from regie.oversight import incidents
from regie.portal import requests
from regie.portal.models import RequestKind
from regie.retention import holds
from regie.retention.models import RetentionRun, RunState
from regie.roster import sensitive
from regie.roster.importing.records import StaffRole
from regie.roster.models import SensitiveCategory, Student, StudentStatus
from regie.roster.tests.exports import make_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser-axe"),  # the longest walk: a worker of its own
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]

WIDTHS = (1280, 390)
MAX_PAGES = 120

# Paths the walk does not follow: actions, switches, static files and protocol endpoints.
SKIPPED_PREFIXES = (
    "/uitloggen/",
    "/admin/logout/",
    "/i18n/",
    "/static/",
    "/oidc/",
    "/ims/",
    "/nummervoorziening/",
    "/healthz",
    "/log/checkpoint",  # the log's protocol endpoints (text and JSON), not pages
    "/log/keys",
    "/log/proof/",
)
DOWNLOAD = re.compile(r"\.(csv|json|pdf|txt|ya?ml|zip|xml|md)$|/register/art30\.")

# Each role's login (the usernames the data below gives them).
ROLES = {
    "leerling": "leerling-a",
    "ouder": "ouder-a",
    "leerkracht": "leerkracht-a",
    "intern-begeleider": "ib-a",
    "schoolbeheerder": "beheer-a",
    "fg": "fg-a",
    "bestuursbeheerder": "bestuur-a",
    "beheerder": "beheerder",
}


def demo_like(launchable: Launchable) -> None:
    """The launchable hub with the demo register, one login for every staff role, and an erasure
    order to the launchable supplier (never delivered: no worker runs), so that the orders pages
    are walked too."""
    school, group = launchable.school, launchable.group
    board = school.board
    load_demo_register(board)
    given = SupplierPseudonym.objects.filter(supplier=launchable.supplier)
    SupplierPseudonym.objects.bulk_create(  # whichever pupil the walk opens, it offers the order
        SupplierPseudonym(
            student=student,
            supplier=launchable.supplier,
            value=f"https://nv.example/lp/1/axe-walk-{student.pk}",
        )
        for student in Student.objects.filter(school=school).exclude(
            pk__in=given.values("student_id")
        )
    )
    orders.register_endpoint(launchable.supplier, "http://127.0.0.1:9/orders")
    orders.create_order(
        type="erasure",
        supplier=launchable.supplier,
        students=[launchable.pupil],
        legal_basis="AVG art. 17 lid 1",
        deadline=timezone.localdate() + dt.timedelta(days=30),
    )
    _, teacher = make_staff(board, school, StaffRole.TEACHER, username="leerkracht-a")
    teacher.groups.add(group)
    make_staff(board, school, StaffRole.CARE_COORDINATOR, username="ib-a")
    # A sensitive record of each pupil, so that the care coordinator walks its pages.
    for pupil in Student.objects.filter(school=school):
        sensitive.add_record(
            pupil,
            category=SensitiveCategory.PSYCHODIAGNOSTIC,
            title="Onderzoek lezen (fictief)",
            content="Fictieve conclusie.",
            day=timezone.localdate(),
            user=None,
        )
    make_staff(board, school, StaffRole.SCHOOL_ADMIN, username="beheer-a")
    make_staff(board, school, StaffRole.PRIVACY_OFFICER, username="fg-a")
    make_staff(board, None, StaffRole.BOARD_ADMIN, username="bestuur-a")
    User.objects.create_superuser("beheerder", "beheer@regie.example", PASSWORD)
    # A guardian of the pupil, with a rights request, so that the portal's pages are walked.
    guardian = launchable.pupil.guardians.exclude(email="").order_by("pk").first()
    assert guardian is not None
    parent = User.objects.create_user("ouder-a", password=PASSWORD)
    GuardianAccount.objects.create(user=parent, board=board, email=guardian.email.lower())
    requests.file(launchable.pupil, RequestKind.ACCESS, parent, "")
    # Retention: a pupil who left, under a legal hold (its lift form), another who left (the
    # hold form offers them) and a finished run, so that the retention pages are walked.
    left = list(Student.objects.filter(school=school).exclude(pk=launchable.pupil.pk)[:2])
    Student.objects.filter(pk__in=[pupil.pk for pupil in left]).update(
        status=StudentStatus.LEFT, left_on=timezone.localdate() - dt.timedelta(days=360)
    )
    holds.place(left[0], "Een lopende procedure (fictief).", user=None)
    RetentionRun.objects.create(
        board=board,
        as_of=timezone.localdate(),
        dry_run=True,
        state=RunState.DONE,
        counts={"pupils_deleted": 1, "sweep_results": 0},
    )
    # A data breach at the supplier, so that the register's pages are walked.
    incidents.register(
        board,
        description="Een back-up stond open (fictief).",
        detected_at=timezone.now(),
        window=(timezone.now() - dt.timedelta(days=1), timezone.now()),
        supplier=launchable.supplier,
    )


@dataclass
class Walk:
    """What a walk through the site saw."""

    base: str
    csp: CspViolations
    checked: list[str] = field(default_factory=list)
    csp_pages: list[str] = field(default_factory=list)  # "/path: n" where the policy was broken
    violations: list[AxeViolation] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "403 /path (linked from /path)"
    not_followed: set[str] = field(default_factory=set)
    seen_kinds: set[str] = field(default_factory=set)
    queued: set[str] = field(default_factory=set)

    def summary(self, who: str) -> str:
        lines = [
            f"axe walk as {who}: {len(self.checked)} pages x {len(WIDTHS)} widths "
            f"= {len(self.checked) * len(WIDTHS)} checks, {len(self.violations)} violations",
            *(f"  checked {path}" for path in self.checked),
            *(f"  refused {line}" for line in self.refused),
            *(f"  not followed {path}" for path in sorted(self.not_followed)),
            *(f"  broke the Content-Security-Policy {line}" for line in self.csp_pages),
        ]
        return "\n".join(lines)

    def path_of(self, url: str) -> str | None:
        """The same-origin path (and query) of a link worth following, else None."""
        url, _ = urldefrag(url)
        if not url.startswith(self.base + "/"):
            return None
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.path.startswith(SKIPPED_PREFIXES) or DOWNLOAD.search(parts.path):
            self.not_followed.add(parts.path)
            return None
        return path

    def kind_of(self, path: str) -> str:
        """A page's kind: its view name, so that one page of each kind is checked."""
        try:
            return resolve(urlsplit(path).path).view_name
        except Resolver404:
            return path

    def follow(self, page: Page, start: str) -> None:
        queue: deque[tuple[str, str]] = deque([(start, "")])
        self.queued.add(start)
        while queue and len(self.checked) < MAX_PAGES:
            path, linked_from = queue.popleft()
            kind = self.kind_of(path)
            if kind in self.seen_kinds:
                continue
            self.seen_kinds.add(kind)
            if not self.check(page, path, linked_from, expected=200):
                continue
            for link in page.eval_on_selector_all(
                "a[href]:not([download])", "links => links.map(link => link.href)"
            ):
                found = self.path_of(link)
                if found is not None and found not in self.queued:
                    self.queued.add(found)
                    queue.append((found, path))

    def check(self, page: Page, path: str, linked_from: str, expected: int) -> bool:
        """Open ``path`` and run axe on it at every width; False when it is no page to check."""
        before = len(self.csp)
        try:
            return self.open_and_check(page, path, linked_from, expected)
        finally:
            if len(self.csp) > before:
                self.csp_pages.append(f"{path}: {len(self.csp) - before}")

    def open_and_check(self, page: Page, path: str, linked_from: str, expected: int) -> bool:
        try:
            response = page.goto(self.base + path)
        except PlaywrightError as error:
            if "Download is starting" in error.message:
                self.not_followed.add(path)
                return False
            raise
        assert response is not None, path
        if response.status != expected:
            self.refused.append(f"{response.status} {path} (linked from {linked_from or '-'})")
            return False
        if not page.url.startswith(self.base + "/"):
            self.not_followed.add(path)
            return False
        if "text/html" not in (response.headers.get("content-type") or ""):
            self.not_followed.add(path)
            return False
        if page.url != self.base + path:  # redirected: check the page it ends on once
            landed = self.path_of(page.url) or path
            kind = self.kind_of(landed)
            if kind in self.seen_kinds:
                return False
            self.seen_kinds.add(kind)
        self.checked.append(path)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            self.violations.extend(axe_violations(page))
        page.set_viewport_size({"width": WIDTHS[0], "height": 800})
        return True


@pytest.fixture
def visitor(browser: Browser) -> Iterator[tuple[BrowserContext, Page, CspViolations]]:
    """One browser context for a whole walk (one login), whose CSP violations are read."""
    context = browser.new_context(locale="nl-NL", viewport={"width": WIDTHS[0], "height": 800})
    context.set_default_timeout(15_000)
    violations = CspViolations()
    violations.listen(context)
    try:
        yield context, context.new_page(), violations
    finally:
        context.close()


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_a_role_can_reach_has_no_axe_violations_at_both_widths(
    role: str,
    launchable: Launchable,
    visitor: tuple[BrowserContext, Page, CspViolations],
) -> None:
    _, page, csp = visitor
    demo_like(launchable)
    started = time.monotonic()
    log_in_in_browser(page, launchable.base, ROLES[role], PASSWORD)
    page.wait_for_url(re.compile(r"^(?!.*/inloggen/).*$"))
    walk = Walk(launchable.base, csp)
    landing = walk.path_of(page.url)
    assert landing is not None, page.url
    walk.follow(page, landing)
    print(walk.summary(role), f"\n  in {time.monotonic() - started:.1f} s")

    assert len(walk.checked) > 1, walk.summary(role)
    kinds = {walk.kind_of(path) for path in walk.checked}
    if role == "fg":  # the orders pages: the list, an order, sending an erasure order
        assert {"orders:list", "orders:detail", "orders:erasure"} <= kinds, walk.summary(role)
        assert {"requests:list", "requests:detail"} <= kinds, walk.summary(role)
        assert {"retention:overview", "retention:holds", "retention:run"} <= kinds, walk.summary(
            role
        )
        assert {
            "incidents:list",
            "incidents:new",
            "incidents:detail",
            "incidents:ap",
            "incidents:guardians",
        } <= kinds, walk.summary(role)
    if role == "ouder":  # every page of the portal about a child
        assert {
            "portal:home",
            "portal:child",
            "portal:child-print",
            "portal:consent",
            "portal:verify",
            "portal:requests",
            "portal:request",
        } <= kinds, walk.summary(role)
    assert walk.violations == [], axe_report(walk.violations)
    assert csp == [], "\n".join([*walk.csp_pages, *sorted(set(csp))])


def test_every_public_page_has_no_axe_violations_at_both_widths(
    launchable: Launchable,
    visitor: tuple[BrowserContext, Page, CspViolations],
) -> None:
    _, page, csp = visitor
    demo_like(launchable)
    started = time.monotonic()
    walk = Walk(launchable.base, csp)
    school = launchable.school
    for start in (
        "/",
        "/inloggen/",
        reverse("agreements:privacy-statement", args=[school.pk]),
    ):
        walk.follow(page, start)
    assert walk.check(page, "/bestaat-niet/", "", expected=404)
    print(walk.summary("bezoeker"), f"\n  in {time.monotonic() - started:.1f} s")

    assert walk.refused == []
    assert walk.violations == [], axe_report(walk.violations)
    assert csp == [], "\n".join([*walk.csp_pages, *sorted(set(csp))])
