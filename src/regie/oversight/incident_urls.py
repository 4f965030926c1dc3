"""The data-breach register for the board's privacy officer (``/privacy/datalekken/``)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("nieuw/", views.incident_new, name="new"),
    path("<int:incident_id>/", views.incident_detail, name="detail"),
    path("<int:incident_id>/melding-ap/", views.incident_ap, name="ap"),
    path("<int:incident_id>/ouders/", views.incident_guardians, name="guardians"),
]
