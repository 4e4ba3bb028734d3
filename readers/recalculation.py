"""Counting the indicators on a validated patient population, keeping only the aggregates.

``readers.extracts`` reads and validates an extract into a population frame; this module turns
that frame into the numerator and denominator of every computable catalogue indicator per
practice, for one period end. The steps, each public, in the order ``recalculate`` calls them:
``count_population`` (the counts per practice and catalogue position), ``scores_table`` (the
counts as ``TABLE_SCHEMA``), ``assert_invariants`` (the whole table checked once) and, for
callers that want domain objects, ``indicator_scores``. The engine is Polars (chosen by
measurement against DuckDB and pandas: see ``benchmarks/README.md``).

The population frame (what ``readers.extracts`` hands over)
-----------------------------------------------------------

One row per patient and programme, blank rows dropped, every value already checked:
``agb_code`` (text, eight digits), ``programme`` (``UInt8``: the index in ``PROGRAMMES``),
``inclusion_date`` (``Date``, never empty), and per check ``<check>_date`` (``Date``) and, for
outcome indicators, ``<check>_value`` (``Float64``); both may be empty. No pseudonym is needed.

Computation, for period end E, per practice and computable indicator
--------------------------------------------------------------------

- population: the rows of the indicator's programme with ``inclusion_date <= E``;
- the window of a check: a check on date d counts when ``E - relativedelta(months=window_months) < d <= E``
  (so for E = 2024-12-31 and 12 months: 2024-01-01 up to and including 2024-12-31; for
  E = 2024-02-29: 2023-03-01 up to 2024-02-29). Without ``window_months``: any d <= E. A check
  dated after E is never counted (an extract may be taken after the period end);
- process indicator: numerator = population rows whose ``<check>_date`` is in the window,
  denominator = the population;
- outcome indicator: denominator = population rows whose ``<check>_date`` is in the window,
  numerator = those of them whose ``<check>_value`` satisfies ``value_op value_threshold``
  (an empty value counts in the denominator, never in the numerator);
- a score is returned only when its denominator is above zero.

Invariants
----------

- Only counts leave ``count_population``: one row per practice and indicator, no patient row.
- The aggregates are computed here, so they are valid by construction; before they leave, the
  whole table is checked once with Polars (``assert_invariants``: ``0 <= numerator <=
  denominator``, ``denominator > 0``, eight-digit AGB codes): a bug in the counting fails loudly
  (``AssertionError``, also under ``python -O``). The ``IndicatorScore`` objects are then built
  without validating each one again (as ``IndicatorScore.model_construct`` would, only faster:
  see ``indicator_scores``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import polars as pl
from dateutil.relativedelta import relativedelta

from domain.indicators import IndicatorDefinition, IndicatorKind, IndicatorScore, ValueOp
from domain.registry import Programme
from domain.score_objects import unvalidated_scores

__all__ = [
    "COUNTS_SCHEMA",
    "PROGRAMMES",
    "PROGRAMME_ENUM",
    "TABLE_SCHEMA",
    "assert_invariants",
    "count_population",
    "indicator_scores",
    "present_programmes",
    "scores_table",
]

PROGRAMMES = tuple(Programme)
"""The programme codes of the population frame: a row's code is its programme's index here."""
PROGRAMME_ENUM = pl.Enum([p.value for p in Programme])
TABLE_SCHEMA: dict[str, pl.DataType] = {
    "agb_code": pl.String(),
    "programme": PROGRAMME_ENUM,
    "indicator": pl.String(),
    "period_end": pl.Date(),
    "numerator": pl.Int64(),
    "denominator": pl.Int64(),
}
"""The columns of ``recalculate_table``: one row per practice and indicator with a denominator above zero."""
COUNTS_SCHEMA: dict[str, pl.DataType] = {
    "agb_code": pl.String(), "position": pl.UInt32(), "numerator": pl.Int64(), "denominator": pl.Int64()
}
"""The columns of ``count_population``: ``position`` is the indicator's index in the catalogue counted."""


