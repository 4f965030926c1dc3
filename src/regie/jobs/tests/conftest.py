"""Fixtures of the jobs tests: the real browser."""

from __future__ import annotations

from regie.browser import browser, page

__all__ = ["browser", "page"]
