"""The parents' and pupils' portal (issue 15): rights requests with their legal deadlines and the
orders they fan out to, and the e-mail notifications sent.

Who acts for which pupil is :mod:`regie.accounts.guardians` (one rule); the orders are
:mod:`regie.orders`'s; what was released is the audit log's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from regie.agreements.models import Supplier
from regie.core import datacategories as dc
from regie.core.models import Board
from regie.orders.models import Order
from regie.roster.models import Student


class RequestKind(models.TextChoices):
    """The rights of AVG art. 15–21 a guardian or pupil can exercise in the portal."""

    ACCESS = "access", _("inzage (art. 15)")
    RECTIFICATION = "rectification", _("correctie (art. 16)")
    ERASURE = "erasure", _("verwijdering (art. 17)")
    RESTRICTION = "restriction", _("beperking (art. 18)")
    OBJECTION = "objection", _("bezwaar (art. 21)")


class RequestState(models.TextChoices):
    RECEIVED = "received", _("ontvangen")
    IN_PROGRESS = "in_progress", _("in behandeling")
    COMPLETED = "completed", _("afgerond")
    REFUSED = "refused", _("geweigerd")


OPEN_REQUEST_STATES = (RequestState.RECEIVED, RequestState.IN_PROGRESS)


class RightsRequest(models.Model):
    """One request about one pupil, with its deadline: one month from receipt, extended by at
    most two months with a reason the requester sees (AVG art. 12(3))."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "board": dc.RELATION,
        "student": dc.UNIQUE_ID,
        "kind": dc.PRIVACY_PREFERENCES,
        "filed_by": dc.USERNAME,
        "filed_as": dc.RELATION,
        "explanation": dc.CONTENT,
        "received_at": dc.NOT_PERSONAL,
        "deadline": dc.NOT_PERSONAL,
        "extended_to": dc.NOT_PERSONAL,
        "extension_reason": dc.CONTENT,
        "state": dc.NOT_PERSONAL,
        "decision": dc.CONTENT,
        "closed_at": dc.NOT_PERSONAL,
        "hub_outcome": dc.PRIVACY_PREFERENCES,
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    board = models.ForeignKey(Board, on_delete=models.PROTECT, related_name="rights_requests")
    student = models.ForeignKey(
        Student,
        on_delete=models.PROTECT,
        related_name="rights_requests",
        verbose_name=_("leerling"),
    )
    kind = models.CharField(_("soort"), max_length=20, choices=RequestKind.choices)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    filed_as = models.CharField(_("ingediend door"), max_length=10)  # "guardian" | "pupil"
    explanation = models.TextField(_("toelichting"), blank=True)
    received_at = models.DateTimeField(_("ontvangen"))
    deadline = models.DateField(_("uiterste datum"))
    extended_to = models.DateField(_("verlengd tot"), null=True, blank=True)
    extension_reason = models.TextField(_("reden van verlenging"), blank=True)
    state = models.CharField(
        _("status"), max_length=12, choices=RequestState.choices, default=RequestState.RECEIVED
    )
    decision = models.TextField(_("besluit / reden"), blank=True)
    closed_at = models.DateTimeField(_("afgerond op"), null=True, blank=True)
    # What the hub itself did and kept, and why (for erasure): [{"what", "done", "why"}].
    hub_outcome = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("verzoek")
        verbose_name_plural = _("verzoeken")
        ordering = ("deadline", "received_at")
        indexes = [models.Index(fields=("board", "state", "deadline"), name="request_queue")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.received_at:%Y-%m-%d})"

    @property
    def due_on(self) -> date:
        return self.extended_to or self.deadline


class RequestOrder(models.Model):
    """An order a request fanned out to one supplier (that received data about the pupil)."""

    PERSONAL_DATA: ClassVar[bool] = False

    request = models.ForeignKey(RightsRequest, on_delete=models.CASCADE, related_name="fan_out")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="+")
    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="rights_request_link"
    )
    # Why no order went (the supplier has no order address, …): shown to the requester.
    not_sent_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("request", "supplier"), name="request_order_supplier")
        ]

    def __str__(self) -> str:
        return f"{self.request_id} → {self.supplier_id}"


class RequestStep(models.Model):
    """One line of a request's history, as the requester and the privacy officer see it."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "request": dc.RELATION,
        "at": dc.NOT_PERSONAL,
        "what": dc.NOT_PERSONAL,
        "text": dc.CONTENT,
    }

    request = models.ForeignKey(RightsRequest, on_delete=models.CASCADE, related_name="steps")
    at = models.DateTimeField()
    what = models.CharField(max_length=40)  # a code: received, extended, order_sent, …
    text = models.TextField(blank=True)

    class Meta:
        ordering = ("at", "pk")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.what}"


class NotificationKind(models.TextChoices):
    INVITATION = "invitation", _("uitnodiging")
    REQUEST_RECEIVED = "request_received", _("verzoek ontvangen")
    REQUEST_EXTENDED = "request_extended", _("verzoek verlengd")
    REQUEST_COMPLETED = "request_completed", _("verzoek afgerond")
    REQUEST_OVERDUE = "request_overdue", _("verzoek loopt uit")


class Notification(models.Model):
    """An e-mail to a guardian or pupil, sent by the job ``portal.send_notification`` (its payload:
    this row's id, never an address). ``sent_at`` is set once it went."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "kind": dc.NOT_PERSONAL,
        "to": dc.EMAIL,
        "subject": dc.CONTENT,
        "body": dc.CONTENT,
        "request": dc.RELATION,
        "created_at": dc.NOT_PERSONAL,
        "sent_at": dc.NOT_PERSONAL,
    }

    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    request = models.ForeignKey(
        RightsRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.kind} ({self.created_at:%Y-%m-%d})"
