"""What outside text may be: the one guard every door uses (files, YAML, command-line options, settings, later the
web forms), so that no door can forget it.

Invariants:
- No data that identifies a patient gets in, free text included: a number that looks like a BSN (nine digits,
  with or without separators such as ``1234.56.782`` or ``123 456 782``, passing the eleven-test) is refused
  wherever it stands, and the refusal never repeats it. The event log cannot be erased, so this is checked
  before anything is stored.
- Names (of a practice, a person, a care group, a GP group, a course) have no control characters (a line break
  from Excel's Alt-Enter would poison every mail header) and at most ``NAME_MAX`` characters.
- An e-mail address is one address (``name@domain``), parsed by the standard library's parser, without
  angle brackets, commas or anything else a mail header would read as a second recipient.
- Dates lie within a sane horizon (``SANE_FROM`` .. ``SANE_UNTIL``): ``9999-12-31``, a common "no date"
  placeholder, is refused where it enters instead of overflowing a calculation later.
- The refusals are ``ValueError``s with a Dutch message (pydantic reports them with the field's place), so the
  reader of a file names file, row and column, and a command names the option.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date
from email.errors import HeaderParseError
from email.headerregistry import Address
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator
from pydantic_core import ErrorDetails

from domain.errors import InputError

T = TypeVar("T")
NAME_MAX = 120
MAX_COUNT = 10_000_000  # patients in one practice's count: far above any real one, far below a database's int
TEXT_MAX = 2000
EMAIL_MAX = 254
SANE_FROM = date(1990, 1, 1)
SANE_UNTIL = date(2100, 12, 31)

_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
# nine digits, possibly written in groups with dots, spaces or hyphens, not part of a longer run of digits
_BSN_LIKE = re.compile(r"(?<![0-9])[0-9](?:[ .\-]?[0-9]){8}(?![0-9])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_EXCEPT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

PATIENT_DATA = ("bevat een nummer dat op een BSN lijkt (negen cijfers die de elfproef doorstaan); het product slaat "
                "nooit gegevens op die een patiënt identificeren: laat het weg")


def passes_elfproef(digits: str) -> bool:
    """The Dutch eleven-test for a BSN: nine digits, weighted sum divisible by 11 and not 0."""
    if not re.fullmatch(r"[0-9]{9}", digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits, _BSN_WEIGHTS, strict=True))
    return total != 0 and total % 11 == 0


def contains_bsn(text: str) -> bool:
    """Whether anywhere in ``text`` stands a number that looks like a BSN."""
    return any(passes_elfproef(re.sub(r"[ .\-]", "", m.group())) for m in _BSN_LIKE.finditer(text))


# Column names that announce data identifying a patient, compared lower case, without accents, spaces,
# underscores, hyphens or dots ("Geb. datum", "geb_datum" and "GebDatum" all read "gebdatum").
_PATIENT_HEADERS = frozenset({
    "bsn", "bsnnummer", "bsnnr", "burgerservicenummer", "sofinummer", "sofinr",
    "patientnaam", "naampatient", "patientname",
    "geboortedatum", "geboortedat", "gebdatum", "gebdat", "geboren", "birthdate", "dateofbirth", "birthday", "dob",
})
_BSN_CELL = re.compile(r"[0-9]{9}|[0-9]{4}\.[0-9]{2}\.[0-9]{3}")


def normalised_header(name: str) -> str:
    """Lower case, accents removed (patiënt -> patient), spaces, underscores, hyphens and dots dropped."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\s_\-.]+", "", plain.lower())


def is_patient_header(name: str) -> bool:
    """Whether a column is named like a patient identifier (``BSN``, ``geboorte datum``, ``geb_datum``,
    ``patient_bsn``)."""
    normal = normalised_header(name)
    if normal in _PATIENT_HEADERS:
        return True
    stripped = normal.replace("patient", "")
    return stripped != normal and stripped in _PATIENT_HEADERS


def looks_like_bsn(cell: str) -> bool:
    """A cell that is nine digits (also written ``1234.56.782``) passing the eleven-test."""
    return bool(_BSN_CELL.fullmatch(cell)) and passes_elfproef(cell.replace(".", ""))


def check_no_patient_data(text: str) -> str:
    if contains_bsn(text):
        raise ValueError(PATIENT_DATA)
    return text


def _bounded_text(text: str, control: re.Pattern[str], control_message: str, most: int) -> str:
    """Stripped, not empty, no character ``control`` finds, at most ``most`` characters, no patient data."""
    text = text.strip()
    if not text:
        raise ValueError("mag niet leeg zijn")
    if control.search(text):
        raise ValueError(control_message)
    if len(text) > most:
        raise ValueError(f"is te lang ({len(text)} tekens; hoogstens {most})")
    return check_no_patient_data(text)


def check_name(text: str) -> str:
    """A name as it may stand in a mail header and a calendar invite."""
    return _bounded_text(text, _CONTROL,
                    "bevat een regeleinde of ander stuurteken (bijvoorbeeld Alt-Enter in Excel); haal het weg",
                    NAME_MAX)


def check_text(text: str) -> str:
    """Free text (an agreement, a reason, a report's summary): lines allowed, no patient data, a sane length."""
    return _bounded_text(text, _CONTROL_EXCEPT_LINES, "bevat een stuurteken; haal het weg", TEXT_MAX)


MINUTES_MAX = 20000


def check_minutes(text: str) -> str:
    """A meeting's minutes: free text of some pages, no patient data."""
    return _bounded_text(text, _CONTROL_EXCEPT_LINES, "bevat een stuurteken; haal het weg", MINUTES_MAX)


