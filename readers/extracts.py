"""Recalculating the indicators from a pseudonymised patient-level extract, keeping only the aggregates.

A care group exports one row per patient and programme from its GP information systems and
``recalculate`` turns it into the numerator and denominator of every computable catalogue
indicator per practice, for one period end, as ``IndicatorScore`` objects. ``recalculate_table``
gives the same aggregates as one Polars table (``TABLE_SCHEMA``), for bulk callers that need only
the numbers. The engine is Polars (chosen by measurement against DuckDB and pandas: see
``benchmarks/README.md``).

This module reads and validates the extract into a population frame (typed, blank rows dropped)
and is the public entry; the counting (how numerators and denominators are computed, and the
check of the result) is ``readers.recalculation``'s.

Extract format (CSV or Parquet, chosen by the file's suffix: ``.csv``, ``.parquet`` or ``.pq``)
------------------------------------------------------------------------------------------------

One row per patient and programme; column names are matched case-insensitively.

- ``pseudonym``: text, opaque; unique per programme (a pseudonym twice in one programme is refused).
- ``agb_code``: the practice's AGB code, exactly 8 digits, as text (leading zeros matter).
- ``programme``: ``dm2``, ``copd``, ``asthma``, ``cvrm`` or ``elderly``, or a Dutch name that
  ``readers.files`` accepts too (``astma``, ``ouderenzorg``, ``diabetes``); case and surrounding
  spaces do not matter.
- ``inclusion_date``: the date the patient entered the programme (required).
- per check named in the catalogue's ``check`` column: ``<check>_date``, the date of the latest
  check (may be empty), and, for checks tested by outcome indicators, ``<check>_value``, the
  latest value (a number, may be empty; ``bp_value`` is the systolic pressure in mmHg). Checks in
  the shipped catalogue: hba1c, bp, ldl, egfr, acr, bmi, smoking, foot_exam, fundus, burden,
  exacerbations, inhaler, activity, spirometry, acq, frailty, acp, memory, dementia, osteoporosis.
  A ``<check>_date`` (or ``_value``) column that an indicator of a programme present in the
  extract needs is required; a column no computable indicator needs is ignored (but still
  checked for patient data).

Dates are ISO ``YYYY-MM-DD`` (Parquet: a date or timestamp column, or ISO text). Numbers use a
decimal point or a decimal comma (Parquet: a numeric column, or such text). CSV files are
UTF-8, with or without BOM (Excel's "CSV UTF-8"), separated by commas or semicolons (detected
from the header line).

Invariants
----------

- Whole file or nothing: any problem refuses the whole extract with one ``InputFileError``,
  each problem located by file, row (as a person sees it: the header is row 1, the first data
  row is row 2) and column. Only the first few offending cells of each kind are listed, with
  the number of the others.
- Patient-identifying data is refused with ``PatientDataFileError``: a column named like a
  BSN, name or birth date (``is_patient_header``, and plain name columns such as ``naam``,
  ``voornaam`` or ``achternaam``), or any cell, in any column, pseudonym
  included, of nine digits (or ``1234.56.782``) that passes the eleven-test. The number itself
  is never repeated in a message.
- Nothing is written to disk and no patient-level data outlives the call: the extract is read
  into memory, reduced to counts per practice and indicator, and dropped (the untyped rows once
  the typed ones exist, the typed ones once they are counted, and on a refusal before the error
  leaves); only the aggregates (``IndicatorScore`` objects, or the table of ``recalculate_table``)
  are returned.
- Validation is vectorised; row numbers are computed only for the offending rows. Each check
  first counts its offending cells in one pass over the column; only a check that finds some
  looks further (row numbers, the cells' text, the slower readings of aliases and decimal commas).
- Only valid figures leave: every table is checked whole (``recalculation.assert_invariants``)
  before it is returned or made into ``IndicatorScore`` objects, so a bug in the counting fails
  loudly (``AssertionError``) and no score is made from it.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from os import PathLike
from pathlib import Path

import polars as pl

from domain.indicators import IndicatorDefinition, IndicatorKind, IndicatorScore
from domain.registry import Programme
from readers import recalculation
from readers.files import (
    NEVER_STORED,
    PROGRAMME_ALIASES,  # the programme names every input file accepts (Dutch ones included)
    InputFileError,
    PatientDataFileError,
    Problem,
    column_letter,
    is_patient_header,
    looks_like_bsn,
)
from readers.recalculation import PROGRAMME_ENUM, PROGRAMMES, TABLE_SCHEMA, present_programmes

__all__ = ["EXTRACT_SUFFIXES", "TABLE_SCHEMA", "recalculate", "recalculate_table", "required_columns"]

CSV_SUFFIXES = frozenset({".csv"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
EXTRACT_SUFFIXES = CSV_SUFFIXES | PARQUET_SUFFIXES
BASE_COLUMNS = ("pseudonym", "agb_code", "programme", "inclusion_date")
MAX_CELLS_PER_KIND = 5
"""Offending cells listed per kind of problem (and column); the others are counted."""

_HEADER_ROW = 1
_FIRST_DATA_ROW = 2
_DATE_FORMAT = "%Y-%m-%d"
_AGB = re.compile(r"[0-9]{8}")
_BSN_TEXT = r"^\s*([0-9]{9}|[0-9]{4}\.[0-9]{2}\.[0-9]{3})\s*$"
_BSN_SHAPED = re.compile(r"[0-9]{4}\.?[0-9]{2}\.?[0-9]{3}")
_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
_PROGRAMME_NAMES: dict[str, Programme] = dict(PROGRAMME_ALIASES)
"""Lower-case names (aliases included) to programmes; a cell is stripped and lower-cased first."""
_BLANK = "__qc_blank"
_TYPED = "__qc_typed"
_NUMERIC_TYPES = (pl.Float32, pl.Float64, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16,
                  pl.UInt32, pl.UInt64)
# A patient-level extract must not name its patients either: besides what ``is_patient_header`` flags
# (BSN, patient name, birth date), plain name columns are refused here, where every row is a patient.
_NAME_HEADERS = frozenset(
    {"naam", "name", "achternaam", "voornaam", "voornamen", "roepnaam", "voorletters", "geslachtsnaam",
     "tussenvoegsel", "lastname", "firstname", "surname", "fullname", "volledigenaam"}
)
_BSN_MESSAGE = (
    "deze cel bevat een burgerservicenummer (BSN: 9 cijfers die de elfproef halen): " + NEVER_STORED
)

FilePath = str | PathLike[str]


def required_columns(catalogue: Iterable[IndicatorDefinition], programme: Programme) -> list[str]:
    """The columns an extract needs for ``programme``'s computable indicators, base columns first."""
    needed = dict.fromkeys(BASE_COLUMNS)
    for definition in catalogue:
        if definition.programme is programme and definition.check is not None:
            needed[f"{definition.check}_date"] = None
            if definition.kind is IndicatorKind.OUTCOME:
                needed[f"{definition.check}_value"] = None
    return list(needed)


