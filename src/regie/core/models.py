"""The organisations of Dutch education that everything else hangs off: boards, schools, years.

- :class:`Board` — the *bevoegd gezag* (schoolbestuur): the legal controller of the pupil data,
  identified by its *bestuursnummer* (BG-nummer, 5 digits) and KvK number.
- :class:`School` — a school or vestiging, identified by its BRIN (2 digits + 2 letters) and an
  optional 2-digit vestiging number; it belongs to one board and one sector.
- :class:`SchoolYear` — a school year (1 August to 31 July), shared by all boards.

These hold no personal data.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

BESTUURSNUMMER_VALIDATOR = RegexValidator(
    r"^[0-9]{5}$", _("Een bestuursnummer bestaat uit 5 cijfers.")
)
KVK_VALIDATOR = RegexValidator(r"^[0-9]{8}$", _("Een KvK-nummer bestaat uit 8 cijfers."))
BRIN_VALIDATOR = RegexValidator(
    r"^[0-9]{2}[A-Z]{2}$", _("Een BRIN bestaat uit 2 cijfers en 2 hoofdletters.")
)
VESTIGING_VALIDATOR = RegexValidator(
    r"^([0-9]{2})?$", _("Een vestigingsnummer bestaat uit 2 cijfers (of is leeg).")
)


class Sector(models.TextChoices):
    """The sectors of the ECK iD chain: one ECK iD per pupil per sector (SO and VSO count as PO)."""

    PO = "PO", _("Primair onderwijs")
    VO = "VO", _("Voortgezet onderwijs")
    MBO = "MBO", _("Middelbaar beroepsonderwijs")
    HO = "HO", _("Hoger onderwijs")


class Board(models.Model):
    """A school board (bevoegd gezag): the controller (verwerkingsverantwoordelijke)."""

    PERSONAL_DATA: ClassVar[bool] = False

    bestuursnummer = models.CharField(
        _("bestuursnummer"), max_length=5, unique=True, validators=[BESTUURSNUMMER_VALIDATOR]
    )
    name = models.CharField(_("naam"), max_length=200)
    kvk = models.CharField(_("KvK-nummer"), max_length=8, blank=True, validators=[KVK_VALIDATOR])
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)

    class Meta:
        verbose_name = _("schoolbestuur")
        verbose_name_plural = _("schoolbesturen")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class School(models.Model):
    """A school (or one vestiging of it) of a board, in one sector."""

    PERSONAL_DATA: ClassVar[bool] = False

    board = models.ForeignKey(
        Board, on_delete=models.PROTECT, related_name="schools", verbose_name=_("schoolbestuur")
    )
    brin = models.CharField(_("BRIN"), max_length=4, validators=[BRIN_VALIDATOR])
    vestiging = models.CharField(
        _("vestiging"), max_length=2, blank=True, validators=[VESTIGING_VALIDATOR]
    )
    name = models.CharField(_("naam"), max_length=200)
    sector = models.CharField(_("sector"), max_length=3, choices=Sector.choices)
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("scholen")
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(fields=("brin", "vestiging"), name="school_brin_vestiging")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def code(self) -> str:
        """BRIN plus vestiging, as LAS exports write it (``12AB`` or ``12AB01``)."""
        return self.brin + self.vestiging


class SchoolYear(models.Model):
    """A school year, e.g. 2026-2027 (1 August 2026 – 31 July 2027)."""

    PERSONAL_DATA: ClassVar[bool] = False

    title = models.CharField(_("schooljaar"), max_length=9, unique=True)
    start = models.DateField(_("begin"))
    end = models.DateField(_("einde"))

    class Meta:
        verbose_name = _("schooljaar")
        verbose_name_plural = _("schooljaren")
        ordering = ("-start",)
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="year_order")
        ]

    def __str__(self) -> str:
        return self.title

    @staticmethod
    def containing(day: date, through: str = "") -> models.Q:
        """The school year ``day`` falls in, as a condition on ``through`` (empty for school years
        themselves, or a relation such as ``"licences__school_year__"``). Licences in force
        (``Licence.objects.in_force_on``) and the current school year are this condition."""
        return models.Q(**{f"{through}start__lte": day, f"{through}end__gte": day})
