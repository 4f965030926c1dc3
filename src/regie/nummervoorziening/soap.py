"""Placeholder while the SOAP endpoint is written (replaced in this same change)."""

from django.http import HttpRequest, HttpResponse


def soap_endpoint(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=501)
