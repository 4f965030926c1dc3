"""The portal tests' world: board A's register (``agreements.tests.register.World``: Rekenwereld
with pseudonym, groups and the consent-gated first name on its schedule, licensed for group 5 of
school A1, groups and first name switched on), and the portal's people:

- guardian A with child A, guardian B with child B (both in group 5 of A1, board A);
- a guardian at board B with a child at school B1;
- helpers for a pupil's own login, a child's release events and rights requests.

Guardians are made directly (an account for the address the school's export holds), not through
an invitation: that is another part of issue 15.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from datetime import date

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from regie.accounts.models import GuardianAccount
from regie.accounts.services import create_pupil_login
from regie.agreements import services as register
from regie.agreements.tests.register import World, license_group
from regie.audit.models import AuditEvent
from regie.audit.services import SYSTEM, record
from regie.core.models import Board
from regie.gateway.events import RELEASE
from regie.logins import verified_client
from regie.roster.models import Guardian, Student

from ..models import RequestKind, RightsRequest

PASSWORD = "fictief-wachtwoord-123"


def make_guardian(board: Board, guardian: Guardian) -> User:
    """A portal login for ``guardian``'s address at ``board``."""
    user = User.objects.create_user(username=f"ouder-{secrets.token_hex(4)}", password=PASSWORD)
    GuardianAccount.objects.create(user=user, board=board, email=guardian.email.lower())
    return user


def make_pupil_login(student: Student) -> User:
    return create_pupil_login(student, f"leerling-{secrets.token_hex(4)}", PASSWORD)


def sixteenth_birthday_is(student: Student, day: date) -> None:
    """Give ``student`` the birth date that makes ``day`` their 16th birthday."""
    student.birth_date = day.replace(year=day.year - 16)  # 16 years apart: both leap or not
    student.save(update_fields=["birth_date"])


def release(student: Student, world: World, attributes: tuple[str, ...]) -> AuditEvent:
    """A release of ``student``'s data to Rekenwereld by single sign-on, as the gateway records it."""
    details = {
        "channel": "id_token",
        "supplier": world.supplier.pk,
        "product": world.product.pk,
        "attributes": list(attributes),
    }
    return record(RELEASE, SYSTEM, f"student:{student.pk}", details)


def rights_request(student: Student) -> RightsRequest:
    now = timezone.now()
    return RightsRequest.objects.create(
        board=student.school.board,
        student=student,
        kind=RequestKind.ACCESS,
        filed_as="guardian",
        received_at=now,
        deadline=timezone.localdate() + dt.timedelta(days=30),
    )


class PortalWorld(World):
    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        license_group(self.product, self.group)
        for attribute in ("groups", "first_name"):
            register.set_switch(self.a1, self.product, attribute, True, user=None)
        pupils = list(Student.objects.filter(school=self.a1, groups=self.group).order_by("pk"))
        self.child_a, self.child_b = pupils[0], pupils[1]
        self.guardian_a = self.child_a.guardians.get()
        self.guardian_b = self.child_b.guardians.get()
        self.user_a = make_guardian(self.board_a, self.guardian_a)
        self.user_b = make_guardian(self.board_a, self.guardian_b)
        self.child_other = Student.objects.filter(school=self.b1).order_by("pk")[0]
        self.user_other = make_guardian(self.board_b, self.child_other.guardians.get())

    def client(self, user: User) -> Client:
        return verified_client(user)
