"""The escalation rules of the quality cycle, as pure functions that explain themselves.

Each rule returns a ``Decision``: whether it applies and, for every indicator that made
it so, a ``Reason`` with the values and the threshold, because the practice and the board
will ask why (seed, section 1: "Minder presterende praktijken (chronische zorg)").
Indicators a rule could not judge (no target, no national average, no baseline) are
listed in ``notes`` rather than silently skipped.

Invariants: exact arithmetic at thresholds; "more than X behind" is strict, so a score
exactly on the threshold does not count; only main process indicators of chronic
programmes the practice was enrolled in at the period's end are read, over at least
``min_denominator`` patients (fewer are noted, not judged); with ``judge_by: interval`` a strong
deviation needs even the upper bound of the score's 95% Wilson interval below the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict

from domain.indicator_views import too_few, wilson_interval
from domain.indicators import IndicatorFigures, IndicatorKey, IndicatorKind, IndicatorScore, exact
from domain.policy import JudgeBy, LagMode, MissingAverage, Policy
from domain.registry import Programme


class Rule(StrEnum):
    STRONG_DEVIATION = "strong_deviation"
    UNDERPERFORMER = "underperformer"
    RECOVERED = "recovered"
    PROGRESS = "progress"


class Reason(BaseModel):
    """One indicator's part in a decision, with every number that went into it."""

    model_config = ConfigDict(frozen=True)

    rule: Rule
    programme: Programme
    indicator: str
    period_end: date
    score: float
    numerator: int
    denominator: int
    reference: str  # "target" or "national_average"
    reference_value: float
    reference_year: int | None = None
    threshold: float
    baseline_period_end: date | None = None
    baseline_score: float | None = None
    improvement_points: float | None = None
    explanation: str
    # what a person reading the decision needs besides the rule's own numbers: the indicator's Dutch name from
    # the catalogue, and (where the reference is the target) the national average it is also measured against
    name: str | None = None
    national_average: float | None = None
    national_average_year: int | None = None

    @property
    def key(self) -> IndicatorKey:
        return IndicatorKey(self.programme, self.indicator)


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: Rule
    applies: bool
    on: date
    period_end: date | None
    reasons: tuple[Reason, ...] = ()
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        if self.reasons:
            return "; ".join(r.explanation for r in self.reasons)
        return "; ".join(self.notes) or "geen bijzonderheden"


def _not_applicable(rule: Rule, on: date, period_end: date | None, note: str) -> Decision:
    return Decision(rule=rule, applies=False, on=on, period_end=period_end, notes=(note,))


def _reason(rule: Rule, score: IndicatorScore, figures: IndicatorFigures, **measured: Any) -> Reason:
    """One indicator's part in a decision: the numbers of its ``score`` and its name, with what it was
    ``measured`` against (reference, threshold, baseline) and the explanation."""
    return Reason(rule=rule, programme=score.programme, indicator=score.indicator, period_end=score.period_end,
                  score=score.score, numerator=score.numerator, denominator=score.denominator,
                  name=_name(figures, score.key), **measured)


