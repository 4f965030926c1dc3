"""Typed settings from the environment, each with a help text.

Every setting regie reads is declared through one of the helpers below, so that a bad value fails
loudly (``ImproperlyConfigured`` naming the variable) and ``docs/configuration.md`` can be generated
from the registry (``regie docs``). Secrets support ``NAME_FILE``: the value is read
from that file, the way container secrets are mounted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    kind: str
    secret: bool = False


REGISTRY: dict[str, Setting] = {}


def _register(name: str, default: object, help: str, kind: str, secret: bool = False) -> None:
    REGISTRY[name] = Setting(name, "" if default is None else str(default), help, kind, secret)


def _declare(environ: Mapping[str, str] | None, *args: Any, **kwargs: Any) -> None:
    """Only settings read from the real environment are part of the documented reference."""
    if environ is None:
        _register(*args, **kwargs)


def _raw(name: str, environ: Mapping[str, str] | None, secret: bool = False) -> str | None:
    env = os.environ if environ is None else environ
    file_name = env.get(f"{name}_FILE")
    if secret and file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ImproperlyConfigured(
                f"{name}_FILE points to {file_name!r}, which cannot be read: {error.strerror}"
            ) from None
    return env.get(name)


def _parse(name: str, raw: str, convert: Callable[[str], T], expected: str) -> T:
    try:
        return convert(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {expected}; got {raw!r}") from None


def env_str(
    name: str,
    default: str,
    help: str,
    *,
    documented: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """``documented`` replaces a machine-specific default in the generated reference."""
    _declare(environ, name, default if documented is None else documented, help, "text")
    raw = _raw(name, environ)
    return default if raw is None else raw


def env_secret(
    name: str, default: str | None, help: str, *, environ: Mapping[str, str] | None = None
) -> str | None:
    """A secret: from ``NAME`` or the file named by ``NAME_FILE``; never documented by value."""
    _declare(
        environ,
        name,
        "(unset)" if default is None else "(built-in demo value)",
        help,
        "secret",
        True,
    )
    raw = _raw(name, environ, secret=True)
    return default if raw is None else raw


def env_secret_list(name: str, help: str, *, environ: Mapping[str, str] | None = None) -> list[str]:
    """Secrets, comma- or newline-separated, from ``NAME`` or the file ``NAME_FILE``; empty when
    unset; never documented by value."""
    _declare(environ, name, "(none)", f"{help} Comma- or newline-separated.", "secret list", True)
    raw = _raw(name, environ, secret=True)
    if raw is None:
        return []
    return [item.strip() for item in raw.replace("\n", ",").split(",") if item.strip()]


def env_bool(
    name: str,
    default: bool,
    help: str,
    *,
    documented: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> bool:
    """``documented`` replaces a default that depends on other settings in the reference."""
    _declare(environ, name, default if documented is None else documented, help, "boolean")
    raw = _raw(name, environ)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false; got {raw!r}")


def env_int(
    name: str,
    default: int,
    help: str,
    *,
    minimum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    _declare(environ, name, default, help, "integer")
    raw = _raw(name, environ)
    if raw is None:
        return default
    value = _parse(name, raw, int, "a whole number")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}")
    return value


def env_choice(
    name: str,
    default: str,
    choices: tuple[str, ...],
    help: str,
    *,
    environ: Mapping[str, str] | None = None,
) -> str:
    _declare(environ, name, default, f"{help} One of: {', '.join(choices)}.", "choice")
    raw = _raw(name, environ)
    if raw is None:
        return default
    if raw not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {raw!r}")
    return raw


def env_proxy_header(
    name: str, help: str, *, environ: Mapping[str, str] | None = None
) -> tuple[str, str] | None:
    """A request header a trusted proxy sets, as Django's ``SECURE_PROXY_SSL_HEADER``: ``Name``
    (believed when its value is ``https``) or ``Name=value``; None when unset or empty."""
    _declare(environ, name, "", help, "header")
    raw = (_raw(name, environ) or "").strip()
    if not raw:
        return None
    header, _, value = (part.strip() for part in raw.partition("="))
    if not re.fullmatch(r"[A-Za-z0-9-]+", header) or not re.fullmatch(r"[!-~]*", value):
        raise ImproperlyConfigured(f"{name} must be a header name, or Name=value; got {raw!r}")
    return "HTTP_" + header.upper().replace("-", "_"), value or "https"


# Host names only this machine answers to; "testserver" is Django's test client, which tests
# add to the allowed hosts (no browser ever reaches it).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]", "testserver"})


def loopback_demo(role: str, allowed_hosts: list[str]) -> bool:
    """The embedded default as the demo runs it: hub and number service in one process
    (``REGIE_ROLE=all``), answering only to loopback host names. Such a server is reached from
    the same machine only, over plain http: the one place where cookies need not be Secure."""
    return role == "all" and bool(allowed_hosts) and set(allowed_hosts) <= LOOPBACK_HOSTS


def env_list(
    name: str, default: list[str], help: str, *, environ: Mapping[str, str] | None = None
) -> list[str]:
    _declare(environ, name, ",".join(default), f"{help} Comma-separated.", "list")
    raw = _raw(name, environ)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_path(
    name: str,
    default: Path,
    help: str,
    *,
    documented: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path:
    _declare(environ, name, default if documented is None else documented, help, "path")
    raw = _raw(name, environ)
    return default if raw is None else Path(raw)


def reference_markdown() -> str:
    """The configuration reference page, generated from the registry."""
    lines = [
        "# Configuration reference",
        "",
        "Generated by `regie docs` from the settings regie declares; do not edit.",
        "Every setting is an environment variable. Secrets may instead be given as a file:",
        "`NAME_FILE=/run/secrets/name` reads the value from that file.",
        "",
        "| variable | kind | default | what it does |",
        "|---|---|---|---|",
    ]
    for setting in sorted(REGISTRY.values(), key=lambda item: item.name):
        default = f"`{setting.default}`" if setting.default else "—"
        lines.append(f"| `{setting.name}` | {setting.kind} | {default} | {setting.help} |")
    return "\n".join(lines) + "\n"
