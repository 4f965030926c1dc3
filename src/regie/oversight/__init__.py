"""Oversight at the hub: data breaches (datalekken) with the 72-hour clock, and the hub's signed
aggregate reports for the sector dashboard (:mod:`regie.sector`). See ``docs/oversight.md``."""
