"""The escalation rules at their thresholds: pure functions, no database, no clock."""

from __future__ import annotations

from datetime import date

import pytest

from domain.indicators import IndicatorFigures, IndicatorKey, IndicatorKind, IndicatorScore, NationalAverage, Target
from domain.policy import JudgeBy, LagMode, Policy
from domain.registry import Programme
from domain.rules.escalation import Decision, assess_deviation, assess_recovery, assess_underperformance
from tests.unit.practice_figures import HBA1C, HBA1C_MEASURED, definition, score
from tests.unit.practice_figures import figures as practice_figures

ENROLLED = {Programme.DM2: date(2020, 1, 1), Programme.ELDERLY: date(2020, 1, 1)}
CATALOGUE = [
    HBA1C_MEASURED,
    definition("hba1c_below_53", "HbA1c < 53", main=False, kind=IndicatorKind.OUTCOME),
    definition("side_process", "niet-hoofdindicator", main=False),
    definition("frailty_recorded", "Kwetsbaarheid", main=True, programme=Programme.ELDERLY),
]


def figures(*scores: IndicatorScore, target: float = 90, averages: dict[int, float] | None = None) -> IndicatorFigures:
    return practice_figures(CATALOGUE, *scores, target=target, averages=averages)


Q1 = date(2024, 3, 31)


# --- strong deviation ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("numerator", "denominator", "deviates"),
    [
        (72, 100, False),   # exactly 20% below a target of 90: not *more than* 20%
        (18, 25, False),    # 72% again, from other counts
        (7199, 10000, True),  # 71.99%: just outside
        (719, 1000, True),
        (73, 100, False),   # just inside
    ],
)
def test_main_process_indicator_more_than_20_percent_below_target_is_a_strong_deviation(
    numerator: int, denominator: int, deviates: bool
) -> None:
    decision = assess_deviation(figures(score("hba1c_measured", Q1, numerator, denominator)), Policy(), ENROLLED,
                                date(2024, 4, 8))
    assert decision.applies is deviates
    if deviates:
        (reason,) = decision.reasons
        assert reason.key == HBA1C and reason.reference == "target"
        assert reason.reference_value == 90 and reason.threshold == pytest.approx(72.0)
        assert "streefwaarde 90,0%" in reason.explanation


def test_deviation_share_comes_from_the_policy() -> None:
    f = figures(score("hba1c_measured", Q1, 80))
    assert not assess_deviation(f, Policy(), ENROLLED, date(2024, 4, 8)).applies
    assert assess_deviation(f, Policy(deviation_share_of_target=0.1), ENROLLED, date(2024, 4, 8)).applies


def test_outcome_non_main_and_elderly_indicators_never_open_an_extra_conversation() -> None:
    f = figures(score("hba1c_below_53", Q1, 1), score("side_process", Q1, 1),
                score("frailty_recorded", Q1, 1, programme=Programme.ELDERLY))
    assert not assess_deviation(f, Policy(), ENROLLED, date(2024, 4, 8)).applies


def test_programme_the_practice_had_not_joined_by_the_period_end_is_not_judged() -> None:
    f = figures(score("hba1c_measured", Q1, 10))
    assert not assess_deviation(f, Policy(), {Programme.DM2: date(2024, 4, 1)}, date(2024, 4, 8)).applies


def test_only_the_latest_period_known_on_the_day_counts() -> None:
    f = figures(score("hba1c_measured", Q1, 10), score("hba1c_measured", date(2024, 6, 30), 95))
    assert assess_deviation(f, Policy(), ENROLLED, date(2024, 5, 1)).applies
    assert not assess_deviation(f, Policy(), ENROLLED, date(2024, 7, 1)).applies


def test_indicator_without_target_is_noted_not_silently_skipped() -> None:
    f = IndicatorFigures.build(CATALOGUE, [], [], [score("hba1c_measured", Q1, 10)])
    decision = assess_deviation(f, Policy(), ENROLLED, date(2024, 4, 8))
    assert not decision.applies
    assert any("geen streefwaarde" in n for n in decision.notes)


# --- underperformer -----------------------------------------------------------------------------

PLAN = date(2024, 4, 15)
BASELINE = score("hba1c_measured", Q1, 60)
LATER = date(2025, 3, 31)
ON = date(2025, 4, 15)


def underperformance(latest: IndicatorScore, average: float = 90, policy: Policy | None = None,
                     on: date = ON, averages: dict[int, float] | None = None,
                     baseline: IndicatorScore = BASELINE) -> Decision:
    f = figures(baseline, latest, averages=averages if averages is not None else {2025: average})
    return assess_underperformance(f, policy or Policy(), ENROLLED, PLAN, on)