def recalculate(
    path: FilePath,
    catalogue: Sequence[IndicatorDefinition],
    period_end: date,
    known_agb_codes: set[str] | None = None,
) -> list[IndicatorScore]:
    """Every computable indicator of ``catalogue`` per practice for the period ending ``period_end``.

    Reads the extract at ``path`` (CSV or Parquet by suffix), refuses it whole on any problem
    (``InputFileError``; ``PatientDataFileError`` for patient-identifying data), and returns only
    the aggregates, ordered by AGB code and then catalogue order. ``known_agb_codes``, when given,
    are the practices of the registry: a row of any other practice is a problem.

    The scores are the rows of ``recalculate_table``, as domain objects.
    """
    return recalculation.indicator_scores(recalculate_table(path, catalogue, period_end, known_agb_codes))


def recalculate_table(
    path: FilePath,
    catalogue: Sequence[IndicatorDefinition],
    period_end: date,
    known_agb_codes: set[str] | None = None,
) -> pl.DataFrame:
    """What ``recalculate`` returns, as one table (``TABLE_SCHEMA``), for callers that want the numbers in bulk.

    One row per practice and computable indicator with a denominator above zero: ``agb_code``
    (text), ``programme`` (an Enum of the programme values), ``indicator``, ``period_end``,
    ``numerator`` and ``denominator``; ordered by AGB code and then catalogue order. The same
    refusals as ``recalculate``; the invariants of ``IndicatorScore`` are checked on the whole
    table before it is returned.

    Reading and validation are this module's; the counting, the table and its check are the public
    steps of ``readers.recalculation``, called through the module (so that a test can put a broken
    count in their place and see this call fail).
    """
    computable = [d for d in catalogue if d.computable]
    check = _Check(str(path))
    raw: pl.DataFrame | None = None
    try:
        raw = _read(Path(path), check)
        typed = _validate(raw, check, computable, known_agb_codes)
    except InputFileError as error:
        # a traceback keeps its frames' variables alive: the error leaves without the patient rows
        raw = None
        raise error.with_traceback(None) from None
    raw = None  # the untyped patient rows go as soon as the typed ones exist
    counts = recalculation.count_population(typed, computable, period_end)
    del typed  # and the typed ones as soon as they are counted: only the counts go on
    table = recalculation.scores_table(counts, computable, period_end)
    recalculation.assert_invariants(table)
    return table


