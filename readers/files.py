"""Reading the care group's input files (CSV, Excel, YAML) into validated domain objects.

Every reader either returns *all* objects of a file or raises one ``InputFileError`` that
lists *every* problem of that file, each located by file, row (as Excel numbers it: the
header is row 1, the first data row is row 2) and column (or a YAML path such as
``practices[2].agb_code``). Staff fix the file and deliver it again; nothing is half-loaded.

Invariants:

- Whole file or nothing: no reader ever returns a partial result.
- No database access and no side effects: this module only reads the file it is given.
- Data that identifies a patient (a BSN, a patient's name, a birth date) is refused and is
  never returned nor repeated in a message (``PatientDataFileError``). A BSN is recognised
  by a header name, or by a cell of nine digits that passes the eleven-test (elfproef).
- Cell values are text as a person sees them: leading zeros are kept (AGB codes are text),
  Excel dates become ``YYYY-MM-DD``, whole Excel numbers lose their ``.0``.
- Row validation is the domain's own pydantic models; this module only turns text into
  typed values and pydantic's errors into Dutch messages for the column concerned.
- Messages are Dutch (staff read them); identifiers are English.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from os import PathLike
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from domain.cards import Leaflet
from domain.clock import future_fact
from domain.conversations import Agreement, ConversationReport, Evaluation, Goal, ImprovementPlan
from domain.courses import COURSE_ROLES, Course, CourseKind
from domain.errors import InputError, InvalidAgbCodeError, PatientDataError
from domain.indicators import (
    IndicatorDefinition,
    IndicatorKey,
    IndicatorKind,
    IndicatorScore,
    NationalAverage,
    Target,
)
from domain.inputs import (
    DATE_FORMS,
    check_text,
    contains_bsn,
    dutch_message,
    field_path_or_none,
    is_patient_header,
    looks_like_bsn,
    passes_elfproef,
    printable,
    shown,
)
from domain.neighbourhood import PARTNER_KIND_ALIASES, Partner, PartnerKind
from domain.quality_system import CONDITION_NAMES_NL, Checklist, Condition, conditions_for
from domain.registry import (
    AgbCode,
    CareGroup,
    GpGroup,
    Person,
    Practice,
    Programme,
    Registry,
    Role,
    validate_agb_code,
)
from domain.vocabulary import ConversationKind

__all__ = [
    "ConversationLine",
    "InputFileError",
    "PatientDataFileError",
    "Problem",
    "is_patient_header",
    "looks_like_bsn",
    "parse_averages",
    "parse_catalogue",
    "parse_conversations",
    "parse_plan",
    "parse_practices",
    "parse_registry",
    "parse_scores",
    "parse_targets",
    "passes_elfproef",
    "read_table",
]

FilePath = str | PathLike[str]
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

MAX_LISTED_PROBLEMS = 20
CSV_SUFFIXES = frozenset({".csv"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
YAML_SUFFIXES = frozenset({".yaml", ".yml"})

PRACTICE_COLUMNS = ("agb_code", "name")
PRACTICE_OPTIONAL_COLUMNS = ("gp_group", "email")
CATALOGUE_COLUMNS = ("programme", "indicator", "name", "kind", "main")
CATALOGUE_OPTIONAL_COLUMNS = (
    "check", "window_months", "value_op", "value_threshold", "numerator", "denominator", "source",
)
TARGET_COLUMNS = ("programme", "indicator", "target")
AVERAGE_COLUMNS = ("programme", "indicator", "year", "national_average")
SCORE_COLUMNS = ("agb_code", "programme", "indicator", "period_end", "numerator", "denominator")
CONVERSATION_COLUMNS = ("agb_code", "kind", "held_on")
CONVERSATION_OPTIONAL_COLUMNS = ("programme",)
LEAFLET_COLUMNS = ("programme", "title", "url")
PARTNER_COLUMNS = ("name", "kind")
PARTNER_OPTIONAL_COLUMNS = ("email",)
COURSE_COLUMNS = ("code", "name", "kind", "roles", "every_months")
COURSE_OPTIONAL_COLUMNS = ("first_within_months", "url")


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as a person would look it up."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"rij {self.row}")
        if self.column is not None:
            where.append(f"kolom {self.column}")
        # a header or cell repeated in the message may hold an escape sequence: never echoed raw to a terminal
        return printable(f"{', '.join(where)}: {self.message}".replace("\n", " "))


def _render(problems: Sequence[Problem]) -> str:
    lines = [str(problem) for problem in problems[:MAX_LISTED_PROBLEMS]]
    if len(problems) > MAX_LISTED_PROBLEMS:
        lines.append(f"... en {len(problems) - MAX_LISTED_PROBLEMS} meer")
    return "\n".join(lines)


class InputFileError(InputError):
    """An input file is refused as a whole; ``problems`` says everything that is wrong with it."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(_render(self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


class PatientDataFileError(InputFileError, PatientDataError):
    """An input file is refused because it holds data that could identify a patient."""


def _ordered(problems: Iterable[Problem]) -> list[Problem]:
    """File-level problems first, then by row; the order of finding is kept within a row."""
    return sorted(problems, key=lambda p: (p.row is not None, p.row or 0))


def _raise(problems: Sequence[Problem], patient_problems: Sequence[Problem] = ()) -> None:
    if patient_problems:
        raise PatientDataFileError([*_ordered(patient_problems), *_ordered(problems)])
    if problems:
        raise InputFileError(_ordered(problems))


# --------------------------------------------------------------------------- patient data

NEVER_STORED = (
    "het product slaat nooit gegevens op die een patiënt identificeren; "
    "verwijder deze gegevens uit het bestand en lever het opnieuw aan"
)
# --------------------------------------------------------------------------- reading tables


@dataclass
class _Table:
    file: str
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    patient_problems: list[Problem] = field(default_factory=list)
    fatal: bool = False

    def problem(self, row: int | None, column: str | None, message: str, *, fatal: bool = False) -> None:
        self.problems.append(Problem(self.file, row, column, message))
        self.fatal = self.fatal or fatal

    def raise_if_unusable(self) -> None:
        """Raise when the rows cannot be read further (or hold patient data); go on otherwise."""
        if self.fatal or self.patient_problems:
            _raise(self.problems, self.patient_problems)
            raise AssertionError("unreachable")  # pragma: no cover


def read_table(
    path: FilePath, required: Sequence[str], optional: Sequence[str] = ()
) -> list[tuple[int, dict[str, str]]]:
    """The data rows of a CSV or XLSX file as ``(row number, {column: text})``, or raise.

    The dicts hold the required and optional columns (an absent optional column reads as
    ``''``); other columns are ignored but still checked for patient data.
    """
    table = _read_table(path, required, optional)
    _raise(table.problems, table.patient_problems)
    return table.rows


def _read_table(path: FilePath, required: Sequence[str], optional: Sequence[str]) -> _Table:
    file = str(path)
    table = _Table(file)
    source = Path(path)
    suffix = source.suffix.lower()
    if not source.exists():
        table.problem(None, None, "bestand bestaat niet", fatal=True)
        return table
    if not source.is_file():
        table.problem(None, None, "is geen bestand (maar bijvoorbeeld een map)", fatal=True)
        return table
    delimiter: str | None = None
    if suffix in CSV_SUFFIXES:
        records, delimiter = _csv_records(source, table)
    elif suffix in XLSX_SUFFIXES:
        records = _xlsx_records(source, table)
    elif suffix == ".xls":
        table.problem(
            None,
            None,
            "het oude Excel-formaat (.xls) wordt niet gelezen: sla het bestand op als .xlsx of .csv",
            fatal=True,
        )
        return table
    else:
        table.problem(
            None,
            None,
            f"onbekend bestandstype {suffix or '(geen extensie)'!r}: verwacht .csv of .xlsx",
            fatal=True,
        )
        return table
    if table.fatal:
        return table
    _fill_table(table, records, delimiter, [c.lower() for c in required], [c.lower() for c in optional])
    return table


