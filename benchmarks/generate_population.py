"""A deterministic synthetic national population for the recalculation benchmark.

One row per patient and programme, in the extract format of ``readers.extracts``:
``pseudonym, agb_code, programme, inclusion_date``, one ``<check>_date`` per check of the
shipped catalogue and ``<check>_value`` for the checks that outcome indicators test
(hba1c, bp, ldl). Nothing in it is real: AGB codes are random eight-digit codes starting
with ``01``, pseudonyms are ``P`` plus sixteen hex digits (never nine digits, so never a BSN).

Rows per practice, on average (national totals at 5,000 practices):

=========  ================  ==========================
programme  rows per practice  rows at 5,000 practices
=========  ================  ==========================
dm2        240                1,200,000
copd       80                   400,000
asthma     100                  500,000
cvrm       300                1,500,000
elderly    60                   300,000
=========  ================  ==========================

Practice sizes vary (log-normal list sizes), so some practices are three times the average.
Check coverage, per check a patient's programme uses: about 75% within the last 12 months
before the period end, 13% older (12 to 48 months), 2% after the period end (the extract was
taken later), 10% never; elderly checks (recorded at any time) about 55% present. About 2% of
patients are included after the period end. A check the programme does not use is empty.

Usage::

    .venv/bin/python benchmarks/generate_population.py [--practices 5000] [--out var/bench] [--csv]

writes ``<out>/population-<practices>.parquet`` (and ``.csv`` with ``--csv``). Same seed and
practice count, same file. Generation is vectorised (numpy and polars): seconds, not minutes.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

PERIOD_END = date(2024, 12, 31)
SEED = 20241231

ROWS_PER_PRACTICE: dict[str, int] = {"dm2": 240, "copd": 80, "asthma": 100, "cvrm": 300, "elderly": 60}

# The checks each programme's indicators count (from readers/data/catalogue.csv).
PROGRAMME_CHECKS: dict[str, tuple[str, ...]] = {
    "dm2": ("hba1c", "bp", "ldl", "egfr", "acr", "bmi", "smoking", "foot_exam", "fundus"),
    "copd": ("smoking", "burden", "exacerbations", "inhaler", "activity", "spirometry"),
    "asthma": ("acq", "inhaler", "smoking", "spirometry"),
    "cvrm": ("bp", "ldl", "egfr", "smoking"),
    "elderly": ("frailty", "acp", "memory", "dementia", "osteoporosis"),
}
CHECKS: tuple[str, ...] = tuple(dict.fromkeys(c for checks in PROGRAMME_CHECKS.values() for c in checks))
VALUE_CHECKS: tuple[str, ...] = ("hba1c", "bp", "ldl")
ELDERLY_CHECKS = frozenset(PROGRAMME_CHECKS["elderly"])


def _check_offsets(rng: np.random.Generator, n: int, elderly: bool) -> np.ndarray:
    """Days before the period end of a check (negative: after it); NaN marks no check."""
    if elderly:
        present = rng.random(n) < 0.55
        days = rng.integers(0, 6 * 365, n).astype(np.float64)
        after = rng.random(n) < 0.02
        days[after] = -rng.integers(1, 60, int(after.sum()))
        days[~present] = np.nan
        return days
    kind = rng.random(n)
    days = np.full(n, np.nan)
    recent = kind < 0.75
    older = (kind >= 0.75) & (kind < 0.88)
    after = (kind >= 0.88) & (kind < 0.90)
    days[recent] = rng.integers(0, 366, int(recent.sum()))
    days[older] = rng.integers(366, 4 * 365, int(older.sum()))
    days[after] = -rng.integers(1, 90, int(after.sum()))
    return days


def _hex_names(numbers: np.ndarray) -> np.ndarray:
    """``P`` and the sixteen upper-case hex digits of each number, built without a Python loop."""
    digits = np.array(list(b"0123456789ABCDEF"), dtype=np.uint8)
    chars = np.empty((numbers.size, 17), dtype=np.uint8)
    chars[:, 0] = ord("P")
    for position in range(16):
        shift = np.uint64(4 * (15 - position))
        chars[:, position + 1] = digits[((numbers >> shift) & np.uint64(15)).astype(np.intp)]
    return chars.view("S17").ravel().astype(str)


def generate(practices: int = 5000, seed: int = SEED, period_end: date = PERIOD_END) -> pl.DataFrame:
    """The population of ``practices`` practices as a DataFrame (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    agb_numbers = rng.choice(1_000_000, size=practices, replace=False)
    agb_codes = np.array([f"01{n:06d}" for n in agb_numbers])
    size = rng.lognormal(mean=0.0, sigma=0.35, size=practices)
    weights = size / size.sum()
    end = np.datetime64(period_end.isoformat(), "D")

    frames: list[pl.DataFrame] = []
    first_id = 0
    for programme, per_practice in ROWS_PER_PRACTICE.items():
        n = per_practice * practices
        counts = rng.multinomial(n, weights)
        practice_of_row = np.repeat(np.arange(practices), counts)
        # included up to 15 years before the period end; about 2% after it
        inclusion_offset = rng.integers(0, 15 * 365, n)
        late = rng.random(n) < 0.02
        inclusion_offset[late] = -rng.integers(1, 120, int(late.sum()))
        columns: dict[str, np.ndarray] = {
            "row_id": np.arange(first_id, first_id + n, dtype=np.uint64),
            "agb_code": agb_codes[practice_of_row],
            "programme": np.full(n, programme),
            "inclusion_date": end - inclusion_offset.astype("timedelta64[D]"),
        }
        first_id += n
        used = PROGRAMME_CHECKS[programme]
        for check in CHECKS:
            if check in used:
                offsets = _check_offsets(rng, n, check in ELDERLY_CHECKS)
                dates = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
                present = ~np.isnan(offsets)
                dates[present] = end - offsets[present].astype(np.int64).astype("timedelta64[D]")
                columns[f"{check}_date"] = dates
            else:
                columns[f"{check}_date"] = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        for check in VALUE_CHECKS:
            values = np.full(n, np.nan)
            if check in used:
                present = ~np.isnat(columns[f"{check}_date"])
                if check == "hba1c":  # mmol/mol, whole numbers
                    drawn = np.round(rng.normal(54.0, 11.0, n))
                elif check == "bp":  # systolic mmHg, whole numbers
                    drawn = np.round(rng.normal(138.0, 16.0, n))
                else:  # ldl mmol/l, one decimal
                    drawn = np.round(rng.normal(2.6, 0.8, n).clip(0.5, None), 1)
                values[present] = drawn[present]
            columns[f"{check}_value"] = values
        frames.append(pl.DataFrame(columns, nan_to_null=True))

    frame = pl.concat(frames)
    # an opaque pseudonym: P + 16 hex digits of a bijective scramble of the row id (never nine digits)
    scrambled = (frame["row_id"].to_numpy() * np.uint64(0x9E3779B97F4A7C15)) ^ np.uint64(seed)
    frame = frame.with_columns(pl.Series("pseudonym", _hex_names(scrambled))).drop("row_id")
    # shuffle the rows: an extract is not sorted by practice
    order = rng.permutation(frame.height)
    frame = frame[order]
    date_columns = [f"{c}_date" for c in CHECKS]
    value_columns = [f"{c}_value" for c in VALUE_CHECKS]
    return frame.select(
        "pseudonym",
        "agb_code",
        "programme",
        pl.col("inclusion_date").cast(pl.Date),
        *(pl.col(c).cast(pl.Date) for c in date_columns),
        *value_columns,
    )


def write(practices: int, out: Path, csv: bool = False, seed: int = SEED) -> Path:
    """Write ``population-<practices>.parquet`` (and ``.csv``) under ``out``; return the Parquet path."""
    out.mkdir(parents=True, exist_ok=True)
    frame = generate(practices, seed)
    path = out / f"population-{practices}.parquet"
    frame.write_parquet(path)
    if csv:
        frame.write_csv(out / f"population-{practices}.csv", date_format="%Y-%m-%d")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--practices", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=Path("var/bench"))
    parser.add_argument("--csv", action="store_true", help="also write a CSV copy")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    started = time.perf_counter()
    path = write(args.practices, args.out, args.csv, args.seed)
    frame = pl.read_parquet(path, columns=["programme"])
    counts = frame.group_by("programme").len().sort("programme")
    print(f"wrote {path} ({frame.height:,} rows) in {time.perf_counter() - started:.1f} s")
    for programme, rows in counts.iter_rows():
        print(f"  {programme:8} {rows:>10,}")


if __name__ == "__main__":
    main()
