"""What the register's services share: the refusal and field updates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

User = AuthUser | AnonymousUser


class Refused(Exception):
    """A change that breaks a rule of the register. ``reason`` says which; nothing was changed.

    ``message`` is a translatable text (``gettext_lazy``) with a Dutch msgid and ``%(name)s``
    placeholders, filled from ``params``: :attr:`reason` renders it in the language active when it
    is read (a Dutch page shows Dutch, an English page English; ``translation.override("en")``
    for an English interface). No personal identifier goes into ``params``.
    """

    def __init__(self, message: str | Promise, field: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params
        self.field = field

    @property
    def reason(self) -> str:
        """The refusal, in the active language."""
        text = str(self.message)
        return text % self.params if self.params else text

    def __str__(self) -> str:
        return self.reason


class Joined:
    """``items`` separated by commas, rendered (translated) only when the text is."""

    def __init__(self, items: Iterable[object]) -> None:
        self.items = list(items)

    def __str__(self) -> str:
        return ", ".join(str(item) for item in self.items)


def apply_changes(instance: models.Model, values: Mapping[str, Any]) -> list[str]:
    """Set ``values`` on ``instance``; the names of the fields whose value changed."""
    changed = []
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def full_clean_or_refuse(instance: models.Model, exclude: Sequence[str] = ()) -> None:
    """Django's validation of ``instance``; the first invalid field as :class:`Refused`."""
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as error:
        field, errors = next(iter(error.error_dict.items()))
        raise Refused(
            _("%(name)s: %(problem)s"),
            field=field,
            name=_field_label(instance, field),
            problem=_Messages(ValidationError(errors)),
        ) from None


class _Messages:
    """Django's validation messages, rendered (in the active language) only when shown."""

    def __init__(self, error: ValidationError) -> None:
        self.error = error

    def __str__(self) -> str:
        return " ".join(str(message) for message in self.error)


def _field_label(instance: models.Model, field: str) -> str | Promise:
    """The field's name as a person reads it (its verbose name), or the name as it is."""
    try:
        return instance._meta.get_field(field).verbose_name  # type: ignore[union-attr]
    except FieldDoesNotExist:
        return field
