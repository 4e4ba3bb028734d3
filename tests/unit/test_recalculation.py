"""Scenarios of a care group's staff recalculating the indicators from a pseudonymised extract.

The main scenario is a small extract made by hand (two practices, fourteen rows over dm2, copd
and elderly) whose expected numerators and denominators are worked out by hand below, with the
arithmetic in comments. The period ends on E = 2024-06-30, so a 12-month window is
(2023-06-30, 2024-06-30], 24 months (2022-06-30, 2024-06-30], 36 months (2021-06-30, 2024-06-30].
"""

from __future__ import annotations

import csv
import gc
import io
import pickle
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from pydantic import ValidationError

from domain import score_objects
from domain.errors import PatientDataError
from domain.indicators import IndicatorDefinition, IndicatorKind, IndicatorScore
from domain.registry import Programme
from readers import recalculation
from readers.extracts import TABLE_SCHEMA, recalculate, recalculate_table
from readers.files import InputFileError, PatientDataFileError, Problem, parse_catalogue, passes_elfproef

CATALOGUE_PATH = Path(__file__).resolve().parents[2] / "readers" / "data" / "catalogue.csv"
E = date(2024, 6, 30)
A, B = "01000001", "01000002"

COLUMNS = [
    "pseudonym", "agb_code", "programme", "inclusion_date",
    "hba1c_date", "hba1c_value", "bp_date", "bp_value", "ldl_date", "ldl_value",
    "egfr_date", "acr_date", "bmi_date", "smoking_date", "foot_exam_date", "fundus_date",
    "burden_date", "exacerbations_date", "inhaler_date", "activity_date", "spirometry_date",
    "frailty_date", "acp_date", "memory_date", "dementia_date", "osteoporosis_date",
    "acq_date",  # asthma is not in this extract: nothing needs this column, so its text is ignored
]

# fmt: off
ROWS: list[dict[str, str]] = [
    # practice A, dm2
    {"pseudonym": "P-001", "agb_code": A, "programme": "dm2", "inclusion_date": "2020-01-01",
     "hba1c_date": "2024-06-30", "hba1c_value": "52",     # on E itself: counted; 52 < 53
     "bp_date": "2023-07-01", "bp_value": "140",          # first day of the window; 140 <= 140
     "fundus_date": "2021-07-01",                         # first day of the 36-month window
     "smoking_date": "2024-01-15", "acq_date": "n.v.t."},
    {"pseudonym": "P-002", "agb_code": A, "programme": "dm2", "inclusion_date": "2019-05-05",
     "hba1c_date": "2023-06-30", "hba1c_value": "40",     # exactly 12 months before E: NOT counted
     "bp_date": "2024-03-01", "bp_value": "141",          # measured, above 140
     "fundus_date": "2021-06-30"},                        # exactly 36 months before E: NOT counted
    {"pseudonym": "P-003", "agb_code": A, "programme": "dm2", "inclusion_date": "2024-06-30",  # included on E
     "hba1c_date": "2024-02-02", "hba1c_value": "53"},    # at the threshold: 53 < 53 is false
    {"pseudonym": "P-004", "agb_code": A, "programme": "dm2", "inclusion_date": "2024-07-01",  # after E: not in
     "hba1c_date": "2024-05-05", "hba1c_value": "45"},
    {"pseudonym": "P-005", "agb_code": A, "programme": "dm2", "inclusion_date": "2018-01-01",
     "hba1c_date": "2024-07-01", "hba1c_value": "44",     # after E (a later extract): not counted
     "bp_date": "2024-06-01", "bp_value": "120"},
    # practice A, copd
    {"pseudonym": "P-006", "agb_code": A, "programme": "copd", "inclusion_date": "2015-01-01",
     "spirometry_date": "2022-07-01",                     # first day of the 24-month window
     "smoking_date": "2024-06-30"},
    {"pseudonym": "P-007", "agb_code": A, "programme": "copd", "inclusion_date": "2016-01-01",
     "spirometry_date": "2022-06-30"},                    # exactly 24 months before E: NOT counted
    # practice A, elderly (P-001 again: one row per patient AND programme)
    {"pseudonym": "P-001", "agb_code": A, "programme": "elderly", "inclusion_date": "2023-01-01",
     "frailty_date": "2010-01-01",                        # no window: any date up to E
     "acp_date": "2024-07-01"},                           # after E: not counted
    {"pseudonym": "P-009", "agb_code": A, "programme": "elderly", "inclusion_date": "2022-01-01",
     "acp_date": "2024-06-30"},
    # practice B, dm2
    {"pseudonym": "Q-001", "agb_code": B, "programme": "dm2", "inclusion_date": "2021-01-01",
     "hba1c_date": "2024-01-01", "hba1c_value": "60",
     "bp_date": "2024-06-30", "bp_value": "139.5", "fundus_date": "2024-01-01"},
    {"pseudonym": "123456789", "agb_code": B, "programme": "dm2", "inclusion_date": "2021-02-02",
     "hba1c_value": "30"},                                # 123456789 fails the eleven-test; a value without date
    # practice B, copd: only a patient included after E, so no copd population and no copd scores
    {"pseudonym": "Q-003", "agb_code": B, "programme": "copd", "inclusion_date": "2024-07-15",
     "spirometry_date": "2024-07-20"},
    # practice B, elderly
    {"pseudonym": "Q-004", "agb_code": B, "programme": "elderly", "inclusion_date": "2020-01-01",
     "frailty_date": "2024-06-30", "memory_date": "2020-02-02"},
    {"pseudonym": "Q-005", "agb_code": B, "programme": "elderly", "inclusion_date": "2023-05-01",
     "dementia_date": "2024-12-01"},                      # after E: not counted
]

