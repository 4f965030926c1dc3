"""What suppliers send the hub about oversight: a breach report over the order channel, signed
like a receipt (``/oversight/``)."""

from __future__ import annotations

from django.urls import path

from . import breach_reports

app_name = "oversight-api"

urlpatterns = [path("breaches", breach_reports.receive, name="breaches")]
