"""The 403, 404 and 500 pages: in the site's look, in Dutch and English, each with a way back.

The 500 page is rendered the way Django's handler500 does it: without a request context, so it
must not need a URL lookup, a user or the database.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import path
from django.utils import translation
from django.views import defaults


def broken_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [path("kapot/", broken_view)]


@pytest.mark.django_db
@override_settings(DEBUG=False)
@pytest.mark.parametrize(
    ("language", "title", "back"),
    [
        ("nl", "Pagina niet gevonden", "Naar uw startpagina"),
        ("en", "Page not found", "To your start page"),
    ],
)
def test_an_unknown_address_answers_the_styled_404_page(
    client: Client, language: str, title: str, back: str
) -> None:
    response = client.get("/bestaat-niet/", headers={"accept-language": language})

    assert response.status_code == 404
    body = response.content.decode()
    assert f'<html lang="{language}">' in body
    assert f"<h1>{title}</h1>" in body
    assert f'<a href="/">{back}</a>' in body
    assert "regie/regie.css" in body  # the site's look
    assert 'href="/toegankelijkheid/"' in body  # the footer


@pytest.mark.django_db
@override_settings(DEBUG=False, ROOT_URLCONF=__name__)
@pytest.mark.parametrize(
    ("language", "title"), [("nl", "Er ging iets mis"), ("en", "Something went wrong")]
)
def test_an_error_answers_the_static_500_page_with_a_way_back(language: str, title: str) -> None:
    client = Client(raise_request_exception=False)

    response = client.get("/kapot/", headers={"accept-language": language})

    assert response.status_code == 500
    body = response.content.decode()
    assert f'<html lang="{language}">' in body
    assert f"<h1>{title}</h1>" in body
    assert '<a href="/">' in body
    assert "regie/regie.css" in body
    assert "boom" not in body  # nothing of the error itself


def test_the_500_page_renders_without_a_request_context_or_the_database(
    rf: RequestFactory,
) -> None:
    # No django_db mark: a database query would fail this test. The bare request has no user,
    # no session and no context processors, as when Django answers a failure.
    with translation.override("nl"):
        response = defaults.server_error(rf.get("/"))

    assert response.status_code == 500
    assert "<h1>Er ging iets mis</h1>" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "title", "back"),
    [("nl", "Geen toegang", "Naar uw startpagina"), ("en", "No access", "To your start page")],
)
def test_a_page_outside_ones_role_answers_the_styled_403_page_with_a_way_back(
    client: Client, language: str, title: str, back: str
) -> None:
    client.force_login(User.objects.create_user("zonder-rol", password="fictief-wachtwoord-123"))

    response = client.get("/leermiddelen/", headers={"accept-language": language})

    assert response.status_code == 403
    body = response.content.decode()
    assert f'<html lang="{language}">' in body
    assert f"<h1>{title}</h1>" in body
    assert f'<a href="/na-inloggen/">{back}</a>' in body
    assert "regie/regie.css" in body
