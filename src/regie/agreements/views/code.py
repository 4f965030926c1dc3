"""Placeholder: replaced by the real pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse


def agreement_import(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def agreement_export(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)
