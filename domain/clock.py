"""Time as an argument: the clock protocol, a clock for tests and simulations, and the one conversion
of a moment from the edge.

Invariants:
- Every moment inside the product is a plain ``datetime.datetime`` (never a subclass such as Prefect's
  pendulum ``DateTime``), timezone-aware, in Europe/Amsterdam, to the microsecond. ``as_amsterdam`` makes
  one out of whatever an edge hands over (a CLI option, a flow parameter, Prefect's scheduled start time,
  APScheduler's fire time) and ``parse_moment`` out of text: pendulum's arithmetic drops the zone
  (``DateTime - timedelta`` is naive) and its serialisation differs, which once stored every scheduled run's
  step an hour off and made every scheduled dispatch fail (issue 9).
- The real clock lives at the edge (``flows``), never here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.errors import InputError

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
    """The same instant as a plain ``datetime`` in Europe/Amsterdam. A naive moment is read as Amsterdam
    wall-clock time; an aware one (of any ``datetime`` subclass and any zone) is converted exactly."""
    if type(moment) is datetime:  # the common case, and the only one the standard library handles alone
        return moment.replace(tzinfo=AMSTERDAM) if moment.tzinfo is None else moment.astimezone(AMSTERDAM)
    # a subclass (pendulum's DateTime from Prefect): rebuild from its fields and its offset, not through its
    # own astimezone or arithmetic, whose results keep the subclass and may lose the zone
    offset = moment.utcoffset()
    if offset is None:
        return datetime(moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
                        moment.microsecond, tzinfo=AMSTERDAM, fold=moment.fold)
    wall = datetime(moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
                    moment.microsecond, tzinfo=UTC)  # the wall time, labelled UTC only to subtract the offset
    return (wall - offset).astimezone(AMSTERDAM)


class MomentError(InputError):
    """A moment given as text that cannot be read."""


def parse_moment(text: str) -> datetime:
    """A moment typed by a person or passed as a parameter: ISO 8601 (``2025-06-02T06:00``, with or without
    seconds and offset, or only a date, meaning its start); without an offset it is Amsterdam wall time."""
    try:
        return as_amsterdam(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise MomentError(f"moment {text!r} onleesbaar: gebruik JJJJ-MM-DD of JJJJ-MM-DDTUU:MM[:SS]") from None


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=AMSTERDAM)


# A fact known by its day (a conversation held on, a practice left on) counts from noon of that day: after
# that morning's runs (the schedule runs every duty before 07:00), before the next day's. Fixed, not the time
# it was typed in, so history entered years later takes the same steps as history entered on the day.
FACT_TIME = time(12, 0)


def fact_moment(day: date) -> datetime:
    """The moment a fact dated ``day`` counts from: noon, Europe/Amsterdam."""
    return datetime.combine(day, FACT_TIME, tzinfo=AMSTERDAM)


def future_fact(what: str, day: date, today: date, then: str) -> str | None:
    """Why a fact dated ``day`` cannot be recorded on ``today`` (it has not happened yet), or None when it can:
    the one wording of every such refusal (a conversation, a departure, a kit, a course, a period's figures)."""
    if day <= today:
        return None
    return f"{what} {day.isoformat()} ligt in de toekomst (vandaag is {today.isoformat()}); {then}"
