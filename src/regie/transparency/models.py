"""The published log: the checkpoints the hub signed, the witnesses it sends them to, and the
cosignatures they gave back. None of it is personal data; all of it is public at ``/log/``."""

from __future__ import annotations

from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from regie.audit import signed_note


def validate_witness_vkey(value: str) -> None:
    try:
        verifier = signed_note.verifier_from_vkey(value)
    except signed_note.NoteError as error:
        raise ValidationError(
            _("Geen geldige sleutel van een getuige: %(reason)s"), params={"reason": str(error)}
        ) from None
    if verifier.key_type != signed_note.COSIGNATURE_V1:
        raise ValidationError(
            _("Dit is geen sleutel voor medeondertekening (cosignature/v1, type 0x04).")
        )


class Witness(models.Model):
    PERSONAL_DATA: ClassVar[bool] = False

    url = models.URLField(
        _("adres"),
        help_text=_("Het adres van de getuige; de hub stuurt naar <adres>/add-checkpoint."),
    )
    vkey = models.CharField(
        _("sleutel"),
        max_length=300,
        unique=True,
        validators=[validate_witness_vkey],
        help_text=_("De publieke sleutel van de getuige (naam+sleutel-id+sleutel)."),
    )
    active = models.BooleanField(_("actief"), default=True)
    size = models.BigIntegerField(
        _("grootte"), default=0, help_text=_("Het aantal gebeurtenissen dat de getuige kent.")
    )
    cosigned_at = models.DateTimeField(_("laatst medeondertekend"), null=True, blank=True)
    failed_at = models.DateTimeField(_("laatst mislukt"), null=True, blank=True)
    failure = models.CharField(_("reden"), max_length=300, blank=True)
    refused = models.BooleanField(
        _("geweigerd"),
        default=False,
        help_text=_("De getuige weigerde het laatste controlepunt (niet: was onbereikbaar)."),
    )

    class Meta:
        verbose_name = _("getuige")
        verbose_name_plural = _("getuigen")
        ordering = ("pk",)

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.vkey.partition("+")[0]

    @property
    def verifier(self) -> signed_note.Verifier:
        return signed_note.verifier_from_vkey(self.vkey)


class Checkpoint(models.Model):
    """A checkpoint the hub signed (C2SP tlog-checkpoint in a signed note)."""

    PERSONAL_DATA: ClassVar[bool] = False

    size = models.BigIntegerField(unique=True)
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField(help_text="The note as the log signed it, without cosignatures.")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("-size",)

    def __str__(self) -> str:
        return f"checkpoint {self.size}"

    def cosigned(self) -> bytes:
        """The note with every cosignature a witness gave for it."""
        lines = [item.line for item in self.cosignatures.order_by("pk")]
        return signed_note.add_signatures(self.note.encode(), lines)


class Cosignature(models.Model):
    PERSONAL_DATA: ClassVar[bool] = False

    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.CASCADE, related_name="cosignatures"
    )
    witness = models.ForeignKey(Witness, on_delete=models.PROTECT, related_name="cosignatures")
    line = models.TextField()
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness"], name="one_cosignature_each")
        ]

    def __str__(self) -> str:
        return f"cosignature of {self.checkpoint} by witness {self.witness_id}"
