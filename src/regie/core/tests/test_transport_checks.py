"""Production TLS settings: Secure cookies, HSTS and the proxy's HTTPS header are on by default
outside the demo on loopback, and the system check warns (regie.W001–W003) when they are off."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from django.conf import LazySettings
from django.core.exceptions import ImproperlyConfigured

from regie.conftest import regie_command, start_server, subprocess_env
from regie.core.checks import check_transport_security
from regie.lib.env import env_proxy_header, loopback_demo

PUBLIC = ["hub.bestuur.example"]


def ids(settings: LazySettings) -> list[str]:
    return [message.id or "" for message in check_transport_security()]


@pytest.fixture
def production(settings: LazySettings) -> LazySettings:
    """A hub with its public name and every TLS setting on."""
    settings.ROLE = "hub"
    settings.ALLOWED_HOSTS = PUBLIC
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


def test_it_is_quiet_when_every_tls_setting_is_on(production: LazySettings) -> None:
    assert ids(production) == []


def test_it_warns_for_each_tls_setting_that_is_off_outside_the_demo(
    production: LazySettings,
) -> None:
    production.SESSION_COOKIE_SECURE = False
    assert ids(production) == ["regie.W001"]
    production.SECURE_HSTS_SECONDS = 0
    production.SECURE_PROXY_SSL_HEADER = None
    assert ids(production) == ["regie.W001", "regie.W002", "regie.W003"]


def test_the_embedded_default_with_a_public_name_is_not_the_demo(
    production: LazySettings,
) -> None:
    production.ROLE = "all"
    production.CSRF_COOKIE_SECURE = False
    assert ids(production) == ["regie.W001"]


def test_it_is_quiet_for_the_demo_on_loopback(production: LazySettings) -> None:
    production.ROLE = "all"
    production.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    production.SESSION_COOKIE_SECURE = production.CSRF_COOKIE_SECURE = False
    production.SECURE_HSTS_SECONDS = 0
    production.SECURE_PROXY_SSL_HEADER = None
    assert ids(production) == []


def test_only_the_whole_process_on_loopback_names_is_the_demo() -> None:
    assert loopback_demo("all", ["127.0.0.1", "localhost"])
    assert loopback_demo("all", ["[::1]"])
    assert loopback_demo("all", ["localhost", "testserver"])  # Django's test client
    assert not loopback_demo("hub", ["127.0.0.1"])
    assert not loopback_demo("all", ["127.0.0.1", "hub.bestuur.example"])
    assert not loopback_demo("all", ["*"])
    assert not loopback_demo("all", [])


def test_the_proxy_header_is_a_header_name_with_https_or_a_value() -> None:
    def read(value: str) -> tuple[str, str] | None:
        return env_proxy_header("REGIE_TEST_HEADER", "h", environ={"REGIE_TEST_HEADER": value})

    assert read("X-Forwarded-Proto") == ("HTTP_X_FORWARDED_PROTO", "https")
    assert read("X-Forwarded-Ssl=on") == ("HTTP_X_FORWARDED_SSL", "on")
    assert read("") is None
    assert env_proxy_header("REGIE_TEST_HEADER", "h", environ={}) is None
    for bad in ("X Forwarded Proto", "X-Forwarded-Proto=ht tps", "X_Forwarded:Proto"):
        with pytest.raises(ImproperlyConfigured, match="REGIE_TEST_HEADER must be a header name"):
            read(bad)


def settings_of(keys_dir: Path, **env: str) -> dict[str, str]:
    """Some settings as a fresh process reads them from ``env``, and its system check."""
    code = (
        "from django.conf import settings as s; "
        "print('secure', s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.LANGUAGE_COOKIE_SECURE);"
        "print('hsts', s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SECURE_HSTS_PRELOAD); print('proxy', s.SECURE_PROXY_SSL_HEADER)"
    )
    shell = subprocess.run(
        regie_command("shell", "-c", code),
        env=subprocess_env(keys_dir, **env),
        capture_output=True,
        text=True,
        check=True,
    )
    check = subprocess.run(
        regie_command("check"), env=subprocess_env(keys_dir, **env), capture_output=True, text=True
    )
    values = dict(
        line.split(" ", 1)
        for line in shell.stdout.splitlines()
        if line.startswith(("secure ", "hsts ", "proxy "))
    )
    values["check"] = check.stdout + check.stderr
    return values


@pytest.mark.slow
def test_a_hub_is_secure_by_default_and_the_demo_is_plain_http(keys_dir: Path) -> None:
    hub = settings_of(keys_dir, REGIE_ROLE="hub", REGIE_ALLOWED_HOSTS="hub.bestuur.example")
    assert hub["secure"] == "True True True"
    assert hub["hsts"] == "31536000 True False"
    assert hub["proxy"] == "None"
    assert "regie.W003" in hub["check"]
    assert "regie.W001" not in hub["check"]

    behind_proxy = settings_of(
        keys_dir,
        REGIE_ROLE="hub",
        REGIE_ALLOWED_HOSTS="hub.bestuur.example",
        REGIE_PROXY_SSL_HEADER="X-Forwarded-Proto",
    )
    assert behind_proxy["proxy"] == "('HTTP_X_FORWARDED_PROTO', 'https')"
    assert "regie.W0" not in behind_proxy["check"]

    switched_off = settings_of(
        keys_dir,
        REGIE_ROLE="hub",
        REGIE_ALLOWED_HOSTS="hub.bestuur.example",
        REGIE_SECURE_COOKIES="false",
        REGIE_HSTS_SECONDS="0",
    )
    assert switched_off["secure"] == "False False False"
    assert all(f"regie.W00{n}" in switched_off["check"] for n in (1, 2, 3))

    demo = settings_of(keys_dir)  # the embedded default: REGIE_ROLE=all on loopback
    assert demo["secure"] == "False False False"
    assert "regie.W0" not in demo["check"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_regie_serve_believes_the_proxys_https_header_and_sends_hsts(
    keys_dir: Path, tmp_path: Path
) -> None:
    """Through the real server (waitress): X-Forwarded-Ssl reaches regie; waitress drops the
    X-Forwarded-* family from a peer it does not trust, so X-Forwarded-Proto would not."""
    process, url = start_server(
        keys_dir, tmp_path / "server.log", REGIE_PROXY_SSL_HEADER="X-Forwarded-Ssl=on"
    )
    try:
        behind_tls = httpx.get(f"{url}/healthz", headers={"X-Forwarded-Ssl": "on"})
        plain = httpx.get(f"{url}/healthz")
    finally:
        process.terminate()
        process.wait(30)
    assert behind_tls.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in plain.headers
    assert "frame-ancestors 'none'" in behind_tls.headers["Content-Security-Policy"]
