"""The documents people print: the conversation pack and the board's report as PDF, indicator tables as XLSX (issue
15, "Packs and downloads"), drawn from the payloads the messages carry; read back with pdfium and openpyxl."""

from __future__ import annotations

import io
import re
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import openpyxl
import pypdfium2 as pdfium
import pytest
from fontTools import subset as ftsubset

from domain.indicator_views import IndicatorLine
from domain.indicators import IndicatorKey
from domain.vocabulary import Programme
from notifications import pdf
from notifications.pdf import board_report_pdf, circles_as_curves, conversation_pack_pdf
from notifications.rendering import render, sample_messages
from notifications.workbooks import indicator_workbook

MADE = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)


def pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


def invitation() -> dict[str, Any]:
    return dict(next(m for m in sample_messages().values() if m.kind == "conversation_invitation").payload)


def board_digest() -> dict[str, Any]:
    return dict(next(m for m in sample_messages().values() if m.kind == "board_digest").payload)


def test_the_pack_shows_the_practices_figures_agreements_goals_support_and_checklist_and_is_the_same_each_time(
) -> None:
    support = [{"kind": "coaching on the job", "on": "2025-05-01", "by": "M. Coach", "half_days": 2}]
    data = conversation_pack_pdf(invitation(), MADE, support)
    assert data.startswith(b"%PDF") and data == conversation_pack_pdf(invitation(), MADE, support)
    text = pdf_text(data)
    for expected in ("Gesprekspakket: kwaliteitsjaargesprek", "Huisartsenpraktijk De Linde (AGB-code 01234567)",
                     "86,0% (172/200)", "Oproepsysteem Kompas inrichten", "Doelen van het afgelopen jaar",
                     "coaching on the job", "M. Coach", "beleidsplan met jaarverslag"):
        assert expected in text, expected


def test_a_pack_made_from_the_fonts_parsed_once_is_byte_for_byte_the_one_add_font_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # names outside Latin (a glyph of Greek and of Cyrillic) and a character the fonts lack (a missing glyph)
    payload = invitation()
    payload["practice"] = dict(payload["practice"], name="Huisartsenpraktijk Ωmega Жуков 𝄞")
    support = [{"kind": "coaching", "on": "2025-05-01", "by": "Ç. Yılmaz", "half_days": 1}]
    reused = [conversation_pack_pdf(payload, MADE, support), board_report_pdf(board_digest(), MADE),
              conversation_pack_pdf(invitation(), MADE)]

    def parse_each_time(doc: pdf._Document) -> None:
        for style, path in pdf.SHIPPED_FONTS.items():
            doc.add_font("DejaVu", style, str(path))

    monkeypatch.setattr(pdf._Document, "add_shipped_fonts", parse_each_time)
    parsed = [conversation_pack_pdf(payload, MADE, support), board_report_pdf(board_digest(), MADE),
              conversation_pack_pdf(invitation(), MADE)]
    assert reused == parsed and "Ωmega Жуков" in pdf_text(reused[0])


def test_a_second_pack_with_the_same_glyphs_takes_the_fonts_subset_made_for_the_first_and_is_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subset = ftsubset.Subsetter.subset
    made: list[str] = []

    def counted(self: ftsubset.Subsetter, font: Any) -> None:
        made.append(type(font).__name__)
        subset(self, font)

    monkeypatch.setattr(ftsubset.Subsetter, "subset", counted)
    monkeypatch.setattr(pdf._CachingSubsetter, "made", OrderedDict())
    first = conversation_pack_pdf(invitation(), MADE)
    assert made == ["_ShippedTTFont", "_ShippedTTFont"]  # DejaVu Sans and its bold, subset for the first pack
    again = [conversation_pack_pdf(invitation(), MADE) for _ in range(3)]
    assert made == ["_ShippedTTFont", "_ShippedTTFont"] and again == [first] * 3  # remembered, the same bytes
    other = dict(invitation(), practice=dict(invitation()["practice"], name="Praktijk Øst"))
    conversation_pack_pdf(other, MADE)
    assert len(made) == 3  # a glyph more (Ø) in the regular font: its subset made anew, the bold one remembered

    def parse_each_time(doc: pdf._Document) -> None:
        for style, path in pdf.SHIPPED_FONTS.items():
            doc.add_font("DejaVu", style, str(path))

    monkeypatch.setattr(pdf._Document, "add_shipped_fonts", parse_each_time)
    assert conversation_pack_pdf(invitation(), MADE) == first
    assert made[3:] == ["TTFont", "TTFont"]  # fpdf2's own fonts are subset by fontTools as ever