# --------------------------------------------------------------------------- problems


@dataclass
class _Check:
    """The problems found in one extract; ``row_offset`` maps a data index to the row a person sees.

    Reported in order: file-level problems, then by row, then the counts of the cells not listed.
    """

    file: str
    problems: list[Problem] = field(default_factory=list)
    patient: list[Problem] = field(default_factory=list)
    counted: list[Problem] = field(default_factory=list)
    patient_counted: list[Problem] = field(default_factory=list)
    row_offset: int = _FIRST_DATA_ROW

    def add(self, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, row, column, message))

    def refuse(self, row: int | None, column: str | None, message: str) -> InputFileError:
        self.add(row, column, message)
        return self.error()

    def error(self) -> InputFileError:
        def ordered(problems: list[Problem]) -> list[Problem]:
            return sorted(problems, key=lambda p: (p.row is not None, p.row or 0))

        problems = [*ordered(self.problems), *self.counted]
        if self.patient:
            # a BSN cell is reported as such, not also as (say) an unreadable date
            cells = {(p.row, p.column) for p in self.patient if p.row is not None}
            problems = [p for p in problems if (p.row, p.column) not in cells]
            return PatientDataFileError([*ordered(self.patient), *self.patient_counted, *problems])
        return InputFileError(problems)

    def raise_if_any(self) -> None:
        if self.problems or self.patient or self.counted:
            raise self.error()

    def cells(
        self, mask: pl.Series, column: str, describe: Callable[[int], str], *, what: str = "cellen met dezelfde fout"
    ) -> None:
        """A problem for each of the first offending rows of ``mask``; the rest are counted."""
        indices = mask.arg_true()
        if indices.len() == 0:
            return
        for index in indices.head(MAX_CELLS_PER_KIND).to_list():
            self.problems.append(Problem(self.file, index + self.row_offset, column, describe(index)))
        rest = indices.len() - MAX_CELLS_PER_KIND
        if rest > 0:
            self.counted.append(Problem(self.file, None, column, f"en nog {rest} {what} in deze kolom"))


def _always(message: str) -> Callable[[int], str]:
    """The same message for every offending row."""
    return lambda _: message


def _quoting(column: pl.Series, template: str) -> Callable[[int], str]:
    """A message that shows the offending cell (looked up only for the rows reported)."""
    return lambda index: template.format(_shown(column[index]))


def _shown(value: object) -> str:
    """A cell as quoted in a message: shortened, and never anything shaped like a BSN."""
    text = str(value)
    if _BSN_SHAPED.search(text):
        return "(waarde niet getoond: negen cijfers)"
    return repr(text if len(text) <= 30 else text[:27] + "...")


# --------------------------------------------------------------------------- reading


def _read(source: Path, check: _Check) -> pl.DataFrame:
    if not source.exists():
        raise check.refuse(None, None, "bestand bestaat niet")
    if not source.is_file():
        raise check.refuse(None, None, "is geen bestand (maar bijvoorbeeld een map)")
    suffix = source.suffix.lower()
    if suffix in CSV_SUFFIXES:
        frame = _read_csv(source, check)
    elif suffix in PARQUET_SUFFIXES:
        frame = _read_parquet(source, check)
    else:
        raise check.refuse(
            None, None, f"onbekend bestandstype {suffix or '(geen extensie)'!r}: verwacht .csv of .parquet"
        )
    if frame.height == 0:
        raise check.refuse(None, None, "bestand bevat geen gegevensrijen, alleen een kopregel")
    return frame


