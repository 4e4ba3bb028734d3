"""The care group's working calendar and the due dates it yields.

Invariants: nothing is planned on a weekend, a Dutch public holiday or a closure day of the
care group. A duty that must happen *within* a span is pulled back to the last working day
on or before the span's end, never pushed past it.

Liberation Day (5 May) is in ``holidays.NL``'s default category only every fifth year; a
care group that is closed on it every year says so with ``liberation_day_every_year``.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path

import holidays
from dateutil.relativedelta import relativedelta

from domain.policy import Policy
from domain.trajectory import TrajectoryState, TrajectoryView

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


DUE_NAMES_NL = {
    "annual_conversation": "kwaliteitsjaargesprek",
    "extra_conversation": "extra gesprek",
    "board_progress_report": "voortgangsbericht bestuur",
}


@dataclass(frozen=True)
class Due:
    what: str  # "annual_conversation" | "extra_conversation" | "board_progress_report"
    on: date

    @property
    def name_nl(self) -> str:
        return DUE_NAMES_NL[self.what]


def next_due(view: TrajectoryView, policy: Policy, calendar: WorkingCalendar) -> Due | None:
    """The earliest duty a practice's trajectory has open, on a working day."""
    if view.state in (TrajectoryState.START, TrajectoryState.LEFT):
        return None
    dues: list[Due] = []
    last = view.last_annual_conversation_on or view.cycle_started_on
    if last is not None:
        span_end = last + relativedelta(months=policy.annual_conversation_every_months)
        dues.append(Due("annual_conversation", calendar.on_or_before(span_end)))
    if view.state is TrajectoryState.EXTRA_CONVERSATION and view.flagged_on is not None:
        span_end = view.flagged_on + timedelta(days=policy.extra_conversation_within_days)
        dues.append(Due("extra_conversation", calendar.on_or_before(span_end)))
    report_on = progress_report_due_on(view, policy, calendar)
    if report_on is not None:
        dues.append(Due("board_progress_report", report_on))
    return min(dues, key=lambda d: d.on) if dues else None


def progress_report_due_on(view: TrajectoryView, policy: Policy, calendar: WorkingCalendar) -> date | None:
    """When the board next hears how a trajectory under the policy goes (a working day)."""
    if view.state is not TrajectoryState.UNDERPERFORMER_POLICY or view.last_progress_report_at is None:
        return None
    report_on = view.last_progress_report_at.date() + relativedelta(months=policy.progress_report_every_months)
    return calendar.on_or_after(report_on)


def next_evaluation_on(view: TrajectoryView, score_periods: Iterable[date], policy: Policy,
                       calendar: WorkingCalendar, on: date) -> date | None:
    """The first day after ``on`` on which time alone, with no new fact, can change what the rules decide
    for this trajectory; ``None`` when only a new fact can (a sweep then skips the practice until one comes).

    The rules read the day in three ways: a score counts once its period has ended (``latest_scores``),
    the underperformer rule waits ``underperformer_after_months`` after the plan (seed 1: "na een jaar"),
    and a progress report is due every ``progress_report_every_months`` under the policy.
    """
    # a period's figures come into view once they count (its end plus the policy's publication delay)
    days = [end + timedelta(days=policy.figures_count_after_days) for end in score_periods]
    if view.state is TrajectoryState.IMPROVEMENT_PLAN and view.plan_agreed_on is not None:
        days.append(view.plan_agreed_on + relativedelta(months=policy.underperformer_after_months))
    report_on = progress_report_due_on(view, policy, calendar)
    if report_on is not None:
        days.append(report_on)
    later = [d for d in days if d > on]
    return min(later) if later else None
