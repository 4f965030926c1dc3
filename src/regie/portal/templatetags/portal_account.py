"""The portal's offer of a second factor to a guardian (on ``portal:home``)."""

from __future__ import annotations

from typing import Any

from django import template

from regie.accounts import second_factor

register = template.Library()


@register.inclusion_tag("portal/_second_factor_offer.html", takes_context=True)
def second_factor_offer(context: dict[str, Any]) -> dict[str, Any]:
    """For a guardian: set up two-step verification, or that it is on. Nothing for a pupil."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not second_factor.is_guardian_login(user):
        return {"offer": False}
    return {"offer": True, "enabled": second_factor.has_second_factor(user)}
