"""Benchmark of the recalculation from a patient-level extract: ours against pandas, DuckDB and the floor.

For each size (practices) the synthetic population of ``generate_population.py`` is written
once (Parquet, under ``--data``, git-ignored ``var/bench`` by default) and then, each in a
fresh Python process so that peak memory is its own:

- ``polars``  (a) our product, ``readers.extracts.recalculate``: the whole call, reading,
  validation (patient data, AGB codes, programmes, dates, duplicates), counting and the
  aggregates as ``IndicatorScore`` objects;
- ``polars-table`` the same call for bulk callers, ``recalculate_table``: everything but the
  objects (the aggregates as one Polars table);
- ``pandas``  (b) what an analyst at a care group would write: ``pd.read_parquet``, dates via
  ``pd.to_datetime``, boolean masks and ``groupby``; no validation at all;
- ``duckdb``  the same product function written with DuckDB (same validation on the happy path;
  the same table, invariant check and ``IndicatorScore`` objects, made by our code), kept here
  so that the engine choice stays reproducible; ``duckdb-table`` stops at the table;
- ``floor``   (c) the bare Polars group-by on the already-loaded data (rows per practice and
  programme, plus one conditional sum): nothing can be faster than this, reading excluded;
- ``floor-read`` (c') reading the file (``pl.read_parquet``, every column, as ours must: every
  cell is checked for a BSN) and then the same bare group-by: the least any implementation
  does to get an answer from the file;
- ``floor-scan`` for the record: the bare group-by on a lazy scan, which reads only the three
  columns it uses (the whole answer needs 26 of the 27 columns, so this is not a floor for it);
- ``duckdb-floor`` the same bare group-by in DuckDB on an already-loaded table, for the record.

Reported per implementation and size: wall time (best of ``--repeat``, default 3, with
``time.perf_counter``), the peak resident memory of its process (``VmHWM`` from
``/proc/self/status``: the high-water mark of the whole process, interpreter and imports
included; ``ru_maxrss`` is not used because on Linux it carries the parent's peak across
fork and exec), with the RSS before any data was loaded as ``base MB``, and whether its aggregates equal
ours (every (practice, programme, indicator, numerator, denominator), asserted). The scaling
column is the time per 1,000 practices relative to the smallest size (1.00 is linear). At the
largest size our call is also timed step by step (the module's own steps, each alone), next to
the two ways of making the objects that ours does not use (pydantic validation, ``model_construct``).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_recalculation.py [--sizes 500,1000,2500,5000] [--repeat 3] [--csv]

``--csv`` also times ours, DuckDB and the floor with reading (c') on the CSV of the largest size.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dateutil.relativedelta import relativedelta  # noqa: E402

from domain.indicators import IndicatorDefinition, IndicatorKind, IndicatorScore, ValueOp  # noqa: E402
from domain.registry import Programme  # noqa: E402
from readers.files import is_patient_header, parse_catalogue  # noqa: E402

PERIOD_END = date(2024, 12, 31)
CATALOGUE = ROOT / "readers" / "data" / "catalogue.csv"
IMPLEMENTATIONS = (
    "polars", "polars-table", "pandas", "duckdb", "duckdb-table", "floor", "floor-read", "floor-scan", "duckdb-floor"
)
CSV_IMPLEMENTATIONS = ("polars", "polars-table", "duckdb", "floor-read")
Row = tuple[str, str, str, int, int]


def _memory_mb(field: str) -> float:
    """``VmHWM`` (peak) or ``VmRSS`` (now) of this process from /proc (Linux), in MB; ``ru_maxrss`` elsewhere.

    ``ru_maxrss`` is not used on Linux: it keeps the parent's peak across fork and exec.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rows(scores: Sequence[IndicatorScore]) -> list[Row]:
    return [(s.agb_code, s.programme.value, s.indicator, s.numerator, s.denominator) for s in scores]


def _table_rows(table: pl.DataFrame) -> list[Row]:
    return table.select(
        "agb_code", pl.col("programme").cast(pl.String), "indicator", "numerator", "denominator"
    ).rows()


# --------------------------------------------------------------------------- (b) pandas, as an analyst writes it


