"""Orders to suppliers (issue 13): the endpoint a supplier registered, the order with its state,
the attempts to deliver it and the signed receipts that came back.

The wire format is :mod:`regie.lib.supplier_orders`; the state machine is
:func:`regie.orders.services.transition` (one place).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from regie.agreements.models import Supplier
from regie.core import datacategories as dc
from regie.core.models import Board, School
from regie.gateway.models import OAuthClient
from regie.roster.models import Student


def check_endpoint_url(url: str) -> None:
    """https, or plain http on the loopback address (the demo and tests), as redirect URIs are."""
    if not (
        url.startswith("https://")
        or url.startswith("http://127.0.0.1:")
        or url.startswith("http://127.0.0.1/")
        or url.startswith("http://localhost:")
        or url.startswith("http://localhost/")
    ):
        raise ValidationError(
            _("Het adres gebruikt https (http alleen op 127.0.0.1 of localhost)."), code="scheme"
        )
    if "#" in url:
        raise ValidationError(_("Het adres heeft geen fragment (#)."), code="fragment")


class SupplierEndpoint(models.Model):
    """Where a supplier receives orders: one registered URL per supplier."""

    PERSONAL_DATA: ClassVar[bool] = False

    supplier = models.OneToOneField(
        Supplier,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("leverancier"),
    )
    url = models.URLField(
        _("adres voor opdrachten"),
        max_length=500,
        validators=[check_endpoint_url],
        help_text=_("Waar de hub ondertekende opdrachten heen stuurt (HTTPS POST)."),
    )
    is_active = models.BooleanField(_("actief"), default=True)
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)
    updated_at = models.DateTimeField(_("gewijzigd"), auto_now=True)

    class Meta:
        verbose_name = _("adres voor opdrachten")
        verbose_name_plural = _("adressen voor opdrachten")
        ordering = ("supplier__name",)

    def __str__(self) -> str:
        return f"{self.supplier.name}: {self.url}"


class OrderType(models.TextChoices):
    ERASURE = "erasure", _("gegevens verwijderen")
    RECTIFICATION_NOTICE = "rectification-notice", _("melding van correctie")
    ACCESS = "access", _("inzage")
    RESTRICTION = "restriction", _("beperking van verwerking")
    OBJECTION = "objection", _("bezwaar")
    END_OF_CONTRACT_DESTRUCTION = "end-of-contract-destruction", _("vernietiging na einde contract")
    LEGACY_CONVERSION = "legacy-conversion", _("omzetting oude gegevens")


class OrderState(models.TextChoices):
    CREATED = "created", _("aangemaakt")
    SENT = "sent", _("verstuurd")
    ACCEPTED = "accepted", _("aanvaard")
    COMPLETED = "completed", _("uitgevoerd")
    REFUSED = "refused", _("geweigerd")
    FAILED = "failed", _("mislukt")
    OVERDUE = "overdue", _("te laat")
    CANCELLED = "cancelled", _("geannuleerd")


# An order is done when it reached one of these: no more attempts, no more chasing.
FINAL_STATES = (OrderState.COMPLETED, OrderState.REFUSED, OrderState.CANCELLED)
# Waiting on the supplier (or on delivery): what the dashboard counts as outstanding.
OPEN_STATES = (OrderState.CREATED, OrderState.SENT, OrderState.ACCEPTED)


class Order(models.Model):
    """One order to one supplier about some of its pupils. ``body`` is the signed JSON, made
    once and sent byte-identical on every attempt; ``digest`` its Content-Digest (RFC 9530)."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "type": dc.NOT_PERSONAL,
        "supplier": dc.NOT_PERSONAL,
        "board": dc.NOT_PERSONAL,
        "school": dc.NOT_PERSONAL,
        "students": dc.UNIQUE_ID,
        "legal_basis": dc.NOT_PERSONAL,
        "deadline": dc.NOT_PERSONAL,
        "body": dc.SUPPLIER_PSEUDONYM,
        "digest": dc.NOT_PERSONAL,
        "state": dc.NOT_PERSONAL,
        "created_by": dc.UNIQUE_ID,
        "created_at": dc.NOT_PERSONAL,
        "updated_at": dc.NOT_PERSONAL,
        "sent_at": dc.NOT_PERSONAL,
        "done_at": dc.NOT_PERSONAL,
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("soort"), max_length=40, choices=OrderType.choices)
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="+", verbose_name=_("leverancier")
    )
    board = models.ForeignKey(
        Board, on_delete=models.PROTECT, related_name="+", verbose_name=_("bestuur")
    )
    school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("school"),
    )
    students = models.ManyToManyField(
        Student, related_name="+", blank=True, verbose_name=_("leerlingen")
    )
    legal_basis = models.CharField(_("grondslag"), max_length=300)
    deadline = models.DateField(_("uiterste datum"))
    body = models.BinaryField(_("opdracht (ondertekende inhoud)"))
    digest = models.CharField(_("Content-Digest"), max_length=100)
    state = models.CharField(
        _("status"), max_length=12, choices=OrderState.choices, default=OrderState.CREATED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("aangemaakt door"),
    )
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)
    updated_at = models.DateTimeField(_("gewijzigd"), auto_now=True)
    sent_at = models.DateTimeField(_("ontvangen door leverancier"), null=True, blank=True)
    done_at = models.DateTimeField(_("afgerond"), null=True, blank=True)

    class Meta:
        verbose_name = _("opdracht aan leverancier")
        verbose_name_plural = _("opdrachten aan leveranciers")
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("state", "deadline"), name="order_state_deadline")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.pk}"


