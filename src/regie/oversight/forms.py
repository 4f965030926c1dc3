"""The forms of the data-breach register: registering an incident, its ENISA factors, the
decision, the time the AP was notified, the AP's fields and the guardians' draft."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from regie.agreements import catalogue
from regie.agreements.models import Supplier
from regie.core.models import Board

from . import severity
from .incidents import category_label
from .models import Decision
from .texts import AP_FIELDS

WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def category_choices() -> list[tuple[str, str]]:
    """The categories the catalogue releases, by their Dutch/English label."""
    keys = sorted({attribute.category.key for attribute in catalogue.ATTRIBUTES})
    return [(key, category_label(key)) for key in keys]


class IncidentForm(forms.Form):
    board = forms.ModelChoiceField(label=_("Bestuur"), queryset=Board.objects.none())
    supplier = forms.ModelChoiceField(
        label=_("Leverancier"),
        queryset=Supplier.objects.order_by("name"),
        required=False,
        empty_label=_("geen: het lek was intern (bij de school of het bestuur)"),
    )
    description = forms.CharField(
        label=_("Wat is er gebeurd?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )
    categories = forms.MultipleChoiceField(
        label=_("Soorten gegevens (leeg: alle die verstrekt zijn)"),
        choices=category_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    detected_at = forms.DateTimeField(label=_("Ontdekt op"), widget=WHEN)
    window_from = forms.DateTimeField(label=_("Verstrekkingen vanaf"), widget=WHEN)
    window_to = forms.DateTimeField(label=_("Verstrekkingen tot en met"), widget=WHEN)

    def __init__(self, *args: Any, boards: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        board_field = self.fields["board"]
        if isinstance(board_field, forms.ModelChoiceField):
            board_field.queryset = boards
            first = boards.first()
            if first is not None:
                board_field.initial = first.pk

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("window_from"), data.get("window_to")
        if start and end and start > end:
            self.add_error("window_to", _("Het einde ligt voor het begin."))
        return data


def _choices(options: Any) -> list[tuple[Any, Any]]:
    return list(options.items())


class SeverityForm(forms.Form):
    dpc_base = forms.TypedChoiceField(
        label=_("Soort gegevens (DPC, basisscore)"), choices=_choices(severity.DPC_BASE), coerce=int
    )
    dpc_adjust = forms.TypedChoiceField(
        label=_("Context (aanpassing van de DPC)"),
        choices=_choices(severity.DPC_ADJUST),
        coerce=int,
    )
    ei = forms.ChoiceField(
        label=_("Herkenbaarheid van de personen (EI)"), choices=_choices(severity.EI)
    )
    confidentiality = forms.ChoiceField(
        label=_("Verlies van vertrouwelijkheid"), choices=_choices(severity.CONFIDENTIALITY)
    )
    integrity = forms.ChoiceField(
        label=_("Verlies van integriteit"), choices=_choices(severity.INTEGRITY)
    )
    availability = forms.ChoiceField(
        label=_("Verlies van beschikbaarheid"), choices=_choices(severity.AVAILABILITY)
    )
    malicious = forms.ChoiceField(label=_("Kwade opzet"), choices=_choices(severity.MALICIOUS))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Besluit"),
        choices=[
            (Decision.NOTIFY, Decision.NOTIFY.label),
            (Decision.NO_NOTIFY, Decision.NO_NOTIFY.label),
        ],
        widget=forms.RadioSelect,
    )
    reasons = forms.CharField(
        label=_("Redenen"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )
    notify_persons = forms.BooleanField(
        label=_("Ook de ouders van de betrokken leerlingen informeren"), required=False
    )


class NotifiedForm(forms.Form):
    notified_at = forms.DateTimeField(label=_("Gemeld bij de AP op"), widget=WHEN)


class ApForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, label in AP_FIELDS.items():
            self.fields[key] = forms.CharField(
                label=str(label),
                required=False,
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
            )


class GuardiansForm(forms.Form):
    subject = forms.CharField(label=_("Onderwerp"), max_length=200)
    body = forms.CharField(
        label=_("Tekst"), max_length=5000, widget=forms.Textarea(attrs={"rows": 12, "cols": 60})
    )
