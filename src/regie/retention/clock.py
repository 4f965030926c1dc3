"""The day retention acts on: today, or — in the demo and the tests only — a simulated day.

With ``REGIE_SIMULATED_CLOCK`` on, ``regie clock advance --days N`` moves the day retention sees
(the run, the "coming up" page, the deadlines of its orders) N days ahead, for every process that
reads this database: the hub and its worker alike. Only retention's day: what may be released
(licences in force, agreements) always follows the real day, so a conversion table or a canary
planted in the demo's future is decided as today. In production the setting is off and
:func:`advance` refuses; :func:`today` is then ``timezone.localdate()``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from .models import SimulatedClock


class ClockRefused(Exception):
    """The simulated clock is off: production keeps the real day."""


def simulated() -> bool:
    return bool(getattr(settings, "SIMULATED_CLOCK", False))


def offset_days() -> int:
    if not simulated():
        return 0
    row = SimulatedClock.objects.order_by("pk").first()
    return row.offset_days if row is not None else 0


def today() -> dt.date:
    """The day retention acts on."""
    return timezone.localdate() + dt.timedelta(days=offset_days())


def now() -> dt.datetime:
    """The moment retention acts on (the real time, moved by the same offset)."""
    return timezone.now() + dt.timedelta(days=offset_days())


def advance(days: int) -> dt.date:
    """Move the simulated day ``days`` ahead (negative: back); the new day."""
    if not simulated():
        raise ClockRefused("the simulated clock is off (REGIE_SIMULATED_CLOCK)")
    row = SimulatedClock.objects.order_by("pk").first() or SimulatedClock()
    row.offset_days += days
    row.save()
    return today()


def reset() -> dt.date:
    if not simulated():
        raise ClockRefused("the simulated clock is off (REGIE_SIMULATED_CLOCK)")
    SimulatedClock.objects.all().delete()
    return today()
