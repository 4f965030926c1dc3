"""Fixtures of the roster's tests: the real browser (see ``regie.browser``)."""

from regie.browser import browser, page

__all__ = ["browser", "page"]