def test_packs_and_reports_made_at_once_in_several_threads_are_each_what_one_alone_gives() -> None:
    # the workspace's downloads run in threads: documents made at the same moment share no font state they write
    payloads = [dict(invitation(), practice=dict(invitation()["practice"], name=f"Huisartsenpraktijk {n}"))
                for n in range(6)]
    alone = [conversation_pack_pdf(p, MADE) for p in payloads] + [board_report_pdf(board_digest(), MADE)] * 6
    with ThreadPoolExecutor(max_workers=6) as pool:
        for _ in range(3):
            at_once = list(pool.map(lambda n: conversation_pack_pdf(payloads[n], MADE) if n < 6
                                    else board_report_pdf(board_digest(), MADE), range(12)))
            assert at_once == alone


def test_a_figure_over_too_few_patients_is_printed_as_such_not_as_a_bare_percentage() -> None:
    payload = invitation()
    payload["prepare"] = dict(payload["prepare"], indicators=[{
        "programme": "copd", "indicator": "inhaler_checked", "name": "Inhalatietechniek gecontroleerd",
        "score": 83.3, "numerator": 5, "denominator": 6, "target": 75.0, "national_average": None,
        "national_average_year": None, "small_numbers": True, "min_denominator": 10}])
    text = " ".join(pdf_text(conversation_pack_pdf(payload, MADE)).split())
    assert "83,3% (5/6, te weinig patiënten om te beoordelen: minder dan 10)" in text


def test_the_invitation_to_a_conversation_carries_its_pack() -> None:
    message = next(m for m in sample_messages().values() if m.kind == "conversation_invitation")
    msg = render(message, mail_from="kwaliteit@cohaesie.example", now=MADE)
    (pack,) = [p for p in msg.walk() if p.get_content_type() == "application/pdf"]
    assert pack.get_filename().startswith("gesprekspakket") and pack.get_filename().endswith(".pdf")
    data = pack.get_payload(decode=True)
    assert isinstance(data, bytes) and "Huisartsenpraktijk De Linde" in pdf_text(data)


def test_the_board_report_lists_each_practice_under_the_policy_and_the_counts_around_the_cycle() -> None:
    digest = next(m for m in sample_messages().values() if m.kind == "board_digest").payload
    text = pdf_text(board_report_pdf(digest, MADE))
    assert "periode 1 juli 2025 tot en met 30 september 2025" in text
    assert "Huisartsenpraktijk De Linde (AGB-code 01234567)" in text
    assert "mensen over tijd met een verplichte scholing" in text


def test_the_indicator_table_keeps_scores_as_numbers_and_says_which_are_over_too_few_patients() -> None:
    key = IndicatorKey(programme=Programme.COPD, indicator="inhaler_checked")
    line = IndicatorLine(key=key, name="Inhalatietechniek gecontroleerd", kind="process", main=True,
                         period_end=date(2025, 6, 30), numerator=5, denominator=6, score=83.3,
                         interval=(43.6, 97.0), target=75.0, gap_to_target=8.3, national_average=71.0,
                         national_average_year=2024, gap_to_national_average=12.3, score_a_year_earlier=None,
                         change_over_year=None, reference=None, min_denominator=10)
    data = indicator_workbook("praktijk 01234567 De Linde", date(2025, 6, 30), [line], MADE)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert sheet["A1"].value == "Indicatoren praktijk 01234567 De Linde, periode tot 2025-06-30"
    row = [c.value for c in sheet[3]]
    assert row[:8] == ["copd", "inhaler_checked", "Inhalatietechniek gecontroleerd", "ja",
                       datetime(2025, 6, 30), 5, 6, 0.833]
    assert sheet["H3"].number_format == "0.0%" and sheet["N3"].value == 2024
    assert row[-1] == "te weinig patiënten om te beoordelen: minder dan 10"


