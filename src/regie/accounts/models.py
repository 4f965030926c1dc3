"""Logins of pupils at the hub (local accounts in the embedded default).

A staff login is a Django user linked from :class:`regie.roster.models.Staff`; a pupil's login is
a Django user linked to their enrolment here. In production the school's own identity provider
will log pupils in (an upstream OIDC provider per board); the link is the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from regie.core import datacategories as dc
from regie.roster.models import Student


class PupilAccount(models.Model):
    """The login of one pupil (at one school)."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "user": dc.USERNAME,
        "student": dc.UNIQUE_ID,
    }

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pupil_account"
    )
    student = models.ForeignKey(
        Student, on_delete=models.CASCADE, related_name="accounts", verbose_name=_("leerling")
    )

    class Meta:
        verbose_name = _("leerlingaccount")
        verbose_name_plural = _("leerlingaccounts")

    def __str__(self) -> str:
        return str(self.user)
