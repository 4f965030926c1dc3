"""The privacy officer's queue of rights requests, under ``/privacy/verzoeken/``."""

from django.urls import path

from .views import office

app_name = "requests"

urlpatterns = [
    path("", office.queue, name="list"),
    path("<uuid:request_id>/", office.detail, name="detail"),
]
