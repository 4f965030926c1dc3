"""Forms of the accounts' own pages (the pages render the fields themselves, with labels)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    """A code of the second step: six digits from the app, or a recovery code."""

    code = forms.CharField(label=_("Code"), max_length=64, strip=True)
