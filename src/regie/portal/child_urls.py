"""The pages about a guardian's children (or a pupil of 16+ themselves)."""

from django.urls import path

from .views import child, home

urlpatterns = [
    path("", home.home, name="home"),
    path("kinderen/<int:student_id>/", child.child, name="child"),
    path("kinderen/<int:student_id>/overzicht.json", child.child_download, name="child-download"),
    path("kinderen/<int:student_id>/afdrukken/", child.child_print, name="child-print"),
    path(
        "kinderen/<int:student_id>/verstrekkingen/<int:event_id>/bewijs.json",
        child.release_proof,
        name="release-proof",
    ),
    path("kinderen/<int:student_id>/toestemming/", child.consent, name="consent"),
    path("zelf-controleren/", child.verify, name="verify"),
]
