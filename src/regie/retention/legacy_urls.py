"""The suppliers' legacy API (motion 9): ``POST /retention/legacy`` (namespace ``legacy``)."""

from __future__ import annotations

from django.urls import path

from . import legacy_api

app_name = "legacy"

urlpatterns = [
    path("legacy", legacy_api.register, name="register"),
]
