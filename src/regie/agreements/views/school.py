"""Placeholder: replaced by the real pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse


def licence_list(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def licence_create(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def licence_revoke(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def switches(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def consents(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def council(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)
