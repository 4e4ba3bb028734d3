"""When a trajectory's duties fall due, on the working calendar, and when time alone can change a decision.

Seed, section 1: the annual conversation every year, an extra conversation soon after a deviation is flagged,
and the board told of an improvement trajectory under the underperformer policy at a fixed rhythm. The spans are
the policy's (``annual_conversation_every_months``, ``extra_conversation_within_days``,
``progress_report_every_months``, ``underperformer_after_months``, ``figures_count_after_days``).

Invariants: a duty that must happen *within* a span is pulled back to the last working day on or before the
span's end, never pushed past it; a report due *after* a span goes on the first working day on or after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from domain.calendar import WorkingCalendar
from domain.policy import Policy
from domain.trajectory import TrajectoryState, TrajectoryView

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