def recalculate_pandas(path: Path, catalogue: Sequence[IndicatorDefinition], period_end: date) -> list[Row]:
    import pandas as pd

    df = pd.read_parquet(path)
    end = pd.Timestamp(period_end)
    for column in df.columns:
        if column.endswith("_date"):
            df[column] = pd.to_datetime(df[column])
    df = df[df["inclusion_date"] <= end]
    rows: list[Row] = []
    for programme, patients in df.groupby("programme"):
        indicators = [d for d in catalogue if d.programme.value == programme and d.check]
        counts = pd.DataFrame({"agb_code": patients["agb_code"], "population": 1})
        for d in indicators:
            checked = patients[f"{d.check}_date"]
            if d.window_months is None:
                in_window = checked <= end
            else:
                in_window = (checked > end - pd.DateOffset(months=d.window_months)) & (checked <= end)
            if d.kind == "process":
                counts[d.indicator + "_num"] = in_window
                counts[d.indicator + "_den"] = 1
            else:
                value = patients[f"{d.check}_value"]
                meets = {"<": value < d.value_threshold, "<=": value <= d.value_threshold,
                         ">": value > d.value_threshold, ">=": value >= d.value_threshold}[str(d.value_op)]
                counts[d.indicator + "_num"] = in_window & meets
                counts[d.indicator + "_den"] = in_window
        totals = counts.groupby("agb_code").sum()
        for d in indicators:
            for agb_code, numerator, denominator in zip(
                totals.index, totals[d.indicator + "_num"], totals[d.indicator + "_den"], strict=True
            ):
                if denominator > 0:
                    rows.append((agb_code, str(programme), d.indicator, int(numerator), int(denominator)))
    return rows


# --------------------------------------------------------------------------- the product function in DuckDB


