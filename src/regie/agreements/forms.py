"""Forms of the register's pages: they check the shape of the input (types, required fields).

The rules of the register (signatures before activation, catalogue attributes, retention that
cannot be negative, ...) are :mod:`.services`' alone: a view calls the service with the cleaned
data and turns a :class:`~.services.Refused` into an error on the form (:func:`add_refusal`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from regie.core.models import Board, Sector

from . import catalogue, dpia, services
from .catalogue import Sensitivity, Subject
from .models import (
    AgreementModel,
    ConvenantStatus,
    DpiaOutcome,
    ProcessingAgreement,
    Product,
    ProductUsers,
    RetentionTrigger,
    RetentionUnit,
    Supplier,
    TransferMechanism,
)

SENSITIVITY_SHORT = {
    Sensitivity.LOW: _("laag"),
    Sensitivity.MEDIUM: _("gemiddeld"),
    Sensitivity.HIGH: _("hoog"),
    Sensitivity.SPECIAL: _("bijzonder"),
}


def add_refusal(form: forms.Form, error: services.Refused) -> None:
    """Show the service's reason next to the field it is about (or above the form)."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.reason)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class SupplierForm(forms.Form):
    name = forms.CharField(label=_("Naam"), max_length=200)
    kvk = forms.CharField(
        label=_("KvK-nummer"), max_length=8, help_text=_("Acht cijfers, bijvoorbeeld 99000001.")
    )
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    contact_name = forms.CharField(label=_("Contactpersoon"), max_length=200, required=False)
    contact_email = forms.EmailField(label=_("E-mailadres contactpersoon"), required=False)
    convenant_status = forms.ChoiceField(
        label=_("Privacyconvenant"), choices=ConvenantStatus.choices
    )
    certifications = forms.CharField(
        label=_("Certificeringen"),
        required=False,
        max_length=500,
        help_text=_("Gescheiden door komma's, bijvoorbeeld: ISO 27001, NEN 7510."),
    )

    def clean_certifications(self) -> list[str]:
        text: str = self.cleaned_data["certifications"]
        return [item.strip() for item in text.split(",") if item.strip()]

    @classmethod
    def initial_for(cls, supplier: Supplier) -> dict[str, Any]:
        values = {name: getattr(supplier, name) for name in services.SUPPLIER_FIELDS}
        values["certifications"] = ", ".join(supplier.certifications)
        return values


class ProductForm(forms.Form):
    name = forms.CharField(label=_("Naam"), max_length=200)
    url = forms.URLField(label=_("Adres (URL)"), required=False, assume_scheme="https")
    sector = forms.ChoiceField(label=_("Sector"), choices=Sector.choices)
    users = forms.ChoiceField(label=_("Gebruikers"), choices=ProductUsers.choices)
    description = forms.CharField(label=_("Omschrijving"), required=False, widget=forms.Textarea)

    @classmethod
    def initial_for(cls, product: Product) -> dict[str, Any]:
        return {name: getattr(product, name) for name in services.PRODUCT_FIELDS}


class AgreementForm(forms.Form):
    """Every field of :data:`services.AGREEMENT_FIELDS`; the create form adds board and supplier."""

    title = forms.CharField(label=_("Titel"), max_length=200)
    model = forms.ChoiceField(label=_("Model"), choices=AgreementModel.choices)
    version = forms.CharField(label=_("Versie"), max_length=30)
    board_signatory = forms.CharField(
        label=_("Ondertekenaar bestuur"), max_length=200, required=False
    )
    board_signatory_role = forms.CharField(
        label=_("Functie ondertekenaar bestuur"), max_length=200, required=False
    )
    board_signed_on = forms.DateField(
        label=_("Ondertekend door bestuur op"), required=False, widget=_date_input()
    )
    supplier_signatory = forms.CharField(
        label=_("Ondertekenaar leverancier"), max_length=200, required=False
    )
    supplier_signatory_role = forms.CharField(
        label=_("Functie ondertekenaar leverancier"), max_length=200, required=False
    )
    supplier_signed_on = forms.DateField(
        label=_("Ondertekend door leverancier op"), required=False, widget=_date_input()
    )
    start_date = forms.DateField(label=_("Ingangsdatum"), required=False, widget=_date_input())
    end_date = forms.DateField(label=_("Einddatum"), required=False, widget=_date_input())

    def values(self) -> dict[str, Any]:
        """The cleaned values of the agreement's own fields, as the services take them."""
        return {name: self.cleaned_data[name] for name in services.AGREEMENT_FIELDS}

    @classmethod
    def initial_for(cls, agreement: ProcessingAgreement) -> dict[str, Any]:
        return {name: getattr(agreement, name) for name in services.AGREEMENT_FIELDS}


