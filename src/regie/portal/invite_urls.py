"""The school's invitations to guardians, under ``/school/uitnodigingen/``."""

from django.urls import URLPattern

app_name = "invitations"

urlpatterns: list[URLPattern] = []
