"""The login page's buttons for the schools' own identity providers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template

from ..models import IdentityProvider
from ..services import usable_providers

register = template.Library()


@dataclass(frozen=True)
class Choice:
    provider: IdentityProvider
    board: str  # the board's name, when providers of several boards are on the page


@register.simple_tag(takes_context=True)
def identity_providers(context: Any) -> list[Choice]:
    """The usable providers; ``?bestuur=BESTUURSNUMMER`` shows only that board's."""
    request = context.get("request")
    hint = request.GET.get("bestuur", "").strip() if request is not None else ""
    providers = usable_providers(hint or None)
    several = len({provider.board_id for provider in providers}) > 1
    return [Choice(provider, provider.board.name if several else "") for provider in providers]
