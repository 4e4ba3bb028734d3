"""Time as an argument: the clock protocol and a clock for tests and simulations.

Invariant: every moment is timezone-aware and shown in Europe/Amsterdam. The real clock
lives at the edge (``flows``), never here.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class Clock(Protocol):
    def now(self) -> datetime: ...


class FixedClock:
    """A clock that only moves when told to, so a test can run years in a second."""

    def __init__(self, moment: datetime) -> None:
        self._moment = as_amsterdam(moment)

    def now(self) -> datetime:
        return self._moment

    def set(self, moment: datetime) -> None:
        self._moment = as_amsterdam(moment)

    def advance(self, delta: timedelta) -> datetime:
        self._moment = self._moment + delta
        return self._moment


def as_amsterdam(moment: datetime) -> datetime:
    """A naive moment is read as Amsterdam wall-clock time; an aware one is converted."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=AMSTERDAM)
    return moment.astimezone(AMSTERDAM)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=AMSTERDAM)
