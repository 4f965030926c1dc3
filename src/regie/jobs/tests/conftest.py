"""The jobs tests' fixtures."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection


@pytest.fixture(autouse=True)
def empty_procrastinate_queue(django_db_setup: None, django_db_blocker: Any) -> None:
    """procrastinate's tables are not Django's to flush between tests (its models are not
    managed): a test on PostgreSQL starts with its queue empty, as one on SQLite does."""
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_periodic_defers")
            cursor.execute("DELETE FROM procrastinate_jobs")
            cursor.execute("DELETE FROM procrastinate_workers")
