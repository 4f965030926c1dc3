"""Walk the hub's pages as one login would, with the Django test client: from the start pages,
follow same-origin links (GET only), a bounded number of pages and a few of each kind, and give
each page's visible text. Shared support for the tests that read every page a role can reach.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

from django.test import Client

# Not walked: the admin site (its own look and translations), logging out, downloads.
SKIPPED = re.compile(r"^/(admin|beheer)/|/logout|/uitloggen|\.(csv|json|yaml|yml|pdf)$")
_HIDDEN_TAGS = {"script", "style", "code", "pre", "template"}
_VISIBLE_ATTRIBUTES = ("aria-label", "alt", "placeholder", "title")


@dataclass
class Page:
    url: str
    status: int
    texts: list[str]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        for name in _VISIBLE_ATTRIBUTES:
            if values.get(name):
                self.texts.append(str(values[name]))

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(" ".join(data.split()))


def read(html: str) -> tuple[list[str], list[str]]:
    """The visible texts (text nodes and the attributes a person sees or hears) and the links."""
    reader = _Reader()
    reader.feed(html)
    return reader.texts, reader.links


def _kind(path: str) -> str:
    return re.sub(r"\d+|[0-9a-f]{8}-[0-9a-f-]{27}", "N", path)


@dataclass
class Crawler:
    client: Client
    max_pages: int = 120
    per_kind: int = 3
    seen: set[str] = field(default_factory=set)

    def walk(self, start: Iterable[str]) -> Iterator[Page]:
        queue = deque(start)
        kinds: dict[str, int] = {}
        while queue and len(self.seen) < self.max_pages:
            url = queue.popleft()
            split = urlsplit(url)
            if url in self.seen or SKIPPED.search(split.path):
                continue
            kind = _kind(split.path) + ("?" if split.query else "")
            if kinds.get(kind, 0) >= self.per_kind:
                continue
            kinds[kind] = kinds.get(kind, 0) + 1
            self.seen.add(url)
            response = self.client.get(url)
            content_type = response.get("Content-Type", "")
            if not content_type.startswith("text/html"):
                continue
            texts, links = read(response.content.decode())
            yield Page(url, response.status_code, texts)
            for link in links:
                target, _ = urldefrag(link)
                parts = urlsplit(target)
                if parts.scheme or parts.netloc:
                    continue
                if target.startswith("?"):
                    target = split.path + target
                if target.startswith("/") and target not in self.seen:
                    queue.append(target)