class AgreementCreateForm(AgreementForm):
    """A new agreement: board (among the user's), supplier, title, model, version and dates."""

    field_order = ("board", "supplier", "title", "model", "version", "start_date", "end_date")

    board = forms.ModelChoiceField(label=_("Schoolbestuur"), queryset=Board.objects.none())
    supplier = forms.ModelChoiceField(label=_("Leverancier"), queryset=Supplier.objects.all())

    def __init__(self, *args: Any, boards: QuerySet[Board], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        board_field = self.fields["board"]
        if isinstance(board_field, forms.ModelChoiceField):
            board_field.queryset = boards.order_by("name")
            if boards.count() == 1:
                board_field.initial = boards.first()
        for name in (
            "board_signatory",
            "board_signatory_role",
            "board_signed_on",
            "supplier_signatory",
            "supplier_signatory_role",
            "supplier_signed_on",
        ):
            del self.fields[name]  # signed later, on the edit page

    def values(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name]
            for name in services.AGREEMENT_FIELDS
            if name in self.cleaned_data
        }


class DeviationForm(forms.Form):
    clause = forms.CharField(
        label=_("Artikel"), max_length=50, help_text=_("Bijvoorbeeld: artikel 7.2.")
    )
    text = forms.CharField(label=_("Afwijking"), widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(
        label=_("Reden van de afwijking"), widget=forms.Textarea(attrs={"rows": 3})
    )


class ScheduleForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none())
    breach_notification_hours = forms.IntegerField(
        label=_("Melding datalek binnen (uren)"),
        initial=24,
        help_text=_("Hoogstens 72 uur."),
    )
    destruction_days = forms.IntegerField(
        label=_("Vernietiging na einde overeenkomst (dagen)"), initial=90
    )

    def __init__(self, *args: Any, agreement: ProcessingAgreement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        product_field = self.fields["product"]
        if isinstance(product_field, forms.ModelChoiceField):
            product_field.queryset = Product.objects.filter(supplier_id=agreement.supplier_id)


def attribute_choices() -> list[tuple[str, str]]:
    """Catalogue attributes labelled with their sensitivity and whether consent is needed."""
    choices = []
    for attribute in catalogue.ATTRIBUTES:
        label = (
            f"{attribute.label} ({_('gevoeligheid')}: {SENSITIVITY_SHORT[attribute.sensitivity]}"
        )
        if attribute.consent_gated:
            label += f"; {_('toestemming nodig')}"
        choices.append((attribute.key, label + ")"))
    return choices


class AttributesField(forms.MultipleChoiceField):
    """Checkboxes of the catalogue; whether a key is in the catalogue is the service's to say."""

    def validate(self, value: Any) -> None:
        pass


class ProcessingForm(forms.Form):
    purpose = forms.CharField(label=_("Doel"), max_length=300)
    subjects = forms.MultipleChoiceField(
        label=_("Betrokkenen"), choices=Subject.choices, widget=forms.CheckboxSelectMultiple
    )
    attributes = AttributesField(
        label=_("Gegevens"),
        required=False,
        choices=attribute_choices,
        widget=forms.CheckboxSelectMultiple,
    )
    sources = forms.CharField(
        label=_("Herkomst"),
        max_length=300,
        required=False,
        help_text=_("Bijvoorbeeld: de school via regie."),
    )
    retention_period = forms.IntegerField(label=_("Bewaartermijn"))
    retention_unit = forms.ChoiceField(
        label=_("Eenheid"), choices=RetentionUnit.choices, initial=RetentionUnit.MONTHS
    )
    retention_trigger = forms.ChoiceField(label=_("Vanaf"), choices=RetentionTrigger.choices)


class SubprocessorForm(forms.Form):
    name = forms.CharField(label=_("Naam"), max_length=200)
    kvk = forms.CharField(label=_("KvK-nummer"), max_length=8, required=False)
    location = forms.CharField(
        label=_("Locatie (land)"),
        max_length=2,
        help_text=_("Landcode van twee letters, bijvoorbeeld NL of IE."),
    )
    transfer_mechanism = forms.ChoiceField(
        label=_("Doorgifte buiten de EER"),
        choices=TransferMechanism.choices,
        initial=TransferMechanism.NONE,
    )


class DpiaForm(forms.Form):
    criteria = forms.MultipleChoiceField(
        label=_("Criteria die van toepassing zijn"),
        required=False,
        choices=dpia.CRITERIA,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(label=_("Toelichting"), required=False, widget=forms.Textarea)


class DpiaRecordForm(forms.Form):
    """The DPIA itself (not the screening): when, the outcome, the document and its reviewer."""

    performed_on = forms.DateField(label=_("Datum van de DPIA"), widget=_date_input())
    outcome = forms.ChoiceField(
        label=_("Uitkomst"), choices=DpiaOutcome.choices, widget=forms.RadioSelect
    )
    reference = forms.CharField(
        label=_("Kenmerk van het document"),
        max_length=100,
        help_text=_("Het nummer of de naam waaronder het DPIA-rapport is opgeslagen."),
    )
    reviewer_name = forms.CharField(label=_("Beoordeeld door (naam)"), max_length=200)
    reviewer_role = forms.CharField(label=_("Functie van de beoordelaar"), max_length=200)
    notes = forms.CharField(label=_("Toelichting"), required=False, widget=forms.Textarea)


class DpiaWaiverForm(forms.Form):
    """An explicit exception to the DPIA, with its reason."""

    reason = forms.CharField(
        label=_("Reden van de uitzondering"),
        widget=forms.Textarea,
        help_text=_(
            "Waarom mag het product zonder DPIA (of met een negatieve DPIA) worden gebruikt? "
            "Uw naam en de datum worden vastgelegd."
        ),
    )
