"""Indicator tables as XLSX (openpyxl): a practice's, a GP group's or the care group's indicators for a period, as
``qualitycycle indicators`` and the workspace show them, for the people who work on in a spreadsheet.

Invariants:
- Scores are numbers with a percentage format (a spreadsheet can compute with them), not text.
- A figure over fewer patients than the policy judges carries that in its own column ("te weinig patiënten"),
  never only as a bare percentage.
- The workbook is a pure function of the view and the moment it is made (its creation date): the same input gives
  the same content.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from domain.indicator_views import IndicatorLine
from domain.vocabulary import small_numbers_nl

HEADERS = ("Programma", "Indicator", "Naam", "Hoofdindicator", "Periode tot", "Teller", "Noemer", "Score (%)",
           "95%-interval laag", "95%-interval hoog", "Streefwaarde", "Verschil met streef", "Landelijk gemiddelde",
           "Jaar landelijk", "Verschil met landelijk", "1 jaar eerder", "Zorggroep p10", "Zorggroep mediaan",
           "Zorggroep p90", "Praktijken", "Kleine aantallen")
WIDTHS = (11, 22, 44, 14, 12, 9, 9, 10, 10, 10, 11, 11, 12, 9, 12, 11, 11, 12, 11, 10, 46)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value / 100, 6)


def indicator_workbook(scope: str, period_end: date | None, lines: Sequence[IndicatorLine], made_at: datetime) -> bytes:
    """One sheet with a row per indicator of ``scope`` (``praktijk 01234567 De Linde``, a GP group, the care group);
    percentages as fractions formatted ``0.0%``."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Indicatoren"
    sheet.append([f"Indicatoren {scope}" + (f", periode tot {period_end.isoformat()}" if period_end
                                            else ": nog geen cijfers")])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(list(HEADERS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEF0F4")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for line in lines:
        ref = line.reference
        sheet.append([
            line.key.programme.value, line.key.indicator, line.name, "ja" if line.main else "nee",
            line.period_end, line.numerator, line.denominator, _percent(line.score), _percent(line.interval[0]),
            _percent(line.interval[1]), _percent(line.target), _percent(line.gap_to_target),
            _percent(line.national_average), line.national_average_year, _percent(line.gap_to_national_average),
            _percent(line.score_a_year_earlier), _percent(ref.p10) if ref else None,
            _percent(ref.median) if ref else None, _percent(ref.p90) if ref else None, line.practices,
            small_numbers_nl(line.min_denominator) if line.small_numbers else "",
        ])
    for row in sheet.iter_rows(min_row=3):
        for cell in row[7:19]:
            if cell.column_letter != "N":  # the year of the national average is a year, not a share
                cell.number_format = "0.0%"
        row[4].number_format = "yyyy-mm-dd"
    for i, width in enumerate(WIDTHS):
        sheet.column_dimensions[sheet.cell(row=2, column=i + 1).column_letter].width = width
    sheet.freeze_panes = "D3"
    book.properties.created = book.properties.modified = made_at.replace(tzinfo=None, microsecond=0)
    book.properties.creator = "qualitycycle"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
