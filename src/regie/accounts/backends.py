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

from regie.lib.prepared import Prepared

from .services import PUPIL_ACCOUNT_PATH, read_with_account

# Asked at every request of a logged-in user: compiled once per process (regie.lib.prepared).
_USER = Prepared(
    lambda pk: (
        get_user_model()
        ._default_manager.select_related(PUPIL_ACCOUNT_PATH, "guardian_account")
        .filter(pk=pk)
        .order_by()[:1]
    ),
    pk=int,
)


class AccountBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        try:
            pk = int(user_id)
        except (TypeError, ValueError):  # not a key this backend put in a session
            return None
        user = _USER.first(pk=pk)
        if user is None:
            return None
        return read_with_account(user) if self.user_can_authenticate(user) else None
