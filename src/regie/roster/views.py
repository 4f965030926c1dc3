"""The roster's pages: schools, groups, pupils and guardians (need-to-know), and the import.

Thin: each view states which capability its page needs (:func:`.access.access_required`: 403
for a role without it), loads through the need-to-know queries of ``services`` (what a user may
not see is a 404, never a hint that it exists), calls a service and renders.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from regie.core.models import Board
from regie.lib import csvsafe

from . import services
from .access import Access, access_required
from .importing.plan import ImportPlan, RemovalConsent
from .models import REAL_PUPILS, ImportFailure, ImportRun, ImportStatus, Student

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required let only logged-in users through
        raise Http404
    return user


def _page(request: HttpRequest, queryset: QuerySet[Any]) -> Page[Any]:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _name_search(queryset: QuerySet[Student], query: str) -> QuerySet[Student]:
    for word in query.split():
        queryset = queryset.filter(
            Q(roepnaam__icontains=word)
            | Q(voornamen__icontains=word)
            | Q(achternaam__icontains=word)
            | Q(las_key__iexact=word)
        )
    return queryset


@access_required(Access.sees_roster)
def schools(request: HttpRequest) -> HttpResponse:
    visible = services.visible_schools(_user(request)).annotate(
        pupils=Count("students", filter=Q(students__status="active") & REAL_PUPILS, distinct=True),
        group_count=Count("groups", filter=Q(groups__is_active=True), distinct=True),
    )
    designates = services.access_for(_user(request)).designates()
    return render(
        request,
        "roster/schools.html",
        {"schools": visible.order_by("name"), "designates": designates},
    )


@access_required(Access.sees_roster)
def groups(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    visible = (
        services.visible_groups(_user(request))
        .filter(is_active=True)
        .select_related("school")
        .annotate(
            pupils=Count(
                "students", filter=Q(students__status="active") & REAL_PUPILS, distinct=True
            )
        )
        .order_by("school__name", "year_level", "name")
    )
    if query:
        visible = visible.filter(name__icontains=query)
    return render(request, "roster/groups.html", {"page": _page(request, visible), "q": query})


@access_required(Access.sees_roster)
def group(request: HttpRequest, group_id: int) -> HttpResponse:
    found = get_object_or_404(services.visible_groups(_user(request)), pk=group_id)
    pupils = (
        services.visible_students(_user(request))
        .filter(groups=found, status="active")
        .order_by("achternaam", "roepnaam")
    )
    teachers = found.teachers.filter(is_active=True)
    return render(
        request, "roster/group.html", {"group": found, "pupils": pupils, "teachers": teachers}
    )


@access_required(Access.sees_roster)
def students(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    show_left = request.GET.get("status") == "left"
    visible = services.visible_students(_user(request)).select_related("school")
    visible = visible.filter(status="left" if show_left else "active")
    if query:
        visible = _name_search(visible, query)
    visible = visible.order_by("achternaam", "roepnaam", "pk")
    context = {"page": _page(request, visible), "q": query, "show_left": show_left}
    return render(request, "roster/students.html", context)


@access_required(Access.sees_roster)
def student(request: HttpRequest, student_id: int) -> HttpResponse:
    user = _user(request)
    found = get_object_or_404(
        services.visible_students(user).select_related("school", "previous__school"), pk=student_id
    )
    guardians = found.guardians.filter(is_active=True)
    in_groups = found.groups.filter(is_active=True)
    may_link = found.previous_id is None and services.may_link(user, found)
    return render(
        request,
        "roster/student.html",
        {
            "student": found,
            "guardians": guardians,
            "groups": in_groups,
            "may_link": may_link,
            "reads_sensitive": services.reads_sensitive_of(user, found),
        },
    )


@access_required(Access.sees_whole_school)
def student_link(request: HttpRequest, student_id: int) -> HttpResponse:
    """Link a pupil to their enrolment in another sector (PO → VO): an explicit act."""
    user = _user(request)
    found = get_object_or_404(
        services.visible_students(user).select_related("school"), pk=student_id
    )
    if not services.may_link(user, found):
        raise Http404
    candidates = services.link_candidates(found)
    if request.method == "POST":
        choice = request.POST.get("previous", "")
        previous = candidates.filter(pk=int(choice)).first() if choice.isdigit() else None
        if previous is None:
            messages.error(request, _("Kies een eerdere inschrijving uit de lijst."))
        else:
            try:
                services.link_sector_change(found, previous, user=user)
            except services.LinkRefused as refused:
                messages.error(request, str(refused))
            else:
                messages.success(request, _("De inschrijvingen zijn gekoppeld."))
                return redirect("roster:student", student_id=found.pk)
    return render(request, "roster/student_link.html", {"student": found, "candidates": candidates})


@access_required(Access.sees_whole_school)
def guardians(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    visible = (
        services.visible_guardians(_user(request))
        .filter(is_active=True)
        .prefetch_related("students")
        .order_by("achternaam", "voornamen", "pk")
    )
    for word in query.split():
        visible = visible.filter(
            Q(voornamen__icontains=word) | Q(achternaam__icontains=word) | Q(email__icontains=word)
        )
    return render(request, "roster/guardians.html", {"page": _page(request, visible), "q": query})


# --- import ------------------------------------------------------------------------------------


def _import_boards(request: HttpRequest) -> QuerySet[Board]:
    return services.import_boards(_user(request)).order_by("name")


@access_required(Access.imports)
def import_upload(request: HttpRequest) -> HttpResponse:
    boards = list(_import_boards(request))
    if not boards:
        raise Http404
    services.purge_expired_uploads()
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        board = next((b for b in boards if str(b.pk) == request.POST.get("board")), boards[0])
        if upload is None:
            error = _("Kies een bestand.")
        else:
            with tempfile.TemporaryDirectory(prefix="regie-upload-") as directory:
                path = Path(directory) / "upload"
                with path.open("wb") as handle:
                    for chunk in upload.chunks():
                        handle.write(chunk)
                run = services.upload(path, upload.name or "upload", board, user=_user(request))
            return redirect("roster:import-run", run_id=run.pk)
    runs = ImportRun.objects.filter(board__in=boards)
    status = request.GET.get("status", "")  # ?status=refused|previewed: the dashboard's links
    if status in ImportStatus.values:
        runs = runs.filter(status=status)
    else:
        status = ""
    context = {
        "boards": boards,
        "scopes": services.import_scopes(_user(request)),
        "recent": runs[:10],
        "error": error,
        "status": ImportStatus(status).label if status else "",
    }
    return render(request, "roster/import.html", context)


def _run(request: HttpRequest, run_id: uuid.UUID) -> ImportRun:
    return get_object_or_404(ImportRun.objects.filter(board__in=_import_boards(request)), pk=run_id)


@access_required(Access.imports)
def import_run(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    run = _run(request, run_id)
    plan = ImportPlan.from_json(run.plan) if run.plan else None
    problems = services.problems_from_json(run.problems)
    # The safety stop: schools of which the import removes many pupils need a confirmation.
    removals = plan.mass_removals(settings.IMPORT_MASS_REMOVAL_PERCENT) if plan else []
    return render(
        request,
        "roster/import_run.html",
        {
            "run": run,
            "plan": plan,
            "problems": problems,
            "removals": removals,
            "Status": ImportStatus,
            "progress": _progress(run),
            "failure": failure_text(run),
            "applicable": run.status in services.APPLICABLE
            and run.failure != ImportFailure.REFUSED,
        },
    )


@access_required(Access.imports)
def import_problems_csv(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    run = _run(request, run_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="fouten-{run.pk}.csv"'
    writer = csvsafe.writer(response)  # a file name or field may look like a formula
    writer.writerow([_("bestand"), _("regel"), _("veld"), _("reden")])
    for problem in services.problems_from_json(run.problems):
        writer.writerow([problem.file_text, problem.line or "", problem.field_text, problem.text])
    return response


@access_required(Access.imports)
@require_POST
def import_apply(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    """Queue the previewed import for a background job; its page then shows how far it is."""
    run = _run(request, run_id)
    # The mass removals the user confirmed in the preview, by their numbers (SchoolPlan).
    consent = RemovalConsent(confirmed=frozenset(request.POST.getlist("confirm_removal")))
    try:
        services.request_apply(run, user=_user(request), consent=consent)
    except services.AlreadyApplying:
        messages.info(request, _("Deze import wordt al toegepast. U hoeft niets opnieuw te doen."))
    except services.ExportRefused as error:
        for problem in error.problems:
            messages.error(request, str(problem))
    return redirect("roster:import-run", run_id=run.pk)


def _progress(run: ImportRun) -> dict[str, object]:
    """How far applying ``run`` is, as the page and its JSON say it."""
    busy = run.status in (ImportStatus.QUEUED, ImportStatus.APPLYING)
    writing = run.status == ImportStatus.APPLYING and run.rows_done >= run.rows_total
    if run.status == ImportStatus.QUEUED:
        text = _("De import wacht op verwerking.")
    elif writing:
        text = _("De wijzigingen worden opgeslagen, in één keer.")
    elif run.status == ImportStatus.APPLYING:
        text = _(
            "Bezig: %(done)s van %(total)s rijen. Leerlingen met een BSN of onderwijsnummer "
            "krijgen pseudoniemen."
        ) % {
            "done": run.rows_done,
            "total": run.rows_total,
        }
    else:
        text = ""
    return {
        "status": run.status,
        "busy": busy,
        "done": run.rows_done,
        "total": run.rows_total,
        "writing": writing,
        "text": text,
    }


def failure_text(run: ImportRun) -> str:
    """Why applying ``run`` failed, what that means and what to do, in the page's language."""
    if not run.failure:
        return ""
    reason = ImportFailure(run.failure).label
    nothing = _("Er is niets van de import toegepast.")
    if run.failure == ImportFailure.REFUSED:
        advice = _("Upload een nieuwe export.")
    elif run.failure == ImportFailure.ERROR:
        advice = _("Probeer het opnieuw. Lukt het weer niet, neem dan contact op met de beheerder.")
    elif run.failure in (ImportFailure.NUMBER_SERVICE_LOGIN, ImportFailure.NUMBER_SERVICE_REFUSED):
        advice = _("Neem contact op met de beheerder van de hub.")
    else:
        advice = _("Probeer het later opnieuw.")
    return _("Toepassen is mislukt: %(reason)s. %(nothing)s %(advice)s") % {
        "reason": reason,
        "nothing": nothing,
        "advice": advice,
    }


@access_required(Access.imports)
def import_progress(request: HttpRequest, run_id: uuid.UUID) -> JsonResponse:
    """How far applying the import is, for the run page's script (ids and counts only)."""
    run = _run(request, run_id)
    response = JsonResponse(_progress(run))
    response["Cache-Control"] = "no-store"
    return response


@access_required(Access.imports)
def import_discard(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    """GET: what discarding means (nothing changes); POST: discard the previewed import."""
    run = _run(request, run_id)
    if request.method == "POST":
        previewed = run.status in services.APPLICABLE
        try:
            services.discard(run, user=_user(request))
        except services.AlreadyApplying:
            messages.error(request, _("Deze import wordt al toegepast: weggooien kan niet meer."))
            return redirect("roster:import-run", run_id=run.pk)
        if previewed:
            messages.success(
                request,
                _(
                    "De import is weggegooid: er is niets van toegepast en het bestand "
                    "is verwijderd."
                ),
            )
        return redirect("roster:import")
    return render(request, "roster/import_discard.html", {"run": run, "Status": ImportStatus})
