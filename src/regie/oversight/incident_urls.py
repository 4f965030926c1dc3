"""The data-breach register for the board's privacy officer (``/privacy/datalekken/``)."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "incidents"

urlpatterns: list[URLPattern] = []
