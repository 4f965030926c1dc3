"""The sector dashboard (``/sector/``): the reports' intake API and the supervisors' pages."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "sector"

urlpatterns: list[URLPattern] = []
