"""System checks: every field of a regie model carries a data category (or says it has none), and
a server outside the demo keeps its visitors on HTTPS.

The convention is described in :mod:`regie.core.datacategories`. The check runs with every
``regie check``, ``regie serve`` and test run, over the models of the apps whose name starts with
``regie.``:

- ``regie.E001``: a field of a personal-data model has no entry in ``DATA_CATEGORIES``;
- ``regie.E002``: an entry of ``DATA_CATEGORIES`` names no field of the model;
- ``regie.E003``: ``PERSONAL_DATA = True`` without ``DATA_CATEGORIES``;
- ``regie.E004``: the model declares neither ``PERSONAL_DATA = True`` nor ``PERSONAL_DATA = False``;
- ``regie.E005``: an entry is neither a category of the taxonomy nor ``NOT_PERSONAL``.

The TLS settings (``REGIE_SECURE_COOKIES``, ``REGIE_HSTS_SECONDS``, ``REGIE_PROXY_SSL_HEADER``) are
checked with every ``regie check`` and ``regie serve``, except for the embedded demo on loopback
(``REGIE_ROLE=all``, loopback host names only), which is served over plain http:

- ``regie.W001``: cookies are sent without the Secure flag;
- ``regie.W002``: Strict-Transport-Security is off;
- ``regie.W003``: no header of the TLS proxy is believed, so regie sees every request as plain http.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from regie.core.datacategories import NOT_PERSONAL, TAXONOMY, DataCategory, NotPersonal
from regie.lib.env import loopback_demo

REGIE_APP_PREFIX = "regie."


def field_names(model: type[models.Model]) -> list[str]:
    """The names of the model's concrete and many-to-many fields, in declaration order."""
    options = model._meta
    return [field.name for field in (*options.concrete_fields, *options.many_to_many)]


def _is_category(value: object) -> bool:
    if isinstance(value, NotPersonal):
        return True
    return isinstance(value, DataCategory) and TAXONOMY.get(value.key) == value


def check_models(model_list: Iterable[type[models.Model]]) -> list[checks.CheckMessage]:
    """Check the data-category annotations of these models (whatever app they belong to)."""
    errors: list[checks.CheckMessage] = []
    for model in model_list:
        errors.extend(_check_model(model))
    return errors


def _check_model(model: type[models.Model]) -> list[checks.CheckMessage]:
    label = model._meta.label
    personal = getattr(model, "PERSONAL_DATA", None)
    if personal is not True and personal is not False:
        return [
            checks.Error(
                f"{label} declares neither PERSONAL_DATA = True nor PERSONAL_DATA = False.",
                hint="Say whether the model holds personal data (see regie.core.datacategories).",
                obj=model,
                id="regie.E004",
            )
        ]
    categories = getattr(model, "DATA_CATEGORIES", None)
    if categories is None:
        if personal:
            return [
                checks.Error(
                    f"{label} holds personal data but declares no DATA_CATEGORIES.",
                    hint="Map every field name to a data category or to NOT_PERSONAL.",
                    obj=model,
                    id="regie.E003",
                )
            ]
        return []
    return _check_categories(model, categories)


def _check_categories(
    model: type[models.Model], categories: Mapping[str, Any]
) -> list[checks.CheckMessage]:
    label = model._meta.label
    names = field_names(model)
    errors: list[checks.CheckMessage] = [
        checks.Error(
            f"Field {name!r} of {label} has no data category.",
            hint="Add it to DATA_CATEGORIES with a category from the taxonomy or NOT_PERSONAL.",
            obj=model,
            id="regie.E001",
        )
        for name in names
        if name not in categories
    ]
    known = set(names)
    for name, value in categories.items():
        if name not in known:
            errors.append(
                checks.Error(
                    f"DATA_CATEGORIES of {label} names {name!r}, which is not a field.",
                    hint="Remove the entry, or rename it to the field's name.",
                    obj=model,
                    id="regie.E002",
                )
            )
        elif not _is_category(value):
            errors.append(
                checks.Error(
                    f"DATA_CATEGORIES of {label} gives field {name!r} no category of the taxonomy.",
                    hint="Use a DataCategory from regie.core.datacategories or NOT_PERSONAL.",
                    obj=model,
                    id="regie.E005",
                )
            )
    return errors


def regie_models(app_configs: Sequence[AppConfig] | None = None) -> list[type[models.Model]]:
    """The models of the regie apps among ``app_configs`` (all installed apps when ``None``)."""
    configs = apps.get_app_configs() if app_configs is None else app_configs
    return [
        model
        for config in configs
        if config.name.startswith(REGIE_APP_PREFIX)
        for model in config.get_models()
    ]


@checks.register()
def check_data_categories(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """The registered system check: :func:`check_models` over the regie apps' models."""
    return check_models(regie_models(app_configs))


def describe_model(model: type[models.Model]) -> list[tuple[str, DataCategory | NotPersonal]]:
    """Each field of the model with its category, in declaration order (for the art. 30 register).

    A model with ``PERSONAL_DATA = False`` and no ``DATA_CATEGORIES`` describes every field as
    ``NOT_PERSONAL``. Raises :class:`ImproperlyConfigured` for a model the check would refuse.
    """
    errors = check_models([model])
    if errors:
        raise ImproperlyConfigured("; ".join(f"{error.id}: {error.msg}" for error in errors))
    categories: Mapping[str, DataCategory | NotPersonal] = getattr(model, "DATA_CATEGORIES", {})
    return [(name, categories.get(name, NOT_PERSONAL)) for name in field_names(model)]


@checks.register(checks.Tags.security)
def check_transport_security(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Warnings for TLS settings that are off, outside the demo on loopback."""
    if loopback_demo(settings.ROLE, list(settings.ALLOWED_HOSTS)):
        return []
    warnings: list[checks.CheckMessage] = []
    if not (settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE):
        warnings.append(
            checks.Warning(
                "Cookies are sent without the Secure flag: a session can leak over plain http.",
                hint="Unset REGIE_SECURE_COOKIES (it is on by default) and serve over HTTPS.",
                id="regie.W001",
            )
        )
    if not settings.SECURE_HSTS_SECONDS:
        warnings.append(
            checks.Warning(
                "Strict-Transport-Security is off: browsers may still try plain http.",
                hint="Unset REGIE_HSTS_SECONDS (a year by default) or set it above 0.",
                id="regie.W002",
            )
        )
    if not settings.SECURE_PROXY_SSL_HEADER:
        warnings.append(
            checks.Warning(
                "No header of a TLS proxy is believed: behind one, every request looks like "
                "plain http (no Strict-Transport-Security, and the OAuth endpoints refuse).",
                hint="Let the proxy set X-Forwarded-Ssl: on and set "
                "REGIE_PROXY_SSL_HEADER=X-Forwarded-Ssl=on (see docs/installation.md).",
                id="regie.W003",
            )
        )
    return warnings
