"""The care group's working calendar: which days are working days.

Invariants: nothing is planned on a weekend, a Dutch public holiday or a closure day of the
care group (when duties fall due on it: ``domain.rules.timing`` and ``domain.obligations``).

Liberation Day (5 May) is in ``holidays.NL``'s default category only every fifth year; a
care group that is closed on it every year says so with ``liberation_day_every_year``.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path

import holidays
from dateutil.relativedelta import relativedelta

_DUTCH = "holidays.countries.netherlands"
_DUTCH_LOCK = threading.Lock()


def _load_dutch_holidays_only() -> None:
    """Put ``holidays``' module of the Netherlands in ``sys.modules`` without its package ``holidays.countries``.

    That package imports every country the library knows (some 250 modules, a good part of a command's start-up)
    before ``holidays.country_holidays("NL")`` can take one; the library's own loader imports the module by its full
    name, so it finds this one (and so does ``holidays.countries`` if anything imports it later: one class)."""
    with _DUTCH_LOCK:
        if _DUTCH in sys.modules:
            return
        path = Path(holidays.__file__).parent / "countries" / "netherlands.py"
        spec = importlib.util.spec_from_file_location(_DUTCH, path) if path.is_file() else None
        if spec is None or spec.loader is None:  # pragma: no cover - the library moved it: it loads it its own way
            return
        module = importlib.util.module_from_spec(spec)
        sys.modules[_DUTCH] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:  # pragma: no cover - then the library's own import says what is wrong
            del sys.modules[_DUTCH]
            raise


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
        _load_dutch_holidays_only()
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


_PERIOD = re.compile(r"^(\d{4})(?:[KkQq](\d)|-(\d{2}))?$")


def period_bounds(text: str) -> tuple[date, date]:
    """The first and last day of a period as staff write it: ``2025K3`` (a quarter), ``2025-07`` (a month) or
    ``2025`` (a year); ``ValueError`` with the forms it takes otherwise (the board's report, its download)."""
    match = _PERIOD.fullmatch(text.strip())
    if not match or (match.group(2) and not 1 <= int(match.group(2)) <= 4) or (
            match.group(3) and not 1 <= int(match.group(3)) <= 12):
        raise ValueError("verwacht bijv. 2025K3 (kwartaal), 2025-07 (maand) of 2025 (jaar)")
    year = int(match.group(1))
    if match.group(2):
        start = date(year, 3 * int(match.group(2)) - 2, 1)
        return start, start + relativedelta(months=3, days=-1)
    if match.group(3):
        start = date(year, int(match.group(3)), 1)
        return start, start + relativedelta(months=1, days=-1)
    return date(year, 1, 1), date(year, 12, 31)