def _fill_table(
    table: _Table,
    records: list[tuple[int, list[str]]],
    delimiter: str | None,
    required: list[str],
    optional: list[str],
) -> None:
    filled = [(number, cells) for number, cells in records if any(cells)]
    if not filled:
        table.problem(None, None, "bestand is leeg", fatal=True)
        return
    header_row, header_cells = filled[0]
    header = [cell.lower() for cell in header_cells]
    data = filled[1:]

    for index, name in enumerate(header):
        if name and is_patient_header(name):
            table.patient_problems.append(
                Problem(
                    table.file,
                    header_row,
                    _column_label(header, index),
                    "de naam van deze kolom wijst op gegevens die een patiënt identificeren "
                    f"(BSN, naam of geboortedatum): "
                    f"{NEVER_STORED}",
                )
            )
    # a table's cells repeat (a figures file names each practice eight times, each period end on every row): each
    # distinct cell is searched once, and every cell that holds a BSN is still reported where it stands
    bsn_in: dict[str, bool] = {}
    for number, cells in data:
        for index, cell in enumerate(cells):
            has_bsn = bsn_in.get(cell)
            if has_bsn is None:
                has_bsn = bsn_in[cell] = contains_bsn(cell)
            if has_bsn:  # also in free text: "BSN 111222333 gebeld" in a remark column
                table.patient_problems.append(
                    Problem(
                        table.file,
                        number,
                        _column_label(header, index),
                        "deze cel bevat een burgerservicenummer (BSN: 9 cijfers die de elfproef halen): "
                        f"{NEVER_STORED}",
                    )
                )

    wanted = [*required, *(c for c in optional if c not in required)]
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        if name not in wanted:
            continue
        if name in positions:
            table.problem(
                header_row,
                name,
                f"kolom {name!r} komt meer dan eens voor "
                f"(kolom {column_letter(positions[name])} en {column_letter(index)})",
                fatal=True,
            )
        else:
            positions[name] = index
    missing = [name for name in required if name not in positions]
    if missing:
        found = ", ".join(name for name in header if name) or "(geen)"
        message = (
            f"{'verplichte kolommen ontbreken' if len(missing) > 1 else 'verplichte kolom ontbreekt'}: "
            f"{', '.join(missing)}; "
            f"gevonden kolommen: {found}"
        )
        if len(header) == 1 and delimiter is not None:
            message += (
                f". Er is maar één kolom gevonden met scheidingsteken {_delimiter_name(delimiter)}: "
                "gebruikt het bestand misschien een ander scheidingsteken? Verwacht komma of puntkomma"
            )
        table.problem(header_row, None, message, fatal=True)
    if not data:
        table.problem(None, None, "bestand bevat geen gegevensrijen, alleen een kopregel", fatal=True)
    if table.fatal:
        return

    width = len(header)
    for number, cells in data:
        if any(cells[width:]):
            used = max(index for index, cell in enumerate(cells) if cell) + 1
            table.problem(
                number,
                None,
                f"rij heeft {used} cellen, de kopregel maar {width} kolommen"
                + (
                    "; staat er een scheidingsteken in een waarde zonder aanhalingstekens "
                    "(bijvoorbeeld een decimale komma)?"
                    if delimiter is not None
                    else "; heeft elke kolom een naam in de kopregel?"
                ),
            )
            continue
        padded = cells + [""] * (width - len(cells))
        table.rows.append((number, {name: padded[positions[name]] if name in positions else "" for name in wanted}))


def column_letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based index (0 -> A, 26 -> AA)."""
    letters = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _column_label(header: Sequence[str], index: int) -> str:
    if index < len(header) and header[index]:
        return header[index]
    return f"{column_letter(index)} (zonder naam)"


def _delimiter_name(delimiter: str) -> str:
    return {",": "komma (,)", ";": "puntkomma (;)", "\t": "tab"}.get(delimiter, repr(delimiter))


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _decode(data: bytes, file: str = "bestand") -> str:
    """A file's text by a rule a person can predict: UTF-16 when it starts with its byte-order mark; UTF-8 (with
    or without BOM) when the whole file is UTF-8; Windows-1252 (an old Excel export) when it holds no UTF-8
    character at all. A file with UTF-8 characters and bytes that are not (one stray Windows-1252 byte in a UTF-8
    file) is refused with the row and column of the first such byte: read either way, some names would be
    stored garbled ("Ã«")."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputFileError([Problem(file, None, None, "bestand begint als UTF-16 maar is het niet")]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if _UTF8_MULTIBYTE.search(data):
            before = data[:exc.start]
            row = before.count(b"\n") + 1
            column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", errors="replace")) + 1
            raise InputFileError([Problem(file, row, None, (
                f"positie {column}: het bestand mengt tekensets (UTF-8 en een losse byte {data[exc.start]:#04x} van "
                "een andere, zoals Windows-1252); sla het op als UTF-8 (in Excel: CSV UTF-8) en lever het opnieuw "
                "aan"))]) from None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise InputFileError([Problem(file, None, None, (
            f"onbekende tekenset (byte {data[exc.start]:#04x}); sla het op als UTF-8 (in Excel: CSV UTF-8)"
        ))]) from None


def _csv_records(source: Path, table: _Table) -> tuple[list[tuple[int, list[str]]], str]:
    data = source.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        table.problem(
            None,
            None,
            "dit lijkt een Excel-bestand met de extensie .csv: geef het de extensie .xlsx",
            fatal=True,
        )
        return [], ","
    text = _decode(data, table.file)
    header_line = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        records = [(number, [cell.strip() for cell in record]) for number, record in enumerate(reader, start=1)]
    except csv.Error as exc:
        table.problem(None, None, f"bestand kan niet als CSV worden gelezen ({exc})", fatal=True)
        return [], delimiter
    return records, delimiter


def _xlsx_records(source: Path, table: _Table) -> list[tuple[int, list[str]]]:
    import openpyxl  # imported here: reading CSV files does not need it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception:
        table.problem(
            None,
            None,
            "bestand kan niet als Excel-werkmap (.xlsx) worden gelezen: is het beschadigd "
            "of eigenlijk een ander soort bestand?",
            fatal=True,
        )
        return []
    try:
        if not workbook.worksheets:
            table.problem(None, None, "de Excel-werkmap heeft geen werkblad", fatal=True)
            return []
        records = _sheet_records(workbook.worksheets[0])
        if not any(any(cells) for _, cells in records):
            # the first sheet is the one read (a workbook's other sheets are often notes or pivots): say where the
            # data is when the first is empty, rather than "empty file"
            filled = next((sheet.title for sheet in workbook.worksheets[1:]
                           if any(any(cells) for _, cells in _sheet_records(sheet))), None)
            if filled is not None:
                table.problem(None, None, f"het eerste werkblad ({workbook.worksheets[0].title!r}) is leeg; de "
                              f"gegevens staan op werkblad {filled!r}: alleen het eerste werkblad wordt gelezen, "
                              "zet ze daar", fatal=True)
                return []
        return records
    finally:
        workbook.close()


