"""procrastinate's own admin pages (its job list and job page, installed on PostgreSQL) set inline
styles, which the hub's Content-Security-Policy forbids; the admin site must keep to it like
every page. So its models stay out of the admin: the queue gets a view of regie's own (issue 13).

Django loads admin modules in the order of INSTALLED_APPS, and procrastinate's app comes before
``regie.jobs``: its registration is undone here."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin

if apps.is_installed("procrastinate.contrib.django"):
    from procrastinate.contrib.django.models import ProcrastinateJob

    if admin.site.is_registered(ProcrastinateJob):
        admin.site.unregister(ProcrastinateJob)
