"""Logging in through the school's own identity provider (under ``/inloggen/``)."""

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("school/<int:provider_id>/", views.upstream_start, name="upstream-start"),
    path("school/<int:provider_id>/terug/", views.upstream_callback, name="upstream-callback"),
]
