"""A refused request is logged as one line — status, method and path — never as a traceback."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the hub's own log handler (regie.lib.logging) writes, as it writes it."""
    handler = next(item for item in logging.getLogger().handlers if item.get_name() == "console")
    assert isinstance(handler, logging.StreamHandler)
    output = io.StringIO()
    previous = handler.setStream(output)
    try:
        yield output
    finally:
        handler.setStream(previous)


def test_it_logs_a_403_as_one_line_without_a_traceback(log_output: io.StringIO) -> None:
    client = Client()
    client.force_login(User.objects.create_user("niemand", password="fictief-wachtwoord-123"))
    page = reverse("agreements:licences") + "?q=Jansen"  # a login without a register role

    assert client.get(page).status_code == 403

    lines = log_output.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert "Forbidden" in lines[0]
    assert "status_code=403" in lines[0]
    assert page.split("?")[0] in lines[0]
    assert "Jansen" not in lines[0]  # a query string is masked: it may hold a name
    assert "Traceback" not in log_output.getvalue()
