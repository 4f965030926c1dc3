"""Where a login lands: pupils on their learning materials, staff on the school pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from .services import student_for


@login_required
def after_login(request: HttpRequest) -> HttpResponse:
    if student_for(request.user) is not None:
        return redirect("tiles")
    return redirect("roster:schools")