def _sql_date(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_ELF = " + ".join(
    f"((n // {10 ** (8 - i)}) % 10) * ({w})" for i, w in enumerate((9, 8, 7, 6, 5, 4, 3, 2, -1))
)


def recalculate_duckdb(
    path: Path, catalogue: Sequence[IndicatorDefinition], period_end: date, known_agb_codes: set[str] | None = None
) -> list[IndicatorScore]:
    """Our ``recalculate`` in DuckDB: ``recalculate_duckdb_table``, then the objects made by our own code."""
    from readers import recalculation as ours

    return ours.indicator_scores(recalculate_duckdb_table(path, catalogue, period_end, known_agb_codes))


def recalculate_duckdb_table(
    path: Path, catalogue: Sequence[IndicatorDefinition], period_end: date, known_agb_codes: set[str] | None = None
) -> pl.DataFrame:
    """Our ``recalculate_table`` in DuckDB: the same checks on the happy path (it says *that* a file is
    refused, not yet where: localising is the error path, not timed), the same aggregates, in the same
    table (made, and its invariants checked, by our code)."""
    import duckdb

    from readers import recalculation as ours

    con = duckdb.connect()
    try:
        con.execute(f"CREATE MACRO elf(n) AS (({_ELF}) % 11 = 0 AND ({_ELF}) <> 0)")
        if path.suffix == ".csv":
            header = path.open(encoding="utf-8-sig").readline()
            delimiter = ";" if header.count(";") > header.count(",") else ","
            source = f"read_csv('{path}', all_varchar = true, header = true, delim = '{delimiter}')"
        else:
            source = f"read_parquet('{path}')"
        # Parquet: views (each query reads only its columns, in parallel: faster than loading a table
        # first, measured); CSV: loaded once into a table (a view would parse the text again per query)
        relation = "TABLE" if path.suffix == ".csv" else "VIEW"
        con.execute(f"CREATE TEMP {relation} raw AS SELECT * FROM {source}")
        schema = {name.lower(): kind for name, kind, *_ in con.execute("DESCRIBE raw").fetchall()}
        problems: list[str] = [f"patient header {n}" for n in schema if is_patient_header(n)]
        computable = [d for d in catalogue if d.check is not None]
        present = {Programme(p) for (p,) in con.execute("SELECT DISTINCT programme FROM raw").fetchall()
                   if p in {x.value for x in Programme}}
        unknown = con.execute(
            "SELECT count(*) FROM raw WHERE programme IS NULL OR programme NOT IN "
            f"({', '.join(repr(p.value) for p in Programme)})"
        ).fetchone()
        if unknown and unknown[0]:
            problems.append(f"{unknown[0]} rows with an unknown programme")
        needed = dict.fromkeys(["inclusion_date"])
        for d in computable:
            if d.programme in present:
                needed[f"{d.check}_date"] = None
                if d.kind is IndicatorKind.OUTCOME:
                    needed[f"{d.check}_value"] = None
        missing = [n for n in ("pseudonym", "agb_code", "programme", *needed) if n not in schema]
        if missing:
            raise ValueError(f"missing columns {missing}")

        typed: dict[str, str] = {}
        for name in needed:
            column, kind = _quoted(name), schema[name]
            if name.endswith("_date"):
                typed[name] = column if kind == "DATE" else f"try_strptime({column}, '%Y-%m-%d')::DATE"
            else:
                typed[name] = (
                    f"TRY_CAST(replace(trim({column}), ',', '.') AS DOUBLE)" if kind == "VARCHAR"
                    else f"{column}::DOUBLE"
                )
        # patient data: one pass of cheap candidate tests (as in ours), the eleven-test on candidates only
        bsn: dict[str, tuple[str, str]] = {}
        for name, kind in schema.items():
            column = _quoted(name)
            if kind == "VARCHAR":
                extra = f" AND {typed[name]} IS NULL" if name in typed and name.endswith("_date") else ""
                bsn[name] = (
                    f"strlen({column}) BETWEEN 9 AND 15{extra}",
                    f"regexp_full_match(trim({column}), '[0-9]{{9}}|[0-9]{{4}}\\.[0-9]{{2}}\\.[0-9]{{3}}') AND "
                    f"elf(TRY_CAST(replace(trim({column}), '.', '') AS BIGINT))",
                )
            elif kind in ("BIGINT", "INTEGER", "DOUBLE", "FLOAT", "HUGEINT", "UBIGINT", "UINTEGER"):
                bsn[name] = (
                    f"{column} >= 100000000 AND {column} < 1000000000 AND {column} = round({column})",
                    f"elf(TRY_CAST({column} AS BIGINT))",
                )
        checks = [f"count(*) FILTER (WHERE {candidate})" for candidate, _ in bsn.values()]
        for name, expression in typed.items():
            if schema[name] == "VARCHAR":
                checks.append(f"count(*) FILTER (WHERE {_quoted(name)} IS NOT NULL AND {expression} IS NULL)")
        checks.append("count(*) FILTER (WHERE pseudonym IS NULL OR inclusion_date IS NULL)")
        counts = con.execute(f"SELECT {', '.join(checks)} FROM raw").fetchone()
        assert counts is not None
        for (name, (candidate, test)), count in zip(bsn.items(), counts, strict=False):
            if count:
                found_bsn = con.execute(f"SELECT count(*) FROM raw WHERE {candidate} AND {test}").fetchone()
                if found_bsn and found_bsn[0]:
                    problems.append(f"{found_bsn[0]} BSN cells in {name}")
        if any(counts[len(bsn):]):
            problems.append(f"bad cells (dates, values, empty): {counts[len(bsn):]}")
        duplicates = con.execute("SELECT count(*) - count(DISTINCT hash(pseudonym, programme)) FROM raw").fetchone()
        if duplicates and duplicates[0]:
            exact = con.execute("SELECT count(*) - count(DISTINCT (pseudonym, programme)) FROM raw").fetchone()
            if exact and exact[0]:
                problems.append(f"{exact[0]} duplicate rows")
        for (code,) in con.execute("SELECT DISTINCT agb_code FROM raw").fetchall():
            if code is None or not re.fullmatch(r"[0-9]{8}", code) or (known_agb_codes and code not in known_agb_codes):
                problems.append(f"bad AGB code {code!r}")
        if problems:
            raise ValueError("; ".join(problems))

        selected = ", ".join(f"{expression} AS {_quoted(name)}" for name, expression in typed.items())
        con.execute(f"CREATE TEMP {relation} typed AS SELECT agb_code, programme, {selected} FROM raw")
        end = _sql_date(period_end)
        position = {d.key: i for i, d in enumerate(computable)}
        found: list[tuple[str, int, int, int]] = []
        for programme in sorted(present):
            used = [d for d in computable if d.programme is programme]
            columns = ["count(*)"]
            for d in used:
                checked = _quoted(f"{d.check}_date")
                window = f"{checked} <= {end}"
                if d.window_months is not None:
                    window += f" AND {checked} > {_sql_date(period_end - relativedelta(months=d.window_months))}"
                columns.append(f"count(*) FILTER (WHERE {window})")
                if d.kind is IndicatorKind.OUTCOME:
                    assert d.value_op is not None
                    op = {ValueOp.LT: "<", ValueOp.LE: "<=", ValueOp.GT: ">", ValueOp.GE: ">="}[d.value_op]
                    value = _quoted(f"{d.check}_value")
                    columns.append(f"count(*) FILTER (WHERE {window} AND {value} {op} {d.value_threshold!r})")
            result = con.execute(
                f"SELECT agb_code, {', '.join(columns)} FROM typed WHERE programme = '{programme.value}' "
                f"AND inclusion_date <= {end} GROUP BY agb_code"
            ).fetchall()
            for agb_code, population, *rest in result:
                values = iter(rest)
                for d in used:
                    first = next(values)
                    if d.kind is IndicatorKind.PROCESS:
                        numerator, denominator = first, population
                    else:
                        numerator, denominator = next(values), first
                    if denominator > 0:
                        found.append((agb_code, position[d.key], numerator, denominator))
        found.sort()
        counts = pl.DataFrame(found, schema=ours.COUNTS_SCHEMA, orient="row")
        table = ours.scores_table(counts, computable, period_end)
        ours.assert_invariants(table)
        return table
    finally:
        con.close()


# --------------------------------------------------------------------------- (c) the floor


def _floor_condition() -> tuple[date, date]:
    return PERIOD_END - relativedelta(months=12), PERIOD_END


def polars_floor(frame: pl.DataFrame) -> pl.DataFrame:
    """(c) The bare group-by, as the issue defines it: rows per practice and programme, one conditional sum."""
    start, end = _floor_condition()
    checked = pl.col("bp_date")
    return frame.group_by("agb_code", "programme").agg(pl.len(), ((checked > start) & (checked <= end)).sum())


def polars_floor_read(path: Path) -> pl.DataFrame:
    """(c') Read the file, every column (as ours must), then the same bare group-by.

    CSV: read as text (as ours does; ours reads with the delimiter it detects) and the one date
    column the group-by compares read as a date.
    """
    if path.suffix == ".csv":
        frame = pl.read_csv(path, infer_schema=False).with_columns(pl.col("bp_date").str.to_date("%Y-%m-%d"))
    else:
        frame = pl.read_parquet(path)
    return polars_floor(frame)


def polars_floor_scan(path: Path) -> pl.DataFrame:
    """For the record: the bare group-by on a lazy scan, which reads only the three columns it uses."""
    start, end = _floor_condition()
    checked = pl.col("bp_date")
    return (
        pl.scan_parquet(path)
        .group_by("agb_code", "programme")
        .agg(pl.len(), ((checked > start) & (checked <= end)).sum())
        .collect()
    )


def duckdb_floor(con: Any) -> list[tuple[Any, ...]]:
    start, end = _floor_condition()
    return list(
        con.execute(
            "SELECT agb_code, programme, count(*), count(*) FILTER (WHERE bp_date > "
            f"{_sql_date(start)} AND bp_date <= {_sql_date(end)}) FROM population GROUP BY agb_code, programme"
        ).fetchall()
    )


# --------------------------------------------------------------------------- one measurement, in its own process


def _best(run: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    times: list[float] = []
    result: Any = None
    for _ in range(repeat):
        result = None
        gc.collect()
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), times, result


def _timed(
    implementation: str, data: Path, catalogue: Sequence[IndicatorDefinition]
) -> tuple[Callable[[], Any], Callable[[Any], list[Row]] | None]:
    """What ``worker`` times for ``implementation`` (what it loads first stays outside the time), and how its
    result becomes the rows compared across implementations (None: a floor, its result is not compared)."""

    def recalculation(recalculate: Callable[[Path, Sequence[IndicatorDefinition], date], Any]) -> Callable[[], Any]:
        return lambda: recalculate(data, catalogue, PERIOD_END)

    if implementation == "polars":
        from readers.extracts import recalculate

        return recalculation(recalculate), _rows
    if implementation == "polars-table":
        from readers.extracts import recalculate_table

        return recalculation(recalculate_table), _table_rows
    if implementation == "duckdb":
        return recalculation(recalculate_duckdb), _rows
    if implementation == "duckdb-table":
        return recalculation(recalculate_duckdb_table), _table_rows
    if implementation == "pandas":
        return recalculation(recalculate_pandas), _as_rows
    if implementation == "floor":
        frame = pl.read_parquet(data)
        return lambda: polars_floor(frame), None
    if implementation == "floor-read":
        return lambda: polars_floor_read(data), None
    if implementation == "floor-scan":
        return lambda: polars_floor_scan(data), None
    if implementation == "duckdb-floor":
        import duckdb

        con = duckdb.connect()
        con.execute(f"CREATE TABLE population AS SELECT * FROM read_parquet('{data}')")
        return lambda: duckdb_floor(con), None
    raise SystemExit(f"unknown implementation {implementation!r}")


def _as_rows(rows: list[Row]) -> list[Row]:
    return rows


def worker(implementation: str, data: Path, repeat: int, out: Path) -> dict[str, Any]:
    catalogue = parse_catalogue(CATALOGUE)
    baseline = _memory_mb("VmRSS")
    if implementation == "stages":
        return _stages(data, catalogue, repeat)
    run, as_rows = _timed(implementation, data, catalogue)
    best, times, result = _best(run, repeat)
    rows = as_rows(result) if as_rows is not None else None
    peak = _memory_mb("VmHWM")
    if rows is not None:
        pl.DataFrame(
            rows, schema=["agb_code", "programme", "indicator", "numerator", "denominator"], orient="row"
        ).write_parquet(out)
    return {"best": best, "times": times, "peak_mb": peak, "baseline_mb": baseline, "results": rows is not None}


def _stages(data: Path, catalogue: Sequence[IndicatorDefinition], repeat: int) -> dict[str, Any]:
    """Where our time goes: the module's own steps, each timed alone (best of ``repeat``); and, for
    comparison, the two ways of making the objects that ours does not use."""
    from readers import extracts, recalculation

    computable = [d for d in catalogue if d.computable]
    # reading and validation have no public step of their own (``recalculate`` is the entry): timed by their parts
    read, _, raw = _best(lambda: extracts._read(data, extracts._Check(str(data))), repeat)
    validate, _, typed = _best(lambda: extracts._validate(raw, extracts._Check(str(data)), computable, None), repeat)
    count, _, counts = _best(lambda: recalculation.count_population(typed, computable, PERIOD_END), repeat)

    def table_and_check() -> pl.DataFrame:
        table = recalculation.scores_table(counts, computable, PERIOD_END)
        recalculation.assert_invariants(table)
        return table

    table_s, _, table = _best(table_and_check, repeat)
    scores, _, _ = _best(lambda: recalculation.indicator_scores(table), repeat)
    rows = [
        (agb, recalculation.PROGRAMMES[code], indicator, numerator, denominator)
        for agb, code, indicator, numerator, denominator in zip(
            table["agb_code"].to_list(), table["programme"].to_physical().to_list(), table["indicator"].to_list(),
            table["numerator"].to_list(), table["denominator"].to_list(), strict=True,
        )
    ]
    validated, _, _ = _best(lambda: [
        IndicatorScore(agb_code=a, programme=p, indicator=i, period_end=PERIOD_END, numerator=n, denominator=d)
        for a, p, i, n, d in rows
    ], repeat)
    constructed, _, _ = _best(lambda: [
        IndicatorScore.model_construct(
            agb_code=a, programme=p, indicator=i, period_end=PERIOD_END, numerator=n, denominator=d
        )
        for a, p, i, n, d in rows
    ], repeat)
    return {
        "read": read, "validate": validate, "count": count, "table + invariant check": table_s, "scores": scores,
        "(not used) validated scores": validated, "(not used) model_construct scores": constructed,
    }


def measure(implementation: str, data: Path, repeat: int, out: Path) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", implementation, "--file", str(data), "--repeat", str(repeat),
         "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _same(ours: Path, theirs: Path) -> bool:
    keys = ["agb_code", "programme", "indicator"]
    left = pl.read_parquet(ours).sort(keys)
    right = pl.read_parquet(theirs).sort(keys)
    return left.equals(right)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,1000,2500,5000", help="practice counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--implementations", default=",".join(IMPLEMENTATIONS))
    parser.add_argument("--csv", action="store_true", help="also time ours, DuckDB and (c') on the largest CSV")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.file, args.repeat, args.out)))
        return

    from generate_population import write

    sizes = [int(size) for size in args.sizes.split(",")]
    implementations = args.implementations.split(",")
    runs: list[tuple[str, int, Path]] = []
    for size in sizes:
        data = args.data / f"population-{size}.parquet"
        want_csv = args.csv and size == max(sizes)
        if not data.exists() or (want_csv and not data.with_suffix(".csv").exists()):
            started = time.perf_counter()
            write(size, args.data, csv=want_csv)
            print(f"generated {data} in {time.perf_counter() - started:.1f} s", flush=True)
        runs += [(implementation, size, data) for implementation in implementations]
        if want_csv:
            runs += [(f"{implementation} (csv)", size, data.with_suffix(".csv"))
                     for implementation in CSV_IMPLEMENTATIONS if implementation in implementations]

    rows_count = {size: pl.scan_parquet(args.data / f"population-{size}.parquet").select(pl.len()).collect().item()
                  for size in sizes}
    print(f"period end {PERIOD_END}; best of {args.repeat}; peak MB = VmHWM of a fresh process per cell")
    header = (f"{'implementation':<20}{'practices':>10}{'rows':>12}{'best s':>9}{'runs s':>22}{'peak MB':>9}"
              f"{'base MB':>9}{'s/1k pr.':>10}{'scaling':>9}  equal to ours")
    print(header)
    print("-" * len(header))
    results: dict[tuple[str, int], dict[str, Any]] = {}
    for implementation, size, data in runs:
        name = implementation.split(" ")[0]
        out = args.data / f"results-{implementation.replace(' ', '').replace('(', '-').replace(')', '')}-{size}.parquet"
        result = measure(name, data, args.repeat, out)
        results[(implementation, size)] = result
        per_1k = result["best"] / size * 1000
        smallest = results.get((implementation, sizes[0]))
        scaling = per_1k / (smallest["best"] / sizes[0] * 1000) if smallest else float("nan")
        equal = ""
        if result["results"]:
            ours = args.data / f"results-polars-{size}.parquet"
            equal = "yes" if _same(ours, out) else "NO"
        times = "/".join(f"{t:.2f}" for t in result["times"])
        print(f"{implementation:<20}{size:>10,}{rows_count[size]:>12,}{result['best']:>9.3f}{times:>22}"
              f"{result['peak_mb']:>9.0f}{result['baseline_mb']:>9.0f}{per_1k:>10.3f}{scaling:>9.2f}  {equal}",
              flush=True)
    largest = max(sizes)
    if "polars" in implementations:
        stages = measure("stages", args.data / f"population-{largest}.parquet", args.repeat, Path("/dev/null"))
        print(f"ours at {largest:,} practices, step by step (best of {args.repeat} each):")
        for name, seconds in stages.items():
            print(f"  {name:<36}{seconds:>7.3f} s")
        print(f"  {'sum of our steps':<36}{sum(v for k, v in stages.items() if not k.startswith('(')):>7.3f} s")
    mismatched = [key for key, value in results.items() if value["results"] and key[0] != "polars"
                  and not _same(args.data / f"results-polars-{key[1]}.parquet",
                                args.data / f"results-{key[0].replace(' ', '').replace('(', '-').replace(')', '')}"
                                            f"-{key[1]}.parquet")]
    def ratio(top: str, bottom: str, size: int, suffix: str = "") -> str | None:
        above, below = results.get((top + suffix, size)), results.get((bottom + suffix, size))
        if not above or not below:
            return None
        return f"{top}/{bottom} = {above['best'] / below['best']:.2f}x"

    pairs = [("pandas", "polars"), ("polars", "floor"), ("polars", "floor-read"), ("polars-table", "floor"),
             ("polars-table", "floor-read"), ("duckdb", "polars"), ("duckdb-table", "polars-table")]
    for size in sizes:
        found = [text for top, bottom in pairs if (text := ratio(top, bottom, size))]
        if found:
            print(f"  {size:,} practices: " + "  ".join(found))
    if args.csv:
        found = [text for top, bottom in pairs if (text := ratio(top, bottom, largest, " (csv)"))]
        if found:
            print(f"  {largest:,} practices, CSV: " + "  ".join(found))
    if mismatched:
        raise SystemExit(f"results differ from ours: {mismatched}")


if __name__ == "__main__":
    main()
