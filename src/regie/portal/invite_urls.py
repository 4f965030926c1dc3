"""The school's invitations to guardians, under ``/school/uitnodigingen/``."""

from django.urls import path

from .views import invite

app_name = "invitations"

urlpatterns = [
    path("", invite.guardian_list, name="list"),
    path("versturen/", invite.send, name="send"),
]
