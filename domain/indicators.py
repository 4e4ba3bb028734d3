"""Indicators: the catalogue, targets, national averages and a practice's scores.

Invariants: a score is ``100 * numerator / denominator`` over a 12-month period that ends
on ``period_end``; ``0 <= numerator <= denominator`` and ``denominator > 0``. Targets and
national averages are percentages 0-100 and are input data (the care group's own, and the
national benchmark's), never constants in code. Comparisons at thresholds are exact
(fractions), so a score of exactly 72% against a threshold of 72% is not "below" it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.inputs import MAX_COUNT, Name, Text
from domain.registry import AgbCode, Programme


class IndicatorKind(StrEnum):
    PROCESS = "process"
    OUTCOME = "outcome"


@dataclass(frozen=True, order=True)
class IndicatorKey:
    """An indicator is named by its programme and its code within that programme."""

    programme: Programme
    indicator: str

    def __str__(self) -> str:
        return f"{self.programme.value}/{self.indicator}"


@lru_cache(maxsize=4096)
def indicator_key(programme: Programme, indicator: str) -> IndicatorKey:
    """One shared (immutable) key per indicator: the rules ask a score for its key millions of times a sweep."""
    return IndicatorKey(programme, indicator)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _OfOneIndicator(Protocol):
    @property
    def programme(self) -> Programme: ...

    @property
    def indicator(self) -> str: ...


class _Keyed:
    """The ``key`` of a model of one indicator (a definition, a target, an average, a score)."""

    @property
    def key(self: _OfOneIndicator) -> IndicatorKey:
        return indicator_key(self.programme, self.indicator)


class ValueOp(StrEnum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


class IndicatorDefinition(_Frozen, _Keyed):
    """One indicator of the catalogue, and (when ``check`` is set) how to compute it from an extract.

    Computation, on a pseudonymised extract with one row per patient and programme:
    - the population is the programme's patients included on or before the period's end;
    - a *process* indicator counts patients whose ``<check>_date`` lies within ``window_months``
      before the period end (``None``: at any time up to it) over the population;
    - an *outcome* indicator counts, among patients with such a check, those whose
      ``<check>_value`` satisfies ``value_op value_threshold``.
    """

    programme: Programme
    indicator: Name
    name: Name
    kind: IndicatorKind
    main: bool = False
    check: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$")
    window_months: int | None = Field(None, ge=1, le=120)
    value_op: ValueOp | None = None
    value_threshold: float | None = None
    numerator: Text | None = None
    denominator: Text | None = None
    source: Text | None = None

    @model_validator(mode="after")
    def _computation_is_complete(self) -> IndicatorDefinition:
        has_value_test = self.value_op is not None or self.value_threshold is not None
        if has_value_test and (self.value_op is None or self.value_threshold is None):
            raise ValueError("value_op en value_threshold horen samen")
        if self.check is None and (has_value_test or self.window_months is not None):
            raise ValueError("window_months, value_op en value_threshold vragen om een check")
        if self.check is not None and self.kind is IndicatorKind.OUTCOME and not has_value_test:
            raise ValueError("een uitkomstindicator met check vraagt om value_op en value_threshold")
        if self.kind is IndicatorKind.PROCESS and has_value_test:
            raise ValueError("een procesindicator telt een check, zonder value_op of value_threshold")
        return self

    @property
    def computable(self) -> bool:
        return self.check is not None


class Target(_Frozen, _Keyed):
    programme: Programme
    indicator: str
    target: float = Field(ge=0, le=100)


class NationalAverage(_Frozen, _Keyed):
    programme: Programme
    indicator: str
    year: int = Field(ge=2000, le=2100)
    national_average: float = Field(ge=0, le=100)


class IndicatorScore(_Frozen, _Keyed):
    agb_code: AgbCode
    programme: Programme
    indicator: str
    period_end: date
    numerator: int = Field(ge=0, le=MAX_COUNT)
    denominator: int = Field(gt=0, le=MAX_COUNT)

    @model_validator(mode="after")
    def _numerator_within_denominator(self) -> IndicatorScore:
        if self.numerator > self.denominator:
            raise ValueError(
                f"teller {self.numerator} is groter dan noemer {self.denominator}"
            )
        return self

    @property
    def exact_score(self) -> Fraction:
        return Fraction(100 * self.numerator, self.denominator)

    @property
    def score(self) -> float:
        # the same float as ``float(self.exact_score)``: Python divides two integers correctly rounded, as it does
        # the fraction's reduced terms (the same rational), without making a Fraction for every score shown
        return round(100 * self.numerator / self.denominator, 2)


def _score_order(score: IndicatorScore) -> tuple[date, Programme, str]:
    return score.period_end, score.programme, score.indicator


@lru_cache(maxsize=4096)
def exact(value: float) -> Fraction:
    """The decimal a person typed (``72.5``, ``0.2``) as an exact fraction (shared: a ``Fraction`` is
    immutable, and the same few targets and thresholds are converted for every score)."""
    return Fraction(str(value))


@dataclass(frozen=True)
class IndicatorFigures:
    """Everything the rules need about indicators for one practice, already loaded.

    ``averages`` maps (key, year) to the national average of that year.
    """

    catalogue: Mapping[IndicatorKey, IndicatorDefinition]
    targets: Mapping[IndicatorKey, float]
    averages: Mapping[tuple[IndicatorKey, int], float]
    scores: tuple[IndicatorScore, ...]
    care_group_medians: Mapping[tuple[IndicatorKey, date], float] = field(default_factory=dict)
    # a figure is known from its period end plus this many days (``Policy.figures_count_after_days``)
    count_after_days: int = 0

    @classmethod
    def build(
        cls,
        catalogue: Iterable[IndicatorDefinition],
        targets: Iterable[Target],
        averages: Iterable[NationalAverage],
        scores: Iterable[IndicatorScore],
        care_group_medians: Mapping[tuple[IndicatorKey, date], float] | None = None,
        count_after_days: int = 0,
    ) -> IndicatorFigures:
        return cls(
            catalogue={d.key: d for d in catalogue},
            targets={t.key: t.target for t in targets},
            averages={(a.key, a.year): a.national_average for a in averages},
            scores=tuple(sorted(scores, key=_score_order)),
            care_group_medians=dict(care_group_medians or {}),
            count_after_days=count_after_days,
        )

    def known_until(self, on: date) -> date:
        """The last period end whose figures count on ``on``."""
        return on - timedelta(days=self.count_after_days)

    def with_scores(self, scores: Iterable[IndicatorScore]) -> IndicatorFigures:
        """These figures (catalogue, targets, averages, medians) with one practice's scores instead: built once
        for a care group, shared by every practice a sweep judges (the rules only read them)."""
        figures = replace(self, scores=tuple(sorted(scores, key=_score_order)))
        if "_average_years" in self.__dict__:  # the index of averages is the same: carry it over
            figures.__dict__["_average_years"] = self.__dict__["_average_years"]
        return figures

    def latest_period(self, on: date) -> date | None:
        """The end of the latest 12-month period known on ``on``."""
        known = self.known_until(on)
        ends = [s.period_end for s in self.scores if s.period_end <= known]
        return max(ends) if ends else None

    def latest_scores(self, on: date) -> dict[IndicatorKey, IndicatorScore]:
        """Each indicator's own latest score known on ``on`` (programmes' figures may arrive apart)."""
        latest: dict[IndicatorKey, IndicatorScore] = {}
        known = self.known_until(on)
        for s in self.scores:  # sorted by period end: later ones overwrite
            if s.period_end <= known:
                latest[s.key] = s
        return latest

    def scores_for_period(self, period_end: date) -> list[IndicatorScore]:
        return [s for s in self.scores if s.period_end == period_end]

    def score_on_or_before(self, key: IndicatorKey, day: date) -> IndicatorScore | None:
        """The latest score of ``key`` whose period ended on or before ``day``."""
        found = [s for s in self.scores if s.key == key and s.period_end <= day]
        return found[-1] if found else None

    @cached_property
    def _average_years(self) -> dict[IndicatorKey, list[int]]:
        """Per indicator, the years with a national average, in order (``national_average`` is asked for every
        indicator of every practice a sweep looks at)."""
        years: dict[IndicatorKey, list[int]] = {}
        for key, year in sorted(self.averages, key=lambda ky: ky[1]):
            years.setdefault(key, []).append(year)
        return years

    def national_average(self, key: IndicatorKey, period_end: date) -> tuple[int, float] | None:
        """The national average for a period: that of the period's year, else the latest earlier year."""
        years = self._average_years.get(key, [])
        at = bisect_right(years, period_end.year)
        if at == 0:
            return None
        year = years[at - 1]
        return year, self.averages[(key, year)]
