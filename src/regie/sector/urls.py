"""The sector dashboard (``/sector/``): the reports' intake API and the supervisors' pages."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

app_name = "sector"

urlpatterns: list[URLPattern] = [
    path("", views.dashboard, name="dashboard"),
    path("leveranciers/", views.supplier_list, name="suppliers"),
    path("leveranciers/<str:kvk>/", views.supplier, name="supplier"),
    path("inloggen/", views.SectorLogin.as_view(), name="login"),
    path("uitloggen/", views.SectorLogout.as_view(), name="logout"),
    path("api/reports", views.intake_view, name="intake"),
]
