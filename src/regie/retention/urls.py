"""Retention's pages for the board's privacy officer (``/privacy/bewaren/``)."""

from __future__ import annotations

from django.urls import path

from . import views, views_canaries

app_name = "retention"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("controlegevallen/", views_canaries.overview, name="canaries"),
    path("controlegevallen/planten/", views_canaries.plant, name="canaries-plant"),
    path("controlegevallen/verwijderen/", views_canaries.order_deleted, name="canaries-order"),
]
