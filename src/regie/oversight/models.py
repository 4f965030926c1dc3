"""The models of oversight at the hub: incidents (``Incident`` …) and aggregate reports
(``AggregateReport``). See ``docs/oversight.md``."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _


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