def present_programmes(codes: pl.Series) -> set[Programme]:
    """The programmes with at least one row (one comparison per programme: cheaper than ``unique``)."""
    found = codes.to_frame("code").select(
        [(pl.col("code") == index).any().alias(str(index)) for index in range(len(PROGRAMMES))]
    )
    return {programme for programme, present in zip(PROGRAMMES, found.row(0), strict=True) if present}


def _in_window(column: str, period_end: date, window_months: int | None) -> pl.Expr:
    checked = pl.col(column)
    if window_months is None:
        return checked <= period_end
    start = period_end - relativedelta(months=window_months)
    return (checked > start) & (checked <= period_end)


def _meets(column: str, op: ValueOp, threshold: float) -> pl.Expr:
    value = pl.col(column)
    comparisons: dict[ValueOp, Callable[[], pl.Expr]] = {
        ValueOp.LT: lambda: value < threshold,
        ValueOp.LE: lambda: value <= threshold,
        ValueOp.GT: lambda: value > threshold,
        ValueOp.GE: lambda: value >= threshold,
    }
    return comparisons[op]()


def count_population(
    frame: pl.DataFrame, catalogue: Sequence[IndicatorDefinition], period_end: date
) -> pl.DataFrame:
    """One group-by per programme over the population, counting every indicator's numerator and denominator.

    ``frame`` is a population frame (see the module's docstring), ``catalogue`` the computable
    indicators to count. Each programme's query reads only its own rows and columns. The result
    (``COUNTS_SCHEMA``) has one row per practice and indicator with a denominator above zero:
    ``agb_code``, ``position`` (the indicator's index in ``catalogue``), ``numerator``,
    ``denominator``, sorted by AGB code and position.
    """
    population = frame.lazy().filter(pl.col("inclusion_date") <= period_end)
    definitions = list(catalogue)
    position = {d.key: index for index, d in enumerate(definitions)}
    queries: list[pl.LazyFrame] = []
    plans: list[list[tuple[IndicatorDefinition, str, str]]] = []
    present = present_programmes(frame.get_column("programme"))
    for code, programme in enumerate(PROGRAMMES):
        used = [d for d in definitions if d.programme is programme and d.check is not None]
        if not used or programme not in present:
            continue
        aggregates: list[pl.Expr] = [pl.len().alias("population")]
        plan: list[tuple[IndicatorDefinition, str, str]] = []
        for number, definition in enumerate(used):
            assert definition.check is not None
            in_window = _in_window(f"{definition.check}_date", period_end, definition.window_months)
            numerator, denominator = f"n{number}", f"d{number}"
            if definition.kind is IndicatorKind.PROCESS:
                aggregates.append(in_window.sum().alias(numerator))
                plan.append((definition, numerator, "population"))
            else:
                assert definition.value_op is not None and definition.value_threshold is not None
                meets = _meets(f"{definition.check}_value", definition.value_op, definition.value_threshold)
                aggregates.append(in_window.sum().alias(denominator))
                aggregates.append((in_window & meets).sum().alias(numerator))
                plan.append((definition, numerator, denominator))
        queries.append(
            population.filter(pl.col("programme") == code).group_by("agb_code").agg(aggregates)
        )
        plans.append(plan)
    if not queries:
        return pl.DataFrame(schema=COUNTS_SCHEMA)
    # one query after the other: measured faster than ``collect_all`` (each group-by uses every core already);
    # then the long form (one row per practice and indicator) in one lazy query
    parts = [
        counts.lazy().select(
            "agb_code",
            pl.lit(position[definition.key], dtype=pl.UInt32).alias("position"),
            pl.col(numerator).cast(pl.Int64).alias("numerator"),
            pl.col(denominator).cast(pl.Int64).alias("denominator"),
        )
        for counts, plan in zip((query.collect() for query in queries), plans, strict=True)
        for definition, numerator, denominator in plan
    ]
    long = pl.concat(parts).filter(pl.col("denominator") > 0)
    if len(definitions) < 1 << 16:
        # one integer key (AGB code, validated as eight digits, then position): measured 5x faster than two keys
        return long.sort(pl.col("agb_code").cast(pl.UInt64) * (1 << 16) + pl.col("position")).collect()
    return long.sort("agb_code", "position").collect()