def check_email(text: str) -> str:
    """One e-mail address, as the standard library's parser reads it, nothing a header would take for more."""
    text = text.strip()
    if not text:
        raise ValueError("mag niet leeg zijn")
    if len(text) > EMAIL_MAX or _CONTROL.search(text) or re.search(r"[\s<>,;\"()\[\]\\]", text):
        raise ValueError(f"{shown(text)} is geen enkel e-mailadres (naam@domein.nl)")
    try:
        address = Address(addr_spec=text)
    except (HeaderParseError, ValueError, IndexError):
        raise ValueError(f"{shown(text)} is geen geldig e-mailadres (naam@domein.nl)") from None
    if address.addr_spec != text or not address.username or not address.domain:
        raise ValueError(f"{shown(text)} is geen geldig e-mailadres (naam@domein.nl)")
    return text


def check_url(text: str) -> str:
    """A web address as it may stand in a message: ``http(s)://`` and no spaces or control characters."""
    text = text.strip()
    if not re.fullmatch(r"https?://[^\s<>\"\x00-\x1f\x7f]+", text) or len(text) > TEXT_MAX:
        raise ValueError(f"{shown(text)} is geen webadres (https://...)")
    return check_no_patient_data(text)


def check_date(day: date) -> date:
    """A date within the horizon the product plans in."""
    if not SANE_FROM <= day <= SANE_UNTIL:
        raise ValueError(f"datum {day.isoformat()} valt buiten {SANE_FROM.year}-{SANE_UNTIL.year}; gebruik de echte "
                         "datum (een plaatshouder als 9999-12-31 kan niet)")
    return day


def printable(text: str) -> str:
    """Text for a terminal or a log: every control character but the line break shown as ``?``, so that an
    escape sequence in a file's header cannot colour, move or clear the screen it is echoed to."""
    return _CONTROL_EXCEPT_NEWLINE.sub("?", text)


def shown(text: str) -> str:
    """Text repeated in a refusal: without control characters, shortened, never a BSN."""
    clean = _CONTROL.sub("?", text)
    clean = clean if len(clean) <= 60 else clean[:57] + "..."
    return "deze waarde" if contains_bsn(clean) else repr(clean)


def without_bsn(text: str) -> str:
    """Text given back to the one who typed it (a refused form), every BSN-like number in it blanked out."""
    return _BSN_LIKE.sub(lambda m: "[BSN weggelaten]" if passes_elfproef(re.sub(r"[ .\-]", "", m.group()))
                         else m.group(), text)


Name = Annotated[str, AfterValidator(check_name)]
Text = Annotated[str, AfterValidator(check_text)]
Email = Annotated[str, AfterValidator(check_email)]
SaneDate = Annotated[date, AfterValidator(check_date)]
Url = Annotated[str, AfterValidator(check_url)]




def checked(check: Callable[[T], T], value: T, where: str) -> T:
    """``check(value)``, or an ``InputError`` that names where the value came from (``--reason``)."""
    try:
        return check(value)
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None


# --- refusals worded for staff ----------------------------------------------------------------------------------

DATE_FORMS = "verwacht JJJJ-MM-DD (bijv. 2024-12-31) of DD-MM-JJJJ (bijv. 31-12-2024)"


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# pydantic's errors of a bound: the context key of the bound, and what a value beyond it is
_BOUND_WORDING = {
    "greater_than_equal": ("ge", "te klein: moet minstens {} zijn"),
    "greater_than": ("gt", "te klein: moet groter zijn dan {}"),
    "less_than_equal": ("le", "te groot: mag hoogstens {} zijn"),
    "less_than": ("lt", "te groot: moet kleiner zijn dan {}"),
}


def dutch_message(error: ErrorDetails) -> str:
    """A pydantic error as a Dutch sentence for staff."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    given = error.get("input")
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    if kind == "missing":
        return "waarde ontbreekt"
    if kind == "string_too_short":
        return "mag niet leeg zijn"
    if kind == "too_short":
        return f"moet minstens {ctx.get('min_length')} element(en) bevatten"
    if kind in _BOUND_WORDING:
        bound, wording = _BOUND_WORDING[kind]
        return f"{_number(given)} is {wording.format(_number(ctx.get(bound)))}"
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace(" or ", " of ")
        return f"waarde {given!r} is onbekend: verwacht een van {expected}"
    if kind == "extra_forbidden":
        return "onbekend veld: laat het weg of controleer de spelling"
    if kind == "string_type":
        return f"waarde {given!r} is ongeldig: verwacht tekst"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "verwacht een opsomming van naam: waarde"
    if kind in ("list_type", "tuple_type"):
        return "verwacht een lijst"
    if kind.startswith(("date", "datetime")):
        return f"datum {given!r} is ongeldig: {DATE_FORMS}"
    if kind.startswith(("int", "float", "decimal")):
        return f"waarde {given!r} is ongeldig: verwacht een getal"
    if kind.startswith("bool"):
        return f"waarde {given!r} is ongeldig: verwacht ja of nee"
    return f"waarde {given!r} is ongeldig ({error['msg']})"


def field_path(loc: Sequence[int | str], prefix: str = "") -> str:
    """Where a value stands, as staff write it: ``practices[0].people[1].name``."""
    return field_path_or_none(prefix, loc) or ""


def field_path_or_none(prefix: str, loc: Sequence[int | str]) -> str | None:
    text = prefix
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text = f"{text}.{part}" if text else str(part)
    return text or None
