"""The forms of retention's pages: a hub rule in words, placing and lifting a legal hold.

The forms only read the fields; the rules (a rule that cannot be read, a hold without a reason,
a second hold) are the services' (:func:`regie.retention.rules.set_hub_rule`,
:mod:`regie.retention.holds`), whose refusals the views put on the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from regie.roster.models import Student

from .holds import MAX_REASON


class RuleForm(forms.Form):
    """The period of one kind of the hub's data, in words (``18 maanden``)."""

    rule = forms.CharField(
        label=_("Nieuwe bewaartermijn, in woorden"),
        max_length=100,
        help_text=_("Bijvoorbeeld ‘18 maanden’ of ‘2 jaar’."),
    )


class HoldForm(forms.Form):
    """A legal hold for one pupil, chosen by name from the pupils the login may see."""

    student = forms.TypedChoiceField(label=_("Leerling"), coerce=int)
    # Not required here: the service refuses an empty reason with its own words.
    reason = forms.CharField(
        label=_("Reden"),
        required=False,
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Bijvoorbeeld een lopende procedure of een vordering van een toezichthouder."),
    )

    def __init__(self, *args: Any, pupils: Iterable[Student] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["student"]
        if isinstance(field, forms.TypedChoiceField):
            field.choices = [(pupil.pk, f"{pupil} ({pupil.school.name})") for pupil in pupils]


class LiftForm(forms.Form):
    """Lifting a hold: the reason."""

    reason = forms.CharField(
        label=_("Reden van opheffen"),
        required=False,
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 50}),
    )