def scores_table(counts: pl.DataFrame, catalogue: Sequence[IndicatorDefinition], period_end: date) -> pl.DataFrame:
    """The counts (``count_population``) as ``TABLE_SCHEMA``: each position becomes programme and indicator.

    Not checked here: ``assert_invariants`` checks the table.
    """
    programmes = pl.Series([d.programme.value for d in catalogue], dtype=PROGRAMME_ENUM)
    indicators = pl.Series([d.indicator for d in catalogue], dtype=pl.String)
    position = pl.col("position")
    return counts.select(
        pl.col("agb_code"),
        pl.lit(programmes).gather(position).alias("programme") if len(catalogue) else pl.lit(None, PROGRAMME_ENUM),
        pl.lit(indicators).gather(position).alias("indicator") if len(catalogue) else pl.lit(None, pl.String),
        pl.lit(period_end, dtype=pl.Date).alias("period_end"),
        pl.col("numerator"),
        pl.col("denominator"),
    ).cast(TABLE_SCHEMA)  # type: ignore[arg-type]


def assert_invariants(table: pl.DataFrame) -> None:
    """The invariants of ``IndicatorScore``, checked once on the whole table: a bug in the counting fails loudly.

    Raised explicitly (not ``assert``), so that ``python -O`` keeps the check.
    """
    violated = table.select(
        pl.any_horizontal(
            pl.col("agb_code").is_null() | ~pl.col("agb_code").str.contains(r"^[0-9]{8}$"),
            pl.col("programme").is_null(),
            pl.col("indicator").is_null() | (pl.col("indicator").str.len_bytes() == 0),
            pl.col("period_end").is_null(),
            pl.col("numerator").is_null() | pl.col("denominator").is_null(),
            pl.col("denominator") <= 0,
            pl.col("numerator") < 0,
            pl.col("numerator") > pl.col("denominator"),
        ).alias("violated")
    ).to_series()
    if violated.any():
        first = table.row(int(violated.arg_true()[0]), named=True)
        raise AssertionError(
            f"interne fout in de herberekening: {int(violated.sum())} rijen schenden 0 <= teller <= noemer, noemer > 0 "
            f"of een geldige AGB-code, bijv. {first}"
        )


def indicator_scores(table: pl.DataFrame) -> list[IndicatorScore]:
    """The rows of a ``scores_table`` table (invariants already checked) as ``IndicatorScore`` objects.

    Not validated one by one: the table was checked as a whole (``assert_invariants``), and
    pydantic's validation costs about 5 µs an object, more than the rest of the recalculation
    together at 165,000 scores. ``model_construct``, the documented way to skip it, still costs
    about 4 µs an object; ``domain.score_objects`` sets the same four slots directly in about 0.7 µs.
    """
    if table.height == 0:
        return []
    period_end: date = table.get_column("period_end")[0]
    columns = (
        table.get_column("agb_code").to_list(),
        table.get_column("programme").to_physical().to_list(),
        table.get_column("indicator").to_list(),
        table.get_column("numerator").to_list(),
        table.get_column("denominator").to_list(),
    )
    programmes = PROGRAMMES
    return unvalidated_scores(
        {"agb_code": agb_code, "programme": programmes[programme], "indicator": indicator, "period_end": period_end,
         "numerator": numerator, "denominator": denominator}
        for agb_code, programme, indicator, numerator, denominator in zip(*columns, strict=True))
