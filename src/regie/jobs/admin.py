"""The queue in the administrator's admin ("Beheer"): counts by state and the failed jobs, each
with "Opnieuw proberen" (a dead job) or "Annuleren" (one waiting for its retry), behind a
confirmation page (POST, CSRF). The same page on both engines (``services.overview`` …).

procrastinate's own admin pages (its job list and job page, installed on PostgreSQL) set inline
styles, which the hub's Content-Security-Policy forbids; the admin site must keep to it like
every page. So its models stay out of the admin. Django loads admin modules in the order of
INSTALLED_APPS, and procrastinate's app comes before ``regie.jobs``: its registration is undone
here."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from regie.audit.services import actor_for, record
from regie.jobs import events, services
from regie.jobs.models import QueuedJob

if apps.is_installed("procrastinate.contrib.django"):
    from procrastinate.contrib.django.models import ProcrastinateJob

    if admin.site.is_registered(ProcrastinateJob):
        admin.site.unregister(ProcrastinateJob)

# How many failed jobs the page lists (the newest).
LISTED = 100


@admin.register(QueuedJob)
class QueueAdmin(admin.ModelAdmin[QueuedJob]):
    """Not a list of the embedded table's rows: the queue of whichever engine runs, for the
    administrator (a superuser) only."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("", wrap(self.changelist_view), name="jobs_queuedjob_changelist"),
            path(
                "<int:job_id>/opnieuw-proberen/",
                wrap(self.retry_view),
                name="jobs_queuedjob_retry",
            ),
            path("<int:job_id>/annuleren/", wrap(self.cancel_view), name="jobs_queuedjob_cancel"),
        ]

    def _check(self, request: HttpRequest) -> None:
        if not self.has_module_permission(request):
            raise PermissionDenied

    def _context(self, request: HttpRequest, title: str) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "queue_url": reverse("admin:jobs_queuedjob_changelist"),
        }

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        self._check(request)
        overview = services.overview()
        states = [
            (_("In de wachtrij"), overview.queued),
            (_("Bezig"), overview.running),
            (_("Vastgelopen (de werker stopte; wordt opnieuw geprobeerd)"), overview.stalled),
            (_("Mislukt, wacht op een nieuwe poging"), overview.failed),
            (_("Opgegeven (geen pogingen meer)"), overview.dead),
        ]
        context = {
            **self._context(request, _("Wachtrij van achtergrondtaken")),
            "states": states,
            "failures": services.failures(LISTED),
        }
        return TemplateResponse(request, "admin/jobs/queue.html", context)

    def retry_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        return self._act(request, job_id, retry=True)

    def cancel_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        return self._act(request, job_id, retry=False)

    def _act(self, request: HttpRequest, job_id: int, *, retry: bool) -> HttpResponse:
        """The confirmation (GET), then the action (POST)."""
        self._check(request)
        failure = next((f for f in services.failures(LISTED) if f.id == job_id), None)
        if failure is None or failure.dead != retry:
            raise Http404
        if request.method == "POST":
            done = services.retry(job_id) if retry else services.cancel(job_id)
            if done:
                record(
                    events.JOB_RETRIED if retry else events.JOB_CANCELLED,
                    actor_for(request.user),
                    f"job:{job_id}",
                    {"name": failure.name, "engine": services.engine()},
                )
                messages.success(
                    request,
                    _("De taak staat weer in de wachtrij.")
                    if retry
                    else _("De taak is geannuleerd."),
                )
            else:
                messages.error(
                    request,
                    _("Dat kan niet meer: de taak is intussen veranderd. Bekijk de wachtrij."),
                )
            return HttpResponseRedirect(reverse("admin:jobs_queuedjob_changelist"))
        title = (_("Taak %(id)s opnieuw proberen?") if retry else _("Taak %(id)s annuleren?")) % {
            "id": job_id
        }
        context = {**self._context(request, title), "failure": failure, "retry": retry}
        return render(request, "admin/jobs/confirm.html", context)
