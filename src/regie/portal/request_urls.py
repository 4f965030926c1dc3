"""Rights requests in the portal: a child's requests (and filing one), one request, an access
request's export."""

from django.urls import path

from .views import requests

urlpatterns = [
    path(
        "kinderen/<int:student_id>/verzoeken/",
        requests.request_list,
        name="requests",
    ),
    path("verzoeken/<uuid:request_id>/", requests.request_detail, name="request"),
    path("verzoeken/<uuid:request_id>/inzage.json", requests.request_export, name="request-export"),
]