def _header_names(raw: Sequence[str], check: _Check) -> list[str]:
    """Column names in lower case; unnamed columns get a name of their own; a name twice is refused."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(raw):
        name = cell.strip().lower()
        if not name:
            names.append(f"(kolom {column_letter(index)} zonder naam)")
            continue
        if name in seen:
            check.add(
                _HEADER_ROW,
                name,
                f"kolom {name!r} komt meer dan eens voor (kolom {column_letter(seen[name])} en {column_letter(index)})",
            )
        seen.setdefault(name, index)
        names.append(name if name not in names else f"{name} ({column_letter(index)})")
    return names


def _read_csv(source: Path, check: _Check) -> pl.DataFrame:
    with source.open("rb") as handle:
        head = handle.read(1 << 16)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise check.refuse(
            _HEADER_ROW, None, "het bestand is opgeslagen als UTF-16 (Unicode-tekst): sla het op als 'CSV UTF-8'"
        )
    if head.startswith(b"PK\x03\x04"):
        raise check.refuse(None, None, "dit lijkt een Excel-bestand met de extensie .csv: sla het op als 'CSV UTF-8'")
    text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    lines = text.splitlines()
    leading_blank = next((i for i, line in enumerate(lines) if line.strip()), None)
    if leading_blank is None:
        if len(head) < (1 << 16):
            raise check.refuse(None, None, "bestand is leeg")
        raise check.refuse(None, None, "de eerste regels van het bestand zijn leeg: verwacht een kopregel")
    header_line = lines[leading_blank]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    check.row_offset = _FIRST_DATA_ROW + leading_blank
    header_row = _HEADER_ROW + leading_blank
    names = _header_names(next(csv.reader([header_line], delimiter=delimiter)), check)
    check.raise_if_any()
    if len(names) == 1:
        raise check.refuse(
            header_row,
            "A",
            "de kopregel heeft maar één kolom: gebruikt het bestand een ander scheidingsteken? "
            "Verwacht komma (,) of puntkomma (;), bijv. pseudonym;agb_code;programme;inclusion_date;...",
        )
    try:
        return pl.read_csv(
            source, separator=delimiter, infer_schema=False, has_header=True, new_columns=names, encoding="utf8"
        )
    except pl.exceptions.NoDataError:
        raise check.refuse(None, None, "bestand is leeg") from None
    except pl.exceptions.ComputeError as exc:
        reason = str(exc)
    if "utf-8" in reason.lower() or "utf8" in reason.lower():
        _locate_encoding_problem(source, delimiter, names, check)
    else:
        _locate_csv_problem(source, delimiter, len(names), check, reason)
    raise check.error()


def _locate_encoding_problem(source: Path, delimiter: str, names: list[str], check: _Check) -> None:
    """Error path: the first cells that are not UTF-8 (old Excel saves Windows-1252)."""
    frame = pl.read_csv(
        source, separator=delimiter, infer_schema=False, has_header=True, new_columns=names, encoding="utf8-lossy"
    )
    message = (
        "deze cel is geen UTF-8-tekst (het bestand is waarschijnlijk opgeslagen als 'CSV (gescheiden door "
        "lijstscheidingsteken)' in Windows-codering): sla het op als 'CSV UTF-8'"
    )
    for name in names:
        column = frame.get_column(name)
        check.cells(column.str.contains("\ufffd", literal=True).fill_null(False), name, lambda _: message)
    if not check.problems:  # the header itself
        check.add(_HEADER_ROW, None, message.replace("deze cel is", "de kopregel is"))


def _locate_csv_problem(source: Path, delimiter: str, width: int, check: _Check, reason: str) -> None:
    """Error path: find the first records Polars could not read, with Python's csv module."""
    with source.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        try:
            for number, record in enumerate(csv.reader(handle, delimiter=delimiter), start=1):
                if len(record) > width and any(cell.strip() for cell in record[width:]):
                    check.add(
                        number,
                        None,
                        f"rij heeft {len(record)} cellen, de kopregel maar {width} kolommen; staat er een "
                        "scheidingsteken in een waarde zonder aanhalingstekens (bijvoorbeeld een decimale komma)?",
                    )
                    if len(check.problems) >= MAX_CELLS_PER_KIND:
                        return
        except csv.Error as exc:
            check.add(None, None, f"bestand kan niet als CSV worden gelezen ({exc})")
            return
    if not check.problems:
        first_line = reason.strip().splitlines()[0] if reason.strip() else "onbekende fout"
        shown = _BSN_SHAPED.sub("(negen cijfers)", first_line)
        check.add(None, None, f"bestand kan niet als CSV worden gelezen ({shown})")


