"""Retention's pages for the board's privacy officer (``/privacy/bewaren/``)."""

from __future__ import annotations

from django.urls import path

from . import views, views_legacy

app_name = "retention"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("oude-gegevens/", views_legacy.legacy_overview, name="legacy"),
]
