"""Placeholder: replaced by the real pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse


def art30_export(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def privacy_statement(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def privacy_statement_print(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)
