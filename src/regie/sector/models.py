"""The sector dashboard's models: registered hubs, received reports, supervisors. No personal
data of pupils, parents or staff of a school: only what signed aggregate reports say.

A :class:`Report` keeps the signed note as received (``note``), its SHA-256 and the parsed report
object (``content``): every chart and table is computed from ``content``, nothing is typed in. A
refused report leaves a :class:`Refusal` (the hub when known, the status and the reason, the
body's SHA-256 — never the body)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from regie.core import datacategories as dc


class Hub(models.Model):
    """A school hub that may send reports: its name, its log origin (the name of the key that
    signs its notes) and its verifier key (vkey)."""

    PERSONAL_DATA: ClassVar[bool] = False

    name = models.CharField(max_length=200)
    origin = models.CharField(max_length=200, unique=True)
    vkey = models.TextField()
    registered_at = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def last_report(self) -> Report | None:
        return self.reports.order_by("-sequence").first()

    def is_silent(self, now: dt.datetime | None = None) -> bool:
        """Whether an active hub has sent no accepted report for longer than
        ``settings.OVERSIGHT_STALE_DAYS`` (counted from its registration when it never did)."""
        if not self.active:
            return False
        now = now or timezone.now()
        last = self.last_report()
        since = last.received_at if last is not None else self.registered_at
        return now - since > dt.timedelta(days=settings.OVERSIGHT_STALE_DAYS)


class Report(models.Model):
    """An accepted signed aggregate report (``regie-aggregate-report/1``)."""

    PERSONAL_DATA: ClassVar[bool] = False

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="reports")
    sequence = models.PositiveBigIntegerField()
    issued_at = models.DateTimeField()
    period_start = models.DateField()
    period_end = models.DateField()
    received_at = models.DateTimeField(default=timezone.now)
    note = models.TextField()
    sha256 = models.CharField(max_length=64, unique=True)
    content = models.JSONField()

    class Meta:
        ordering: ClassVar = ["-period_end", "hub__name", "-sequence"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["hub", "sequence"], name="sector_report_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.hub} #{self.sequence}"


class Refusal(models.Model):
    """A report the intake refused: who sent it (when known), why, and the body's SHA-256."""

    PERSONAL_DATA: ClassVar[bool] = False

    hub = models.ForeignKey(
        Hub, on_delete=models.PROTECT, null=True, blank=True, related_name="refusals"
    )
    status = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=40)
    params = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering: ClassVar = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.status} {self.code}"

    @property
    def reason(self) -> str:
        """The reason in the active language."""
        from .intake import reason_text

        return reason_text(self.code, self.params)


class Organisation(models.TextChoices):
    AP = "ap", _("Autoriteit Persoonsgegevens")
    INSPECTIE = "inspectie", _("Inspectie van het Onderwijs")
    SECTOR = "sector", _("Sectororganisatie")


class Supervisor(models.Model):
    """A login of a supervisor (AP, Inspectie) or of the sector: may read the dashboard."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[dict[str, object]] = {
        "id": dc.NOT_PERSONAL,
        "user": dc.USERNAME,
        "organisation": dc.NOT_PERSONAL,
    }

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supervisor"
    )
    organisation = models.CharField(max_length=20, choices=Organisation.choices)

    def __str__(self) -> str:
        return f"{self.user} ({self.get_organisation_display()})"
