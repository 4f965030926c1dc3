"""The published log (public) and the privacy officer's proof of one event."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "transparency"

urlpatterns = [
    path("log/", views.index, name="index"),
    path("log/checkpoint", views.checkpoint, name="checkpoint"),
    path("log/keys", views.key_list, name="keys"),
    path("log/proof/inclusion", views.inclusion, name="inclusion"),
    path("log/proof/consistency", views.consistency, name="consistency"),
    path("privacy/auditlog/<int:event_id>/bewijs.json", views.bundle, name="bundle"),
]
