"""The hub's signed aggregate reports, for the board's privacy officer
(``/privacy/rapportages/``)."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "reports"

urlpatterns: list[URLPattern] = []
