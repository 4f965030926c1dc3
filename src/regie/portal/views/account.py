"""The guardian's side of an invitation: the link, then a password, then logged in.

:func:`accept` is the link in the e-mail: it keeps the secret in the session and redirects to
:func:`accept_form`, whose URL holds none. It looks at nothing else, and answers every link the
same redirect, so that the secret never reaches a log line (Django logs the path of a 4xx
answer), the browser's history or a ``Referer``. The form checks the invitation and says plainly
what to do when it cannot be used: ask the school for a new one.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from regie.accounts import invitations

SESSION_KEY = "portal.invitation"
BACKEND = "regie.accounts.backends.AccountBackend"

# The page for a link that cannot be used: its status, by the refusal's reason.
_STATUS = {
    "unknown": 404,
    "used": 410,
    "expired": 410,
    "no_longer_on_export": 403,
    "has_account": 409,
    "not_on_export": 403,
}


class PasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("Kies een wachtwoord"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Typ het wachtwoord nog een keer"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second:
            if first != second:
                self.add_error("password2", _("De twee wachtwoorden zijn niet hetzelfde."))
            else:
                try:
                    validate_password(first, self.user)
                except ValidationError as error:
                    self.add_error("password1", error)
        return cleaned


@never_cache
@require_GET
def accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the e-mail: keep its secret in the session, and on to the form."""
    request.session[SESSION_KEY] = token[:64]  # a link's secret has 43 characters
    return redirect("portal:accept-form")


def _refused(request: HttpRequest, refusal: invitations.InvitationRefused) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    return render(
        request,
        "portal/accept_refused.html",
        {"message": refusal.message, "reason": refusal.reason},
        status=_STATUS[refusal.reason],
    )


@never_cache
@require_http_methods(["GET", "POST"])
def accept_form(request: HttpRequest) -> HttpResponse:
    """Choose a password (twice, with Django's password validators); then logged in, and on to
    the portal."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str):
        return render(request, "portal/accept_refused.html", {"reason": "no_link"}, status=400)
    try:
        invitation = invitations.open_invitation(token)
    except invitations.InvitationRefused as refusal:
        return _refused(request, refusal)
    form = PasswordForm(invitations.new_user(invitation), request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitations.accept(token, form.cleaned_data["password1"])
        except invitations.InvitationRefused as refusal:
            return _refused(request, refusal)
        except ValidationError as error:  # the validators changed meanwhile: say so on the form
            form.add_error("password1", error)
        else:
            request.session.pop(SESSION_KEY, None)
            login(request, user, backend=BACKEND)
            messages.success(
                request,
                _(
                    "Uw account is gemaakt. U logt voortaan in met uw e-mailadres en dit "
                    "wachtwoord."
                ),
            )
            return redirect("portal:home")
    context = {
        "form": form,
        "email": invitation.email,
        "help_texts": password_validators_help_texts(),
    }
    return render(request, "portal/accept_form.html", context)