@pytest.mark.parametrize(
    ("numerator", "denominator", "escalates"),
    [
        (72, 100, False),         # exactly 80% of an average of 90: not more than 20% behind
        (7199, 10000, True),      # just behind
    ],
)
def test_relative_mode_more_than_20_percent_behind_the_national_average(
    numerator: int, denominator: int, escalates: bool
) -> None:
    # baseline 68%: at most 4 points of improvement, so only the lag decides
    decision = underperformance(score("hba1c_measured", LATER, numerator, denominator),
                                baseline=score("hba1c_measured", Q1, 68))
    assert decision.applies is escalates


@pytest.mark.parametrize(
    ("numerator", "escalates"),
    [(70, False), (69, True)],  # points mode with an average of 90: behind means below 70
)
def test_points_mode_more_than_20_points_behind_the_national_average(numerator: int, escalates: bool) -> None:
    decision = underperformance(score("hba1c_measured", LATER, numerator), policy=Policy(lag_mode=LagMode.POINTS),
                                baseline=score("hba1c_measured", Q1, 66))
    assert decision.applies is escalates


def test_modes_differ_on_a_low_average() -> None:
    # average 50: relative says behind below 40, points says behind below 30; a score of 35 with no improvement
    latest = score("hba1c_measured", LATER, 35)
    f = figures(score("hba1c_measured", Q1, 35), latest, averages={2025: 50})
    assert assess_underperformance(f, Policy(), ENROLLED, PLAN, ON).applies
    assert not assess_underperformance(f, Policy(lag_mode=LagMode.POINTS), ENROLLED, PLAN, ON).applies


@pytest.mark.parametrize(("numerator", "escalates"), [(65, False), (64, True)])
def test_improvement_of_five_points_since_the_last_period_before_the_plan_spares_the_practice(
    numerator: int, escalates: bool
) -> None:
    decision = underperformance(score("hba1c_measured", LATER, numerator))
    assert decision.applies is escalates
    if escalates:
        (reason,) = decision.reasons
        assert reason.baseline_period_end == Q1 and reason.baseline_score == 60
        assert reason.improvement_points == pytest.approx(4.0)
        assert reason.reference == "national_average" and reason.reference_value == 90


def test_rule_waits_one_year_after_the_plan() -> None:
    latest = score("hba1c_measured", LATER, 60)
    assert not underperformance(latest, on=date(2025, 4, 14)).applies
    assert underperformance(latest, on=date(2025, 4, 15)).applies


def test_national_average_falls_back_to_the_latest_earlier_year() -> None:
    latest = score("hba1c_measured", LATER, 60)
    decision = underperformance(latest, averages={2023: 95, 2024: 90, 2026: 40})
    assert decision.applies
    assert decision.reasons[0].reference_year == 2024 and decision.reasons[0].reference_value == 90


def test_no_national_average_at_all_means_no_escalation_and_a_note() -> None:
    decision = underperformance(score("hba1c_measured", LATER, 10), averages={2026: 90})
    assert not decision.applies
    assert any("geen landelijk gemiddelde" in n for n in decision.notes)


def test_no_period_after_the_plan_means_no_escalation() -> None:
    f = figures(BASELINE, averages={2024: 90})
    decision = assess_underperformance(f, Policy(), ENROLLED, PLAN, ON)
    assert not decision.applies


# --- recovery -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("numerator", "recovered"), [(90, True), (89, False)])
def test_recovered_when_every_flagged_indicator_is_back_at_its_target(numerator: int, recovered: bool) -> None:
    f = figures(score("hba1c_measured", LATER, numerator))
    decision = assess_recovery(f, (HBA1C,), ON)
    assert decision.applies is recovered


def test_not_recovered_without_a_figure_for_a_flagged_indicator() -> None:
    other = IndicatorKey(Programme.DM2, "side_process")
    f = figures(score("hba1c_measured", LATER, 95))
    assert not assess_recovery(f, (HBA1C, other), ON).applies