def _sheet_records(sheet: Any) -> list[tuple[int, list[str]]]:
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()  # some programs store wrong dimensions; read what is there
    return [(number, [_cell_text(cell) for cell in row]) for number, row in enumerate(sheet.iter_rows(), start=1)]


def _number_text(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _cell_text(cell: Any) -> str:
    """An Excel cell as the text a person sees (percent cells as the percentage: 0.725 -> '72.5')."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, int | float):
        number = Decimal(repr(round(value, 10))) if isinstance(value, float) else Decimal(value)
        if "%" in (getattr(cell, "number_format", None) or ""):
            number *= 100
        return _number_text(number)
    return str(value).strip()


# --------------------------------------------------------------------------- converting values


class _InvalidValue(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


PROGRAMME_ALIASES: dict[str, Programme] = {
    **{p.value: p for p in Programme},
    "astma": Programme.ASTHMA,
    "ouderenzorg": Programme.ELDERLY,
    "diabetes": Programme.DM2,
}
_INDICATOR_KIND_ALIASES: dict[str, IndicatorKind] = {
    **{k.value: k for k in IndicatorKind},
    "proces": IndicatorKind.PROCESS,
    "procesindicator": IndicatorKind.PROCESS,
    "uitkomst": IndicatorKind.OUTCOME,
    "uitkomstindicator": IndicatorKind.OUTCOME,
}
_CONVERSATION_KIND_ALIASES: dict[str, ConversationKind] = {
    **{k.value: k for k in ConversationKind},
    "startgesprek": ConversationKind.START,
    "jaargesprek": ConversationKind.ANNUAL,
    "kwaliteitsjaargesprek": ConversationKind.ANNUAL,
    "extra gesprek": ConversationKind.EXTRA,
    "extra_gesprek": ConversationKind.EXTRA,
    "extragesprek": ConversationKind.EXTRA,
}
_TRUE = frozenset({"true", "ja", "yes", "1", "waar"})
_FALSE = frozenset({"false", "nee", "no", "0", "onwaar"})
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DUTCH_DATE = re.compile(r"([0-9]{1,2})-([0-9]{1,2})-([0-9]{4})")
_COUNT = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"(-?[0-9]{1,15})(?:[.,]([0-9]{1,15}))?\s*%?")
_DIGITS_MAX = 15  # more digits than any count or percentage has; Python refuses int() beyond 4,300 digits
_YEAR = re.compile(r"[0-9]{4}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _choice(value: object, aliases: Mapping[str, T], what: str) -> T:
    if _blank(value):
        raise _InvalidValue(f"{what} ontbreekt")
    if not isinstance(value, str):
        raise _InvalidValue(f"{what} {value!r} is ongeldig: verwacht tekst")
    found = aliases.get(value.strip().lower())
    if found is None:
        raise _InvalidValue(f"{what} {value.strip()!r} is onbekend: verwacht een van {', '.join(aliases)}")
    return found


def _programme(value: object) -> Programme:
    if _blank(value):
        raise _InvalidValue("zorgprogramma ontbreekt")
    if not isinstance(value, str) or value.strip().lower() not in PROGRAMME_ALIASES:
        shown = value.strip() if isinstance(value, str) else value
        raise _InvalidValue(
            f"zorgprogramma {shown!r} is onbekend: verwacht een van "
            f"{', '.join(p.value for p in Programme)} (of astma, ouderenzorg, diabetes)"
        )
    return PROGRAMME_ALIASES[value.strip().lower()]


def _optional_programme(value: object) -> Programme | None:
    return None if _blank(value) else _programme(value)


def _indicator_kind(value: object) -> IndicatorKind:
    return _choice(value, _INDICATOR_KIND_ALIASES, "soort indicator")


def _conversation_kind(value: object) -> ConversationKind:
    return _choice(value, _CONVERSATION_KIND_ALIASES, "soort gesprek")


def _required_text(value: object) -> str:
    if _blank(value):
        raise _InvalidValue("waarde ontbreekt")
    if not isinstance(value, str):
        raise _InvalidValue(f"waarde {value!r} is ongeldig: verwacht tekst")
    return value.strip()


def _optional_text(value: object) -> str | None:
    return None if _blank(value) else _required_text(value)


def _optional_email(value: object) -> str | None:
    text = _optional_text(value)
    if text is not None and not _EMAIL.fullmatch(text):
        raise _InvalidValue(f"e-mailadres {text!r} is ongeldig: verwacht bijvoorbeeld naam@praktijk.nl")
    return text


def _agb(value: object) -> str:
    if _blank(value):
        raise _InvalidValue("AGB-code ontbreekt")
    if isinstance(value, int) and not isinstance(value, bool):
        raise _InvalidValue(
            f"AGB-code staat zonder aanhalingstekens en is als getal gelezen ({value}), waardoor "
            'voorloopnullen verloren gaan: zet de code tussen aanhalingstekens, bijv. agb_code: "01234567"'
        )
    if not isinstance(value, str):
        raise _InvalidValue(f"AGB-code {value!r} is ongeldig: verwacht precies 8 cijfers")
    text = value.strip()
    try:
        return validate_agb_code(text)
    except InvalidAgbCodeError as exc:
        message = str(exc)
        if re.fullmatch(r"[0-9]{6,7}", text):
            message += (
                f" (is de voorloopnul weggevallen, bijv. {text.zfill(8)}? "
                "Zet de kolom in Excel op 'Tekst' voordat u de codes invult)"
            )
        raise _InvalidValue(message) from None


def _date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if _blank(value):
        raise _InvalidValue(f"datum ontbreekt: {DATE_FORMS}")
    if isinstance(value, str):
        text = value.strip()
        iso, dutch = _ISO_DATE.fullmatch(text), _DUTCH_DATE.fullmatch(text)
        if iso:
            year, month, day = (int(part) for part in iso.groups())
        elif dutch:
            day, month, year = (int(part) for part in dutch.groups())
        else:
            raise _InvalidValue(f"datum {text!r} is ongeldig: {DATE_FORMS}")
        try:
            return date(year, month, day)
        except ValueError:
            raise _InvalidValue(f"datum {text!r} bestaat niet") from None
    raise _InvalidValue(f"datum {value!r} is ongeldig: {DATE_FORMS}")


def _count(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and _COUNT.fullmatch(value.strip()):
        if len(value.strip()) > _DIGITS_MAX:
            raise _InvalidValue(f"aantal van {len(value.strip())} cijfers is te groot: verwacht het aantal patiënten")
        return int(value.strip())
    if _blank(value):
        raise _InvalidValue("aantal ontbreekt: verwacht een geheel getal van 0 of meer")
    raise _InvalidValue(f"aantal {value!r} is ongeldig: verwacht een geheel getal van 0 of meer")


def _percentage(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if _blank(value):
        raise _InvalidValue("percentage ontbreekt: verwacht een getal van 0 tot en met 100")
    if isinstance(value, str):
        match = _DECIMAL.fullmatch(value.strip())
        if match:
            whole, fraction = match.groups()
            return float(f"{whole}.{fraction or 0}")
    raise _InvalidValue(
        f"percentage {value!r} is ongeldig: verwacht een getal van 0 tot en met 100, bijv. 72,5 of 72.5"
    )


def _year(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _YEAR.fullmatch(value.strip()):
        return int(value.strip())
    if _blank(value):
        raise _InvalidValue("jaartal ontbreekt")
    raise _InvalidValue(f"jaartal {value!r} is ongeldig: verwacht vier cijfers, bijv. 2024")


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = value.strip().lower() if isinstance(value, str) else str(value)
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _blank(value):
        raise _InvalidValue("waarde ontbreekt: verwacht ja of nee")
    raise _InvalidValue(f"waarde {value!r} is ongeldig: verwacht ja/nee (of true/false, yes/no, 1/0, waar/onwaar)")


# --------------------------------------------------------------------------- pydantic errors in Dutch


class _Row:
    """Collects the problems of one row (or one YAML item) while its values are converted."""

    def __init__(self, file: str, row: int | None, problems: list[Problem], prefix: str = "") -> None:
        self.file = file
        self.row = row
        self.problems = problems
        self.prefix = prefix
        self.failed: set[str] = set()
        self.data: dict[str, Any] = {}

    def column(self, name: str | None) -> str | None:
        return field_path_or_none(self.prefix, [name] if name else [])

    def add(self, name: str | None, message: str, *, fail: str | None = None) -> None:
        """Record a problem at column ``name``; the row's field ``fail`` (default ``name``) is lost."""
        self.problems.append(Problem(self.file, self.row, self.column(name), message))
        self.failed.add(fail or name or "")

    def convert_columns(self, cells: Mapping[str, str], converters: Mapping[str, Callable[[object], Any]]) -> None:
        """Convert each column's cell with its converter into ``data``, a problem for each that fails."""
        for name, converter in converters.items():
            self.convert(self.data, name, cells[name], converter)

    def convert_present(self, data: dict[str, Any], converters: Mapping[str, Callable[[object], Any]]) -> None:
        """Convert in place each value of ``data`` that has a converter (a YAML item may leave keys out)."""
        for name, converter in converters.items():
            if name in data:
                self.convert(data, name, data[name], converter)

    def convert(self, data: dict[str, Any], name: str, value: object, converter: Callable[[object], Any]) -> None:
        try:
            data[name] = converter(value)
        except _InvalidValue as exc:
            self.add(name, exc.message)

    def build(self, model: type[M], data: Mapping[str, Any], model_error_column: str | None = None) -> M | None:
        """Validate with the domain model; every pydantic error becomes a located problem."""
        try:
            built = model.model_validate(dict(data))
        except ValidationError as exc:
            reported = set(self.failed)
            for error in exc.errors():
                loc = error["loc"]
                if loc and loc[0] in reported:
                    continue  # already reported when the value was converted
                if loc:
                    where = field_path_or_none(self.prefix, loc)
                    self.problems.append(Problem(self.file, self.row, where, dutch_message(error)))
                    self.failed.add(str(loc[0]))
                else:
                    self.add(model_error_column, dutch_message(error))
            return None
        return None if self.failed else built


# --------------------------------------------------------------------------- tables of domain objects


def _parse_table(
    path: FilePath,
    required: Sequence[str],
    optional: Sequence[str],
    build: Callable[[_Row, dict[str, str]], T | None],
    key_columns: Sequence[str],
) -> list[T]:
    """Build one object per row; rows whose natural key repeats an earlier row's are problems.

    The key is read from the converted values (so ``31-12-2024`` and ``2024-12-31`` are the
    same day), also of rows with other problems, so that every duplicate is reported at once.
    """
    table = _read_table(path, required, optional)
    table.raise_if_unusable()
    problems = table.problems
    built: list[T] = []
    keys: list[tuple[int, tuple[Hashable, ...]]] = []
    for number, cells in table.rows:
        row = _Row(table.file, number, problems)
        item = build(row, cells)
        if item is not None:
            built.append(item)
        if all(name in row.data for name in key_columns):
            keys.append((number, tuple(row.data[name] for name in key_columns)))
    _check_duplicates(table.file, keys, key_columns, problems)
    _raise(problems)
    return built


def _key_text(value: Hashable) -> str:
    if value is None:
        return "(leeg)"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _check_duplicates(
    file: str,
    keys: Sequence[tuple[int, tuple[Hashable, ...]]],
    key_columns: Sequence[str],
    problems: list[Problem],
) -> None:
    first_row: dict[tuple[Hashable, ...], int] = {}
    names = " en ".join([", ".join(key_columns[:-1]), key_columns[-1]] if len(key_columns) > 1 else key_columns)
    for number, key in keys:
        if key in first_row:
            values = ", ".join(_key_text(part) for part in key)
            problems.append(
                Problem(
                    file,
                    number,
                    None,
                    f"dubbele rij: rij {number} heeft dezelfde {names} ({values}) als rij {first_row[key]}",
                )
            )
        else:
            first_row[key] = number


# a practice's own values, as a row of a practices table and as an item of a registry's YAML
_PRACTICE_CONVERTERS = {"agb_code": _agb, "name": _required_text, "gp_group": _optional_text, "email": _optional_email}


def _practice_row(row: _Row, cells: dict[str, str]) -> Practice | None:
    row.convert_columns(cells, _PRACTICE_CONVERTERS)
    return row.build(Practice, row.data)


def parse_practices(path: FilePath) -> list[Practice]:
    """Practices from a CSV/XLSX with columns agb_code, name (gp_group, email optional)."""
    return _parse_table(path, PRACTICE_COLUMNS, PRACTICE_OPTIONAL_COLUMNS, _practice_row, ["agb_code"])


def _catalogue_row(row: _Row, cells: dict[str, str]) -> IndicatorDefinition | None:
    data = row.data
    row.convert_columns(cells, {
        "programme": _programme,
        "indicator": _required_text,
        "name": _required_text,
        "kind": _indicator_kind,
        "main": _boolean,
    })
    for name in CATALOGUE_OPTIONAL_COLUMNS:
        if cells.get(name, "") == "":
            continue
        if name == "window_months":
            row.convert(data, name, cells[name], _count)
        elif name == "value_threshold":
            row.convert(data, name, cells[name], _decimal_number)
        else:
            data[name] = cells[name]
    return row.build(IndicatorDefinition, data, model_error_column="check")


def _decimal_number(value: object) -> float:
    text = str(value).strip().replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise _InvalidValue(f"waarde {value!r} is ongeldig: verwacht een getal") from None


def parse_catalogue(path: FilePath) -> list[IndicatorDefinition]:
    """The indicator catalogue: programme, indicator, name, kind (process/outcome), main (ja/nee), and
    optionally how to compute it (check, window_months, value_op, value_threshold), its numerator and
    denominator in words, and the source of the definition."""
    return _parse_table(
        path,
        CATALOGUE_COLUMNS,
        CATALOGUE_OPTIONAL_COLUMNS,
        _catalogue_row,
        ["programme", "indicator"],
    )


def _check_references(
    row: _Row,
    data: Mapping[str, Any],
    known_agb_codes: set[str] | None = None,
    catalogue: set[IndicatorKey] | None = None,
) -> None:
    """Unknown practices and indicators are problems of the row (the registry and catalogue are loaded first)."""
    agb = data.get("agb_code")
    if known_agb_codes is not None and isinstance(agb, str) and agb not in known_agb_codes:
        row.add("agb_code", f"praktijk met AGB-code {agb} staat niet in het register")
    programme, indicator = data.get("programme"), data.get("indicator")
    if (
        catalogue is not None
        and isinstance(programme, Programme)
        and isinstance(indicator, str)
        and IndicatorKey(programme, indicator) not in catalogue
    ):
        row.add("indicator", f"indicator {programme.value}/{indicator} staat niet in de catalogus")


@dataclass(frozen=True)
class _NotAfter:
    """A date column that may not lie after ``today`` (no check when ``today`` is None), and the refusal's words."""

    column: str
    what: str
    today: date | None
    then: str


def _remembered(converter: Callable[[object], Any]) -> Callable[[object], Any]:
    """``converter`` answering a cell it has seen before as it did then, its value or its refusal (a fresh
    ``_InvalidValue`` with the same words). For the columns of one file: its cells repeat (a figures file of 5,000
    practices has 5,000 codes in 40,000 rows, one period end, a few hundred counts), and converting each cell again
    was half of reading it (issue 16). A converter here depends on its value alone; a table's cells are text."""
    seen: dict[object, tuple[bool, Any]] = {}

    def convert(value: object) -> Any:
        known = seen.get(value)
        if known is None:
            try:
                known = (True, converter(value))
            except _InvalidValue as exc:
                known = (False, exc.message)
            seen[value] = known
        if known[0]:
            return known[1]
        raise _InvalidValue(known[1])

    return convert


def _checked_row(
    converters: Mapping[str, Callable[[object], Any]],
    model: type[M],
    *,
    known_agb_codes: Iterable[str] | None = None,
    catalogue: Iterable[IndicatorKey] | None = None,
    not_after: _NotAfter | None = None,
    model_error_column: str | None = None,
) -> Callable[[_Row, dict[str, str]], M | None]:
    """How a row of a table is read: each column converted by its converter; a practice not in the register, an
    indicator not in the catalogue (each when given) and a date after ``not_after.today`` are problems of the
    row; then it is built as ``model``."""
    codes = set(known_agb_codes) if known_agb_codes is not None else None
    known = set(catalogue) if catalogue is not None else None
    converters = {name: _remembered(converter) for name, converter in converters.items()}

    def checked_row(row: _Row, cells: dict[str, str]) -> M | None:
        row.convert_columns(cells, converters)
        _check_references(row, row.data, codes, known)
        if not_after is not None:
            day = row.data.get(not_after.column)
            future = (future_fact(not_after.what, day, not_after.today, not_after.then)
                      if not_after.today is not None and isinstance(day, date) else None)
            if future:
                row.add(not_after.column, future)
        return row.build(model, row.data, model_error_column)

    return checked_row


def parse_targets(path: FilePath, catalogue: Iterable[IndicatorKey] | None = None) -> list[Target]:
    """The care group's targets (streefwaarden): programme, indicator, target (0-100).

    With ``catalogue``, an indicator not in it is a problem of its row."""
    converters = {"programme": _programme, "indicator": _required_text, "target": _percentage}
    target_row = _checked_row(converters, Target, catalogue=catalogue)
    return _parse_table(path, TARGET_COLUMNS, (), target_row, ["programme", "indicator"])


def parse_leaflets(path: FilePath) -> list[Leaflet]:
    """The register of patient leaflets: programme, title, url (a web address, ``https://...``); a title twice in
    one programme is a problem of the later row."""
    converters = {"programme": _programme, "title": _required_text, "url": _required_text}
    return _parse_table(path, LEAFLET_COLUMNS, (), _checked_row(converters, Leaflet), ["programme", "title"])


def _partner_kind(value: object) -> PartnerKind:
    return _choice(value, PARTNER_KIND_ALIASES, "soort samenwerkingspartner")


def parse_partners(path: FilePath) -> list[Partner]:
    """A GP group's partners in its network plan (seed 5): name, kind (district_nursing, elderly_care_physician,
    municipality, social_welfare, pharmacy, physiotherapy, mental_health, hospital, other, or the Dutch words), and
    optionally email; a name twice is a problem of the later row. Organisations only: a BSN-like number anywhere
    refuses the file."""
    converters = {"name": _required_text, "kind": _partner_kind, "email": _optional_email}
    return _parse_table(path, PARTNER_COLUMNS, PARTNER_OPTIONAL_COLUMNS, _checked_row(converters, Partner), ["name"])


_COURSE_KIND_ALIASES = {**{k.value: k for k in CourseKind}, "verplicht": CourseKind.MANDATORY,
                        "basis": CourseKind.BASIC, "basisscholing": CourseKind.BASIC,
                        "startscholing": CourseKind.START, "verdieping": CourseKind.ADVANCED,
                        "verdiepingsscholing": CourseKind.ADVANCED}


def _course_kind(value: object) -> CourseKind:
    return _choice(value, _COURSE_KIND_ALIASES, "soort scholing")


def _course_roles(value: object) -> frozenset[Role]:
    """Roles separated by ``;``, ``|`` or spaces (``gp;poh_chronic``), each a role of a practice's people."""
    if _blank(value) or not isinstance(value, str):
        raise _InvalidValue("rollen ontbreken: verwacht bijv. gp;poh_chronic;practice_manager")
    known = {r.value: r for r in COURSE_ROLES}
    roles = set()
    for part in re.split(r"[;|\s]+", value.strip()):
        if part.lower() not in known:
            raise _InvalidValue(f"rol {part!r} is onbekend: verwacht een van {', '.join(known)}")
        roles.add(known[part.lower()])
    return frozenset(roles)


def _months(value: object) -> int:
    months = _count(value)
    if months < 1:
        raise _InvalidValue(f"{months} maanden is ongeldig: verwacht 1 of meer")
    return months


def _course_row(row: _Row, cells: dict[str, str]) -> Course | None:
    data = row.data
    row.convert_columns(cells, {"code": _required_text, "name": _required_text, "kind": _course_kind,
                                "roles": _course_roles})
    for name in ("every_months", "first_within_months"):
        if cells.get(name, "").strip():
            row.convert(data, name, cells[name], _months)
    if cells.get("url", "").strip():
        data["url"] = cells["url"].strip()
    if "every_months" in row.failed:
        data["every_months"] = 1  # already reported; the row is refused, but its other fields are still checked
    return row.build(Course, data, model_error_column="every_months")


def parse_courses(path: FilePath) -> list[Course]:
    """The course catalogue: code, name, kind (mandatory, basic, start, advanced), roles (``gp;poh_chronic``),
    every_months (required for a mandatory course), and optionally first_within_months and url; a code twice is a
    problem of the later row."""
    return _parse_table(path, COURSE_COLUMNS, COURSE_OPTIONAL_COLUMNS, _course_row, ["code"])


def parse_averages(path: FilePath, catalogue: Iterable[IndicatorKey] | None = None) -> list[NationalAverage]:
    """National averages (landelijk gemiddelde): programme, indicator, year, national_average."""
    converters = {"programme": _programme, "indicator": _required_text, "year": _year, "national_average": _percentage}
    average_row = _checked_row(converters, NationalAverage, catalogue=catalogue)
    return _parse_table(path, AVERAGE_COLUMNS, (), average_row, ["programme", "indicator", "year"])


def parse_scores(
    path: FilePath,
    today: date,
    known_agb_codes: Iterable[str] | None = None,
    catalogue: Iterable[IndicatorKey] | None = None,
) -> list[IndicatorScore]:
    """A practice's indicator scores; a period ending after ``today`` is a problem, and so are
    (when given) practices not in the register and indicators not in the catalogue."""
    score_row = _checked_row(
        {
            "agb_code": _agb,
            "programme": _programme,
            "indicator": _required_text,
            "period_end": _date,
            "numerator": _count,
            "denominator": _count,
        },
        IndicatorScore,
        known_agb_codes=known_agb_codes,
        catalogue=catalogue,
        not_after=_NotAfter("period_end", "einddatum van de periode", today,
                            "cijfers tellen pas als de periode voorbij is"),
        model_error_column="numerator",
    )
    return _parse_table(
        path,
        SCORE_COLUMNS,
        (),
        score_row,
        ["agb_code", "programme", "indicator", "period_end"],
    )


@dataclass(frozen=True)
class ConversationLine:
    """One conversation held, as a line of a conversations file says it (``row`` for messages)."""

    row: int
    agb_code: str
    kind: ConversationKind
    held_on: date
    programme: Programme | None


class _ConversationRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    agb_code: AgbCode
    kind: ConversationKind
    held_on: date
    programme: Programme | None = None


def parse_conversations(
    path: FilePath, known_agb_codes: Iterable[str] | None = None, today: date | None = None
) -> list[ConversationLine]:
    """Conversations held: agb_code, kind (start/annual/extra), held_on (+ optional programme).

    With ``known_agb_codes``, a practice not in the register is a problem; with ``today``, so is a
    conversation dated after it."""
    checked_row = _checked_row(
        {"agb_code": _agb, "kind": _conversation_kind, "held_on": _date, "programme": _optional_programme},
        _ConversationRow,
        known_agb_codes=known_agb_codes,
        not_after=_NotAfter("held_on", "gesprek op", today, "leg een gesprek vast nadat het is gehouden"),
    )

    def conversation_row(row: _Row, cells: dict[str, str]) -> ConversationLine | None:
        checked = checked_row(row, cells)
        if checked is None or row.row is None:
            return None
        return ConversationLine(row.row, checked.agb_code, checked.kind, checked.held_on, checked.programme)

    return _parse_table(
        path,
        CONVERSATION_COLUMNS,
        CONVERSATION_OPTIONAL_COLUMNS,
        conversation_row,
        ["agb_code", "kind", "held_on", "programme"],
    )


# --------------------------------------------------------------------------- YAML


# a registry of 5,000 practices (the country) is some 2.3 MB; 2 MB refused it (issue 16)
YAML_MAX_BYTES = 20_000_000
YAML_MAX_DEPTH = 40
YAML_MAX_DIGITS = 30
REFUSED_ALIAS = "verwijzingen (*naam) worden niet gelezen: schrijf de waarde zelf uit"
REFUSED_DEPTH = f"meer dan {YAML_MAX_DEPTH} niveaus diep genest"


class _StrictConstruction(yaml.constructor.SafeConstructor):
    """What the loaders below check while they build the values: a key written twice in one mapping refused
    (PyYAML keeps the last), integers of at most ``YAML_MAX_DIGITS`` digits, and dates left as text, so that
    ``2023-02-30`` is refused where it stands, in Dutch, instead of crashing the loader."""

    yaml_implicit_resolvers = {  # noqa: RUF012 (PyYAML's own class-level table)
        first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        if len(node.value) > YAML_MAX_DIGITS:  # int() of thousands of digits is slow, and refused past 4,300
            raise yaml.constructor.ConstructorError(None, None, f"getal van {len(node.value)} tekens is te lang",
                                                    node.start_mark)
        value: int = super().construct_yaml_int(node)
        return value

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"sleutel {key_node.value!r} staat twee keer in dezelfde opsomming",
                        key_node.start_mark,
                    )
                seen.add(key)
        mapping: dict[Hashable, Any] = super().construct_mapping(node, deep=deep)
        return mapping

    # PyYAML looks constructors up in this table, which holds ``SafeConstructor``'s own function for integers
    yaml_constructors = {  # noqa: RUF012 (PyYAML's own class-level table)
        **yaml.constructor.SafeConstructor.yaml_constructors, "tag:yaml.org,2002:int": construct_yaml_int}


class _StrictYamlLoader(_StrictConstruction, yaml.SafeLoader):
    """A safe loader for the files people write (registry, plans, reports, policy): no arbitrary objects
    (``SafeLoader``), what ``_StrictConstruction`` checks, no aliases (``*naam``: a "billion laughs" file of a few
    lines grows past gigabytes), and nesting at most ``YAML_MAX_DEPTH`` deep (50,000 brackets made the composer
    overflow the stack). PyYAML's own parser, in Python: used where PyYAML was built without libyaml."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, REFUSED_ALIAS, self.peek_event().start_mark)
        self._depth += 1
        try:
            if self._depth > YAML_MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, REFUSED_DEPTH, self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))
if _LIBYAML:
    class _LibYamlLoader(_StrictConstruction, yaml.CSafeLoader):
        """The same checks over libyaml's parser and composer, in C: a registry of 5,000 practices in 1.8 s
        instead of 6.3 s. libyaml composes without asking Python at each node, so aliases and nesting are
        refused before, over the parser's events (``_refuse_aliases_and_depth``), with the same messages and
        lines as ``_StrictYamlLoader``. Not the same: a syntax error is worded by libyaml, and libyaml reads a
        tab as a separator where PyYAML's own parser refuses it (``a: b`` and a tab: the same values)."""


def _refuse_aliases_and_depth(text: str) -> None:
    """Refuse an alias, a node nested more than ``YAML_MAX_DEPTH`` deep, or a second document at the event that is
    one, as ``_StrictYamlLoader`` does (a node inside k collections is k + 1 deep; a document's refusal is not read
    past its end), before anything is composed. The events are read one at a time, so block nesting stops at the
    forty-first level; flow brackets are scanned ahead by libyaml, which stops at its own limit of 1,000 (the
    refusal is the same, its column further on)."""
    depth = 0  # collections open around the next node
    first: yaml.error.Mark | None = None  # where the document began
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            mark = cast(yaml.error.Mark, event.start_mark)  # libyaml's own Mark: the same line and column
            if isinstance(event, yaml.DocumentStartEvent):
                if first is not None:  # as PyYAML's composer refuses it (``get_single_node``)
                    raise yaml.composer.ComposerError("expected a single document in the stream", first,
                                                      "but found another document", mark)
                first = mark
            if isinstance(event, yaml.AliasEvent):
                raise yaml.composer.ComposerError(None, None, REFUSED_ALIAS, mark)
            if isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if depth + 1 > YAML_MAX_DEPTH:
                    raise yaml.composer.ComposerError(None, None, REFUSED_DEPTH, mark)
                if not isinstance(event, yaml.ScalarEvent):
                    depth += 1
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.scanner.ScannerError as exc:
        # libyaml's scanner reads brackets ahead of the events and stops at its own limit (1,000 deep): the same
        # refusal, where it stopped
        if "maximum nesting depth" in (exc.problem or ""):
            raise yaml.composer.ComposerError(None, None, REFUSED_DEPTH, exc.problem_mark) from None
        raise


def _load_yaml(path: FilePath) -> object:
    file = str(path)
    source = Path(path)

    def refuse(message: str, row: int | None = None) -> InputFileError:
        return InputFileError([Problem(file, row, None, message)])

    if not source.exists():
        raise refuse("bestand bestaat niet")
    if not source.is_file():
        raise refuse("is geen bestand (maar bijvoorbeeld een map)")
    if source.suffix.lower() not in YAML_SUFFIXES:
        raise refuse(f"onbekend bestandstype {source.suffix or '(geen extensie)'!r}: verwacht .yaml of .yml")
    if source.stat().st_size > YAML_MAX_BYTES:
        raise refuse(f"bestand is groter dan {YAML_MAX_BYTES // 1_000_000} MB: zo groot is een register, plan of "
                     "beleid nooit (een register van 5.000 praktijken is zo'n 2,3 MB)")
    text = _decode(source.read_bytes(), file)
    if not text.strip():
        raise refuse("bestand is leeg")
    try:
        document = load_yaml_text(text)
    except YamlError as exc:
        raise refuse(str(exc), exc.line) from None
    if document is None:
        raise refuse("bestand is leeg")
    return document


class YamlError(ValueError):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def load_yaml_text(text: str) -> object:
    """YAML a person wrote, read with the strict loader (libyaml's when PyYAML has it); refused with the line
    where it went wrong."""
    try:
        if _LIBYAML:
            _refuse_aliases_and_depth(text)
            return yaml.load(text, Loader=_LibYamlLoader)  # a CSafeLoader subclass: no arbitrary objects
        return yaml.load(text, Loader=_StrictYamlLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        where = f" (regel {line}, positie {mark.column + 1})" if mark is not None else ""
        raise YamlError(f"het bestand is geen geldige YAML{where}: {exc.problem or exc.context}", line) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise YamlError(f"het bestand is geen geldige YAML: {type(exc).__name__}") from None


def _mapping(row: _Row, value: object, expected: str) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    row.add(None, f"verwacht een opsomming van naam: waarde ({expected})")
    return None


def _items(row: _Row, key: str, value: object) -> list[object]:
    """A YAML list under ``key`` (absent or empty: no items)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    row.add(key, "verwacht een lijst (regels die met '- ' beginnen)")
    return []


def _unknown_keys(row: _Row, data: Mapping[str, Any], known: Sequence[str]) -> None:
    for key in data:
        if key not in known:
            row.add(key, f"onbekend onderdeel {key!r}: verwacht {', '.join(known)}")


def _person(row: _Row, value: object, role: Role | None) -> Person | None:
    data = _mapping(row, value, "name, email" + ("" if role else ", role"))
    if data is None:
        return None
    if role is not None:
        given = data.get("role")
        if given is not None and str(given).strip().lower() != role.value:
            row.add("role", f"rol {given!r} past hier niet: iedereen in deze lijst heeft rol {role.value}")
        data["role"] = role
    row.convert_present(data, {"name": _required_text, "email": _optional_email})
    return row.build(Person, data)


def _practice(row: _Row, value: object) -> Practice | None:
    data = _mapping(row, value, "agb_code, name, gp_group, email, programmes, people")
    if data is None:
        return None
    row.data = data
    row.convert_present(data, _PRACTICE_CONVERTERS)
    if "programmes" in data:
        raw = data["programmes"]
        programmes: dict[Programme, date] = {}
        if isinstance(raw, dict):
            for key, started in raw.items():
                column = f"programmes.{key}"
                try:
                    programmes[_programme(key)] = _date(started)
                except _InvalidValue as exc:
                    row.add(column, exc.message, fail="programmes")
        elif raw is not None:
            row.add("programmes", "verwacht per zorgprogramma de startdatum, bijv. dm2: 2023-01-01")
        data["programmes"] = programmes
    if "people" in data:
        people = []
        for index, person in enumerate(_items(row, "people", data["people"])):
            item = _Row(row.file, row.row, row.problems, f"{row.prefix}.people[{index}]")
            built = _person(item, person, None)
            if built is None:
                row.failed.add("people")
            else:
                people.append(built)
        data["people"] = tuple(people)
    return row.build(Practice, data)


def _registry(file: str, document: object, problems: list[Problem]) -> Registry | None:
    top = _Row(file, None, problems)
    data = _mapping(top, document, "care_group, officers, board, gp_groups, practices")
    if data is None:
        return None
    _unknown_keys(top, data, ["care_group", "officers", "board", "gp_groups", "practices"])

    care_group: CareGroup | None = None
    if data.get("care_group") is None:
        top.add("care_group", "zorggroep ontbreekt: verwacht bijv. care_group: {name: Cohaesie}")
    else:
        row = _Row(file, None, problems, "care_group")
        values = _mapping(row, data["care_group"], "name, email")
        if values is not None:
            row.convert_present(values, {"email": _optional_email})
            care_group = row.build(CareGroup, values)

    people: dict[str, list[Person]] = {"officers": [], "board": []}
    for key, role in (("officers", Role.OFFICER), ("board", Role.BOARD)):
        for index, raw in enumerate(_items(top, key, data.get(key))):
            person = _person(_Row(file, None, problems, f"{key}[{index}]"), raw, role)
            if person is not None:
                people[key].append(person)

    gp_groups: list[GpGroup] = []
    group_paths: dict[str, str] = {}
    for index, raw in enumerate(_items(top, "gp_groups", data.get("gp_groups"))):
        row = _Row(file, None, problems, f"gp_groups[{index}]")
        values = _mapping(row, raw, "code, name, ekc, anonymise_mirror")
        group = row.build(GpGroup, values) if values is not None else None
        if group is None:
            continue
        if group.code in group_paths:
            row.add("code", f"hagro-code {group.code!r} staat ook bij {group_paths[group.code]}")
            continue
        group_paths[group.code] = f"gp_groups[{index}]"
        gp_groups.append(group)

    practices: list[Practice] = []
    agb_paths: dict[str, str] = {}
    for index, raw in enumerate(_items(top, "practices", data.get("practices"))):
        row = _Row(file, None, problems, f"practices[{index}]")
        practice = _practice(row, raw)
        # Cross-checks read the converted values, so they are reported also for a practice with other problems.
        agb_code = row.data.get("agb_code") if "agb_code" not in row.failed else None
        if isinstance(agb_code, str):
            if agb_code in agb_paths:
                row.add("agb_code", f"AGB-code {agb_code} staat ook bij {agb_paths[agb_code]}")
            else:
                agb_paths[agb_code] = f"practices[{index}]"
        gp_group = row.data.get("gp_group") if "gp_group" not in row.failed else None
        if group_paths and isinstance(gp_group, str) and gp_group not in group_paths:
            row.add("gp_group", f"hagro {gp_group!r} staat niet onder gp_groups (bekend: {', '.join(group_paths)})")
        if practice is not None and not row.failed:
            practices.append(practice)

    if problems or care_group is None:
        return None
    return Registry(
        care_group=care_group,
        officers=tuple(people["officers"]),
        board=tuple(people["board"]),
        gp_groups=tuple(gp_groups),
        practices=tuple(practices),
    )


def parse_registry(path: FilePath) -> Registry:
    """A care group's registry: YAML (the full form), or a CSV/XLSX list of practices.

    From a CSV/XLSX the care group is called ``Zorggroep`` and the GP groups are the distinct
    ``gp_group`` codes, each named by its code.
    """
    suffix = Path(path).suffix.lower()
    if suffix in CSV_SUFFIXES | XLSX_SUFFIXES:
        practices = parse_practices(path)
        codes = dict.fromkeys(p.gp_group for p in practices if p.gp_group is not None)
        return Registry(
            care_group=CareGroup(name="Zorggroep"),
            gp_groups=tuple(GpGroup(code=code, name=code) for code in codes),
            practices=tuple(practices),
        )
    if suffix not in YAML_SUFFIXES and Path(path).is_file():
        raise InputFileError(
            [
                Problem(
                    str(path),
                    None,
                    None,
                    f"onbekend bestandstype {suffix or '(geen extensie)'!r}: verwacht .yaml, .yml, .csv of .xlsx",
                )
            ]
        )
    document = _load_yaml(path)
    problems: list[Problem] = []
    registry = _registry(str(path), document, problems)
    _raise(problems)
    if registry is None:  # pragma: no cover - a registry is missing only when a problem says why
        raise InputFileError([Problem(str(path), None, None, "register kon niet worden gelezen")])
    return registry


def _goal(row: _Row, value: object) -> Goal | None:
    data = _mapping(row, value, "programme, indicator, target, by")
    if data is None:
        return None
    row.convert_present(data, {
        "programme": _programme, "indicator": _required_text, "target": _percentage, "by": _date,
    })
    return row.build(Goal, data)


def _goals(top: _Row, raw: object, *, required: bool) -> list[Goal]:
    """The goals of a plan or report, each at most once (programme, indicator and date)."""
    raw_goals = _items(top, "goals", raw)
    if required and not raw_goals and "goals" not in top.failed:
        top.add("goals", "een verbeterplan heeft minstens één doel, bijv. goals: [{programme: dm2, ...}]")
    goals: list[Goal] = []
    seen: dict[tuple[Hashable, ...], str] = {}
    for index, value in enumerate(raw_goals):
        row = _Row(top.file, None, top.problems, f"goals[{index}]")
        goal = _goal(row, value)
        if goal is None:
            continue
        key = (goal.programme, goal.indicator, goal.by)
        if key in seen:
            row.add(None, f"hetzelfde doel ({goal.programme}/{goal.indicator} per {goal.by.isoformat()}) "
                          f"staat ook bij {seen[key]}")
            continue
        seen[key] = f"goals[{index}]"
        goals.append(goal)
    return goals


def parse_plan(path: FilePath) -> ImprovementPlan:
    """An improvement plan (verbeterplan) from YAML: ``goals`` (at least one) and ``agreements``."""
    file = str(path)
    document = _load_yaml(path)
    problems: list[Problem] = []
    top = _Row(file, None, problems)
    data = _mapping(top, document, "goals, agreements")
    goals: list[Goal] = []
    agreements: list[str] = []
    if data is not None:
        _unknown_keys(top, data, ["goals", "agreements"])
        goals = _goals(top, data.get("goals"), required=True)
        for index, raw in enumerate(_items(top, "agreements", data.get("agreements"))):
            if isinstance(raw, str) and raw.strip():
                try:  # free text: the one guard of outside text (no BSN, no control characters, a sane length)
                    agreements.append(check_text(raw))
                except ValueError as exc:
                    top.add(f"agreements[{index}]", str(exc))
            else:
                top.add(f"agreements[{index}]", "een afspraak is een regel tekst en mag niet leeg zijn")
    _raise(problems)
    return ImprovementPlan(goals=tuple(goals), agreements=tuple(agreements))


_REPORT_KEYS = ["summary", "support_needs", "agreements", "evaluations", "goals"]


def parse_report(path: FilePath) -> ConversationReport:
    """A conversation's report (verslag) from YAML: ``summary``, ``support_needs``, ``agreements`` (``text``,
    ``owner``, ``due``, ``support``; a line of text is an agreement of the practice), ``evaluations`` of earlier
    agreements (``agreement`` id, ``outcome``, ``note``) and ``goals``. Refused whole, every problem at its path."""
    file = str(path)
    document = _load_yaml(path)
    problems: list[Problem] = []
    top = _Row(file, None, problems)
    data = _mapping(top, document, ", ".join(_REPORT_KEYS))
    report: ConversationReport | None = None
    if data is not None:
        _unknown_keys(top, data, _REPORT_KEYS)
        goals = _goals(top, data.get("goals"), required=False)
        # a line of text is an agreement of the practice
        agreements = [_report_item(top, "agreements", index,
                                   {"text": raw, "owner": "practice"} if isinstance(raw, str) else raw,
                                   Agreement, {"due": _date})
                      for index, raw in enumerate(_items(top, "agreements", data.get("agreements")))]
        evaluations = [_report_item(top, "evaluations", index, raw, Evaluation, {})
                       for index, raw in enumerate(_items(top, "evaluations", data.get("evaluations")))]
        needs = _items(top, "support_needs", data.get("support_needs"))
        report = top.build(ConversationReport, {
            **({"summary": data["summary"]} if data.get("summary") is not None else {}),
            "support_needs": needs, "goals": goals, "agreements": [a for a in agreements if a is not None],
            "evaluations": [e for e in evaluations if e is not None]})
    _raise(problems)
    if report is None:  # pragma: no cover - a report is missing only when a problem says why
        raise InputFileError([Problem(file, None, None, "verslag kon niet worden gelezen")])
    return report


def _report_item(top: _Row, key: str, index: int, raw: object, model: type[M],
                 converters: Mapping[str, Callable[[object], Any]]) -> M | None:
    row = _Row(top.file, None, top.problems, f"{key}[{index}]")
    data = _mapping(row, raw, "een opsomming van naam: waarde")
    if data is None:
        return None
    row.convert_present(data, converters)
    return row.build(model, data)


_ANSWERS = {"yes": "yes", "ja": "yes", "partly": "partly", "deels": "partly", "no": "no", "nee": "no"}


def _answer(value: object) -> str:
    """A checklist answer: ``yes``, ``partly`` or ``no`` (YAML reads an unquoted yes/no as true/false)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.strip().lower() in _ANSWERS:
        return _ANSWERS[value.strip().lower()]
    if _blank(value):
        raise _InvalidValue("antwoord ontbreekt: verwacht yes, partly of no")
    raise _InvalidValue(f"antwoord {shown(str(value))} is onbekend: verwacht yes, partly of no (ja, deels, nee)")


def parse_checklist(path: FilePath) -> Checklist:
    """A practice's checklist of its own quality system (seed 003) from YAML: per condition ``yes``, ``partly`` or
    ``no`` (``policy_plan: yes``), or with a note (``policy_plan: {answer: partly, note: ...}``), and
    ``dispensing_practice: yes`` for a dispensing practice. Refused whole, every problem at its condition."""
    file = str(path)
    document = _load_yaml(path)
    problems: list[Problem] = []
    top = _Row(file, None, problems)
    known = [c.value for c in Condition]
    data = _mapping(top, document, ", ".join(["dispensing_practice", *known]))
    checklist: Checklist | None = None
    if data is not None:
        dispensing = False
        if "dispensing_practice" in data:
            try:
                dispensing = _boolean(data.pop("dispensing_practice"))
            except _InvalidValue as exc:
                top.add("dispensing_practice", exc.message)
        for key in data:
            if key not in known:
                top.add(key, f"onbekende voorwaarde {shown(key)}: verwacht {', '.join(known)}")
        answers: dict[str, dict[str, Any]] = {}
        for condition in conditions_for(dispensing):
            if condition.value not in data:
                top.add(condition.value, f"voorwaarde ontbreekt ({CONDITION_NAMES_NL[condition]}): beantwoord haar "
                                         "met yes, partly of no")
                continue
            raw = data[condition.value]
            row = _Row(file, None, problems, condition.value)
            item: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {"answer": raw}
            for extra in item:
                if extra not in ("answer", "note"):
                    row.add(str(extra), f"onbekend onderdeel {shown(str(extra))}: verwacht answer, note")
            row.convert(item, "answer", item.get("answer"), _answer)
            if item.get("note") is not None:
                try:  # free text: the one guard of outside text (no BSN, no control characters, a sane length)
                    item["note"] = check_text(str(item["note"]))
                except ValueError as exc:
                    row.add("note", str(exc))
            if not row.failed:
                answers[condition.value] = {k: v for k, v in item.items() if k in ("answer", "note")}
        if Condition.DISPENSING_QUALITY_SYSTEM.value in data and not dispensing:
            top.add(Condition.DISPENSING_QUALITY_SYSTEM.value, "geldt alleen voor een apotheekhoudende praktijk: "
                                                               "zet dispensing_practice: yes, of laat haar weg")
        if not problems:
            checklist = top.build(Checklist, {"dispensing_practice": dispensing, "answers": answers})
    _raise(problems)
    if checklist is None:  # pragma: no cover - a checklist is missing only when a problem says why
        raise InputFileError([Problem(file, None, None, "checklist kon niet worden gelezen")])
    return checklist