def test_a_charts_points_go_into_the_pdf_as_curves_with_their_colours_and_titles() -> None:
    svg = ('<svg><circle cx="10" cy="20" r="2.5" fill="#1f4e9c"><title>2024-12-31: 81.0%</title></circle>'
           '<circle cx="452" cy="40" r="3" fill="white" stroke="#1f4e9c" stroke-width="1.5"/>'
           '<circle cx="5" fill="red"><title>geen straal</title></circle></svg>')
    drawn = circles_as_curves(svg)
    assert drawn.count("<path ") == 2 and drawn.count(" Z\"") == 2
    # a point's four quarter curves start and end on its right, one radius from its centre
    assert '<path d="M12.50,20.00 C12.50,21.38 ' in drawn
    assert ' fill="#1f4e9c"><title>2024-12-31: 81.0%</title></path>' in drawn
    assert ' fill="white" stroke="#1f4e9c" stroke-width="1.5"/>' in drawn
    # a circle without its centre and radius is left as it is, with its own closing tag
    assert '<circle cx="5" fill="red"><title>geen straal</title></circle></svg>' in drawn


def page_texts(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    return [" ".join(document[i].get_textpage().get_text_range().split()) for i in range(len(document))]


def test_a_long_list_of_agreements_runs_on_to_the_next_page_under_its_headings_again() -> None:
    payload = invitation()
    agreements = [{"text": f"Afspraak nummer {n} over het oproepsysteem en de controles", "owner": "practice",
                   "due": "2026-03-31", "made_on": "2025-11-04", "proposed_outcome": None} for n in range(1, 61)]
    payload["prepare"] = dict(payload["prepare"], open_agreements=agreements)
    pages = page_texts(conversation_pack_pdf(payload, MADE))
    with_agreements = [text for text in pages if "Afspraak nummer" in text]
    assert len(with_agreements) >= 2
    for text in with_agreements:  # the table's headings at the top of every page it is on
        assert "Afspraak Wie Uiterlijk Gemaakt Voorstel" in text
    for n in range(1, 61):
        assert sum(f"Afspraak nummer {n} over" in text for text in pages) == 1, n


def test_a_note_longer_than_a_page_is_printed_whole_over_two_pages_not_refused() -> None:
    # fpdf2's own table refused a row taller than a page; a checklist's note can be that long
    note = " ".join(f"woord{n}" for n in range(1, 1401))
    payload = invitation()
    payload["prepare"] = dict(payload["prepare"], checklist={
        "filled_on": "2025-10-06", "open_conditions": [{"name": "beleidsplan", "answer": "partly", "note": note}]})
    pages = page_texts(conversation_pack_pdf(payload, MADE))
    words = " ".join(pages).split()
    assert [w for w in words if w.startswith("woord")] == note.split()
    with_headings = [text for text in pages if "Voorwaarde Antwoord Toelichting" in text]
    assert len(with_headings) >= 2 and all("woord" in text for text in with_headings)  # never headings alone


@pytest.mark.parametrize("text", [
    "HbA1c gemeten in de afgelopen 12 maanden (dm2/hba1c_measured)",
    "Beleidsplan 2025 klaar, jaarverslag 2024 nog niet\nen de rest volgt",
    "https://www.cohaesie.nl/folders/een-heel-lang-adres-zonder-spaties-dat-niet-op-een-regel-past.pdf",
    "Ωmega Жуков 𝄞 één", "", "twee  spaties",
])
def test_a_cells_text_is_broken_into_lines_that_fit_and_lose_nothing(text: str) -> None:
    document = pdf._Document("t", "c", MADE)
    document.set_font("DejaVu", size=8.5)
    width = 30.0
    lines = document.lines(text, width)
    assert all(document.get_string_width(line) <= width + 1e-6 or len(line) == 1 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "").replace("\n", "")
    assert len(lines) >= text.count("\n") + 1


def below_the_margin(data: bytes) -> list[str]:
    """Per page, the characters printed in the bottom margin (16 mm): only the page number belongs there."""
    document = pdfium.PdfDocument(data)
    margin = 16 / 25.4 * 72 - 0.5  # points from the page's foot
    found = []
    for i in range(len(document)):
        text = document[i].get_textpage()
        found.append("".join(text.get_text_range(c, 1) for c in range(text.count_chars())
                             if text.get_charbox(c)[3] < margin and not text.get_text_range(c, 1).isspace()))
    return found


def test_no_table_row_or_line_is_printed_in_the_bottom_margin() -> None:
    payload = invitation()
    agreements = [{"text": f"Afspraak {n} " + "over het oproepsysteem " * (n % 4), "owner": "practice",
                   "due": "2026-03-31", "made_on": "2025-11-04", "proposed_outcome": None} for n in range(1, 80)]
    note = " ".join(f"woord{n}" for n in range(1, 1401))
    payload["prepare"] = dict(payload["prepare"], open_agreements=agreements, checklist={
        "filled_on": "2025-10-06", "open_conditions": [{"name": "beleidsplan", "answer": "partly", "note": note}]})
    digest = board_digest()
    first = digest["trajectories"][0]
    digest["trajectories"] = [dict(first, practice=dict(first["practice"], name=f"Praktijk {n}")) for n in range(40)]
    for data in (conversation_pack_pdf(payload, MADE), board_report_pdf(digest, MADE)):
        margins = below_the_margin(data)
        assert len(margins) > 2
        assert all(re.fullmatch(r"pagina\d+van\d+", found) for found in margins), margins


def test_a_table_without_rows_keeps_its_headings_together_at_a_pages_foot() -> None:
    # a trajectory whose flagged indicators have no current figures has a table of headings only
    digest = board_digest()
    first = digest["trajectories"][0]
    digest["trajectories"] = [dict(first, indicators=[], practice=dict(first["practice"], name=f"Praktijk {n}"))
                              for n in range(26)]
    pages = page_texts(board_report_pdf(digest, MADE))
    headings = "Indicator Score Landelijk gemiddelde Sinds het plan"
    assert sum(text.count(headings) for text in pages) == 26
    assert all(text.count("Indicator Score") == text.count(headings) == text.count("Sinds het plan")
               for text in pages)


def test_a_note_typed_in_a_spreadsheet_prints_its_lines_without_the_carriage_returns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    payload = invitation()
    payload["prepare"] = dict(payload["prepare"], checklist={"filled_on": "2025-10-06", "open_conditions": [
        {"name": "beleidsplan", "answer": "partly", "note": "Beleidsplan klaar.\r\nJaarverslag volgt."}]})
    with caplog.at_level("WARNING"):
        text = pdf_text(conversation_pack_pdf(payload, MADE))
    assert "Beleidsplan klaar." in text and "Jaarverslag volgt." in text and "\r" not in text.replace("\r\n", "\n")
    assert not [r for r in caplog.records if "missing the following glyphs" in r.getMessage()]


@pytest.mark.parametrize(("text", "expected"), [
    ("een twee drie", ["een twee drie"]),
    ("Oproep\u00adsysteem", ["Oproepsysteem"]),  # a soft hyphen is not printed
    ("een\u2009twee", ["een\u2009twee"]),  # a thin space kept where the line does not break
])
def test_a_short_text_is_one_line_as_written(text: str, expected: list[str]) -> None:
    document = pdf._Document("t", "c", MADE)
    document.set_font("DejaVu", size=8.5)
    assert document.lines(text, 100.0) == expected


def test_lines_break_at_spaces_a_tab_and_thin_spaces_and_cut_only_a_word_wider_than_the_line() -> None:
    document = pdf._Document("t", "c", MADE)
    document.set_font("DejaVu", size=8.5)
    long_word = "https://www.cohaesie.nl/folders/een-heel-lang-adres-zonder-spaties.pdf"
    lines = document.lines(f"{long_word} en daarna\tnog\u2009wat woorden", 30.0)
    assert all(document.get_string_width(line) <= 30.0 + 1e-6 for line in lines)
    assert "".join(lines[:-2]).startswith(long_word) and len(lines) >= 4
    assert " ".join(document.lines("een twee drie vier vijf zes zeven acht negen tien", 20.0)) == \
        "een twee drie vier vijf zes zeven acht negen tien"
