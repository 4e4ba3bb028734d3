"""The care group's working calendar: which days are working days.

Invariants: nothing is planned on a weekend, a Dutch public holiday or a closure day of the
care group (when duties fall due on it: ``domain.rules.timing`` and ``domain.obligations``).

Liberation Day (5 May) is in ``holidays.NL``'s default category only every fifth year; a
care group that is closed on it every year says so with ``liberation_day_every_year``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

import holidays


@dataclass(frozen=True)
class WorkingCalendar:
    closure_days: frozenset[date] = frozenset()
    liberation_day_every_year: bool = False

    @classmethod
    def with_closures(cls, days: Iterable[date], liberation_day_every_year: bool = False) -> WorkingCalendar:
        return cls(frozenset(days), liberation_day_every_year)

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        categories = ("public", "optional") if self.liberation_day_every_year else ("public",)
        return holidays.country_holidays("NL", categories=categories, language="nl")

    def holiday_name(self, day: date) -> str | None:
        name = self._holidays.get(day)
        return str(name) if name else None

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.closure_days and day not in self._holidays

    def on_or_before(self, day: date) -> date:
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def on_or_after(self, day: date) -> date:
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day
