"""Retention's pages for the board's privacy officer (``/privacy/bewaren/``)."""

from __future__ import annotations

from django.urls import path

from . import views, views_canaries, views_contracts, views_legacy

app_name = "retention"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("contracten/", views_contracts.contract_list, name="contracts"),
    path(
        "contracten/<int:agreement_id>/versturen/",
        views_contracts.contract_send,
        name="contract-send",
    ),
    path(
        "contracten/<int:agreement_id>/verklaring/",
        views_contracts.contract_statement,
        name="contract-statement",
    ),
    path(
        "contracten/<int:agreement_id>/niets-verstrekt/",
        views_contracts.contract_nothing_released,
        name="contract-nothing-released",
    ),
    path("oude-gegevens/", views_legacy.legacy_overview, name="legacy"),
    path("bewaarplichten/", views.holds_page, name="holds"),
    path("runs/<uuid:run_uuid>/", views.run, name="run"),
    path("controlegevallen/", views_canaries.overview, name="canaries"),
    path("controlegevallen/planten/", views_canaries.plant, name="canaries-plant"),
    path("controlegevallen/verwijderen/", views_canaries.order_deleted, name="canaries-order"),
]
