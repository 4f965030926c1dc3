"""What the register's services share: the refusal, the actor of an audit event, field updates."""

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


def _actor(user: AuthUser | None) -> str:
    return "system" if user is None else f"user:{user.pk}"


def _changed(instance: models.Model, values: Mapping[str, Any]) -> list[str]:
    changed = []
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def _full_clean(instance: models.Model, exclude: Sequence[str] = ()) -> None:
    from django.core.exceptions import ValidationError

    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise Refused(f"{field}: {' '.join(messages)}", field=field) from None
