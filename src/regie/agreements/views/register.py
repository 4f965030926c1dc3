"""Placeholder: replaced by the real pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse


def overview(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def supplier_list(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def supplier_create(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def supplier_detail(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def supplier_edit(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def product_create(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def product_detail(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def product_edit(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def product_dpia(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def agreement_list(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def agreement_create(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def agreement_detail(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def agreement_edit(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def agreement_transition(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def deviation_add(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def schedule_add(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def processing_add(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def subprocessor_add(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def processing_remove(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def offer_list(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def offer_detail(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)


def offer_adopt(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("todo", status=501)
