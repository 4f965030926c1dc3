"""One structured logger, with personal data masked by construction.

Code logs through ``get_logger(__name__)`` (structlog). Personal data that must be mentioned is
wrapped in :class:`Pii`, whose ``str``, ``repr`` and ``format`` render a mask, so that it cannot
reach a log line, an exception message or a template by accident (the pattern of *Fides*' ``Pii``).

As a second line of defence, a processor masks anything in a log event that looks like an
identifier regie handles (a 9-digit PGN, a hex digest of 32 or more characters, a pseudonym URI,
a JWT, the query string of a URL), also in messages from other libraries that pass through the
standard library's logging — such as Django's record of a request that failed.
"""

from __future__ import annotations

import logging
import logging.config
import re
from collections.abc import MutableMapping
from typing import Any, Generic, TypeVar

import structlog

T = TypeVar("T")

MASK = "«masked»"

# A PGN (BSN or onderwijsnummer: 8–9 digits), a long hex run (HPgn, pseudonym digests, keys) and
# the URI forms of stampseudonyms/ECK iDs. Masking a harmless number now and then is the price.
_IDENTIFIER_PATTERNS = re.compile(
    r"(?<![0-9A-Za-z-])\d{8,9}(?![0-9A-Za-z-])|[0-9a-fA-F]{32,}|/sp/\d+/[0-9a-f]+",
)
# The query string of a URL path (Django logs the request of a 500 with it: an ID-token hint, a
# code or a state may be in it) and JWTs (compact JWS: their claims are only base64url-encoded).
_QUERY_STRING = re.compile(r"(/[^\s?'\"<>]*)\?[^\s'\"<>]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")


class Pii(Generic[T]):
    """Personal data that must never be rendered: every text form of it is a mask."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Pii({MASK})"

    def __format__(self, format_spec: str) -> str:
        return MASK

    def __reduce__(self) -> Any:
        raise TypeError("Pii values are not pickled or serialised")


def mask_text(text: str) -> str:
    """Mask every identifier-shaped run, JWT and URL query string in ``text``."""
    text = _JWT.sub(MASK, text)
    text = _QUERY_STRING.sub(lambda match: f"{match[1]}?{MASK}", text)
    return _IDENTIFIER_PATTERNS.sub(MASK, text)


def _mask_value(value: Any) -> Any:
    if isinstance(value, Pii):
        return MASK
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: _mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(item) for item in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return mask_text(str(value))


def mask_personal_data(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: masks Pii values and identifier-shaped text in every field."""
    for key in list(event_dict):
        if key in {"exc_info", "stack_info"}:
            continue
        event_dict[key] = _mask_value(event_dict[key])
    return event_dict


def _mask_rendered(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """After exceptions are rendered to text: mask identifiers in the traceback too."""
    for key in ("exception", "stack"):
        if isinstance(event_dict.get(key), str):
            event_dict[key] = mask_text(event_dict[key])
    return event_dict


class RefusalsInOneLine(logging.Filter):
    """A refused request is an answer, not a fault: one line, without the traceback.

    Django logs a request refused with an exception (``PermissionDenied``: 403; a bad request or
    suspicious operation: 400) with that exception's traceback. Its status, method and path are
    all an operator needs; a 5xx keeps its traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


def configure_logging(*, level: str = "INFO", json: bool = False) -> None:
    """Route structlog and the standard library through the same masking pipeline."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        mask_personal_data,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "regie": {
                    "()": structlog.stdlib.ProcessorFormatter,
                    "foreign_pre_chain": shared,
                    "processors": [
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.processors.format_exc_info,
                        _mask_rendered,
                        renderer,
                    ],
                }
            },
            "filters": {"refusals": {"()": RefusalsInOneLine}},
            "handlers": {
                "console": {
                    "class": "logging.StreamHandler",
                    "formatter": "regie",
                    "filters": ["refusals"],
                },
            },
            "root": {"handlers": ["console"], "level": level},
            "loggers": {
                "django.db.backends": {"level": "INFO"},
                "hpack": {"level": "WARNING"},
                "httpcore": {"level": "WARNING"},
                "httpx": {"level": "WARNING"},
                # The job queue on PostgreSQL: its failures, not a line per task registered or
                # job run (regie.jobs logs its own events).
                "procrastinate": {"level": "WARNING"},
                "zeep": {"level": "WARNING"},
            },
        }
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
