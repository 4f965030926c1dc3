"""What the register's services share: the refusal and field updates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.db import models

User = AuthUser | AnonymousUser


class Refused(Exception):
    """A change that breaks a rule of the register. ``reason`` says which; nothing was changed."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


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
    from django.core.exceptions import ValidationError

    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise Refused(f"{field}: {' '.join(messages)}", field=field) from None
