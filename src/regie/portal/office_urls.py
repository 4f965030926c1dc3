"""The privacy officer's queue of rights requests, under ``/privacy/verzoeken/``."""

from django.urls import URLPattern

app_name = "requests"

urlpatterns: list[URLPattern] = []