# (practice, programme, indicator) -> (numerator, denominator); worked out by hand.
EXPECTED: dict[tuple[str, str, str], tuple[int, int]] = {
    # A dm2: population P-001, P-002, P-003, P-005 = 4 (P-004 is included after E)
    (A, "dm2", "hba1c_measured"): (2, 4),  # P-001 (2024-06-30), P-003 (2024-02-02); not P-002 (edge), P-005 (after E)
    (A, "dm2", "hba1c_below_53"): (1, 2),  # of P-001 (52) and P-003 (53): only 52 < 53
    (A, "dm2", "bp_measured"): (3, 4),  # P-001 (2023-07-01), P-002 (2024-03-01), P-005 (2024-06-01)
    (A, "dm2", "sbp_max_140"): (2, 3),  # 140 <= 140 yes, 141 no, 120 yes
    (A, "dm2", "ldl_measured"): (0, 4),  # nobody; ldl_below_2_6 has denominator 0 and is not emitted
    (A, "dm2", "egfr_measured"): (0, 4),
    (A, "dm2", "acr_measured"): (0, 4),
    (A, "dm2", "bmi_measured"): (0, 4),
    (A, "dm2", "smoking_recorded"): (1, 4),  # P-001 (2024-01-15)
    (A, "dm2", "foot_exam"): (0, 4),
    (A, "dm2", "fundus_36m"): (1, 4),  # P-001 (2021-07-01); not P-002 (2021-06-30, the edge)
    # A copd: population P-006, P-007 = 2
    (A, "copd", "smoking_recorded"): (1, 2),  # P-006 (2024-06-30)
    (A, "copd", "burden_measured"): (0, 2),
    (A, "copd", "exacerbations_recorded"): (0, 2),
    (A, "copd", "inhaler_checked"): (0, 2),
    (A, "copd", "activity_recorded"): (0, 2),
    (A, "copd", "spirometry_24m"): (1, 2),  # P-006 (2022-07-01); not P-007 (2022-06-30, the edge)
    # A elderly: population P-001, P-009 = 2
    (A, "elderly", "frailty_recorded"): (1, 2),  # P-001 (2010-01-01: any date up to E)
    (A, "elderly", "acp_recorded"): (1, 2),  # P-009 (2024-06-30); not P-001 (2024-07-01, after E)
    (A, "elderly", "memory_recorded"): (0, 2),
    (A, "elderly", "dementia_recorded"): (0, 2),
    (A, "elderly", "osteoporosis_recorded"): (0, 2),
    # B dm2: population Q-001, 123456789 = 2
    (B, "dm2", "hba1c_measured"): (1, 2),  # Q-001; 123456789 has a value but no date
    (B, "dm2", "hba1c_below_53"): (0, 1),  # 60 is not below 53
    (B, "dm2", "bp_measured"): (1, 2),  # Q-001 (2024-06-30)
    (B, "dm2", "sbp_max_140"): (1, 1),  # 139.5 <= 140
    (B, "dm2", "ldl_measured"): (0, 2),
    (B, "dm2", "egfr_measured"): (0, 2),
    (B, "dm2", "acr_measured"): (0, 2),
    (B, "dm2", "bmi_measured"): (0, 2),
    (B, "dm2", "smoking_recorded"): (0, 2),
    (B, "dm2", "foot_exam"): (0, 2),
    (B, "dm2", "fundus_36m"): (1, 2),  # Q-001 (2024-01-01)
    # B copd: nobody included by E, so no copd score at all
    # B elderly: population Q-004, Q-005 = 2
    (B, "elderly", "frailty_recorded"): (1, 2),  # Q-004 (2024-06-30)
    (B, "elderly", "acp_recorded"): (0, 2),
    (B, "elderly", "memory_recorded"): (1, 2),  # Q-004 (2020-02-02)
    (B, "elderly", "dementia_recorded"): (0, 2),  # Q-005's 2024-12-01 is after E
    (B, "elderly", "osteoporosis_recorded"): (0, 2),
}
# fmt: on


