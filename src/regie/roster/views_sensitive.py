"""The pages of a pupil's sensitive records (need-to-know within the school) and the board's
designations. Who may: :mod:`regie.roster.access` (:meth:`~.access.Access.reads_sensitive`,
:meth:`~.access.Access.designates`). A login without the capability gets 403 and a
``roster.sensitive.refused`` event; a reader asking for another school's pupil gets 404 (and the
same event). Every page that shows sensitive records records a ``roster.sensitive.read`` per
record shown."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from regie.core.models import School

from . import sensitive, services
from .access import Access, access_for
from .models import SensitiveCategory, SensitiveDesignation, SensitiveRecord, Staff, Student

Handler = Callable[..., HttpResponse]


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise Http404
    return user


def _subject_of(kwargs: dict[str, Any]) -> tuple[str, str]:
    """(audit subject, category) of the URL asked for, for a refusal (never its content)."""
    if "student_id" in kwargs:
        return f"student:{kwargs['student_id']}", sensitive.ALL_CATEGORIES
    if "record_id" in kwargs:
        found = (
            SensitiveRecord.objects.filter(pk=kwargs["record_id"])
            .values_list("student_id", "category")
            .first()
        )
        if found is not None:
            return f"student:{found[0]}", found[1]
        return "", sensitive.ALL_CATEGORIES
    return "", "designations"


def _guarded(capability: Callable[[Access], bool]) -> Callable[[Handler], Handler]:
    """Logged in (else the login page), with ``capability`` (else 403 and an event); an object
    the view does not find for this user (Http404) is refused with an event too."""

    def decorate(view: Handler) -> Handler:
        @wraps(view)
        def checked(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            user = _user(request)
            if not capability(access_for(user)):
                sensitive.refuse(user, *_subject_of(kwargs))
                raise PermissionDenied
            try:
                return view(request, **kwargs)
            except Http404:
                sensitive.refuse(user, *_subject_of(kwargs))
                raise

        return login_required(checked)

    return decorate


def _pupil(user: User, student_id: int) -> Student:
    found = services.sensitive_students(user).select_related("school").filter(pk=student_id).first()
    if found is None:
        raise Http404
    return found


@_guarded(Access.reads_sensitive)
def records(request: HttpRequest, student_id: int) -> HttpResponse:
    """A pupil's sensitive records: date, category and title (a read of each)."""
    user = _user(request)
    pupil = _pupil(user, student_id)
    shown = list(services.visible_sensitive_records(user).filter(student=pupil))
    sensitive.record_reads(user, pupil, shown)
    return render(request, "roster/sensitive_list.html", {"student": pupil, "records": shown})


@_guarded(Access.reads_sensitive)
def record(request: HttpRequest, record_id: int) -> HttpResponse:
    """One sensitive record with its content (a read)."""
    user = _user(request)
    item = (
        services.visible_sensitive_records(user)
        .select_related("student__school", "recorded_by")
        .filter(pk=record_id)
        .first()
    )
    if item is None:
        raise Http404
    sensitive.record_reads(user, item.student, [item])
    return render(
        request, "roster/sensitive_record.html", {"record": item, "student": item.student}
    )


class RecordForm(forms.Form):
    category = forms.ChoiceField(label=gettext_lazy("Soort"), choices=SensitiveCategory.choices)
    title = forms.CharField(label=gettext_lazy("Titel"), max_length=200)
    day = forms.DateField(
        label=gettext_lazy("Datum"), widget=forms.DateInput(attrs={"type": "date"})
    )
    content = forms.CharField(label=gettext_lazy("Inhoud"), widget=forms.Textarea)


@_guarded(Access.reads_sensitive)
def add(request: HttpRequest, student_id: int) -> HttpResponse:
    """Add a sensitive record by hand (the LAS exports carry none)."""
    user = _user(request)
    pupil = _pupil(user, student_id)
    form = RecordForm(request.POST or None, initial={"day": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        sensitive.add_record(
            pupil,
            category=form.cleaned_data["category"],
            title=form.cleaned_data["title"],
            content=form.cleaned_data["content"],
            day=form.cleaned_data["day"],
            user=user,
        )
        messages.success(request, _("Het gegeven is vastgelegd."))
        return redirect("roster:sensitive-list", student_id=pupil.pk)
    return render(request, "roster/sensitive_add.html", {"student": pupil, "form": form})


class DesignationForm(forms.Form):
    school = forms.ModelChoiceField(label=gettext_lazy("School"), queryset=School.objects.none())
    staff = forms.ModelChoiceField(label=gettext_lazy("Medewerker"), queryset=Staff.objects.none())
    reason = forms.CharField(label=gettext_lazy("Reden"), max_length=300)

    def __init__(self, *args: Any, boards: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        school_field = cast(forms.ModelChoiceField[School], self.fields["school"])
        staff_field = cast(forms.ModelChoiceField[Staff], self.fields["staff"])
        school_field.queryset = School.objects.filter(board__in=boards).order_by("name")
        staff_field.queryset = Staff.objects.filter(
            board__in=boards, is_active=True, user__isnull=False
        ).order_by("achternaam", "voornamen", "pk")


@_guarded(Access.designates)
def designations(request: HttpRequest) -> HttpResponse:
    """The board's designations: who besides the care coordinator reads a school's sensitive
    records. The privacy officer and board admins give and withdraw them (they do not read)."""
    user = _user(request)
    boards = services.designation_boards(user)
    form = DesignationForm(
        request.POST if request.POST.get("action") == "give" else None, boards=boards
    )
    if request.method == "POST":
        if request.POST.get("action") == "withdraw":
            choice = request.POST.get("designation", "")
            found = (
                services.visible_designations(user).filter(pk=int(choice)).first()
                if choice.isdigit()
                else None
            )
            if found is None:
                raise Http404
            sensitive.withdraw(found, user=user)
            messages.success(request, _("De aanwijzing is ingetrokken."))
            return redirect("roster:sensitive-designations")
        if form.is_valid():
            try:
                sensitive.designate(
                    form.cleaned_data["school"],
                    form.cleaned_data["staff"],
                    form.cleaned_data["reason"],
                    user=user,
                )
            except sensitive.DesignationRefused:
                messages.error(request, _("Deze medewerker hoort niet bij het bestuur."))
            else:
                messages.success(request, _("De medewerker is aangewezen."))
                return redirect("roster:sensitive-designations")
    listed: list[SensitiveDesignation] = list(
        services.visible_designations(user).select_related("given_by", "withdrawn_by")
    )
    return render(
        request, "roster/sensitive_designations.html", {"form": form, "designations": listed}
    )
