"""The real browser's fixtures for the portal's browser tests."""

from regie.browser import browser, page

__all__ = ["browser", "page"]