class DeliveryAttempt(models.Model):
    """One attempt to deliver an order. The row claims the attempt (unique per order and
    number); ``outcome`` is the HTTP status or the error class, never an answer's text."""

    PERSONAL_DATA: ClassVar[bool] = False

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField(_("poging"))
    started_at = models.DateTimeField(_("begonnen"))
    finished_at = models.DateTimeField(_("klaar"), null=True, blank=True)
    status_code = models.PositiveIntegerField(_("HTTP-status"), null=True, blank=True)
    outcome = models.CharField(_("uitkomst"), max_length=100, blank=True)
    delivered = models.BooleanField(_("afgeleverd"), default=False)
    # The worker sending it holds it until then; one killed mid-send leaves it to run out, and
    # the attempt is sent again (the supplier is idempotent by order id).
    claimed_until = models.DateTimeField(null=True, blank=True)
    sends = models.PositiveIntegerField(_("keer verstuurd"), default=0)

    class Meta:
        verbose_name = _("afleverpoging")
        verbose_name_plural = _("afleverpogingen")
        ordering = ("order", "number")
        constraints = [
            models.UniqueConstraint(fields=("order", "number"), name="one_attempt_per_number")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of order {self.order_id}"


class Receipt(models.Model):
    """A supplier's signed receipt (a compact JWS, kept as received), verified and bound to its
    order. ``jti`` is unique per supplier: a replay is refused."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "order": dc.NOT_PERSONAL,
        "supplier": dc.NOT_PERSONAL,
        "client": dc.NOT_PERSONAL,
        "status": dc.NOT_PERSONAL,
        "jti": dc.NOT_PERSONAL,
        "token": dc.SUPPLIER_PSEUDONYM,
        "statement": dc.NOT_PERSONAL,
        "data": dc.EDUCATION,
        "subject_count": dc.NOT_PERSONAL,
        "issued_at": dc.NOT_PERSONAL,
        "verified_at": dc.NOT_PERSONAL,
        "received_via": dc.NOT_PERSONAL,
    }

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="receipts")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(
        OAuthClient, on_delete=models.PROTECT, related_name="+", verbose_name=_("ondertekend door")
    )
    status = models.CharField(_("status"), max_length=12)
    jti = models.CharField(max_length=200)
    token = models.TextField(_("ontvangstbewijs (JWS)"))
    statement = models.TextField(_("verklaring"), blank=True)
    data = models.JSONField(_("gegevens (inzage)"), default=dict, blank=True)
    subject_count = models.PositiveIntegerField(_("aantal leerlingen"), default=0)
    issued_at = models.DateTimeField(_("ondertekend op"))
    verified_at = models.DateTimeField(_("geverifieerd op"))
    received_via = models.CharField(_("ontvangen via"), max_length=20)

    class Meta:
        verbose_name = _("ontvangstbewijs")
        verbose_name_plural = _("ontvangstbewijzen")
        ordering = ("order", "issued_at", "pk")
        constraints = [
            models.UniqueConstraint(fields=("supplier", "jti"), name="receipt_jti_per_supplier")
        ]

    def __str__(self) -> str:
        return f"{self.status} receipt for order {self.order_id}"

    @property
    def status_label(self) -> str:
        """The receipt's status in the reader's language (the order state it reports)."""
        return str(OrderState(self.status).label)
