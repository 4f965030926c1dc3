from django.urls import path

from . import views, views_sensitive

app_name = "roster"

urlpatterns = [
    path("", views.schools, name="schools"),
    path("groepen/", views.groups, name="groups"),
    path("groepen/<int:group_id>/", views.group, name="group"),
    path("leerlingen/", views.students, name="students"),
    path("leerlingen/<int:student_id>/", views.student, name="student"),
    path("leerlingen/<int:student_id>/koppelen", views.student_link, name="student-link"),
    path("leerlingen/<int:student_id>/zorg/", views_sensitive.records, name="sensitive-list"),
    path("leerlingen/<int:student_id>/zorg/nieuw", views_sensitive.add, name="sensitive-add"),
    path("zorg/<int:record_id>/", views_sensitive.record, name="sensitive-record"),
    path("zorg/aanwijzingen/", views_sensitive.designations, name="sensitive-designations"),
    path("ouders/", views.guardians, name="guardians"),
    path("import/", views.import_upload, name="import"),
    path("import/<uuid:run_id>/", views.import_run, name="import-run"),
    path("import/<uuid:run_id>/fouten.csv", views.import_problems_csv, name="import-problems"),
    path("import/<uuid:run_id>/toepassen", views.import_apply, name="import-apply"),
    path("import/<uuid:run_id>/voortgang.json", views.import_progress, name="import-progress"),
    path("import/<uuid:run_id>/weggooien", views.import_discard, name="import-discard"),
]
