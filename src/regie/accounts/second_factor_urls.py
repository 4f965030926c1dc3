"""The second step of logging in (under ``/inloggen/tweede-stap/``): served by the hub and the
number service alike, since both have the admin site."""

from django.urls import path

from . import second_factor_views as views

app_name = "second_factor"

urlpatterns = [
    path("", views.verify, name="verify"),
    path("instellen/", views.enrol, name="enrol"),
    path("instellen/qr.svg", views.qr, name="qr"),
    path("herstelcodes/", views.recovery_codes, name="recovery-codes"),
]