def _fmt(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def _watched(
    figures: IndicatorFigures, policy: Policy, enrolments: Mapping[Programme, date], on: date,
    notes: list[str] | None = None,
) -> list[IndicatorScore]:
    """The scores the escalation rules read: for each main process indicator of a chronic programme,
    its own latest period known on ``on`` (a programme's figures may arrive before another's), if
    the practice had joined the programme by that period's end and it counts at least ``min_denominator``
    patients (a smaller one is left out, with a note in ``notes``)."""
    watched = []
    for score in figures.latest_scores(on).values():
        definition = figures.catalogue.get(score.key)
        if definition is None or not definition.main or definition.kind is not IndicatorKind.PROCESS:
            continue
        if score.programme not in policy.chronic_programmes:
            continue
        started = enrolments.get(score.programme)
        if started is None or started > score.period_end:
            continue
        if too_few(score.denominator, policy.min_denominator):
            if notes is not None:
                notes.append(f"{score.key}: niet beoordeeld, {score.denominator} patiënten (minder dan "
                             f"{policy.min_denominator})")
            continue
        watched.append(score)
    return sorted(watched, key=lambda s: (s.programme.value, s.indicator))


def assess_deviation(
    figures: IndicatorFigures, policy: Policy, enrolments: Mapping[Programme, date], on: date
) -> Decision:
    """Strong deviation: on its latest period, a main process indicator is more than
    ``deviation_share_of_target`` of its target below that target."""
    period = figures.latest_period(on)
    if period is None:
        return _not_applicable(Rule.STRONG_DEVIATION, on, None, "geen indicatorcijfers bekend")
    reasons: list[Reason] = []
    notes: list[str] = []
    share = exact(policy.deviation_share_of_target)
    for score in _watched(figures, policy, enrolments, on, notes):
        target = figures.targets.get(score.key)
        if target is None:
            notes.append(f"{score.key}: geen streefwaarde bekend")
            continue
        threshold = exact(target) * (1 - share)
        if score.exact_score >= threshold:
            continue
        upper = wilson_interval(score.numerator, score.denominator)[1]
        if policy.judge_by is JudgeBy.INTERVAL and exact(upper) >= threshold:
            notes.append(f"{score.key}: {_fmt(score.score)}% ligt onder de grens {_fmt(float(threshold))}%, maar "
                         f"het 95%-interval reikt tot {_fmt(upper)}%: niet als afwijking beoordeeld")
            continue
        interval = f"; 95%-interval tot {_fmt(upper)}%" if policy.judge_by is JudgeBy.INTERVAL else ""
        reasons.append(_reason(
            Rule.STRONG_DEVIATION, score, figures, reference="target", reference_value=target,
            threshold=float(threshold),
            explanation=(
                f"{score.key}: {_fmt(score.score)}% ({score.numerator}/{score.denominator}) ligt "
                f"meer dan {_fmt(float(share) * 100)}% onder de streefwaarde {_fmt(target)}% "
                f"(grens {_fmt(float(threshold))}%{interval})"
            ),
        ))
    return Decision(rule=Rule.STRONG_DEVIATION, applies=bool(reasons), on=on, period_end=period,
                    reasons=tuple(reasons), notes=tuple(notes))


# A score this far above the strong-deviation threshold, in percentage points, is never below it, whatever floating
# point does to the threshold in a database (its error is some 1e-13 of a point): ``deviation_limits``.
LIMIT_MARGIN_POINTS = 0.01


def deviation_limits(figures: IndicatorFigures, policy: Policy) -> dict[IndicatorKey, float]:
    """Per main process indicator of a chronic programme with a target: the score (in percent, a hundredth of a point
    to spare) at or above which ``assess_deviation`` can never flag it. A practice with no score of these indicators
    below its limit, in any period, is one the rule does not flag: a sweep asks the database for the others only."""
    share = exact(policy.deviation_share_of_target)
    return {key: float(exact(target) * (1 - share)) + LIMIT_MARGIN_POINTS
            for key, target in figures.targets.items()
            if (definition := figures.catalogue.get(key)) is not None and definition.main
            and definition.kind is IndicatorKind.PROCESS and key.programme in policy.chronic_programmes}


def assess_underperformance(
    figures: IndicatorFigures,
    policy: Policy,
    enrolments: Mapping[Programme, date],
    plan_agreed_on: date,
    on: date,
) -> Decision:
    """Underperformer: at least ``underperformer_after_months`` after the plan, a main process
    indicator of a chronic programme still lags the national average by more than the policy
    allows and rose by less than ``min_improvement_points`` since the last period before the plan."""
    due = plan_agreed_on + relativedelta(months=policy.underperformer_after_months)
    if on < due:
        return _not_applicable(Rule.UNDERPERFORMER, on, None,
                               f"verbeterplan van {plan_agreed_on.isoformat()} loopt nog geen "
                               f"{policy.underperformer_after_months} maanden (tot {due.isoformat()})")
    period = figures.latest_period(on)
    if period is None or period <= plan_agreed_on:
        return _not_applicable(Rule.UNDERPERFORMER, on, period,
                               "nog geen indicatorcijfers over een periode na het verbeterplan")
    reasons: list[Reason] = []
    notes: list[str] = []
    min_improvement = exact(policy.min_improvement_points)
    for score in _watched(figures, policy, enrolments, on, notes):
        if score.period_end <= plan_agreed_on:
            notes.append(f"{score.key}: nog geen cijfer over een periode na het verbeterplan")
            continue
        period = score.period_end
        found = figures.national_average(score.key, period)
        reference, reference_name = "national_average", "het landelijk gemiddelde"
        year: int | None = None
        if found is not None:
            year, average = found
        elif (policy.without_national_average is MissingAverage.CARE_GROUP_MEDIAN
              and (score.key, period) in figures.care_group_medians):
            average = figures.care_group_medians[(score.key, period)]
            reference, reference_name = "care_group_median", "de mediaan van de zorggroep"
        else:
            notes.append(f"{score.key}: geen landelijk gemiddelde bekend voor {period.year} of eerder")
            continue
        if policy.lag_mode is LagMode.RELATIVE:
            threshold = exact(average) * (1 - exact(policy.lag_share_of_average))
            lag_text = f"meer dan {_fmt(policy.lag_share_of_average * 100)}% achter op"
        else:
            threshold = exact(average) - exact(policy.lag_points)
            lag_text = f"meer dan {_fmt(policy.lag_points)} procentpunt achter op"
        if not score.exact_score < threshold:
            continue
        baseline = figures.score_on_or_before(score.key, plan_agreed_on)
        if baseline is None:
            notes.append(f"{score.key}: geen meting van voor het verbeterplan, verbetering niet te beoordelen")
            continue
        improvement = score.exact_score - baseline.exact_score
        if improvement >= min_improvement:
            notes.append(f"{score.key}: blijft achter maar verbeterde {_fmt(float(improvement))} punt")
            continue
        reasons.append(_reason(
            Rule.UNDERPERFORMER, score, figures, reference=reference, reference_value=average,
            reference_year=year, threshold=float(threshold),
            baseline_period_end=baseline.period_end, baseline_score=baseline.score,
            improvement_points=round(float(improvement), 2),
            explanation=(
                f"{score.key}: {_fmt(score.score)}% ({score.numerator}/{score.denominator}) blijft "
                f"{lag_text} {reference_name} {_fmt(average)}% ({year or period.isoformat()}; grens "
                f"{_fmt(float(threshold))}%) en "
                + (f"steeg sinds {baseline.period_end.isoformat()} ({_fmt(baseline.score)}%) maar "
                   f"{_fmt(float(improvement))} punt (minder dan {_fmt(policy.min_improvement_points)})"
                   if improvement >= 0 else
                   f"daalde sinds {baseline.period_end.isoformat()} ({_fmt(baseline.score)}%) met "
                   f"{_fmt(float(-improvement))} punt (verbetering van minder dan "
                   f"{_fmt(policy.min_improvement_points)})")
            ),
        ))
    return Decision(rule=Rule.UNDERPERFORMER, applies=bool(reasons), on=on, period_end=period,
                    reasons=tuple(reasons), notes=tuple(notes))


def assess_recovery(
    figures: IndicatorFigures, flagged: tuple[IndicatorKey, ...], on: date
) -> Decision:
    """Recovered: every main process indicator that flagged the practice is back at or above
    its target on the latest period."""
    period = figures.latest_period(on)
    if not flagged:
        return _not_applicable(Rule.RECOVERED, on, period, "geen indicatoren gemarkeerd")
    if period is None:
        return _not_applicable(Rule.RECOVERED, on, None, "geen indicatorcijfers bekend")
    by_key = figures.latest_scores(on)
    reasons: list[Reason] = []
    notes: list[str] = []
    for key in flagged:
        score = by_key.get(key)
        target = figures.targets.get(key)
        if score is None:
            notes.append(f"{key}: geen cijfer bekend")
            continue
        if target is None:
            notes.append(f"{key}: geen streefwaarde bekend")
            continue
        if score.exact_score < exact(target):
            notes.append(f"{key}: {_fmt(score.score)}% nog onder de streefwaarde {_fmt(target)}%")
            continue
        reasons.append(_reason(
            Rule.RECOVERED, score, figures, reference="target", reference_value=target, threshold=target,
            explanation=f"{key}: {_fmt(score.score)}% haalt de streefwaarde {_fmt(target)}%",
        ))
    applies = not notes and len(reasons) == len(flagged)
    return Decision(rule=Rule.RECOVERED, applies=applies, on=on, period_end=period,
                    reasons=tuple(reasons), notes=tuple(notes))


def _name(figures: IndicatorFigures, key: IndicatorKey) -> str | None:
    definition = figures.catalogue.get(key)
    return definition.name if definition is not None else None


def assess_progress(
    figures: IndicatorFigures, flagged: tuple[IndicatorKey, ...], plan_agreed_on: date | None, on: date
) -> Decision:
    """Where the flagged indicators of a trajectory under the policy stand now, for the board's
    progress report: the latest score against target and national average, and the change since
    the last period before the plan. It always "applies": it describes, it does not decide."""
    period = figures.latest_period(on)
    reasons: list[Reason] = []
    notes: list[str] = []
    latest = figures.latest_scores(on)
    for key in flagged:
        score, target = latest.get(key), figures.targets.get(key)
        if score is None or target is None:
            notes.append(f"{key}: geen actueel cijfer of streefwaarde")
            continue
        average = figures.national_average(key, score.period_end)
        baseline = figures.score_on_or_before(key, plan_agreed_on) if plan_agreed_on else None
        improvement = float(score.exact_score - baseline.exact_score) if baseline else None
        text = f"{key}: nu {_fmt(score.score)}% ({score.numerator}/{score.denominator}), streefwaarde {_fmt(target)}%"
        if average is not None:
            text += f", landelijk gemiddelde {_fmt(average[1])}% ({average[0]})"
        if baseline is not None and improvement is not None:
            text += f"; {improvement:+.1f} punt sinds {baseline.period_end.isoformat()}".replace(".", ",")
        reasons.append(_reason(
            Rule.PROGRESS, score, figures, reference="target", reference_value=target, threshold=target,
            national_average=average[1] if average else None, national_average_year=average[0] if average else None,
            baseline_period_end=baseline.period_end if baseline else None,
            baseline_score=baseline.score if baseline else None,
            improvement_points=round(improvement, 2) if improvement is not None else None, explanation=text,
        ))
    return Decision(rule=Rule.PROGRESS, applies=True, on=on, period_end=period, reasons=tuple(reasons),
                    notes=tuple(notes))
