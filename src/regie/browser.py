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
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

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


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page (own cookies) in a Dutch-speaking browser, as most of regie's users have."""
    context = browser.new_context(locale="nl-NL", viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def unlabelled_controls(page: Page) -> list[str]:
    """The form controls on ``page`` without an accessible name (WCAG 2.1 SC 1.3.1, 4.1.2)."""
    controls: list[str] = page.evaluate(_UNLABELLED_CONTROLS_JS)
    return controls


def document_language(page: Page) -> str:
    """The ``lang`` attribute of the page's ``<html>`` element (WCAG 2.1 SC 3.1.1)."""
    return page.locator("html").get_attribute("lang") or ""
