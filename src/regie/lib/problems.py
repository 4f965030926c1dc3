"""RFC 9457 problem details for every JSON API regie serves.

An error a service raises carries its own ``code`` (→ ``type`` = ``urn:regie:problem:{code}``),
``status``, ``title`` and ``detail``; :func:`install_problem_handlers` renders those, request
validation errors, malformed bodies and unexpected exceptions as ``application/problem+json``.
Validation errors list where and what, never the offending value (it may be an identifier).
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import BaseRenderer

from regie.lib.logging import get_logger

logger = get_logger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


class ProblemError(Exception):
    """An error with a stable code that an API renders as a problem detail."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code  # type: ignore[misc]


def problem_type(code: str) -> str:
    return f"urn:regie:problem:{code}"


def problem_response(status: int, code: str, title: str, detail: str, **extra: Any) -> HttpResponse:
    body = {"type": problem_type(code), "title": title, "status": status, "detail": detail, **extra}
    return HttpResponse(orjson.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)


def json_response(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(body), status=status, content_type="application/json")


class OrjsonParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        return orjson.loads(request.body)


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> Any:
        return orjson.dumps(data)


def _location(error: dict[str, Any]) -> str:
    """``body.<param>.items.3.hpgn`` → ``items.3.hpgn``: the place, without ninja's names."""
    location = [str(part) for part in error.get("loc", ())]
    if location[:1] == ["body"]:
        location = location[2:] or location
    elif location[:1] in (["path"], ["query"]):
        location = location[1:] or location
    return ".".join(location) or "request"


def install_problem_handlers(api: NinjaAPI) -> None:
    """Render every error of ``api`` as a problem detail."""

    def on_problem(request: HttpRequest, exc: ProblemError) -> HttpResponse:
        return problem_response(exc.status, exc.code, exc.title, exc.detail)

    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [
            {"location": _location(error), "message": error.get("msg", "")} for error in exc.errors
        ]
        detail = "; ".join(f"{item['location']}: {item['message']}" for item in errors)
        return problem_response(422, "invalid-request", "Invalid request", detail, errors=errors)

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc, AuthenticationError):
            return problem_response(401, "authentication-failed", "Not authenticated", exc.message)
        if exc.status_code == 400 and exc.message.startswith("Cannot parse request body"):
            return problem_response(
                400,
                "malformed-json",
                "Malformed request body",
                "the request body is not valid JSON",
            )
        return problem_response(exc.status_code, "http-error", exc.message, exc.message)

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.error(
            "api.unexpected_error", path=request.path, error=type(exc).__name__, exc_info=exc
        )
        return problem_response(
            500, "internal-error", "Internal error", "an unexpected error occurred; it was logged"
        )

    api.add_exception_handler(ProblemError, on_problem)  # type: ignore[arg-type]
    api.add_exception_handler(ValidationError, on_validation)  # type: ignore[arg-type]
    api.add_exception_handler(HttpError, on_http_error)  # type: ignore[arg-type]
    api.add_exception_handler(Exception, on_unexpected)  # type: ignore[arg-type]
