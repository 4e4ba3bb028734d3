"""What a practice, a GP group or the care group sees of its indicators, as the seed describes the
indicator dashboard (section 3, "Rapporten en dashboard VIPLive"): each indicator's score against the
target and the national average, its change over a year, and an interval that shows how much a score
on few patients can say.

Invariants: pure functions over domain values. A group's score is pooled (its numerators over its
denominators), not an average of practice percentages. A figure over fewer patients than the policy's
``min_denominator`` is shown, marked as too few to judge (``too_few``: the one test the escalation rules use
too). The care group's own reference (median, 10th and 90th percentile across its practices) is given next to the
national average, because InEen's benchmark ended with 2024 and a year may have no national figure at all.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

from domain.indicators import IndicatorDefinition, IndicatorFigures, IndicatorKey, IndicatorScore

Z_95 = 1.959963984540054


def wilson_interval(numerator: int, denominator: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion, in percent (95% by default)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    p = numerator / denominator
    z2 = z * z
    centre = (p + z2 / (2 * denominator)) / (1 + z2 / denominator)
    half = z * math.sqrt(p * (1 - p) / denominator + z2 / (4 * denominator * denominator)) / (1 + z2 / denominator)
    return round(100 * max(0.0, centre - half), 2), round(100 * min(1.0, centre + half), 2)


def too_few(denominator: int | None, min_denominator: int | None) -> bool:
    """Whether a figure counts fewer patients than the rules judge (``Policy.min_denominator``): shown, not judged."""
    return denominator is not None and min_denominator is not None and denominator < min_denominator


@dataclass(frozen=True)
class Reference:
    """The care group's own reference for one indicator and period, across its practices."""

    practices: int
    pooled: float
    mean: float
    median: float
    p10: float
    p90: float


def reference(scores: Sequence[IndicatorScore]) -> Reference | None:
    """Spread across practices of one indicator and period (scores of distinct practices)."""
    return spread([(s.numerator, s.denominator) for s in scores])


def spread(counts: Sequence[tuple[int, int]]) -> Reference | None:
    """Spread across practices of one indicator and period, from each practice's (numerator, denominator)."""
    if not counts:
        return None
    values = sorted(100 * n / d for n, d in counts)
    if len(values) == 1:
        p10 = p90 = values[0]
    else:
        cuts = statistics.quantiles(values, n=10, method="inclusive")
        p10, p90 = cuts[0], cuts[-1]
    pooled = 100 * sum(n for n, _ in counts) / sum(d for _, d in counts)
    return Reference(practices=len(values), pooled=round(pooled, 2), mean=round(statistics.fmean(values), 2),
                     median=round(statistics.median(values), 2), p10=round(p10, 2), p90=round(p90, 2))


def references(figures: Iterable[tuple[IndicatorKey, date, int, int]]) -> dict[tuple[IndicatorKey, date], Reference]:
    """The spread of each indicator and period, from every practice's (indicator, period end, numerator,
    denominator): plain tuples, so that a page can read a period's figures as columns."""
    grouped: dict[tuple[IndicatorKey, date], list[tuple[int, int]]] = defaultdict(list)
    for key, period_end, numerator, denominator in figures:
        grouped[(key, period_end)].append((numerator, denominator))
    return {k: r for k, group in grouped.items() if (r := spread(group)) is not None}


@dataclass(frozen=True)
class IndicatorLine:
    key: IndicatorKey
    name: str
    kind: str
    main: bool
    period_end: date
    numerator: int
    denominator: int
    score: float
    interval: tuple[float, float]
    target: float | None
    gap_to_target: float | None
    national_average: float | None
    national_average_year: int | None
    gap_to_national_average: float | None
    score_a_year_earlier: float | None
    change_over_year: float | None
    reference: Reference | None
    practices: int = 1
    min_denominator: int | None = None  # the policy's: a figure over fewer patients is not judged

    @property
    def small_numbers(self) -> bool:
        return too_few(self.denominator, self.min_denominator)

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "programme": self.key.programme.value, "indicator": self.key.indicator, "name": self.name,
            "kind": self.kind, "main": self.main, "period_end": self.period_end.isoformat(),
            "numerator": self.numerator, "denominator": self.denominator, "score": self.score,
            "interval_95": list(self.interval), "target": self.target, "gap_to_target": self.gap_to_target,
            "national_average": self.national_average, "national_average_year": self.national_average_year,
            "gap_to_national_average": self.gap_to_national_average,
            "score_a_year_earlier": self.score_a_year_earlier, "change_over_year": self.change_over_year,
            "practices": self.practices, "small_numbers": self.small_numbers, "judged": not self.small_numbers,
            "min_denominator": self.min_denominator,
        }
        data["care_group_reference"] = None if self.reference is None else {
            "practices": self.reference.practices, "pooled": self.reference.pooled, "mean": self.reference.mean,
            "median": self.reference.median, "p10": self.reference.p10, "p90": self.reference.p90,
        }
        return data


def pool(scores: Iterable[IndicatorScore], agb_code: str = "00000000") -> list[IndicatorScore]:
    """Sum numerators and denominators per indicator and period: a group's figures as one."""
    totals: dict[tuple[IndicatorKey, date], list[int]] = defaultdict(lambda: [0, 0])
    for s in scores:
        total = totals[(s.key, s.period_end)]
        total[0] += s.numerator
        total[1] += s.denominator
    return [IndicatorScore(agb_code=agb_code, programme=k.programme, indicator=k.indicator, period_end=end,
                           numerator=n, denominator=d) for (k, end), (n, d) in totals.items()]


def indicator_lines(
    figures: IndicatorFigures,
    period_end: date,
    refs: Mapping[tuple[IndicatorKey, date], Reference] | None = None,
    practices: Mapping[tuple[IndicatorKey, date], int] | None = None,
    min_denominator: int | None = None,
) -> list[IndicatorLine]:
    """One line per indicator with a figure over the period ending on ``period_end``; one over fewer patients
    than ``min_denominator`` is marked (``IndicatorLine.small_numbers``)."""
    lines = []
    a_year_earlier = period_end - relativedelta(years=1)
    earlier = {s.key: s for s in figures.scores_for_period(a_year_earlier)}
    for score in figures.scores_for_period(period_end):
        definition: IndicatorDefinition | None = figures.catalogue.get(score.key)
        value = round(100 * score.numerator / score.denominator, 2)
        target = figures.targets.get(score.key)
        average = figures.national_average(score.key, period_end)
        before = earlier.get(score.key)
        before_value = round(100 * before.numerator / before.denominator, 2) if before else None
        lines.append(IndicatorLine(
            key=score.key, name=definition.name if definition else score.indicator,
            kind=definition.kind.value if definition else "?", main=bool(definition and definition.main),
            period_end=period_end, numerator=score.numerator, denominator=score.denominator, score=value,
            interval=wilson_interval(score.numerator, score.denominator),
            target=target, gap_to_target=round(value - target, 2) if target is not None else None,
            national_average=average[1] if average else None, national_average_year=average[0] if average else None,
            gap_to_national_average=round(value - average[1], 2) if average else None,
            score_a_year_earlier=before_value,
            change_over_year=round(value - before_value, 2) if before_value is not None else None,
            reference=(refs or {}).get((score.key, period_end)),
            practices=(practices or {}).get((score.key, period_end), 1), min_denominator=min_denominator,
        ))
    return sorted(lines, key=lambda line: (line.key.programme.value, not line.main, line.key.indicator))
