"""A real browser for tests: Playwright driving Debian's Chromium, never a downloaded browser.

Every user-facing flow gets a test in a real browser (docs/style.md, "Tests"). This module holds the
pytest fixtures for that and a few checks that every page should pass. Use it from an app's
``tests/conftest.py``::

    from regie.browser import browser, page  # noqa: F401  (pytest fixtures)

and mark the tests ``@pytest.mark.browser`` and ``@pytest.mark.django_db(transaction=True)`` (the
page talks to pytest-django's ``live_server`` in another thread, so the data must be committed).

The browser is ``REGIE_CHROMIUM`` (default ``/usr/bin/chromium``, Debian's package ``chromium``).
When it is missing the tests fail and say how to install it: they are never skipped.

Playwright's synchronous API runs an asyncio event loop in the test's thread, and Django refuses
ORM calls from a thread with a running loop. While a browser is open (one per test module) this
module sets ``DJANGO_ALLOW_ASYNC_UNSAFE``, and only then: Playwright's loop never runs Django code.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    ViewportSize,
    sync_playwright,
)

CHROMIUM_ENV = "REGIE_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"

# Headless, and quiet on a machine without internet: no background connections, no updates.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

VIEWPORT: ViewportSize = {"width": 1200, "height": 800}

# Form controls that need a label, and the ways a control can have one.
_UNLABELLED_CONTROLS_JS = """
() => Array.from(document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button'
)).filter((control) => {
    if (control.getAttribute('aria-label')?.trim()) return false;
    const labelledBy = control.getAttribute('aria-labelledby');
    if (labelledBy && labelledBy.split(/\\s+/).some(
        (id) => document.getElementById(id)?.textContent.trim())) return false;
    if (control.labels && Array.from(control.labels).some(
        (label) => label.textContent.trim())) return false;
    if (control.tagName === 'BUTTON' && control.textContent.trim()) return false;
    if (control.tagName === 'INPUT'
        && ['submit', 'reset', 'button'].includes(control.type) && control.value.trim()) {
        return false;
    }
    return true;
}).map((control) => control.outerHTML.slice(0, 200))
"""


def chromium_path() -> str:
    """The Chromium binary to drive, or a failed test saying how to get one."""
    executable = os.environ.get(CHROMIUM_ENV, DEFAULT_CHROMIUM)
    if not Path(executable).is_file():
        pytest.fail(
            f"Chromium not found at {executable}. Install Debian's package "
            f"(apt-get install chromium) or point {CHROMIUM_ENV} at a Chromium binary. "
            "Browser tests never download a browser and are never skipped.",
            pytrace=False,
        )
    return executable


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module."""
    executable = chromium_path()
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# Every Content-Security-Policy violation on a page, also those the browser does not log itself.
_CSP_VIOLATION_JS = """
document.addEventListener('securitypolicyviolation', (event) => {
    console.error(`${CSP_MARK} ${event.effectiveDirective} blocked ${event.blockedURI || 'inline'}`
        + ` on ${event.documentURI}`);
});
"""
CSP_MARK = "regie-csp-violation:"


class CspViolations(list[str]):
    """The Content-Security-Policy violations a browser context reported, as console texts."""

    def listen(self, context: BrowserContext) -> None:
        context.add_init_script(_CSP_VIOLATION_JS.replace("${CSP_MARK}", CSP_MARK))
        context.on("console", self._console)
        _LISTENING[context] = self

    def _console(self, message: ConsoleMessage) -> None:
        text = message.text
        if text.startswith(CSP_MARK) or "Content Security Policy" in text:
            self.append(text)


_VIOLATIONS: weakref.WeakKeyDictionary[Page, CspViolations] = weakref.WeakKeyDictionary()
_LISTENING: weakref.WeakKeyDictionary[BrowserContext, CspViolations] = weakref.WeakKeyDictionary()


