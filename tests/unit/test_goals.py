"""The goals of a plan judged on their day (``domain.rules.goals``), and the outcome support proposes for an
agreement (``domain.rules.agreements.proposed_outcome``): pure, no database, no clock."""

from __future__ import annotations

from datetime import date

from domain.conversations import Goal
from domain.indicators import IndicatorFigures, IndicatorScore
from domain.policy import Policy
from domain.registry import Programme
from domain.rules.agreements import LinkedSupport, proposed_outcome
from domain.rules.goals import judge_goal
from domain.vocabulary import GoalStatus, Outcome

HBA1C = Goal(programme=Programme.DM2, indicator="hba1c_measured", target=90, by=date(2025, 12, 31))


def figures(*scores: tuple[str, int, int], count_after_days: int = 0) -> IndicatorFigures:
    return IndicatorFigures.build([], [], [], [
        IndicatorScore(agb_code="01234567", programme=Programme.DM2, indicator="hba1c_measured",
                       period_end=date.fromisoformat(end), numerator=n, denominator=d) for end, n, d in scores],
        count_after_days=count_after_days)


def test_a_goal_reached_by_its_day_is_met_with_the_figure_and_its_interval() -> None:
    judged = judge_goal(HBA1C, figures(("2025-09-30", 170, 200), ("2025-12-31", 182, 200)), date(2025, 12, 31),
                        Policy())
    assert (judged.status, judged.score, judged.period_end) == (GoalStatus.MET, 91.0, date(2025, 12, 31))
    assert judged.interval is not None and judged.interval[0] < 91.0 < judged.interval[1]
    assert "91,0% (182/200, 95%-interval" in judged.reason and "haalt het doel 90,0%" in judged.reason


def test_a_goal_just_short_is_not_met_and_says_by_how_much() -> None:
    judged = judge_goal(HBA1C, figures(("2025-12-31", 178, 200)), date(2025, 12, 31), Policy())
    assert judged.status is GoalStatus.NOT_MET and "1,0 procentpunt te weinig" in judged.reason


def test_a_figure_of_a_later_period_says_nothing_about_the_goals_day() -> None:
    # judged late (a sweep missed the day): the figure of the quarter after the goal's day does not count
    judged = judge_goal(HBA1C, figures(("2025-12-31", 170, 200), ("2026-03-31", 190, 200)), date(2026, 4, 6),
                        Policy())
    assert (judged.status, judged.period_end) == (GoalStatus.NOT_MET, date(2025, 12, 31))


def test_a_figure_not_yet_published_on_the_day_is_not_used() -> None:
    # with a publication delay of 30 days, on 31 December only the figure to 30 September counts
    judged = judge_goal(HBA1C, figures(("2025-09-30", 182, 200), ("2025-12-31", 150, 200), count_after_days=30),
                        date(2025, 12, 31), Policy())
    assert (judged.status, judged.period_end) == (GoalStatus.MET, date(2025, 9, 30))


def test_a_figure_over_too_few_patients_is_not_judged_and_no_figure_is_said_as_such() -> None:
    few = judge_goal(HBA1C, figures(("2025-12-31", 9, 9)), date(2025, 12, 31), Policy(min_denominator=10))
    assert few.status is GoalStatus.NOT_JUDGED and "minder dan 10" in few.reason and few.score == 100.0
    none = judge_goal(HBA1C, figures(), date(2025, 12, 31), Policy())
    assert (none.status, none.score) == (GoalStatus.NO_FIGURE, None)


def test_support_given_for_an_agreement_proposes_it_met_only_once_all_of_it_was_given() -> None:
    assert proposed_outcome([]) is None
    assert proposed_outcome([LinkedSupport("planned")]) is None
    assert proposed_outcome([LinkedSupport("done", date(2025, 3, 4)), LinkedSupport("requested")]) is None
    assert proposed_outcome([LinkedSupport("done", date(2025, 3, 4)), LinkedSupport("cancelled")]) is Outcome.MET
    assert proposed_outcome([LinkedSupport("cancelled")]) is None