def _read_parquet(source: Path, check: _Check) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(source)
    except Exception:
        raise check.refuse(
            None, None, "bestand kan niet als Parquet worden gelezen: is het beschadigd of eigenlijk een ander soort "
            "bestand?"
        ) from None
    if frame.width == 0:
        raise check.refuse(None, None, "bestand is leeg")
    names = _header_names(frame.columns, check)
    check.raise_if_any()
    return frame.rename(dict(zip(frame.columns, names, strict=True)))


# --------------------------------------------------------------------------- validating


def _validate(
    frame: pl.DataFrame,
    check: _Check,
    catalogue: Sequence[IndicatorDefinition],
    known_agb_codes: set[str] | None,
) -> pl.DataFrame:
    """The typed columns the catalogue needs, blank rows dropped; or raise with every problem found.

    ``agb_code`` is text (eight digits), ``programme`` a ``UInt8`` code (the index in ``Programme``),
    dates are ``Date`` and values ``Float64``. On a good file each check costs one pass over its
    column; the passes that locate problems run only for the checks that found some.
    """
    header_row = check.row_offset - 1
    for name in frame.columns:
        if _BSN_SHAPED.search(name) and any(looks_like_bsn(part) for part in re.findall(r"[0-9.]+", name)):
            column = column_letter(frame.columns.index(name))
            check.patient.append(Problem(check.file, header_row, column, _BSN_MESSAGE))
        elif is_patient_header(name) or _plain_header(name) in _NAME_HEADERS:
            check.patient.append(
                Problem(
                    check.file,
                    header_row,
                    name,
                    "de naam van deze kolom wijst op gegevens die een patiënt identificeren (BSN, naam of "
                    f"geboortedatum): {NEVER_STORED}",
                )
            )
    missing = [name for name in BASE_COLUMNS if name not in frame.columns]
    for name in missing:
        found = ", ".join(frame.columns)
        check.add(header_row, name, f"verplichte kolom {name!r} ontbreekt; gevonden kolommen: {found}")

    blank = frame.select(pl.all_horizontal(pl.all().is_null()).alias(_BLANK)).to_series()
    blanks = int(blank.sum())

    programmes: pl.Series | None = None
    present: set[Programme] = set()
    if "programme" in frame.columns:
        programmes, present = _programmes(frame.get_column("programme"), blank, blanks, check)
    needed = dict.fromkeys(BASE_COLUMNS)
    for programme in sorted(present):
        for name in required_columns(catalogue, programme):
            needed[name] = None
            if name not in frame.columns and name not in missing:
                missing.append(name)
                users = sorted(
                    d.indicator
                    for d in catalogue
                    if d.programme is programme
                    and name in (f"{d.check}_date", f"{d.check}_value" if d.kind is IndicatorKind.OUTCOME else "")
                )
                check.add(
                    header_row,
                    name,
                    f"kolom {name!r} ontbreekt; zorgprogramma {programme.value} heeft haar nodig voor "
                    f"{', '.join(users)}",
                )

    converted = [name for name in needed if name in frame.columns and name.endswith(("_date", "_value"))]
    typed, failed = _convert(frame, converted, check)
    _refuse_bsn(frame, typed, check)
    if check.patient or missing:
        raise check.error()
    assert programmes is not None  # the base columns are present here

    agb = _agb_codes(frame.get_column("agb_code"), blank, blanks, known_agb_codes, check)
    pseudonym = frame.get_column("pseudonym")
    if pseudonym.null_count() > blanks:  # blank rows have no pseudonym either, and are no problem
        check.cells(pseudonym.is_null() & ~blank, "pseudonym", _always("pseudoniem ontbreekt"))
    inclusion_date = typed.get_column("inclusion_date")
    if inclusion_date.null_count() > blanks:
        inclusion = inclusion_date.is_null() & ~blank
        if "inclusion_date" in failed:
            inclusion = inclusion & ~failed["inclusion_date"]
        check.cells(inclusion, "inclusion_date", _always("datum ontbreekt: verwacht JJJJ-MM-DD (bijv. 2024-12-31)"))
    _refuse_duplicates(pseudonym, programmes, blank, blanks, check)
    check.raise_if_any()

    result = typed.with_columns(agb.alias("agb_code"), programmes.alias("programme"))
    return result.filter(~blank) if blanks else result


