"""The hub's authentication backend: Django's, reading a pupil's account with the user.

Every request of a logged-in user loads the user from the session; a pupil's requests then ask
who the pupil is (:func:`.services.student_for`), at every launch step. Reading the account, the
enrolment and the school in the same query as the user saves that query, and for staff it
settles at once that they are no pupil. The guardian's account (or that there is none) comes in the
same query, for the second step (:func:`.second_factor.second_step_due`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .services import PUPIL_ACCOUNT_PATH, read_with_account


class AccountBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        model = get_user_model()
        try:
            user = model._default_manager.select_related(
                PUPIL_ACCOUNT_PATH, "guardian_account"
            ).get(pk=user_id)
        except model.DoesNotExist:
            return None
        return read_with_account(user) if self.user_can_authenticate(user) else None
