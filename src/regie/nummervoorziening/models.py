"""What the number service stores: client registrations, substitutions and pending batches.

A client registration holds the client's role (a LAS or a hub) and, for a hub, the suppliers for
which it may obtain supplier pseudonyms (:class:`ClientSupplier`, by the identifier the hub asks
with: the supplier's KvK number or OIN). Supplier identifiers are not personal data.

Nothing else. No PGN, HPgn or issued pseudonym is stored: a substitution holds two *anchors*
(keyed blinds of HPgns that never leave the service), and a batch holds its items only until a
worker has processed them and its results only until they are retrieved or expire.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from regie.audit.services import nv_client_actor

OIN_VALIDATOR = RegexValidator(r"^[0-9]{20}$", _("An OIN is 20 digits."))


def default_daily_quota() -> int:
    return int(settings.NV_DEFAULT_DAILY_BATCH_QUOTA)


class ClientRole(models.TextChoices):
    """What a client may obtain. Both roles have every operation of the national ``eckid.wsdl``
    (stampseudonyms, ECK iDs, substitutions, their batches); only a hub obtains supplier
    pseudonyms, and only for the suppliers in its registration."""

    LAS = "las", _("LAS (leerlingadministratie)")
    HUB = "hub", _("hub van een schoolbestuur")


class Client(models.Model):
    """A party allowed to call the number service (a LAS, a hub), identified by its OIN."""

    PERSONAL_DATA: ClassVar[bool] = False

    oin = models.CharField(_("OIN"), max_length=20, unique=True, validators=[OIN_VALIDATOR])
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(
        _("rol"),
        max_length=8,
        choices=ClientRole.choices,
        default=ClientRole.LAS,
        help_text=_(
            "Een LAS vraagt stampseudoniemen en ECK iD's op; alleen een hub krijgt "
            "leverancierspseudoniemen, en alleen voor zijn eigen leveranciers."
        ),
    )
    api_key_prefix = models.CharField(
        max_length=16, unique=True, null=True, blank=True, editable=False
    )
    api_key_hash = models.CharField(max_length=64, blank=True, editable=False)
    daily_batch_quota = models.PositiveIntegerField(
        _("batches per day"), default=default_daily_quota
    )
    blocked_until = models.DateTimeField(
        _("blocked until"),
        null=True,
        blank=True,
        help_text=_("While set and in the future, every call is refused (TemporaryBlocked)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("number service client")
        verbose_name_plural = _("number service clients")
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} ({self.oin})"

    @property
    def audit_actor(self) -> str:
        return nv_client_actor(self.oin)

    def is_blocked(self, now: datetime | None = None) -> bool:
        return self.blocked_until is not None and self.blocked_until > (now or timezone.now())

    def supplier_ids(self) -> list[str]:
        """The suppliers this client may obtain supplier pseudonyms for, sorted."""
        return sorted(self.suppliers.values_list("supplier_id", flat=True))


class ClientSupplier(models.Model):
    """A supplier for which a hub client may obtain supplier pseudonyms.

    Set by the operator (``regie nv-client suppliers``, the admin) or declared by the hub itself
    (``PUT /clients/me/suppliers``): the suppliers its boards have a signed or active processing
    agreement with.
    """

    PERSONAL_DATA: ClassVar[bool] = False

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="suppliers")
    supplier_id = models.CharField(_("leverancier (KvK-nummer of OIN)"), max_length=20)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("leverancier van een client")
        verbose_name_plural = _("leveranciers van een client")
        ordering = ("client", "supplier_id")
        constraints = [
            models.UniqueConstraint(
                fields=("client", "supplier_id"), name="nv_client_supplier_unique"
            )
        ]

    def __str__(self) -> str:
        return self.supplier_id


class Substitution(models.Model):
    """replaceStampseudonym: from ``effective_at`` on, ``anchor_new`` resolves to ``anchor_old``."""

    PERSONAL_DATA: ClassVar[bool] = False

    anchor_new = models.BinaryField(max_length=32, unique=True)
    anchor_old = models.BinaryField(max_length=32, db_index=True)
    effective_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="substitutions")

    class Meta:
        verbose_name = _("substitution")
        verbose_name_plural = _("substitutions")

    def __str__(self) -> str:
        return f"substitution {self.pk} (effective {self.effective_at:%Y-%m-%d})"


class BatchKind(models.TextChoices):
    STAMPSEUDONYM = "stampseudonym", _("stampseudonyms from HPgns")
    ECK_ID = "eckid", _("ECK iDs from stampseudonyms")
    SUPPLIER = "supplier", _("supplier pseudonyms from ECK iDs")


class BatchStatus(models.TextChoices):
    OPEN = "open", _("submitted")
    RETRIEVED = "retrieved", _("retrieved")
    REMOVED = "removed", _("removed unretrieved")


class Batch(models.Model):
    """A submitted batch. Whether it is finished follows from its chunks."""

    PERSONAL_DATA: ClassVar[bool] = False

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="batches")
    kind = models.CharField(max_length=20, choices=BatchKind.choices)
    chain_id = models.CharField(max_length=200, blank=True)
    sector_id = models.CharField(max_length=200, blank=True)
    supplier_id = models.CharField(max_length=20, blank=True)
    item_count = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=BatchStatus.choices, default=BatchStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.item_count} · {self.get_status_display()}"


class BatchChunkQuerySet(models.QuerySet["BatchChunk"]):
    def claimable(self, now: datetime) -> BatchChunkQuerySet:
        return self.filter(done=False).filter(
            models.Q(lease_until__isnull=True) | models.Q(lease_until__lt=now)
        )


class BatchChunk(models.Model):
    """A slice of a batch that one worker processes and commits at once.

    ``items`` (JSON ``[[index, value], …]``) is emptied in the same transaction that stores
    ``results`` and sets ``done``, so a killed worker leaves the chunk as it was: claimable again
    once its lease runs out, never half-processed and never processed twice.
    """

    PERSONAL_DATA: ClassVar[bool] = False

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="chunks")
    sequence = models.PositiveIntegerField()
    items = models.BinaryField(blank=True)
    results = models.BinaryField(null=True, blank=True)
    done = models.BooleanField(default=False, db_index=True)
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    objects: ClassVar[BatchChunkQuerySet] = BatchChunkQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("batch", "sequence"), name="nv_chunk_unique_sequence")
        ]
        ordering = ("batch", "sequence")

    def __str__(self) -> str:
        return f"chunk {self.sequence} of batch {self.batch_id}"
