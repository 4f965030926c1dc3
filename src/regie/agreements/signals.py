"""Signals of the register: other apps follow an agreement without this app knowing them.

- :data:`agreement_status_changed` is sent by :func:`regie.agreements.services.transition` after an
  agreement moved one step along its lifecycle, with ``agreement`` (as it is now), ``before`` and
  ``to`` (the statuses). It is sent inside the step's transaction, after the step is saved and
  audited: what a receiver does (retention orders the destruction at the end of a contract) is
  committed with the step or not at all, so a terminated agreement never lacks its destruction
  order because a process died in between. A receiver that fails undoes the step: keep receivers
  small, and record a refusal (a supplier without an order address) rather than raise it.
"""

from django.dispatch import Signal

agreement_status_changed = Signal()
