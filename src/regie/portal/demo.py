"""The demo's guardian: a portal login for a parent of the first demo pupil (all data fictional).

:func:`demo_guardian_login` gives the guardian of ``leerling1`` (the first demo pupil, in a group
licensed for *Rekenwereld*) the login ``ouder``, as if they had accepted the school's invitation:
its e-mail address is the guardian's address in the school's export. So that the demo can show a
consent being withdrawn, the guardian has consented to the first name for *Rekenwereld* when no
decision of theirs is in force yet. The child has one fictional psychodiagnostic result
(``roster.demo.demo_sensitive_record``): the care coordinator ``ib`` reads it, and the guardian sees
the read here. Running it again resets the password and keeps the same
guardian.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from regie.accounts.demo import DEMO_PRODUCT, DEMO_PUPILS
from regie.accounts.models import GuardianAccount, PupilAccount
from regie.agreements import services as register
from regie.agreements.models import Consent, Product
from regie.core.models import Board
from regie.roster.demo import demo_sensitive_record

DEMO_GUARDIAN = "ouder"
CONSENTED_ATTRIBUTE = "first_name"


@transaction.atomic
def demo_guardian_login(board: Board, password: str) -> tuple[str, str] | None:
    """(username, description) of the demo guardian's login, or None when the first demo pupil
    has no guardian with an e-mail address."""
    account = (
        PupilAccount.objects.filter(user__username=DEMO_PUPILS[0], student__school__board=board)
        .select_related("student")
        .first()
    )
    if account is None:
        return None
    student = account.student
    guardian = student.guardians.filter(is_active=True).exclude(email="").order_by("pk").first()
    if guardian is None:
        return None
    email = guardian.email.lower()
    user = User.objects.filter(username=DEMO_GUARDIAN).first()
    if user is None:
        user = User.objects.create_user(username=DEMO_GUARDIAN, email=email, password=password)
    elif user.staff_memberships.exists() or user.is_staff or hasattr(user, "pupil_account"):
        return None  # never turn someone else's login into a guardian's
    user.set_password(password)
    user.email = email
    user.save(update_fields=["password", "email"])
    GuardianAccount.objects.filter(board=board, email=email).exclude(user=user).delete()
    GuardianAccount.objects.update_or_create(user=user, defaults={"board": board, "email": email})
    product = Product.objects.filter(name=DEMO_PRODUCT).first()
    if product is not None and not register.decides_own_consent(student):
        latest = (
            Consent.objects.filter(student=student, product=product, attribute=CONSENTED_ATTRIBUTE)
            .order_by("-decided_at", "-pk")
            .first()
        )
        if latest is None:
            register.record_consent(
                student, product, CONSENTED_ATTRIBUTE, True, guardian=guardian, user=None
            )
    demo_sensitive_record(student)  # the care coordinator ``ib`` reads it; the guardian sees that
    return DEMO_GUARDIAN, f"ouder/verzorger van {student.roepnaam or student.voornamen}"
