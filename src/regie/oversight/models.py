"""The models of oversight at the hub: incidents (``Incident`` …) and aggregate reports
(``AggregateReport``). See ``docs/oversight.md``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from regie.agreements.models import Supplier
from regie.core import datacategories as dc
from regie.core.models import Board
from regie.roster.models import Student


class SectorAnswer(models.TextChoices):
    NOT_SENT = "", _("niet verstuurd")
    ACCEPTED = "accepted", _("aangenomen")
    REFUSED = "refused", _("geweigerd")
    FAILED = "failed", _("niet bereikt")


class AggregateReport(models.Model):
    """One signed aggregate report of this hub (counts only), kept as the signed note it is.

    ``sequence`` is 1, 2, 3 … per hub and never reused; one report per period: sending again
    sends the same note (the sector answers 409 for a sequence it has, which counts as
    delivered)."""

    PERSONAL_DATA: ClassVar[bool] = False

    sequence = models.PositiveIntegerField(_("volgnummer"), unique=True)
    period_start = models.DateField(_("van"))
    period_end = models.DateField(_("tot en met"))
    issued_at = models.DateTimeField(_("gemaakt op"))
    note = models.TextField(_("ondertekende rapportage"))
    sha256 = models.CharField(max_length=64)
    sent_at = models.DateTimeField(_("aangenomen op"), null=True, blank=True)
    answer = models.CharField(
        _("antwoord"), max_length=10, choices=SectorAnswer.choices, blank=True, default=""
    )
    answer_status = models.PositiveIntegerField(_("HTTP-status"), null=True, blank=True)
    answer_reason = models.TextField(_("reden"), blank=True)
    attempts = models.PositiveIntegerField(_("pogingen"), default=0)

    class Meta:
        verbose_name = _("rapportage")
        verbose_name_plural = _("rapportages")
        ordering = ("-sequence",)
        constraints = [
            models.UniqueConstraint(
                fields=("period_start", "period_end"), name="aggregate_report_period"
            )
        ]

    def __str__(self) -> str:
        return f"report {self.sequence} ({self.period_start}–{self.period_end})"

    @property
    def delivered(self) -> bool:
        return self.answer == SectorAnswer.ACCEPTED


CLOCK = dt.timedelta(hours=72)
"""Art. 33 AVG: notify the AP within 72 hours of becoming aware of the breach."""


class IncidentSource(models.TextChoices):
    INTERNAL = "internal", _("intern (de school of het bestuur)")
    SUPPLIER = "supplier", _("leverancier")


class Decision(models.TextChoices):
    UNDECIDED = "", _("nog niet besloten")
    NOTIFY = "notify", _("melden bij de AP")
    NO_NOTIFY = "no_notify", _("niet melden bij de AP")


class Incident(models.Model):
    """A data breach (datalek) of one board: what happened, when it was detected (the start of
    the 72-hour clock), the supplier (or internal), the window of releases concerned, the
    affected pupils computed from the log (:class:`AffectedPupil`), the ENISA severity, the
    decision whether to notify the AP and the time it was notified."""

    PERSONAL_DATA: ClassVar[bool] = True  # who registered and decided it
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "board": dc.NOT_PERSONAL,
        "source": dc.NOT_PERSONAL,
        "supplier": dc.NOT_PERSONAL,
        "description": dc.CONTENT,
        "categories": dc.NOT_PERSONAL,
        "window_from": dc.NOT_PERSONAL,
        "window_to": dc.NOT_PERSONAL,
        "detected_at": dc.NOT_PERSONAL,
        "registered_at": dc.NOT_PERSONAL,
        "registered_by": dc.RELATION,
        "deadline": dc.NOT_PERSONAL,
        "report_jti": dc.NOT_PERSONAL,
        "subjects_named": dc.NOT_PERSONAL,
        "severity": dc.NOT_PERSONAL,
        "ap_fields": dc.CONTENT,
        "decision": dc.NOT_PERSONAL,
        "decision_reasons": dc.CONTENT,
        "notify_persons": dc.NOT_PERSONAL,
        "decided_at": dc.NOT_PERSONAL,
        "decided_by": dc.RELATION,
        "notified_ap_at": dc.NOT_PERSONAL,
        "guardians_subject": dc.CONTENT,
        "guardians_body": dc.CONTENT,
        "guardians_sent_at": dc.NOT_PERSONAL,
        "computed_at": dc.NOT_PERSONAL,
    }

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(
        _("bron"), max_length=10, choices=IncidentSource.choices, default=IncidentSource.INTERNAL
    )
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("leverancier"),
    )
    description = models.TextField(_("wat er gebeurde"))
    categories = models.JSONField(_("soorten gegevens"), default=list, blank=True)
    window_from = models.DateTimeField(_("verstrekkingen vanaf"))
    window_to = models.DateTimeField(_("verstrekkingen tot en met"))
    detected_at = models.DateTimeField(_("ontdekt op"))
    registered_at = models.DateTimeField(_("geregistreerd op"), auto_now_add=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deadline = models.DateTimeField(_("uiterlijk melden op"))
    # A supplier's report (source "supplier"): its jti, and how many pseudonyms it named.
    report_jti = models.CharField(max_length=200, blank=True)
    subjects_named = models.PositiveIntegerField(default=0)
    # ENISA: the factors the privacy officer picked ({"dpc_base", "dpc_adjust", "ei", "cb": …}).
    severity = models.JSONField(default=dict, blank=True)
    # The AP's notification form, as filled in and edited (field key → text).
    ap_fields = models.JSONField(default=dict, blank=True)
    decision = models.CharField(
        _("besluit"), max_length=10, choices=Decision.choices, default="", blank=True
    )
    decision_reasons = models.TextField(_("redenen"), blank=True)
    notify_persons = models.BooleanField(_("ouders informeren"), default=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notified_ap_at = models.DateTimeField(_("gemeld bij de AP op"), null=True, blank=True)
    guardians_subject = models.CharField(max_length=200, blank=True)
    guardians_body = models.TextField(blank=True)
    guardians_sent_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-detected_at", "-pk")
        indexes = [models.Index(fields=("board", "decision"), name="incident_board_decision")]

    def __str__(self) -> str:
        return f"incident {self.pk} ({self.detected_at:%Y-%m-%d})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.deadline = self.detected_at + CLOCK
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class AffectedPupil(models.Model):
    """A pupil whose data went to the incident's supplier in its window (computed from the log):
    which categories, which attributes, how many release events."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "incident": dc.NOT_PERSONAL,
        "student": dc.RELATION,
        "categories": dc.NOT_PERSONAL,
        "attributes": dc.NOT_PERSONAL,
        "releases": dc.NOT_PERSONAL,
        "named_by_supplier": dc.NOT_PERSONAL,
    }

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")
    categories = models.JSONField(default=list)
    attributes = models.JSONField(default=list)
    releases = models.PositiveIntegerField(default=0)
    named_by_supplier = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("incident", "student"), name="affected_once")
        ]

    def __str__(self) -> str:
        return f"incident {self.incident_id} · student {self.student_id}"


class BreachReport(models.Model):
    """A supplier's signed breach report as received (its ``jti`` once per supplier: a replay
    is refused). The token may name the supplier's pseudonyms of pupils (``subjects``)."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "supplier": dc.NOT_PERSONAL,
        "jti": dc.NOT_PERSONAL,
        "token": dc.SUPPLIER_PSEUDONYM,
        "received_at": dc.NOT_PERSONAL,
        "incidents": dc.NOT_PERSONAL,
    }

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="+")
    jti = models.CharField(max_length=200)
    token = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)
    incidents = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("supplier", "jti"), name="breach_report_once")
        ]

    def __str__(self) -> str:
        return f"breach report {self.pk}"
