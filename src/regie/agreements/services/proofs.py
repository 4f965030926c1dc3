"""The proof that a supplier destroyed an agreement's data: the step to "data destroyed" takes one.

A proof is a short text ``<kind>:<id>`` naming a record that shows the destruction — the supplier's
completed receipt of the destruction order, a statement received otherwise, or the record that
nothing was released. This app cannot read those records (they belong to apps above it in the
app order): the app that keeps them registers a check per kind (:func:`register_proof`, from its
``AppConfig.ready``), and :func:`check_proof` refuses a proof no check accepts. Without any check
registered, no agreement reaches "data destroyed".
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _

from ..models import ProcessingAgreement
from .common import Refused

ProofCheck = Callable[[ProcessingAgreement, str], bool]
"""``check(agreement, id)``: whether the record ``id`` of this kind proves the destruction of
``agreement``'s data."""

_CHECKS: dict[str, ProofCheck] = {}


def register_proof(kind: str, check: ProofCheck) -> None:
    """Accept proofs ``<kind>:<id>`` that ``check`` confirms (registering again replaces it)."""
    _CHECKS[kind] = check


def unregister_proof(kind: str) -> None:
    """Stop accepting proofs of ``kind`` (tests that registered their own)."""
    _CHECKS.pop(kind, None)


def check_proof(agreement: ProcessingAgreement, proof: str) -> None:
    """:class:`Refused` unless ``proof`` proves that ``agreement``'s data was destroyed."""
    if not proof:
        raise Refused(
            _(
                "De status ‘gegevens vernietigd’ volgt op het bewijs van de leverancier: het "
                "ontvangstbewijs van de opdracht tot vernietiging, of een verklaring van "
                "vernietiging die u vastlegt bij Bewaartermijnen › Einde van contracten. Dat "
                "bewijs is er nog niet."
            )
        )
    kind, _separator, value = proof.partition(":")
    check = _CHECKS.get(kind)
    if check is None or not value or not check(agreement, value):
        raise Refused(_("Dit bewijs van vernietiging hoort niet bij deze overeenkomst."))