def csp_violations(page: Page) -> list[str]:
    """What ``page`` (from the :func:`page` fixture) has seen violate the policy so far."""
    return list(_VIOLATIONS.get(page, ()))


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page (own cookies) in a Dutch-speaking browser, as most of regie's users have.

    Every page it shows must keep to the Content-Security-Policy: a violation the browser reports
    (an inline script or style, a script or style sheet from another origin, a form sent where
    form-action does not allow) fails the test.
    """
    context = browser.new_context(locale="nl-NL", viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    violations = CspViolations()
    violations.listen(context)
    try:
        opened = context.new_page()
        _VIOLATIONS[opened] = violations
        yield opened
    finally:
        context.close()
    if violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(violations))


def unlabelled_controls(page: Page) -> list[str]:
    """The form controls on ``page`` without an accessible name (WCAG 2.1 SC 1.3.1, 4.1.2)."""
    controls: list[str] = page.evaluate(_UNLABELLED_CONTROLS_JS)
    return controls


def document_language(page: Page) -> str:
    """The ``lang`` attribute of the page's ``<html>`` element (WCAG 2.1 SC 3.1.1)."""
    return page.locator("html").get_attribute("lang") or ""


# What axe checks: every rule of WCAG 2.0, 2.1 and 2.2 at levels A and AA (what Dutch public bodies
# must meet, EN 301 549 and the Besluit digitale toegankelijkheid overheid), plus axe's own
# best practices (landmarks, one h1, heading order, ...), which catch what a screen-reader user
# trips over first. Rules marked "experimental" are off (axe's default).
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice")

_AXE_RUN_JS = "options => axe.run(document, options)"
# The page's queued tasks (securitypolicyviolation events among them) run before this resolves.
_SETTLE_JS = "() => new Promise(resolve => setTimeout(resolve, 0))"


@dataclass(frozen=True)
class AxeViolation:
    """One axe rule a page breaks: the rule, how bad (minor ... critical), and where."""

    rule: str
    impact: str
    help: str
    url: str
    targets: tuple[str, ...]
    width: int

    def __str__(self) -> str:
        shown = ", ".join(self.targets[:5]) + (" ..." if len(self.targets) > 5 else "")
        return f"{self.url} @{self.width}px: {self.rule} ({self.impact}) {self.help} — {shown}"


def axe_violations(page: Page) -> list[AxeViolation]:
    """The axe-core violations of what ``page`` shows now, at its current viewport width.

    The rule set is :data:`AXE_TAGS`: WCAG 2.0/2.1/2.2 A and AA and axe's best practices. axe-core
    itself comes with the test dependency ``axe-playwright-python`` (axe-core is MPL-2.0) and is
    evaluated through the DevTools protocol, so the page's Content-Security-Policy stays strict.
    What axe itself does to the page while it measures (on some forms it adds style elements and
    attributes, which the policy blocks) is no violation of the page's: the reports it causes are
    taken out of the context's :class:`CspViolations` again.
    """
    listening = _LISTENING.get(page.context)
    page.evaluate(_SETTLE_JS)  # reports of the page itself arrive first
    before = len(listening) if listening is not None else 0
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    options = {"runOnly": {"type": "tag", "values": list(AXE_TAGS)}, "resultTypes": ["violations"]}
    results: dict[str, Any] = page.evaluate(_AXE_RUN_JS, options)
    if listening is not None:
        page.evaluate(_SETTLE_JS)  # and axe's own, before they are taken out
        del listening[before:]
    viewport = page.viewport_size
    width = viewport["width"] if viewport else 0
    return [
        AxeViolation(
            rule=violation["id"],
            impact=violation.get("impact") or "",
            help=violation["help"],
            url=page.url,
            targets=tuple(
                " ".join(str(part) for part in node["target"]) for node in violation["nodes"]
            ),
            width=width,
        )
        for violation in results["violations"]
    ]


def axe_report(violations: Sequence[AxeViolation]) -> str:
    """A failure message: one line per rule broken on a page (rule, impact, selectors, URL)."""
    return f"{len(violations)} axe violation(s):\n" + "\n".join(f"  {v}" for v in violations)


AXE_WIDTHS = (1280, 390)  # CSS px: a laptop, and a phone held upright


def assert_accessible(page: Page, widths: Sequence[int] = AXE_WIDTHS) -> None:
    """axe-core finds no violation on what ``page`` shows at each of ``widths`` (the same page,
    resized, so that the style sheets' media queries apply), and every form control has a label;
    the page is left at the first width."""
    found: list[AxeViolation] = []
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        found += axe_violations(page)
    page.set_viewport_size({"width": widths[0], "height": 900})
    if found:
        raise AssertionError(axe_report(found))
    unlabelled = unlabelled_controls(page)
    if unlabelled:
        raise AssertionError(f"{page.url}: form controls without a label: {unlabelled}")