def _plain_header(name: str) -> str:
    """Lower case, accents removed, spaces, underscores and hyphens dropped (as ``is_patient_header`` compares)."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\s_\-]+", "", plain.lower()).replace("patient", "")


def _programmes(
    column: pl.Series, blank: pl.Series, blanks: int, check: _Check
) -> tuple[pl.Series, set[Programme]]:
    """The programme of each row as a code (``UInt8``, the index in ``Programme``; unknown values are
    problems) and the programmes present.

    Fast path: every cell but those of blank rows is a programme value as such (``dm2``): five
    comparisons of short texts do it (faster than a cast to an Enum). Otherwise each distinct
    cell is read once: stripped, lower case, Dutch names (``astma``, ``ouderenzorg``, ``diabetes``)
    accepted.
    """
    text = column.cast(pl.String)
    code = pl.lit(None, dtype=pl.UInt8)
    for index, programme in reversed(list(enumerate(PROGRAMMES))):
        code = pl.when(pl.col("programme") == programme.value).then(pl.lit(index, dtype=pl.UInt8)).otherwise(code)
    exact = pl.DataFrame({"programme": text}).select(code.alias("programme")).to_series()
    if exact.null_count() == blanks:  # a blank row has no programme; every other row has a known one
        return exact, present_programmes(exact)
    mapping: dict[str, str] = {}
    bad: list[str | None] = []
    for value in text.unique().to_list():
        known = _PROGRAMME_NAMES.get(value.strip().lower()) if value is not None else None
        if known is None:
            bad.append(value)
        else:
            mapping[value] = known.value
    canonical = ", ".join(p.value for p in Programme)
    aliases = ", ".join(name for name in _PROGRAMME_NAMES if name not in canonical.split(", "))
    expected = f"{canonical} (of {aliases})" if aliases else canonical
    for value in bad:
        if value is None:
            check.cells(text.is_null() & ~blank, "programme", _always(f"zorgprogramma ontbreekt: verwacht {expected}"))
        else:
            check.cells(
                (text == value).fill_null(False),
                "programme",
                _always(f"zorgprogramma {_shown(value)} is onbekend: verwacht een van {expected}"),
            )
    if any(key != canonical_value for key, canonical_value in mapping.items()):
        text = text.replace_strict(mapping, default=None)
    codes = text.cast(PROGRAMME_ENUM, strict=False).to_physical().cast(pl.UInt8)
    return codes, present_programmes(codes)


def _agb_codes(
    column: pl.Series, blank: pl.Series, blanks: int, known: set[str] | None, check: _Check
) -> pl.Series:
    """The AGB codes as text: each distinct code is checked once, rows are looked up only for bad ones."""
    if column.dtype.is_integer():
        check.cells(
            column.is_not_null(),
            "agb_code",
            _always("AGB-code is als getal opgeslagen, zodat voorloopnullen verloren gaan: sla de kolom als tekst op"),
            what="rijen",
        )
        return column.cast(pl.String)
    text = column.cast(pl.String)
    # the distinct codes (a query's unique: measured faster than Series.unique)
    distinct = text.to_frame("agb_code").lazy().select(pl.col("agb_code").unique()).collect().to_series()
    stripped = {value: value.strip() for value in distinct.to_list() if value is not None}
    if any(value != code for value, code in stripped.items()):
        text = text.str.strip_chars()
    if text.null_count() > blanks:
        check.cells(text.is_null() & ~blank, "agb_code", _always("AGB-code ontbreekt"))
    for code in sorted(set(stripped.values())):
        if not _AGB.fullmatch(code):
            lost_zero = re.fullmatch(r"[0-9]{6,7}", code)
            hint = f" (is de voorloopnul weggevallen, bijv. {code.zfill(8)}?)" if lost_zero else ""
            message = f"AGB-code {_shown(code)} is ongeldig: verwacht precies 8 cijfers{hint}"
            check.cells((text == code).fill_null(False), "agb_code", _always(message))
        elif known is not None and code not in known:
            message = f"praktijk met AGB-code {code} staat niet in het register"
            check.cells((text == code).fill_null(False), "agb_code", _always(message))
    return text


def _conversion(name: str, dtype: pl.DataType, check: _Check) -> pl.Expr:
    """How to type one date or value column (in one parallel pass with the others)."""
    column = pl.col(name)
    if name.endswith("_date"):
        if dtype == pl.Date:
            return column
        if isinstance(dtype, pl.Datetime):
            return column.dt.date()
        if dtype == pl.String:
            return column.str.to_date(_DATE_FORMAT, strict=False)
        if dtype != pl.Null:
            check.add(_FIRST_DATA_ROW, name, f"kolom heeft type {dtype}: verwacht een datum (JJJJ-MM-DD)")
        return pl.lit(None, dtype=pl.Date).alias(name)
    if dtype in _NUMERIC_TYPES or dtype == pl.Null:
        return column.cast(pl.Float64)
    if dtype == pl.String:
        return column.cast(pl.Float64, strict=False)
    check.add(_FIRST_DATA_ROW, name, f"kolom heeft type {dtype}: verwacht een getal")
    return pl.lit(None, dtype=pl.Float64).alias(name)


def _convert(frame: pl.DataFrame, names: Sequence[str], check: _Check) -> tuple[pl.DataFrame, dict[str, pl.Series]]:
    """The date and value columns typed (``Date``, ``Float64``), and per text column the cells that failed.

    A cell fails when it is not empty and does not read as a date or a finite number. A value in a
    form the fast cast does not read (a decimal comma, spaces around it) gets a second, slower
    reading for that column only.
    """
    typed = frame.select([_conversion(name, frame.schema[name], check) for name in names]).with_columns(
        [pl.col(name).fill_nan(None) for name in names if name.endswith("_value")]
    )
    text = [name for name in names if frame.schema[name] == pl.String]
    if not text:
        return typed, {}
    both = frame.select(text).hstack(typed.select(pl.all().name.suffix(_TYPED)))
    counts = both.select(
        [(pl.col(name).is_not_null() & pl.col(name + _TYPED).is_null()).sum().alias(name) for name in text]
        + [pl.col(name + _TYPED).is_infinite().sum().alias(name + _TYPED) for name in names if name.endswith("_value")]
    ).row(0, named=True)
    failed: dict[str, pl.Series] = {}
    for name in text:
        infinite = counts.get(name + _TYPED, 0)
        if not counts[name] and not infinite:
            continue
        raw = frame.get_column(name)
        if name.endswith("_value"):
            cleaned = raw.str.strip_chars().str.replace(",", ".", literal=True)
            numbers = cleaned.cast(pl.Float64, strict=False)
            numbers = pl.select(pl.when(numbers.is_finite()).then(numbers)).to_series().alias(name)
            typed = typed.with_columns(numbers)
            mask = (numbers.is_null() & (cleaned != "")).fill_null(False)
            describe = _quoting(raw, "waarde {} is geen (eindig) getal: verwacht bijv. 53 of 2,6")
        else:
            mask = (typed.get_column(name).is_null() & (raw.str.strip_chars() != "")).fill_null(False)
            describe = _quoting(raw, "datum {} is ongeldig of bestaat niet: verwacht JJJJ-MM-DD (bijv. 2024-12-31)")
        failed[name] = mask
        check.cells(mask, name, describe)
    return typed, failed


# --------------------------------------------------------------------------- patient data


def _elfproef(numbers: pl.Expr) -> pl.Expr:
    """The eleven-test on nine-digit whole numbers, with integer arithmetic (no strings)."""
    total = pl.lit(0, dtype=pl.Int64)
    for position, weight in enumerate(_BSN_WEIGHTS):
        total = total + (numbers // 10 ** (8 - position)) % 10 * weight
    return (total % 11 == 0) & (total != 0)


def _bsn_candidates(name: str, dtype: pl.DataType, typed: pl.DataFrame) -> pl.Expr | None:
    """A cheap test that every BSN cell of a column passes (most cells do not): lengths, or ranges.

    Cells that pass are candidates only: ``_bsn_cells`` decides (shape, whole number, eleven-test).
    """
    column = pl.col(name)
    if dtype == pl.String:
        candidate = column.str.len_bytes().is_between(9, 15)
        if name in typed.columns and name.endswith("_date"):
            candidate = candidate & pl.col(name + _TYPED).is_null()  # a cell that reads as a date is no BSN
        return candidate
    if dtype in _NUMERIC_TYPES:
        return column.cast(pl.Float64).is_between(100_000_000, 1_000_000_000, closed="left")
    if dtype == pl.Categorical or isinstance(dtype, pl.Enum):
        return column.cast(pl.String).str.len_bytes().is_between(9, 15)
    return None


def _bsn_cells(column: pl.Series) -> pl.Series:
    """Which of these candidate cells is a BSN: nine digits (or ``1234.56.782``) passing the eleven-test."""
    if column.dtype in _NUMERIC_TYPES:
        number = pl.col("n")
        whole = pl.when(number.round(0) == number).then(number.cast(pl.Int64, strict=False))  # 123456789.5 is none
        return pl.DataFrame({"n": column.cast(pl.Float64)}).select(_elfproef(whole).fill_null(False)).to_series()
    texts = pl.DataFrame({"t": column.cast(pl.String)})
    shaped = pl.col("t").str.contains(_BSN_TEXT)
    digits = pl.col("t").str.replace_all(r"[^0-9]", "").cast(pl.Int64, strict=False)
    return texts.select((shaped & _elfproef(digits)).fill_null(False)).to_series()


def _refuse_bsn(frame: pl.DataFrame, typed: pl.DataFrame, check: _Check) -> None:
    """Every cell of every column, in one pass of cheap candidate tests; the eleven-test on the few candidates."""
    both = frame.hstack(typed.select(pl.all().name.suffix(_TYPED)))
    tests = {name: _bsn_candidates(name, dtype, typed) for name, dtype in frame.schema.items()}
    candidates = {name: test for name, test in tests.items() if test is not None}
    # the candidates are only counted (all columns in one parallel pass); masks are made for flagged columns only
    counts = both.select([test.sum().alias(name) for name, test in candidates.items()]).row(0, named=True)
    reported = total = 0
    for name, test in candidates.items():
        if not counts[name]:
            continue
        candidate = both.select(test.fill_null(False).alias(name)).to_series()
        positions = candidate.arg_true()
        found = positions.filter(_bsn_cells(frame.get_column(name).filter(candidate)))
        total += found.len()
        for index in found.head(max(0, MAX_CELLS_PER_KIND - reported)).to_list():
            check.patient.append(Problem(check.file, index + check.row_offset, name, _BSN_MESSAGE))
            reported += 1
    if total > reported:
        check.patient_counted.append(
            Problem(check.file, None, None, f"en nog {total - reported} cellen met een burgerservicenummer")
        )


def _refuse_duplicates(
    pseudonym: pl.Series, programmes: pl.Series, blank: pl.Series, blanks: int, check: _Check
) -> None:
    """A patient (pseudonym) twice in one programme.

    Fast path: when the hashes of (pseudonym, programme) are all distinct, so are the keys. Only
    otherwise (a duplicate, or a rare hash collision) are the keys compared exactly. Rows without
    a pseudonym (and blank rows) take no part; the hashes are filtered, not the text.
    """
    rows = pl.DataFrame({"p": pseudonym, "g": programmes})
    hashed = pl.col("p").hash(seed=7) ^ pl.col("g").hash(seed=11)
    if pseudonym.null_count() > 0 or blanks:
        hashed = hashed.filter(pl.col("p").is_not_null() & ~pl.lit(blank))
    hashes = rows.select(hashed.alias("h")).to_series()  # Series.n_unique: measured faster than in a query
    if hashes.n_unique() == hashes.len():
        return
    rows = rows.with_row_index("i")
    repeated = rows.filter(pseudonym.is_not_null() & ~blank).filter(pl.struct("p", "g").is_duplicated())
    first = repeated.group_by("p", "g").agg(pl.col("i").min().alias("first"))
    later = repeated.join(first, on=["p", "g"]).filter(pl.col("i") > pl.col("first")).sort("i")
    if later.height == 0:
        return
    for index, first_index, code in later.select("i", "first", "g").head(MAX_CELLS_PER_KIND).iter_rows():
        check.add(
            index + check.row_offset,
            "pseudonym",
            f"deze patiënt (pseudoniem) staat voor zorgprogramma {PROGRAMMES[code].value} ook op rij "
            f"{first_index + check.row_offset}: één rij per patiënt en zorgprogramma",
        )
    if later.height > MAX_CELLS_PER_KIND:
        rest = later.height - MAX_CELLS_PER_KIND
        check.counted.append(Problem(check.file, None, "pseudonym", f"en nog {rest} dubbele rijen in deze kolom"))
