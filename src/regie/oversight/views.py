"""The data-breach register's pages (``/privacy/datalekken/``), for the board's privacy officer
and board admin (``roster.access``: :meth:`Access.edits_board_register`); anyone else gets 403,
an incident of another board 404.

- the list: every incident of the login's boards with its 72-hour clock;
- registering an incident (the affected pupils are computed from the log, not typed);
- one incident: the clock, the affected pupils (counts per category, the list by name), the
  ENISA severity, the decision with reasons, the time the AP was notified;
- the AP's notification form's fields to copy from (editable);
- the guardians' notice: the draft, reviewed and sent to the affected pupils' guardians.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from regie.roster import services as roster

from . import incidents, severity, texts
from .forms import ApForm, DecisionForm, GuardiansForm, IncidentForm, NotifiedForm, SeverityForm
from .models import Decision, Incident

register_page = roster.access_required(roster.Access.edits_board_register)


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise Http404
    return user


def _incident(request: HttpRequest, incident_id: int) -> Incident:
    boards = roster.access_for(_user(request)).register_boards
    found: Incident = get_object_or_404(
        Incident.objects.select_related("board", "supplier"), pk=incident_id, board_id__in=boards
    )
    return found


@register_page
def incident_list(request: HttpRequest) -> HttpResponse:
    boards = roster.access_for(_user(request)).register_boards
    now = timezone.now()
    rows = [
        {"incident": item, "clock": incidents.clock(item, now), "affected": item.affected.count()}
        for item in Incident.objects.filter(board_id__in=boards).select_related("board", "supplier")
    ]
    return render(request, "oversight/incident_list.html", {"rows": rows})


@register_page
def incident_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    boards = roster.register_boards(user).order_by("name")
    form = IncidentForm(request.POST or None, boards=boards)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        incident = incidents.register(
            data["board"],
            description=data["description"],
            detected_at=data["detected_at"],
            window=(data["window_from"], data["window_to"]),
            supplier=data["supplier"],
            categories=data["categories"],
            user=user,
        )
        messages.success(
            request,
            _("Datalek geregistreerd. Uit het logboek: %(count)s leerlingen betrokken.")
            % {"count": incident.affected.count()},
        )
        return redirect("incidents:detail", incident_id=incident.pk)
    return render(request, "oversight/incident_new.html", {"form": form})


def _act(request: HttpRequest, incident: Incident, user: User) -> HttpResponse | None:
    action = request.POST.get("action", "")
    if action == "recompute":
        count = incidents.recompute(incident, user=user)
        messages.success(request, _("Opnieuw berekend: %(count)s leerlingen.") % {"count": count})
    elif action == "assess":
        form = SeverityForm(request.POST)
        if not form.is_valid():
            return None
        incidents.assess(incident, form.cleaned_data, user=user)
        messages.success(request, _("De ernst is opgeslagen."))
    elif action == "decide":
        decision = DecisionForm(request.POST)
        if not decision.is_valid():
            return None
        data = decision.cleaned_data
        incidents.decide(
            incident,
            data["decision"],
            data["reasons"],
            notify_persons=data["notify_persons"],
            user=user,
        )
        messages.success(request, _("Het besluit is opgeslagen."))
    elif action == "notified":
        when = NotifiedForm(request.POST)
        if not when.is_valid() or incident.decision != Decision.NOTIFY:
            return None
        in_time = incidents.notified(incident, when.cleaned_data["notified_at"], user=user)
        messages.success(
            request,
            _("Melding bij de AP vastgelegd: binnen 72 uur.")
            if in_time
            else _("Melding bij de AP vastgelegd: na de termijn van 72 uur."),
        )
    else:
        raise Http404
    return redirect("incidents:detail", incident_id=incident.pk)


@register_page
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    user = _user(request)
    incident = _incident(request, incident_id)
    severity_form = SeverityForm(initial=incident.severity)
    decision_form = DecisionForm(
        initial={
            "decision": incident.decision or None,
            "reasons": incident.decision_reasons,
            "notify_persons": incident.notify_persons,
        }
    )
    notified_form = NotifiedForm(initial={"notified_at": incident.notified_ap_at})
    if request.method == "POST":
        answer = _act(request, incident, user)
        if answer is not None:
            return answer
        action = request.POST.get("action")
        if action == "assess":
            severity_form = SeverityForm(request.POST)
        elif action == "decide":
            decision_form = DecisionForm(request.POST)
        else:
            notified_form = NotifiedForm(request.POST)
            if incident.decision != Decision.NOTIFY:
                notified_form.is_valid()
                notified_form.add_error(None, _("Besluit eerst om het lek bij de AP te melden."))
    affected = incident.affected.select_related("student", "student__school").order_by(
        "student__school__name", "student__achternaam", "student__pk"
    )
    context = {
        "incident": incident,
        "clock": incidents.clock(incident),
        "severity": severity.assess(incident.severity),
        "per_category": [
            (incidents.category_label(key), count)
            for key, count in incidents.per_category(incident)
        ],
        "affected": affected,
        "categories": [incidents.category_label(key) for key in incident.categories],
        "severity_form": severity_form,
        "decision_form": decision_form,
        "notified_form": notified_form,
    }
    return render(request, "oversight/incident_detail.html", context)


@register_page
def incident_ap(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = _incident(request, incident_id)
    if request.method == "POST":
        form = ApForm(request.POST)
        if form.is_valid():
            texts.save_ap_fields(incident, form.cleaned_data)
            messages.success(request, _("De tekst voor de AP is opgeslagen."))
            return redirect("incidents:ap", incident_id=incident.pk)
    fields = texts.ap_fields(incident)
    form = ApForm(initial={field.key: field.value for field in fields})
    return render(
        request,
        "oversight/incident_ap.html",
        {"incident": incident, "fields": fields, "form": form},
    )


@register_page
def incident_guardians(request: HttpRequest, incident_id: int) -> HttpResponse:
    user = _user(request)
    incident = _incident(request, incident_id)
    subject, body = texts.guardians_draft(incident)
    form = GuardiansForm(request.POST or None, initial={"subject": subject, "body": body})
    if request.method == "POST" and form.is_valid():
        texts.save_guardians_draft(
            incident, form.cleaned_data["subject"], form.cleaned_data["body"]
        )
        if request.POST.get("action") == "send" and incident.guardians_sent_at is None:
            texts.send_to_guardians(incident, user=user)
            messages.success(request, _("Het bericht aan de ouders wordt verstuurd."))
        else:
            messages.success(request, _("Het concept is opgeslagen."))
        return redirect("incidents:guardians", incident_id=incident.pk)
    context = {
        "incident": incident,
        "form": form,
        "recipients": len(texts.recipients(incident)),
        "pupils": incident.affected.count(),
    }
    return render(request, "oversight/incident_guardians.html", context)
