"""The audit log for the board's privacy officers and board admins (:data:`board_register_page`):
the events about the board's records, filtered and paginated (:mod:`..audit_log`).

A pupil is looked up by a search form that is POSTed (the name or LAS key never goes into a URL)
and then filtered by the hub's internal id; a pupil the viewer may not see is not a filter. Bad
filter values are shown next to the form and ignored.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from regie.roster import services as roster

from .. import audit_log, services
from ..models import Supplier
from .common import board_register_page, user_of

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    leerling = forms.IntegerField(required=False, widget=forms.HiddenInput)
    leverancier = forms.ModelChoiceField(
        queryset=Supplier.objects.order_by("name"),
        required=False,
        label=_("Leverancier"),
        empty_label=_("alle leveranciers"),
    )
    soort = forms.ChoiceField(required=False, label=_("Soort gebeurtenis"))
    van = forms.DateField(
        required=False, label=_("Van"), widget=forms.DateInput(attrs={"type": "date"})
    )
    tot = forms.DateField(
        required=False, label=_("Tot en met"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("alle soorten")), *((name, name) for name in audit_log.event_types())]
        self.fields["soort"].choices = choices  # type: ignore[attr-defined]


def _cleaned(form: AuditFilterForm, field: str) -> Any:
    return form.cleaned_data.get(field) if field not in form.errors else None


@board_register_page
def audit_log_page(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    if request.method == "POST":
        return _pupil_search(request)
    form = AuditFilterForm(request.GET)
    form.is_valid()
    pupil_id = _cleaned(form, "leerling")
    student = roster.visible_students(user).filter(pk=pupil_id).first() if pupil_id else None
    since: date | None = _cleaned(form, "van")
    until: date | None = _cleaned(form, "tot")
    filters = audit_log.Filters(
        student=student,
        supplier=_cleaned(form, "leverancier"),
        event_type=_cleaned(form, "soort") or "",
        since=since,
        until=until,
    )
    events = audit_log.filtered(audit_log.board_events(services.editable_boards(user)), filters)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": audit_log.rows(user, list(page)),
        "student": student,
        "pager_query": query.urlencode(),
    }
    return render(request, "agreements/audit_log.html", context)


def _pupil_search(request: HttpRequest) -> HttpResponse:
    """The pupil search: one match filters at once; several are listed to choose from."""
    user = user_of(request)
    query = request.POST.get("q", "").strip()[:100]
    matches = list(audit_log.find_students(user, query)[:21]) if query else []
    if len(matches) == 1:
        return redirect(f"{reverse('agreements:audit-log')}?leerling={matches[0].pk}")
    context = {
        "form": AuditFilterForm(),
        "page": None,
        "rows": [],
        "student": None,
        "matches": matches[:20],
        "more_matches": len(matches) > 20,
        "searched": True,
        "q": query,
    }
    return render(request, "agreements/audit_log.html", context)
