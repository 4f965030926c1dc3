"""The pages about a guardian's children (or a pupil of 16+ themselves)."""

from django.urls import path

from .views import home

urlpatterns = [
    path("", home.home, name="home"),
]
