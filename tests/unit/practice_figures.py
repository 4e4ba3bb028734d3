"""One practice's indicator figures built in memory, for the tests of the rules and of the machine's guards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from domain import indicators
from domain.indicators import IndicatorDefinition, IndicatorFigures, IndicatorKind, IndicatorScore
from domain.registry import Programme

AGB = "01234567"
HBA1C = indicators.IndicatorKey(Programme.DM2, "hba1c_measured")
HBA1C_MEASURED = IndicatorDefinition(programme=Programme.DM2, indicator="hba1c_measured", name="HbA1c bepaald",
                                     kind=IndicatorKind.PROCESS, main=True)


def definition(indicator: str, name: str, *, main: bool, kind: IndicatorKind = IndicatorKind.PROCESS,
               programme: Programme = Programme.DM2) -> IndicatorDefinition:
    return IndicatorDefinition(programme=programme, indicator=indicator, name=name, kind=kind, main=main)


def score(indicator: str, end: date, numerator: int, denominator: int = 100,
          programme: Programme = Programme.DM2) -> IndicatorScore:
    return IndicatorScore(agb_code=AGB, programme=programme, indicator=indicator, period_end=end,
                          numerator=numerator, denominator=denominator)


def figures(catalogue: Sequence[IndicatorDefinition], *scores: IndicatorScore, target: float = 90,
            averages: dict[int, float] | None = None) -> IndicatorFigures:
    """The practice's ``scores`` against ``target`` for every indicator of ``catalogue`` and, for HbA1c measured,
    the national ``averages`` per year."""
    targets = [indicators.Target(programme=d.programme, indicator=d.indicator, target=target) for d in catalogue]
    national = [indicators.NationalAverage(programme=HBA1C.programme, indicator=HBA1C.indicator, year=year,
                                           national_average=v) for year, v in (averages or {}).items()]
    return IndicatorFigures.build(catalogue, targets, national, scores)
