"""Retention that acts (issue 16): the hub's own retention rules, legal holds, the runs that
delete and order deletion, what each run did (so a run killed halfway is continued, never
repeated), and the demo's simulated clock.

The suppliers' retention is each data schedule's :class:`~regie.agreements.models.Processing`
(period, unit, trigger); what is due when is :mod:`regie.retention.due`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from regie.agreements.models import ProcessingAgreement, RetentionUnit, Supplier
from regie.core import datacategories as dc
from regie.core.models import Board
from regie.orders.models import Order
from regie.roster.models import Guardian, Student


class HubDataKind(models.TextChoices):
    """The hub's own data, each with one retention rule per board (:mod:`.rules`)."""

    PUPILS_LEFT = "pupils_left", _("leerlingen die de school verlieten")
    GUARDIANS = "guardians", _("ouders en verzorgers die niet meer in de export staan")
    RESULTS = "results", _("resultaten die leveranciers terugstuurden")
    IMPORT_UPLOADS = "import_uploads", _("imports (de uitslag van een geüploade export)")
    ORDERS_EVIDENCE = "orders_evidence", _("afgeronde opdrachten en ontvangstbewijzen (bewijs)")


class HubRule(models.Model):
    """A board's own period for one kind of the hub's data (the trigger is the kind's own, see
    :data:`regie.retention.rules.KINDS`); without a row the default holds."""

    PERSONAL_DATA: ClassVar[bool] = False

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("gegevens"), max_length=20, choices=HubDataKind.choices)
    period = models.PositiveIntegerField(_("bewaartermijn"))
    unit = models.CharField(_("eenheid"), max_length=6, choices=RetentionUnit.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(_("gewijzigd"), auto_now=True)

    class Meta:
        verbose_name = _("bewaartermijn van de hub")
        verbose_name_plural = _("bewaartermijnen van de hub")
        constraints = [models.UniqueConstraint(fields=("board", "kind"), name="hub_rule_per_kind")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.period} {self.unit}"


class LegalHold(models.Model):
    """Nothing of a pupil's data is deleted while a hold is in force (``lifted_at`` empty):
    not at the hub, and no deletion order goes to a supplier."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "board": dc.NOT_PERSONAL,
        "student": dc.UNIQUE_ID,
        "reason": dc.CONTENT,
        "placed_by": dc.USERNAME,
        "placed_at": dc.NOT_PERSONAL,
        "lifted_by": dc.USERNAME,
        "lifted_at": dc.NOT_PERSONAL,
        "lift_reason": dc.CONTENT,
    }

    board = models.ForeignKey(Board, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, related_name="+", verbose_name=_("leerling")
    )
    reason = models.TextField(_("reden"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    placed_at = models.DateTimeField(_("vastgezet op"))
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lifted_at = models.DateTimeField(_("opgeheven op"), null=True, blank=True)
    lift_reason = models.TextField(_("reden van opheffen"), blank=True)

    class Meta:
        verbose_name = _("bewaarplicht (legal hold)")
        verbose_name_plural = _("bewaarplichten (legal holds)")
        ordering = ("-placed_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("student",),
                condition=models.Q(lifted_at__isnull=True),
                name="one_hold_in_force_per_pupil",
            )
        ]

    def __str__(self) -> str:
        return f"hold on student {self.student_id}"


class RunState(models.TextChoices):
    RUNNING = "running", _("bezig")
    DONE = "done", _("klaar")
    FAILED = "failed", _("mislukt")


class RetentionRun(models.Model):
    """One retention run for one board on one day (``as_of``, the simulated clock's day in the
    demo). A dry run only counts; a real run acts in batches and ends with a signed report in
    the log. A run that stopped (a killed worker) stays ``running``; the next run continues it."""

    PERSONAL_DATA: ClassVar[bool] = False

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField(_("peildatum"))
    dry_run = models.BooleanField(_("proefrun"), default=False)
    state = models.CharField(
        _("status"), max_length=10, choices=RunState.choices, default=RunState.RUNNING
    )
    started_at = models.DateTimeField(_("begonnen"), auto_now_add=True)
    finished_at = models.DateTimeField(_("klaar"), null=True, blank=True)
    # Counts per kind ({"pupils_deleted": 12, "orders_sent": 20, ...}), never a pupil.
    counts = models.JSONField(_("aantallen"), default=dict, blank=True)
    orders = models.JSONField(_("opdrachten"), default=list, blank=True)  # order ids (str)
    left_over = models.JSONField(_("controle"), default=dict, blank=True)  # what is left: 0s
    report = models.TextField(_("ondertekend verslag"), blank=True)  # a signed note
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("bewaarrun")
        verbose_name_plural = _("bewaarruns")
        ordering = ("-started_at",)

    def __str__(self) -> str:
        return f"retention run {self.pk} ({self.as_of})"


class ActionScope(models.TextChoices):
    HUB = "hub", _("verwijderd bij de hub")
    SUPPLIER = "supplier", _("verwijderopdracht aan de leverancier")
    CONSENT = "consent", _("verwijderopdracht na ingetrokken toestemming")


class RetentionAction(models.Model):
    """What retention did about one pupil: deleted them at the hub, or ordered one supplier to
    delete (all of it, or what one withdrawn consent had released). ``student_key`` is the
    pupil's former primary key, kept after the pupil is gone so nothing is done twice; it links
    to nothing once the pupil is deleted. ``scope_key`` is ``""`` for the hub and the supplier,
    ``<product pk>:<attribute>:<consent pk>`` for a withdrawn consent."""

    PERSONAL_DATA: ClassVar[bool] = False

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(RetentionRun, on_delete=models.SET_NULL, null=True, related_name="+")
    student_key = models.BigIntegerField()
    scope = models.CharField(max_length=10, choices=ActionScope.choices)
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    scope_key = models.CharField(max_length=100, blank=True, default="")
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("board", "student_key", "scope", "supplier", "scope_key"),
                name="retention_action_once",
            ),
            models.UniqueConstraint(
                fields=("board", "student_key"),
                condition=models.Q(scope="hub"),
                name="retention_hub_deletion_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} action on student key {self.student_key}"


class SimulatedClock(models.Model):
    """The demo's and the tests' clock: retention reads ``today`` as the real day plus
    ``offset_days``. Only with ``REGIE_SIMULATED_CLOCK`` on (:mod:`regie.retention.clock`)."""

    PERSONAL_DATA: ClassVar[bool] = False

    offset_days = models.IntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"clock +{self.offset_days} days"


class ContractState(models.TextChoices):
    """Where the destruction at the end of one agreement stands (the order's own state, sent,
    overdue, is the order's: :class:`~regie.orders.models.OrderState`)."""

    ORDERED = "ordered", _("opdracht tot vernietiging verstuurd")
    NOT_SENT = "not_sent", _("opdracht kon niet worden verstuurd")
    NOTHING_RELEASED = "nothing_released", _("niets verstrekt")
    REFUSED = "refused", _("geweigerd door de leverancier")
    DESTROYED = "destroyed", _("gegevens vernietigd (ontvangstbewijs)")
    STATEMENT = "statement", _("gegevens vernietigd (verklaring op een andere manier ontvangen)")


class ContractDestruction(models.Model):
    """The destruction of a terminated agreement's data at its supplier (and, through it, its
    subprocessors): the one order sent, or why none could be, and the proof that lets the
    agreement reach "data destroyed" (:mod:`regie.retention.contracts`). Counts and names of
    products and subprocessors only; the pupils are the order's."""

    PERSONAL_DATA: ClassVar[bool] = False

    agreement = models.OneToOneField(
        ProcessingAgreement,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("verwerkersovereenkomst"),
    )
    order = models.OneToOneField(
        Order,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opdracht"),
    )
    state = models.CharField(_("stand"), max_length=20, choices=ContractState.choices)
    pupils = models.PositiveIntegerField(_("aantal leerlingen"), default=0)
    deadline = models.DateField(_("uiterste datum"))
    problem = models.CharField(
        _("waarom er geen opdracht ging"),
        max_length=20,
        choices=[("no_address", _("de leverancier heeft geen adres voor opdrachten"))],
        blank=True,
    )
    # A statement of destruction the officer received otherwise (the receipts keep their own).
    statement = models.TextField(_("verklaring"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)
    updated_at = models.DateTimeField(_("gewijzigd"), auto_now=True)

    class Meta:
        verbose_name = _("vernietiging aan het einde van een contract")
        verbose_name_plural = _("vernietigingen aan het einde van contracten")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"destruction for agreement {self.agreement_id}: {self.state}"


class LegacyState(models.TextChoices):
    """Where a supplier's legacy registration stands (motion 9)."""

    ORDERED = "ordered", _("vernietiging gevraagd")
    NOTHING_CONVERTED = "nothing_converted", _("niets omgezet: verklaring nodig")
    CONFIRMED = "confirmed", _("vernietiging bevestigd")
    REFUSED = "refused", _("vernietiging geweigerd")
    OVERDUE = "overdue", _("vernietiging te laat")


class LegacyRegistration(models.Model):
    """A supplier registered the named data it held from before pseudonyms (its own pupil keys,
    names, birth dates) for one school, and got a conversion table back. Only the counts are
    kept: the named data itself is what must be destroyed, and the hub never stores it. The
    ``order`` asks the supplier to destroy it; its completed receipt is the statement."""

    PERSONAL_DATA: ClassVar[bool] = False

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="+")
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="+", verbose_name=_("leverancier")
    )
    school = models.ForeignKey(
        "core.School", on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    records = models.PositiveIntegerField(_("aangemelde records"), default=0)
    converted = models.PositiveIntegerField(_("omgezet"), default=0)
    not_found = models.PositiveIntegerField(_("niet gevonden"), default=0)
    ambiguous = models.PositiveIntegerField(_("niet eenduidig"), default=0)
    not_allowed = models.PositiveIntegerField(_("niet toegestaan"), default=0)
    created_at = models.DateTimeField(_("aangemeld"), auto_now_add=True)
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(
        _("status"), max_length=20, choices=LegacyState.choices, default=LegacyState.ORDERED
    )
    changed_at = models.DateTimeField(_("gewijzigd"), auto_now=True)

    class Meta:
        verbose_name = _("aanmelding oude gegevens")
        verbose_name_plural = _("aanmeldingen oude gegevens")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"legacy registration {self.pk} ({self.state})"


class InactiveGuardian(models.Model):
    """Since when the hub has seen a guardian inactive (no longer in the school's export): the
    start of the ``guardians`` rule (:mod:`.sweeps`). The import only switches ``is_active`` off;
    the daily run notes the day it first sees that, and forgets it when the guardian is back."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "guardian": dc.UNIQUE_ID,
        "board": dc.NOT_PERSONAL,
        "since": dc.NOT_PERSONAL,
    }

    guardian = models.OneToOneField(
        Guardian, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="+")
    since = models.DateField(_("niet meer in de export sinds"))

    def __str__(self) -> str:
        return f"guardian {self.guardian_id} inactive since {self.since}"


# --- canaries: proof that deletion happened (regie.retention.canaries) ---------------------------


class Canary(models.Model):
    """A fictional pupil the hub releases to suppliers like a real one (a :class:`Student` row,
    ``is_canary``, hidden from school staff) and later orders deleted. A supplier that still
    names it after confirming the deletion breaks the agreement (:class:`CanarySighting`)."""

    PERSONAL_DATA: ClassVar[bool] = False  # a fictional pupil: nobody's data

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="+")
    student = models.OneToOneField(Student, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)
    deletion_ordered_at = models.DateTimeField(_("verwijderen gevraagd"), null=True, blank=True)

    class Meta:
        verbose_name = _("controlegeval")
        verbose_name_plural = _("controlegevallen")
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return f"canary {self.pk}"


class CanaryErasure(models.Model):
    """The deletion order about one canary to one supplier, and when its completed receipt
    came (``confirmed_at``: from then on the supplier has "deleted" the canary)."""

    PERSONAL_DATA: ClassVar[bool] = False

    canary = models.ForeignKey(Canary, on_delete=models.CASCADE, related_name="erasures")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ordered_at = models.DateTimeField(_("verwijderen gevraagd"))
    confirmed_at = models.DateTimeField(_("verwijdering bevestigd"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("canary", "supplier"), name="canary_erasure_per_supplier"
            )
        ]

    def __str__(self) -> str:
        return f"erasure of canary {self.canary_id} at supplier {self.supplier_id}"


class CanaryChannel(models.TextChoices):
    ONEROSTER = "oneroster", _("OneRoster")
    RESULTS = "results", _("resultaten")
    ACCESS_ANSWER = "access-answer", _("antwoord op een inzageverzoek")


class CanarySighting(models.Model):
    """A supplier named a canary after its deletion was ordered: over which channel, first and
    last when, how often. ``breach``: it had confirmed the deletion before (a breach of the
    agreement). Nothing of the request is kept beyond this."""

    PERSONAL_DATA: ClassVar[bool] = False

    canary = models.ForeignKey(Canary, on_delete=models.CASCADE, related_name="sightings")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("kanaal"), max_length=20, choices=CanaryChannel.choices)
    seen_at = models.DateTimeField(_("eerst gezien"))
    last_seen_at = models.DateTimeField(_("laatst gezien"))
    times = models.PositiveIntegerField(_("aantal keer"), default=1)
    breach = models.BooleanField(_("inbreuk"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("canary", "supplier", "channel", "breach"), name="canary_sighting_once"
            )
        ]

    def __str__(self) -> str:
        return f"canary {self.canary_id} seen at supplier {self.supplier_id} ({self.channel})"