def test_without_any_national_average_the_care_group_may_judge_against_its_own_median() -> None:
    from domain.policy import MissingAverage

    latest = score("hba1c_measured", LATER, 60)
    f = IndicatorFigures.build(CATALOGUE, [], [], [BASELINE, latest], care_group_medians={(HBA1C, LATER): 90.0})
    assert not assess_underperformance(f, Policy(), ENROLLED, PLAN, ON).applies  # default: not judged
    decision = assess_underperformance(
        f, Policy(without_national_average=MissingAverage.CARE_GROUP_MEDIAN), ENROLLED, PLAN, ON)
    assert decision.applies
    (reason,) = decision.reasons
    assert reason.reference == "care_group_median" and reason.reference_value == 90.0
    assert "de mediaan van de zorggroep 90,0%" in reason.explanation
    with_national = IndicatorFigures.build(
        CATALOGUE, [], [NationalAverage(programme=Programme.DM2, indicator="hba1c_measured", year=2024,
                                        national_average=70)],
        [BASELINE, latest], care_group_medians={(HBA1C, LATER): 90.0})
    policy = Policy(without_national_average=MissingAverage.CARE_GROUP_MEDIAN)
    assert not assess_underperformance(with_national, policy, ENROLLED, PLAN, ON).applies  # national 70 wins


def test_a_practice_that_declined_since_the_plan_is_said_to_have_declined_not_to_have_risen() -> None:
    (reason,) = underperformance(score("hba1c_measured", LATER, 57)).reasons
    assert reason.improvement_points == pytest.approx(-3.0)
    assert "daalde sinds 2024-03-31 (60,0%) met 3,0 punt" in reason.explanation and "steeg" not in reason.explanation
    (risen,) = underperformance(score("hba1c_measured", LATER, 62)).reasons
    assert "steeg sinds 2024-03-31 (60,0%) maar 2,0 punt (minder dan 5,0)" in risen.explanation


def test_figures_count_from_their_period_end_plus_the_publication_delay() -> None:
    delayed = IndicatorFigures.build(CATALOGUE, [], [], [score("hba1c_measured", Q1, 60)], count_after_days=35)
    assert delayed.latest_scores(date(2024, 5, 4)) == {}
    assert HBA1C in delayed.latest_scores(date(2024, 5, 5)) and delayed.latest_period(date(2024, 5, 5)) == Q1


# --- small numbers ------------------------------------------------------------------------------


def test_a_figure_over_fewer_patients_than_the_policys_minimum_is_not_judged_and_the_decision_says_so() -> None:
    few = figures(score("hba1c_measured", Q1, 3, 9))  # 33%: far below, but over 9 patients
    decision = assess_deviation(few, Policy(), ENROLLED, Q1)
    assert not decision.applies
    assert "dm2/hba1c_measured: niet beoordeeld, 9 patiënten (minder dan 10)" in decision.notes
    assert assess_deviation(few, Policy(min_denominator=5), ENROLLED, Q1).applies


def test_judged_by_interval_a_small_practices_low_score_is_a_deviation_only_when_even_its_upper_bound_is_low() -> None:
    # 14/20 = 70% is below the 72% threshold (target 90), but its 95% interval reaches 85.5%: chance may explain it
    near = figures(score("hba1c_measured", Q1, 14, 20))
    assert assess_deviation(near, Policy(), ENROLLED, Q1).applies
    by_interval = assess_deviation(near, Policy(judge_by=JudgeBy.INTERVAL), ENROLLED, Q1)
    assert not by_interval.applies and any("95%-interval reikt tot" in n for n in by_interval.notes)
    # 400/1000 = 40%: its interval (37.0-43.1%) lies wholly below the threshold
    far = assess_deviation(figures(score("hba1c_measured", Q1, 400, 1000)), Policy(judge_by=JudgeBy.INTERVAL),
                           ENROLLED, Q1)
    assert far.applies and "95%-interval tot 43,1%" in far.reasons[0].explanation


def test_the_deviation_limits_are_the_thresholds_of_the_main_process_indicators_of_chronic_programmes() -> None:
    """``deviation_limits``: what a sweep asks the database about, a hundredth of a point above each threshold the
    strong-deviation rule flags below; an outcome indicator, one that is not main, one without a target or one of a
    programme that is not chronic has none."""
    from domain.rules.escalation import LIMIT_MARGIN_POINTS, deviation_limits

    catalogue = [HBA1C_MEASURED, definition("hba1c_below_53", "HbA1c onder 53", main=True, kind=IndicatorKind.OUTCOME),
                 definition("weight_measured", "Gewicht bepaald", main=False),
                 definition("foot_exam", "Voetonderzoek", main=True),
                 definition("fall_risk", "Valrisico", main=True, programme=Programme.ELDERLY)]
    targets = [Target(programme=d.programme, indicator=d.indicator, target=72.5) for d in catalogue
               if d.indicator != "foot_exam"]
    figures = IndicatorFigures.build(catalogue, targets, [], ())
    limits = deviation_limits(figures, Policy(deviation_share_of_target=0.2))
    assert limits == {HBA1C: 72.5 * 0.8 + LIMIT_MARGIN_POINTS}
