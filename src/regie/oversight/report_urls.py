"""The hub's signed aggregate reports, for the board's privacy officer
(``/privacy/rapportages/``)."""

from __future__ import annotations

from django.urls import path

from . import views_reports

app_name = "reports"

urlpatterns = [
    path("", views_reports.report_list, name="list"),
    path("maken/", views_reports.report_make, name="make"),
    path("<int:sequence>/", views_reports.report_detail, name="detail"),
    path("<int:sequence>/rapportage.txt", views_reports.report_note, name="note"),
]
