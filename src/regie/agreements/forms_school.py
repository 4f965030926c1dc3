"""Forms of the school's decisions pages: licences, switches, consent and the council's decision.

The forms check the shape of the input (a known choice, a date); the rules of the register are
checked by :mod:`.services`, which refuses with a reason that the view puts back on the form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from regie.core.models import Board, School, SchoolYear
from regie.roster.models import Group, Guardian, Student

from . import catalogue, services
from .models import CouncilDecision, Product


def _model_field(form: forms.Form, name: str) -> forms.ModelChoiceField[Any]:
    """A choice field of ``form`` whose records are set per request (the user's, the school's)."""
    return cast("forms.ModelChoiceField[Any]", form.fields[name])


def offer_only(form: forms.Form, name: str, offered: QuerySet[Any]) -> None:
    """Offer only ``offered`` in a model choice field, while it still accepts its whole queryset.

    The page lists what the service will accept; a crafted choice outside it still reaches the
    service, which refuses it with its reason and changes nothing (as before).
    """
    field = _model_field(form, name)
    empty = [("", field.empty_label)] if field.empty_label is not None else []
    field.widget.choices = empty + [(item.pk, field.label_from_instance(item)) for item in offered]


class SchoolChoiceForm(forms.Form):
    """Step one of a new licence: the school (its groups and pupils are the next step's choices)."""

    school = forms.ModelChoiceField(
        queryset=School.objects.none(), label=_("School"), empty_label=None
    )

    def __init__(self, *args: Any, schools: QuerySet[School], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _model_field(self, "school").queryset = schools


class StudentChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """Pupils by name and LAS key, so that two pupils with the same name can be told apart."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj} ({obj.las_key})"


class LicenceForm(forms.Form):
    """A licence of one school: a product, a school year, and a group or named pupils."""

    product = forms.ModelChoiceField(
        queryset=Product.objects.select_related("supplier"),
        label=_("Product"),
        empty_label=_("— kies een product —"),
    )
    school_year = forms.ModelChoiceField(
        queryset=SchoolYear.objects.order_by("-start"), label=_("Schooljaar"), empty_label=None
    )
    group = forms.ModelChoiceField(
        queryset=Group.objects.none(),
        label=_("Groep"),
        required=False,
        empty_label=_("— geen groep: genoemde leerlingen —"),
        help_text=_("Kies een groep, of kies hieronder de leerlingen met een licentie."),
    )
    students = StudentChoiceField(
        queryset=Student.objects.none(),
        label=_("Leerlingen"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_(
            "Alleen als u geen groep kiest. Houd Ctrl (of Cmd) ingedrukt om meer te kiezen."
        ),
    )

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.school = school
        # Only products with an active agreement of the board are offered (grant_licence
        # refuses the others, and still does for a crafted choice).
        self.offered_products = services.licensable_products(school.board_id).select_related(
            "supplier"
        )
        offer_only(self, "product", self.offered_products)
        _model_field(self, "group").queryset = Group.objects.filter(
            school=school, is_active=True
        ).order_by("year_level", "name")
        _model_field(self, "students").queryset = Student.objects.filter(
            school=school, status="active"
        ).order_by("achternaam", "roepnaam", "pk")

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if cleaned is not None and self.is_bound and not self.errors:
            has_group = cleaned.get("group") is not None
            has_students = bool(cleaned.get("students"))
            if has_group == has_students:
                raise forms.ValidationError(
                    _("Kies een groep of kies leerlingen (één van beide)."), code="holder"
                )
        return cleaned


class SwitchesForm(forms.Form):
    """The attributes the school wants switched on (checkboxes named ``on``, one per row).

    Any catalogue key is accepted here, so that an attribute outside the data schedule reaches
    :func:`.services.set_switch` and is refused there with its reason.
    """

    on = forms.MultipleChoiceField(choices=catalogue.choices, required=False, label=_("Aangezet"))


class ConsentForm(forms.Form):
    """A decision about consent for one consent-gated attribute of one product."""

    GIVEN = "given"
    WITHDRAWN = "withdrawn"

    product = forms.ModelChoiceField(
        queryset=Product.objects.none(), label=_("Product"), empty_label=_("— kies een product —")
    )
    attribute = forms.ChoiceField(label=_("Gegeven"), choices=())
    decision = forms.ChoiceField(
        label=_("Besluit"),
        choices=((GIVEN, _("toestemming gegeven")), (WITHDRAWN, _("toestemming ingetrokken"))),
        widget=forms.RadioSelect,
    )
    guardian = forms.ModelChoiceField(
        queryset=Guardian.objects.none(),
        label=_("Ouder / verzorger die besluit"),
        required=False,
        empty_label=_("— kies een ouder / verzorger —"),
    )

    def __init__(
        self,
        *args: Any,
        student: Student,
        products: QuerySet[Product],
        needed: Mapping[Product, Sequence[catalogue.Attribute]],
        **kwargs: Any,
    ) -> None:
        """``products`` are accepted (the service decides further), ``needed`` is offered: the
        pupil's licensed products whose schedule names attributes that need consent, and those
        attributes."""
        super().__init__(*args, **kwargs)
        _model_field(self, "product").queryset = products
        offer_only(self, "product", products.filter(pk__in=[p.pk for p in needed]))
        attribute = cast(forms.ChoiceField, self.fields["attribute"])
        attribute.choices = [(a.key, str(a.label)) for a in catalogue.ATTRIBUTES if a.consent_gated]
        offered = {a.key for attributes in needed.values() for a in attributes}
        attribute.widget.choices = [
            (a.key, str(a.label)) for a in catalogue.ATTRIBUTES if a.key in offered
        ]
        self.needed = needed
        _model_field(self, "guardian").queryset = student.guardians.filter(is_active=True).order_by(
            "achternaam", "voornamen", "pk"
        )
        # From 16 the pupil decides: the page shows no guardian to choose. A guardian posted
        # anyway still reaches the service, which refuses it with the reason.
        self.pupil_decides = services.decides_own_consent(student)


class CouncilDecisionForm(forms.Form):
    """The participation council's decision on a version of the privacy regulation."""

    board = forms.ModelChoiceField(
        queryset=Board.objects.none(), label=_("Schoolbestuur"), empty_label=None
    )
    document_title = forms.CharField(
        label=_("Document"), max_length=200, initial="Privacyreglement"
    )
    document_version = forms.CharField(label=_("Versie van het document"), max_length=30)
    decided_on = forms.DateField(
        label=_("Datum besluit"), widget=forms.DateInput(attrs={"type": "date"})
    )
    decision = forms.ChoiceField(
        label=_("Besluit"), choices=CouncilDecision.Decision.choices, widget=forms.RadioSelect
    )
    notes = forms.CharField(
        label=_("Toelichting"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, boards: QuerySet[Board], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _model_field(self, "board").queryset = boards


def add_refusal(form: forms.Form, error: services.Refused) -> None:
    """Put a service's refusal on the form: at its field when the form has one, else on top."""
    field = {"version": "document_version"}.get(error.field or "", error.field)
    form.add_error(field if field in form.fields else None, error.reason)
