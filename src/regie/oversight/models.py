"""The models of oversight at the hub: incidents (``Incident`` …) and aggregate reports
(``AggregateReport``). See ``docs/oversight.md``."""

from __future__ import annotations
