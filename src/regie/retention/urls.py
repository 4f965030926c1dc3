"""Retention's pages for the board's privacy officer (``/privacy/bewaren/``)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "retention"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("bewaarplichten/", views.holds_page, name="holds"),
    path("runs/<uuid:run_uuid>/", views.run, name="run"),
]