@pytest.fixture(scope="module")
def catalogue() -> list[IndicatorDefinition]:
    return parse_catalogue(CATALOGUE_PATH)


@pytest.fixture(autouse=True)
def private_temp_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point every temp-file API (Python's, Polars') at an empty folder of this test's own."""
    folder = tmp_path_factory.mktemp("tmpdir")
    for variable in ("TMPDIR", "TEMP", "TMP", "POLARS_TEMP_DIR"):
        monkeypatch.setenv(variable, str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder


def csv_text(
    rows: Sequence[Mapping[str, str]] = ROWS, columns: Sequence[str] = COLUMNS, delimiter: str = ","
) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([[row.get(column, "") for column in columns] for row in rows])
    return buffer.getvalue()


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def as_dict(scores: Sequence[IndicatorScore]) -> dict[tuple[str, str, str], tuple[int, int]]:
    assert all(score.period_end == E for score in scores)
    found = {(s.agb_code, s.programme.value, s.indicator): (s.numerator, s.denominator) for s in scores}
    assert len(found) == len(scores), "one score per practice and indicator"
    return found


def with_row(**changes: str) -> list[dict[str, str]]:
    """The hand-made rows with one more row (becoming row 16 of the file: header 1, rows 2-15)."""
    row = {"pseudonym": "X-1", "agb_code": A, "programme": "dm2", "inclusion_date": "2020-01-01"}
    return [*ROWS, {**row, **changes}]


def refusal(
    path: Path, catalogue: list[IndicatorDefinition], known_agb_codes: set[str] | None = None
) -> InputFileError:
    with pytest.raises(InputFileError) as caught:
        recalculate(path, catalogue, E, known_agb_codes)
    return caught.value


def located(error: InputFileError) -> list[tuple[int | None, str | None]]:
    return [(problem.row, problem.column) for problem in error.problems]


def counts(rows: Sequence[tuple[str, int, int, int]]) -> pl.DataFrame:
    """What ``count_population`` returns: (AGB code, catalogue position, numerator, denominator) per row."""
    return pl.DataFrame(rows, schema=recalculation.COUNTS_SCHEMA, orient="row")


# --------------------------------------------------------------------------- computing


def test_the_hand_made_extract_gives_the_hand_computed_counts(
    tmp_path: Path, catalogue: list[IndicatorDefinition]
) -> None:
    path = write(tmp_path, "extract.csv", csv_text())
    scores = recalculate(path, catalogue, E)
    assert as_dict(scores) == EXPECTED
    assert all(type(score) is IndicatorScore for score in scores)
    # ordered by practice and then by catalogue order
    order = {d.key: index for index, d in enumerate(catalogue)}
    assert [(s.agb_code, order[s.key]) for s in scores] == sorted((s.agb_code, order[s.key]) for s in scores)


def test_an_excel_csv_with_semicolons_bom_and_decimal_commas_gives_the_same(
    tmp_path: Path, catalogue: list[IndicatorDefinition]
) -> None:
    rows = [{k: v.replace(".", ",") if k.endswith("_value") else v for k, v in row.items()} for row in ROWS]
    assert any(row.get("bp_value") == "139,5" for row in rows)
    path = write(tmp_path, "excel.csv", csv_text(rows, delimiter=";"), encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfpseudonym;")
    assert as_dict(recalculate(path, catalogue, E)) == EXPECTED


def test_parquet_with_typed_or_text_columns_gives_the_same(
    tmp_path: Path, catalogue: list[IndicatorDefinition]
) -> None:
    text = pl.DataFrame(
        [[row.get(c) or None for c in COLUMNS] for row in ROWS], schema=dict.fromkeys(COLUMNS, pl.String), orient="row"
    )
    typed = text.with_columns(
        [pl.col(c).str.to_date() for c in COLUMNS if c.endswith("_date") and c != "acq_date"]
        + [pl.col(c).cast(pl.Float64) for c in COLUMNS if c.endswith("_value")]
    )
    for name, frame in (("typed.parquet", typed), ("text.parquet", text)):
        path = tmp_path / name
        frame.write_parquet(path)
        assert as_dict(recalculate(path, catalogue, E)) == EXPECTED, name


def test_the_window_is_months_back_from_the_period_end_exclusive(
    tmp_path: Path, catalogue: list[IndicatorDefinition]
) -> None:
    # E = 2024-02-29 (a leap day): 12 months back is 2023-02-28 (relativedelta), which is outside
    rows = [
        {"pseudonym": f"L-{n}", "agb_code": A, "programme": "dm2", "inclusion_date": "2020-01-01", "hba1c_date": d}
        for n, d in enumerate(["2023-02-28", "2023-03-01", "2024-02-29", "2024-03-01"])
    ]
    path = write(tmp_path, "leap.csv", csv_text(rows))
    scores = {s.indicator: (s.numerator, s.denominator) for s in recalculate(path, catalogue, date(2024, 2, 29))}
    assert scores["hba1c_measured"] == (2, 4)  # 2023-03-01 and 2024-02-29; not 2023-02-28 nor 2024-03-01


def test_known_practices_are_accepted_and_only_computable_indicators_count(
    tmp_path: Path, catalogue: list[IndicatorDefinition]
) -> None:
    path = write(tmp_path, "extract.csv", csv_text())
    uncomputable = IndicatorDefinition(
        programme=Programme.DM2, indicator="by_hand", name="Handmatig", kind=IndicatorKind.PROCESS
    )
    scores = recalculate(path, [*catalogue, uncomputable], E, known_agb_codes={A, B, "01999999"})
    assert as_dict(scores) == EXPECTED


def test_nothing_is_written_to_disk(
    tmp_path: Path, catalogue: list[IndicatorDefinition], private_temp_dir: Path
) -> None:
    extract = write(tmp_path, "extract.csv", csv_text())
    pl.read_csv(extract, infer_schema=False).write_parquet(tmp_path / "extract.parquet")
    bad = write(tmp_path, "bad.csv", csv_text(with_row(inclusion_date="gisteren")))
    before_tmp = sorted(private_temp_dir.rglob("*"))
    before_folder = sorted(tmp_path.rglob("*"))
    recalculate(extract, catalogue, E)
    recalculate(tmp_path / "extract.parquet", catalogue, E)
    with pytest.raises(InputFileError):
        recalculate(bad, catalogue, E)
    assert sorted(private_temp_dir.rglob("*")) == before_tmp == []
    assert sorted(tmp_path.rglob("*")) == before_folder


def test_the_table_holds_the_same_aggregates_as_the_scores(
    tmp_path: Path, catalogue: list[IndicatorDefinition]
) -> None:
    path = write(tmp_path, "extract.csv", csv_text())
    table = recalculate_table(path, catalogue, E)
    assert table.schema == pl.Schema(TABLE_SCHEMA)
    assert list(table.columns) == ["agb_code", "programme", "indicator", "period_end", "numerator", "denominator"]
    assert table.get_column("period_end").unique().to_list() == [E]
    rows = table.select(pl.col("programme").cast(pl.String), "agb_code", "indicator", "numerator", "denominator")
    assert {(a, p, i): (n, d) for p, a, i, n, d in rows.iter_rows()} == EXPECTED
    scores = recalculate(path, catalogue, E)
    assert [(s.agb_code, s.programme.value, s.indicator, s.numerator, s.denominator) for s in scores] == [
        (a, p, i, n, d) for p, a, i, n, d in rows.iter_rows()
    ]  # the same rows in the same order


def test_the_scores_are_the_objects_pydantic_would_have_validated(
    tmp_path: Path, catalogue: list[IndicatorDefinition]
) -> None:
    """Built without validating each one (the table is checked as a whole), yet indistinguishable."""
    scores = recalculate(write(tmp_path, "extract.csv", csv_text()), catalogue, E)
    for score in scores:
        validated = IndicatorScore.model_validate(score.model_dump())
        assert type(score) is IndicatorScore
        assert score == validated and validated == score and hash(score) == hash(validated)
        assert score.__getstate__() == validated.__getstate__()
        assert score.model_fields_set == validated.model_fields_set
        assert repr(score) == repr(validated) and score.model_dump_json() == validated.model_dump_json()
        assert isinstance(score.programme, Programme) and score.exact_score == validated.exact_score
        assert pickle.loads(pickle.dumps(score)) == score
    first = next(score for score in scores if score.numerator > 0)
    with pytest.raises(ValidationError):
        first.numerator = 0  # type: ignore[misc]  # frozen, as a validated score
    changed = first.model_copy(update={"numerator": 0})
    assert changed.numerator == 0 and first.numerator > 0
    # the scores share one fields set (as model_construct's do when given one); a copy gets its own
    assert changed.model_fields_set is not first.model_fields_set
    assert all(score.model_fields_set == set(TABLE_SCHEMA) for score in scores)


def test_scores_read_back_from_the_database_are_the_objects_that_were_stored(
    tmp_path: Path, catalogue: list[IndicatorDefinition], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep reads stored scores without validating them again (they were validated on the way in)."""
    stored = recalculate(write(tmp_path, "extract.csv", csv_text()), catalogue, E)
    rows = [(s.agb_code, s.programme.value, s.indicator, s.period_end, s.numerator, s.denominator) for s in stored]
    for fast in (True, False):
        monkeypatch.setattr(score_objects, "plain_construction_holds", lambda fast=fast: fast)
        read = score_objects.stored_scores(rows)
        assert read == stored and [hash(s) for s in read] == [hash(s) for s in stored]
        for score, original in zip(read, stored, strict=True):
            assert type(score) is IndicatorScore and isinstance(score.programme, Programme)
            assert score.__getstate__() == original.__getstate__() and repr(score) == repr(original)
            assert pickle.loads(pickle.dumps(score)) == original


def test_the_fast_objects_fall_back_to_model_construct(
    tmp_path: Path, catalogue: list[IndicatorDefinition], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "extract.csv", csv_text())
    assert score_objects.plain_construction_holds()
    monkeypatch.setattr(score_objects, "plain_construction_holds", lambda: False)
    scores = recalculate(path, catalogue, E)
    assert as_dict(scores) == EXPECTED
    assert all(score == IndicatorScore.model_validate(score.model_dump()) for score in scores)


def test_the_garbage_collector_is_left_as_it_was(tmp_path: Path, catalogue: list[IndicatorDefinition]) -> None:
    path = write(tmp_path, "extract.csv", csv_text())
    assert gc.isenabled()
    recalculate(path, catalogue, E)
    assert gc.isenabled()
    gc.disable()
    try:
        recalculate(path, catalogue, E)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("numerator", "denominator", "agb_code"),
    [(3, 2, A), (-1, 2, A), (0, 0, A), (1, 2, "1234567")],
)
def test_a_counting_bug_fails_loudly_before_any_score_is_made(
    catalogue: list[IndicatorDefinition], numerator: int, denominator: int, agb_code: str
) -> None:
    computable = [d for d in catalogue if d.computable]
    sound = recalculation.scores_table(counts([(A, 0, 1, 2), (B, 1, 2, 2)]), computable, E)
    recalculation.assert_invariants(sound)
    broken = recalculation.scores_table(counts([(A, 0, 1, 2), (agb_code, 1, numerator, denominator)]), computable, E)
    with pytest.raises(AssertionError, match="1 rijen schenden"):
        recalculation.assert_invariants(broken)


def test_recalculate_checks_the_counts_before_any_score_is_made(
    tmp_path: Path, catalogue: list[IndicatorDefinition], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check is wired in: counts with a bug, put in place of the public counting step, fail both calls."""
    monkeypatch.setattr(recalculation, "count_population", lambda *_: counts([(A, 0, 1, 2), (A, 1, 3, 2)]))
    path = write(tmp_path, "extract.csv", csv_text())
    for call in (recalculate, recalculate_table):
        with pytest.raises(AssertionError, match="1 rijen schenden"):
            call(path, catalogue, E)


def test_dutch_programme_names_in_any_case_are_accepted(
    tmp_path: Path, catalogue: list[IndicatorDefinition]
) -> None:
    names = {"dm2": "Diabetes", "copd": " COPD ", "elderly": "ouderenzorg"}
    rows = [{**row, "programme": names[row["programme"]]} for row in ROWS]
    assert as_dict(recalculate(write(tmp_path, "dutch.csv", csv_text(rows)), catalogue, E)) == EXPECTED
    asthma = [
        {"pseudonym": f"S-{n}", "agb_code": A, "programme": name, "inclusion_date": "2020-01-01", "acq_date": day}
        for n, (name, day) in enumerate([("Astma", "2024-01-01"), ("ASTHMA", ""), ("astma", "2024-06-30")])
    ]
    scores = recalculate(write(tmp_path, "astma.csv", csv_text(asthma)), catalogue, E)
    assert {s.programme for s in scores} == {Programme.ASTHMA}
    assert {s.indicator: (s.numerator, s.denominator) for s in scores}["acq_measured"] == (2, 3)


def test_an_unknown_programme_names_the_accepted_ones(tmp_path: Path, catalogue: list[IndicatorDefinition]) -> None:
    error = refusal(write(tmp_path, "bad.csv", csv_text(with_row(programme="suiker"))), catalogue)
    assert located(error) == [(16, "programme")]
    assert "dm2" in str(error) and "astma" in str(error) and "ouderenzorg" in str(error)


def test_blank_rows_are_skipped(tmp_path: Path, catalogue: list[IndicatorDefinition]) -> None:
    lines = csv_text().splitlines()
    lines.insert(5, "," * (len(COLUMNS) - 1))  # an empty row in the middle, as spreadsheets leave them
    lines.append("," * (len(COLUMNS) - 1))
    path = write(tmp_path, "blanks.csv", "\r\n".join(lines) + "\r\n")
    assert as_dict(recalculate(path, catalogue, E)) == EXPECTED


def test_a_missing_pseudonym_and_a_duplicate_are_both_reported(
    tmp_path: Path, catalogue: list[IndicatorDefinition]
) -> None:
    rows = [*with_row(pseudonym=""), {"pseudonym": "P-002", "agb_code": A, "programme": "dm2",
                                      "inclusion_date": "2020-01-01"}]
    error = refusal(write(tmp_path, "bad.csv", csv_text(rows)), catalogue)
    assert located(error) == [(16, "pseudonym"), (17, "pseudonym")]
    assert "ontbreekt" in str(error) and "ook op rij 3" in str(error)


# --------------------------------------------------------------------------- refusing bad files


def test_an_empty_file_or_a_header_without_rows_is_refused(
    tmp_path: Path, catalogue: list[IndicatorDefinition]
) -> None:
    for name, text in (("empty.csv", ""), ("bom.csv", "\ufeff"), ("blank.csv", "\r\n\r\n")):
        error = refusal(write(tmp_path, name, text), catalogue)
        assert "leeg" in str(error) and error.problems[0].file.endswith(name)
    error = refusal(write(tmp_path, "header.csv", csv_text([])), catalogue)
    assert "geen gegevensrijen" in str(error)
    (tmp_path / "empty.parquet").write_bytes(b"")
    assert "Parquet" in str(refusal(tmp_path / "empty.parquet", catalogue))


def test_a_wrong_delimiter_is_refused_at_the_header(tmp_path: Path, catalogue: list[IndicatorDefinition]) -> None:
    error = refusal(write(tmp_path, "tabs.csv", csv_text(delimiter="\t")), catalogue)
    assert error.problems[0].row == 1
    assert "scheidingsteken" in str(error) and "puntkomma" in str(error)


def test_a_windows_encoded_file_is_refused_at_the_cell(tmp_path: Path, catalogue: list[IndicatorDefinition]) -> None:
    rows = [dict(row) for row in ROWS]
    rows[3]["acq_date"] = "geëxporteerd"  # data row 4 = row 5 of the file
    error = refusal(write(tmp_path, "ansi.csv", csv_text(rows), encoding="cp1252"), catalogue)
    assert located(error) == [(5, "acq_date")]
    assert "UTF-8" in str(error)


def test_a_row_with_too_many_cells_is_refused_at_its_row(tmp_path: Path, catalogue: list[IndicatorDefinition]) -> None:
    text = csv_text().splitlines()
    text[2] += ",7,5"  # a decimal comma in a comma-separated file: row 3
    error = refusal(write(tmp_path, "ragged.csv", "\r\n".join(text) + "\r\n"), catalogue)
    assert located(error) == [(3, None)]
    assert "decimale komma" in str(error)


def test_missing_columns_are_named(tmp_path: Path, catalogue: list[IndicatorDefinition]) -> None:
    columns = [c for c in COLUMNS if c not in ("inclusion_date", "fundus_date", "ldl_value")]
    error = refusal(write(tmp_path, "missing.csv", csv_text(columns=columns)), catalogue)
    assert sorted(located(error), key=str) == [(1, "fundus_date"), (1, "inclusion_date"), (1, "ldl_value")]
    assert "fundus_36m" in str(error)  # which indicator needs the column
    # asthma and cvrm columns are not needed: no asthma or cvrm rows in the extract
    assert "acq" not in str(error).replace("acq_date", "")


@pytest.mark.parametrize(
    ("change", "column", "words"),
    [
        ({"inclusion_date": "31-12-2023"}, "inclusion_date", "ongeldig"),
        ({"inclusion_date": ""}, "inclusion_date", "ontbreekt"),
        ({"bp_date": "2024-02-30"}, "bp_date", "bestaat niet"),
        ({"agb_code": "1234567"}, "agb_code", "voorloopnul"),
        ({"agb_code": "ABCDEFGH"}, "agb_code", "8 cijfers"),
        ({"programme": "diabetes type 2"}, "programme", "onbekend"),
        ({"hba1c_value": "hoog"}, "hba1c_value", "geen (eindig) getal"),
        ({"bp_value": "inf"}, "bp_value", "geen (eindig) getal"),
        ({"pseudonym": ""}, "pseudonym", "ontbreekt"),
        ({"pseudonym": "P-002"}, "pseudonym", "ook op rij 3"),
    ],
)
def test_a_bad_cell_is_refused_with_its_row_and_column(
    tmp_path: Path, catalogue: list[IndicatorDefinition], change: dict[str, str], column: str, words: str
) -> None:
    error = refusal(write(tmp_path, "bad.csv", csv_text(with_row(**change))), catalogue)
    assert type(error) is InputFileError
    assert located(error) == [(16, column)], error
    assert words in str(error)
    assert str(error).startswith(f"{tmp_path / 'bad.csv'}, rij 16, kolom {column}: ")


def test_a_practice_outside_the_registry_is_refused(tmp_path: Path, catalogue: list[IndicatorDefinition]) -> None:
    path = write(tmp_path, "extract.csv", csv_text())
    error = refusal(path, catalogue, known_agb_codes={A})
    assert [p.row for p in error.problems[:5]] == [11, 12, 13, 14, 15] and error.problems[0].column == "agb_code"
    assert "01000002 staat niet in het register" in str(error)
    assert "en nog" not in str(error)  # B has exactly five rows


def test_many_bad_cells_are_listed_briefly(tmp_path: Path, catalogue: list[IndicatorDefinition]) -> None:
    rows = [{**row, "inclusion_date": "?"} for row in ROWS]
    error = refusal(write(tmp_path, "bad.csv", csv_text(rows)), catalogue)
    assert located(error)[:5] == [(2, "inclusion_date"), (3, "inclusion_date"), (4, "inclusion_date"),
                                  (5, "inclusion_date"), (6, "inclusion_date")]
    assert error.problems[-1] == Problem(str(tmp_path / "bad.csv"), None, "inclusion_date",
                                         "en nog 9 cellen met dezelfde fout in deze kolom")


def test_every_problem_of_the_file_is_reported_at_once(tmp_path: Path, catalogue: list[IndicatorDefinition]) -> None:
    rows = [dict(row) for row in ROWS]
    rows[0]["bp_date"] = "morgen"
    rows[5]["agb_code"] = "123"
    error = refusal(write(tmp_path, "bad.csv", csv_text(rows)), catalogue)
    assert located(error) == [(2, "bp_date"), (7, "agb_code")]


# --------------------------------------------------------------------------- refusing patient data


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("pseudonym", "111222333"),
        ("pseudonym", " 111222333 "),
        ("pseudonym", "1112.22.333"),
        ("acq_date", "111222333"),  # an ignored column is still checked
        ("hba1c_date", "111222333"),
        ("bp_value", "111222333"),
    ],
)
def test_a_bsn_in_any_cell_is_refused_without_repeating_it(
    tmp_path: Path, catalogue: list[IndicatorDefinition], column: str, cell: str
) -> None:
    assert passes_elfproef("111222333")
    error = refusal(write(tmp_path, "bsn.csv", csv_text(with_row(**{column: cell}))), catalogue)
    assert isinstance(error, PatientDataFileError) and isinstance(error, PatientDataError)
    assert located(error)[0] == (16, column)
    assert "burgerservicenummer" in str(error)
    assert "111222333" not in str(error) and "1112.22.333" not in str(error)


def test_a_bsn_in_a_numeric_parquet_column_is_refused(tmp_path: Path, catalogue: list[IndicatorDefinition]) -> None:
    frame = pl.read_csv(write(tmp_path, "extract.csv", csv_text()), infer_schema=False)
    frame = frame.with_columns(pl.Series("patient_number", [7] * 13 + [111222333], dtype=pl.Int64))
    frame.write_parquet(tmp_path / "extract.parquet")
    error = refusal(tmp_path / "extract.parquet", catalogue)
    assert isinstance(error, PatientDataFileError)
    assert located(error) == [(15, "patient_number")]


def test_a_bsn_in_a_float_parquet_column_is_refused_but_not_a_fraction(
    tmp_path: Path, catalogue: list[IndicatorDefinition]
) -> None:
    frame = pl.read_csv(write(tmp_path, "extract.csv", csv_text()), infer_schema=False)
    for cell, refused in ((111222333.0, True), (111222333.5, False)):
        extra = frame.with_columns(pl.Series("number", [7.0] * 13 + [cell], dtype=pl.Float64))
        extra.write_parquet(tmp_path / "extract.parquet")
        if refused:
            error = refusal(tmp_path / "extract.parquet", catalogue)
            assert isinstance(error, PatientDataFileError) and located(error) == [(15, "number")]
        else:
            assert as_dict(recalculate(tmp_path / "extract.parquet", catalogue, E)) == EXPECTED


def test_nine_digits_failing_the_eleven_test_are_a_fine_pseudonym(
    tmp_path: Path, catalogue: list[IndicatorDefinition]
) -> None:
    assert not passes_elfproef("123456789")
    path = write(tmp_path, "extract.csv", csv_text(with_row(pseudonym="987654321", hba1c_date="2024-01-01")))
    assert not passes_elfproef("987654321")
    scores = as_dict(recalculate(path, catalogue, E))
    assert scores[(A, "dm2", "hba1c_measured")] == (3, 5)  # the extra row adds one patient with a check


@pytest.mark.parametrize("header", ["naam", "Geboortedatum", "BSN", "patiënt naam", "voornaam", "Achternaam"])
def test_a_name_or_birth_date_column_is_refused(
    tmp_path: Path, catalogue: list[IndicatorDefinition], header: str
) -> None:
    rows = [{**row, header: "x"} for row in ROWS]
    error = refusal(write(tmp_path, "names.csv", csv_text(rows, [*COLUMNS, header])), catalogue)
    assert isinstance(error, PatientDataFileError)
    assert located(error) == [(1, header.lower())]


def test_a_bsn_as_a_column_name_is_refused_without_repeating_it(
    tmp_path: Path, catalogue: list[IndicatorDefinition]
) -> None:
    rows = [{**row, "111222333": "x"} for row in ROWS]
    error = refusal(write(tmp_path, "header.csv", csv_text(rows, [*COLUMNS, "111222333"])), catalogue)
    assert isinstance(error, PatientDataFileError)
    assert located(error) == [(1, "AB")]  # the 28th column
    assert "111222333" not in str(error)


def test_a_refused_extract_leaves_no_patient_rows_behind_in_the_error(
    tmp_path: Path, catalogue: list[IndicatorDefinition]
) -> None:
    error = refusal(write(tmp_path, "bsn.csv", csv_text(with_row(pseudonym="111222333"))), catalogue)
    assert error.__cause__ is None and error.__context__ is None
    traceback = error.__traceback__
    while traceback is not None:  # the frames the error still holds: none keeps the rows
        held = traceback.tb_frame.f_locals.values()
        assert not any(isinstance(value, pl.DataFrame | pl.Series) for value in held), traceback.tb_frame
        traceback = traceback.tb_next
