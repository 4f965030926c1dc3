"""Signals of the gateway: apps above it follow what suppliers send without the gateway knowing
them.

- :data:`pseudonym_seen` is sent where the gateway resolves a pseudonym a supplier named itself
  — a result posted for a pupil (``channel="results"``), a OneRoster request for one pupil by
  their ``sourcedId`` (in the path or in a ``filter``; ``channel="oneroster"``) — with
  ``supplier`` (the :class:`~regie.agreements.models.Supplier`), ``student_id`` (the pupil the
  pseudonym was kept for, canaries included) and ``channel``. It is sent before the gateway
  decides whether to answer: a supplier asking about a pupil it may no longer see is seen too.
  Receivers get no pseudonym (they need none) and must be cheap: every such request sends it.
"""

from django.dispatch import Signal

ONEROSTER = "oneroster"
RESULTS = "results"

pseudonym_seen = Signal()
