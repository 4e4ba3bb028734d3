"""Printable documents as PDF (fpdf2): the conversation pack a practice and its officers prepare a conversation from,
and the board's report of a period.

Both are drawn from the typed payloads the messages carry (``notifications.payloads``: ``ConversationInvitation``
and ``BoardDigest``), so the pack attached to an invitation and the one downloaded from the workspace say the same.

Invariants:
- A document is a pure function of its payload and the moment it is made (the PDF's creation date): the same input
  gives the same bytes.
- A figure over fewer patients than the policy judges is shown as such (``figure_nl``), never as a bare percentage.
- Fonts are shipped (DejaVu Sans, ``fonts/``): the document needs nothing from the machine or the network, and every
  Dutch character (ë, ï, é, €, †) prints.
- Tables and paragraphs are laid out here (``grid``, ``paragraph``, ``lines``: each word measured once from the
  font's widths), not by fpdf2's ``table()`` and ``multi_cell`` (issue 16). Nothing but the page number is printed
  in the bottom margin, no text is lost to a cell's width, and a table row taller than a page runs on to the next
  under the table's headings.
"""

from __future__ import annotations

import copy
import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any, ClassVar

import fpdf.output
from fontTools import subset as ftsubset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.line_break import BREAKING_SPACE_SYMBOLS_STR, SOFT_HYPHEN

from domain.vocabulary import (
    answer_nl,
    conversation_nl,
    date_nl,
    duration_nl,
    figure_nl,
    goal_status_nl,
    moment_nl,
    number_nl,
    outcome_nl,
    owner_nl,
    percent_nl,
    programme_nl,
)

FONTS = Path(__file__).resolve().parent / "fonts"
SHIPPED_FONTS = {"": FONTS / "DejaVuSans.ttf", "B": FONTS / "DejaVuSans-Bold.ttf"}  # family DejaVu, by style
INK, MUTED, RULE = (30, 33, 40), (91, 98, 114), (200, 204, 212)


@functools.cache
def _shipped_fonts() -> dict[str, tuple[TTFFont, bytes]]:
    """DejaVu Sans and its bold as fpdf2 parses them (``add_font``), once per process, with the files' bytes."""
    template = FPDF()
    for style, path in SHIPPED_FONTS.items():
        template.add_font("DejaVu", style, str(path))
    fonts = {}
    for style, path in SHIPPED_FONTS.items():
        parsed = template.fonts[f"dejavu{style}"]
        assert isinstance(parsed, TTFFont)
        fonts[f"dejavu{style}"] = (parsed, path.read_bytes())
    return fonts


class _ShippedTTFont(TTFont):
    """A shipped font's fontTools object in one document. At output, fpdf2 subsets it to the glyphs the document
    uses, asks the subset for the ids of those glyphs and saves it into the PDF; when another document of this
    process used the same glyphs, ``_CachingSubsetter`` hands it that subset's bytes and glyph map instead, and the
    font answers from them."""

    def __init__(self, source: str, data: bytes) -> None:
        super().__init__(BytesIO(data), recalcTimestamp=False, lazy=True)
        self.source = source
        self.made: tuple[bytes, dict[str, int]] | None = None  # (saved subset, its reverse glyph map)

    def getReverseGlyphMap(self, rebuild: bool = False) -> dict[str, int]:
        return self.made[1] if self.made is not None else super().getReverseGlyphMap(rebuild)

    def save(self, file: Any, reorderTables: bool | None = True) -> None:
        if self.made is None:
            super().save(file, reorderTables)
        else:
            file.write(self.made[0])


class _CachingSubsetter(ftsubset.Subsetter):
    """fontTools' subsetter as fpdf2 calls it at output, remembering the subsets of the shipped fonts: subsetting
    and saving DejaVu Sans was half of making a conversation pack (24 of 46 ms), and the packs of one dispatch use
    the same few sets of glyphs (500 packs of the first quarter of the CLI path: five sets). The same font, glyphs
    and options give the same bytes, so a remembered subset is the one fpdf2 would make (a test compares packs
    byte for byte with fpdf2's own ``add_font``). Any other font is subset as fontTools does."""

    made: ClassVar[OrderedDict[tuple[str, frozenset[str], str, str], tuple[bytes, dict[str, int]]]] = OrderedDict()
    lock: ClassVar[threading.Lock] = threading.Lock()
    KEEP = 64  # subsets remembered per process (each some 30 KB)

    def populate(self, *args: Any, glyphs: Sequence[str] = (), **kwargs: Any) -> None:
        self.asked = (frozenset(glyphs), repr((args, sorted(kwargs.items()))))  # what the subset is of
        super().populate(*args, glyphs=glyphs, **kwargs)

    def subset(self, font: TTFont) -> None:
        asked = getattr(self, "asked", None)
        if not isinstance(font, _ShippedTTFont) or asked is None:
            super().subset(font)
            return
        key = (font.source, *asked, repr(sorted(vars(self.options).items())))
        with self.lock:
            made = self.made.get(key)
            if made is not None:
                self.made.move_to_end(key)
        if made is None:
            super().subset(font)
            saved = BytesIO()
            TTFont.save(font, saved)
            made = (saved.getvalue(), dict(TTFont.getReverseGlyphMap(font)))
            with self.lock:
                self.made[key] = made
                while len(self.made) > self.KEEP:
                    self.made.popitem(last=False)
        font.made = made


class _Subsetting:
    """What fpdf2's output calls ``ftsubset`` (``fontTools.subset``): its options, our subsetter."""

    Options = ftsubset.Options
    Subsetter = _CachingSubsetter


fpdf.output.ftsubset = _Subsetting  # fpdf2 2.8 (pinned); see _CachingSubsetter


class _Document(FPDF):
    """An A4 page with the care group and the document's title above, and page numbers below."""

    def __init__(self, title: str, care_group: str, made_at: datetime) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.add_shipped_fonts()
        self.set_creation_date(made_at)
        self.set_title(title)
        self.set_author(care_group)
        self.set_creator("qualitycycle")
        self.set_auto_page_break(auto=True, margin=16)
        self.set_margins(16, 16, 16)
        self.doc_title, self.care_group = title, care_group
        self.alias_nb_pages()
        self.add_page()
        self.body_top = self.get_y()  # where a page's content starts, below the header

    def add_shipped_fonts(self) -> None:
        """What ``add_font`` of each shipped font would give, without parsing the file again (a fifth of the time
        of a pack): the parsed font's character and glyph maps shared (read only); its own font descriptor (the
        output writes into it), widths (a lookup of a missing character adds one), list of missing glyphs, map of
        the glyphs it uses, and fontTools object to subset at output (the subset changes that object in place).
        Documents made at once in several threads (the workspace's downloads) share nothing they write."""
        for fontkey, (parsed, data) in _shipped_fonts().items():
            font = copy.copy(parsed)
            font.desc = copy.copy(parsed.desc)  # the output writes its object number and font file into it
            font.cw = parsed.cw.copy()
            font.missing_glyphs = []
            font.biggest_size_pt = 0
            font.ttfont = _ShippedTTFont(fontkey, data)
            font.subset = SubsetMap(font)
            self.fonts[fontkey] = font

    def header(self) -> None:
        self.set_font("DejaVu", size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"{self.care_group} · {self.doc_title}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"pagina {self.page_no()} van {{nb}}", align="R")

    def title_block(self, title: str, subtitle: str) -> None:
        self.set_text_color(*INK)
        self.set_font("DejaVu", "B", 15)
        self.paragraph(title, 7)
        self.set_font("DejaVu", size=10)
        self.set_text_color(*MUTED)
        self.paragraph(subtitle, 5)
        self.ln(3)

    def heading(self, text: str) -> None:
        if self.get_y() > self.h - 40:
            self.add_page()
        self.ln(2)
        self.set_text_color(*INK)
        self.set_font("DejaVu", "B", 11.5)
        self.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1.5)

    def text(self, value: str, *, muted: bool = False, size: float = 9.5) -> None:  # type: ignore[override]
        self.set_font("DejaVu", size=size)
        self.set_text_color(*(MUTED if muted else INK))
        self.paragraph(value, 4.8)

    def bullets(self, items: Sequence[str]) -> None:
        for item in items:
            self.set_font("DejaVu", size=9.5)
            self.set_text_color(*INK)
            self.cell(4, 4.8, "•")
            self.paragraph(item, 4.8)

    def paragraph(self, value: str, height: float) -> None:
        """``value`` from here to the right margin in lines of ``height``, left aligned, each further line starting
        where the first did; then on at the left margin below. (Laid out by ``lines``, where fpdf2's ``multi_cell``
        measures a line again after every character: a third of a conversation pack's time once its tables were
        laid out here.)"""
        x = self.get_x()
        width = self.w - self.r_margin - x
        for line in self.lines(value, width - 2 * self.c_margin):
            self.cell(width, height, line, new_x=XPos.LEFT, new_y=YPos.NEXT)  # the next line from x again
        self.set_x(self.l_margin)

    def grid(self, headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> None:
        """A table across the page: a shaded row of headings in bold (again at the top of each page the table runs
        on to), rows of cells whose text wraps at spaces (a word wider than its column at characters), a rule
        between rows, each cell's lines centred in its row. ``widths`` are the columns' shares of the page's width.

        Laid out here, not by fpdf2's ``table()``: that measures a line again after every character it adds and
        lays every cell out twice, three quarters of the time of a conversation pack (issue 16); here each word is
        measured once and each line of a cell is one ``cell``."""
        self.set_draw_color(*RULE)
        total = sum(widths)
        columns = [width / total * self.epw for width in widths]
        heading = self._grid_row(headers, columns, bold=True)
        body = [self._grid_row(row, columns, bold=False) for row in rows]
        line = self._GRID_LINE
        # a row no page can hold (a note of a page or more) is split over pages from where the table is
        page_holds = self.page_break_trigger - self.body_top - heading[0]

        def whole(height: float) -> bool:
            return height <= page_holds + 1e-6

        # the headings never alone at a page's foot: with the first row, or the first lines of one split
        first = 0.0 if not body else body[0][0] if whole(body[0][0]) else _SPLIT_AT_LEAST * line
        if self.will_page_break(heading[0] + first):
            self.add_page()
        self._draw_grid_row(heading, columns, bold=True, first=True, last=not body)
        for index, (height, cells) in enumerate(body):
            split = False  # a row over two pages
            while self.will_page_break(height):
                room = int((self.page_break_trigger - self.get_y()) / line + 1e-9)  # lines that fit here
                if whole(height) or room < _SPLIT_AT_LEAST:
                    self.add_page()
                    self._draw_grid_row(heading, columns, bold=True, first=True, last=False)
                    continue
                self._draw_grid_row((room * line, [lines[:room] for lines in cells]), columns,
                                    bold=False, first=False, last=False, centred=False)
                cells, split = [lines[room:] for lines in cells], True
                height = self._row_height(cells)
                self.add_page()
                self._draw_grid_row(heading, columns, bold=True, first=True, last=False)
            self._draw_grid_row((height, cells), columns, bold=False, first=False, last=index == len(body) - 1,
                                centred=not split)
        self.set_x(self.l_margin)
        self.ln(1)

    _GRID_LINE = 4.6  # mm a line of a table's cell (8.5 pt)

    def _grid_row(self, cells: Sequence[str], columns: Sequence[float],
                  *, bold: bool) -> tuple[float, list[list[str]]]:
        """A row's height and each cell's lines."""
        self.set_font("DejaVu", "B" if bold else "", 8.5)
        lines = [self.lines(str(text), width - 2 * self.c_margin) if text else []
                 for text, width in zip(cells, columns, strict=True)]
        return self._row_height(lines), lines

    def _row_height(self, cells: Sequence[Sequence[str]]) -> float:
        """A row's height: its cell with the most lines, one line at the least."""
        return max(1, *(len(lines) for lines in cells)) * self._GRID_LINE

    def lines(self, text: str, width: float) -> list[str]:
        """``text`` in lines no wider than ``width`` in the current font: a line for each of its own lines (one for
        an empty text), each broken at spaces (and the other spaces fpdf2's ``multi_cell`` breaks at, a tab among
        them), and inside a word only where the word alone is wider. As ``multi_cell``, a carriage return is
        dropped (a note from a spreadsheet ends its lines in CRLF); a soft hyphen is not printed, nor broken at."""
        font = self.current_font
        assert isinstance(font, TTFFont)  # the shipped fonts only
        cw, scale = font.cw, self.font_size_pt * 0.001 / self.k

        def measure(part: str) -> float:  # what get_string_width gives without text shaping or spacing
            return sum(map(cw.__getitem__, map(ord, part))) * scale

        lines: list[str] = []
        for paragraph in text.replace("\r", "").split("\n"):
            # words and what separates them (a space, or another space fpdf2 breaks at): a soft hyphen is not printed
            parts = _BREAKS.split(paragraph.replace(SOFT_HYPHEN, ""))
            line, used = self._cut(lines, parts[0], measure(parts[0]), width, measure)
            for separator, word in zip(parts[1::2], parts[2::2], strict=True):
                size = measure(word)
                gap = measure(separator)
                if line and used + gap + size <= width + 1e-6:
                    line, used = f"{line}{separator}{word}", used + gap + size
                    continue
                if line:
                    lines.append(line)
                line, used = self._cut(lines, word, size, width, measure)
            lines.append(line)
        return lines

    @staticmethod
    def _cut(lines: list[str], line: str, used: float, width: float,
             measure: Callable[[str], float]) -> tuple[str, float]:
        """A line wider than ``width`` (a word alone) cut where it fills it, as often as it takes, the full parts
        added to ``lines``; the rest, and its width, stay the line."""
        while used > width + 1e-6 and len(line) > 1:
            cut = 1
            while cut < len(line) and measure(line[:cut + 1]) <= width + 1e-6:
                cut += 1
            lines.append(line[:cut])
            line = line[cut:]
            used = measure(line)
        return line, used

    def _draw_grid_row(self, row: tuple[float, list[list[str]]], columns: Sequence[float], *, bold: bool,
                       first: bool, last: bool, centred: bool = True) -> None:
        """A row of cells with its rules (none above the first, none below the last); each cell's lines centred in
        the row's height, or from its top for the parts of a row split over pages."""
        height, cells = row
        left, top = self.l_margin, self.get_y()
        right = left + sum(columns)
        if bold:
            with self.local_context(fill_color=_HEADING_FILL):  # the fill colour is the SVG's text colour after
                self.rect(left, top, right - left, height, style="F")
        if not first:
            self.line(left, top, right, top)
        if not last:
            self.line(left, top + height, right, top + height)
        self.set_font("DejaVu", "B" if bold else "", 8.5)
        self.set_text_color(*INK)
        x = left
        breaks, self.auto_page_break = self.auto_page_break, False  # the caller found the room: no cell breaks
        try:
            for width, lines in zip(columns, cells, strict=True):
                y = top + ((height - len(lines) * self._GRID_LINE) / 2 if centred else 0)
                for line in lines:
                    self.set_xy(x, y)
                    self.cell(width, self._GRID_LINE, line)
                    y += self._GRID_LINE
                x += width
        finally:
            self.auto_page_break = breaks
        self.set_xy(left, top + height)

    def svg(self, svg: str) -> None:
        """A chart (``notifications.charts``) across the page's width."""
        if self.get_y() > self.h - 90:
            self.add_page()
        # the chart's text in the shipped font: the PDF's core fonts lack characters such as "…"
        svg = circles_as_curves(svg.replace('font-family="sans-serif"', 'font-family="DejaVu"'))
        self.image(svg.encode("utf-8"), w=self.epw)
        self.ln(2)


_CIRCLE = re.compile(r"<circle\b([^>]*?)(/>|>(.*?)</circle>)", re.DOTALL)
_CENTRE_AND_RADIUS = re.compile(r'\s(cx|cy|r)="([-\d.]+)"')
_KAPPA = 0.5523  # a quarter circle as one cubic Bezier curve: its control points this far along the tangents


def circles_as_curves(svg: str) -> str:
    """The chart's points (``<circle>``, with what they hold) as paths of four cubic curves: fpdf2 draws a circle
    by approximating its arcs anew for every point, a quarter of the time of a conversation pack (measured 292 ms a
    pack with circles, 222 ms with curves); the curves are the standard approximation, indistinguishable at a
    point's size. A circle without its centre and radius is left as it is."""

    def curve(match: re.Match[str]) -> str:
        attributes, inner = match.group(1), match.group(3)
        found = {name: float(value) for name, value in _CENTRE_AND_RADIUS.findall(attributes)}
        if set(found) != {"cx", "cy", "r"}:
            return match.group(0)
        cx, cy, r = found["cx"], found["cy"], found["r"]
        k = _KAPPA * r
        d = (f"M{cx + r:.2f},{cy:.2f} C{cx + r:.2f},{cy + k:.2f} {cx + k:.2f},{cy + r:.2f} {cx:.2f},{cy + r:.2f} "
             f"C{cx - k:.2f},{cy + r:.2f} {cx - r:.2f},{cy + k:.2f} {cx - r:.2f},{cy:.2f} "
             f"C{cx - r:.2f},{cy - k:.2f} {cx - k:.2f},{cy - r:.2f} {cx:.2f},{cy - r:.2f} "
             f"C{cx + k:.2f},{cy - r:.2f} {cx + r:.2f},{cy - k:.2f} {cx + r:.2f},{cy:.2f} Z")
        rest = _CENTRE_AND_RADIUS.sub("", attributes)
        return f'<path d="{d}"{rest}/>' if inner is None else f'<path d="{d}"{rest}>{inner}</path>'

    return _CIRCLE.sub(curve, svg)


_HEADING_FILL = (238, 240, 244)
_BREAKS = re.compile(f"([{re.escape(BREAKING_SPACE_SYMBOLS_STR)}])")  # where fpdf2 breaks a line: spaces, a tab
_SPLIT_AT_LEAST = 3  # lines of a row too tall for any page that start it at a page's foot (else it starts anew)


def _figure(line: Mapping[str, Any]) -> str:
    if line.get("numerator") is None or line.get("denominator") is None:
        return percent_nl(line.get("score"))
    return figure_nl(line.get("score"), line.get("numerator"), line.get("denominator"),
                     line.get("min_denominator") if line.get("small_numbers") else None)


def _indicator_name(line: Mapping[str, Any]) -> str:
    key = f"{line.get('programme')}/{line.get('indicator')}"
    return f"{line['name']} ({key})" if line.get("name") else key


def conversation_pack_pdf(invitation: Mapping[str, Any], made_at: datetime,
                          support: Sequence[Mapping[str, Any]] = ()) -> bytes:
    """The conversation pack (gesprekspakket) of a practice: the conversation, its main indicators against target
    and national average (with the chart when the payload carries one), the agreements still open and those of its
    last plan, the goals of the past year, the support given, the meetings it missed, its latest checklist of its
    own quality system and the patient leaflets of its programmes. ``invitation`` is a ``ConversationInvitation``
    payload (as JSON); ``support`` the visits given in the past year (``kind``, ``on``, ``by``, ``half_days``)."""
    practice = invitation["practice"]
    conversation = invitation["conversation"]
    care_group = invitation["care_group"]["name"]
    prepare = invitation.get("prepare") or {}
    kind = conversation_nl(conversation["kind"])
    doc = _Document(f"Gesprekspakket {practice['name']}", care_group, made_at)
    what = kind + (f" {programme_nl(conversation['programme'])}" if conversation.get("programme") else "")
    doc.title_block(f"Gesprekspakket: {what}",
                    f"{practice['name']} (AGB-code {practice['agb_code']})"
                    + (f", huisartsengroep {practice['gp_group']}" if practice.get("gp_group") else "")
                    + f"\n{moment_nl(conversation['start'])}, {conversation['location']}")

    doc.heading("Indicatoren" + (f" over de periode tot {date_nl(prepare['period_end'])}"
                                 if prepare.get("period_end") else ""))
    lines = prepare.get("indicators") or []
    if lines:
        doc.grid(("Indicator", "Score", "Streefwaarde", "Landelijk gemiddelde"),
                 [(_indicator_name(x), _figure(x), percent_nl(x.get("target")),
                   percent_nl(x.get("national_average"))
                   + (f" ({x['national_average_year']})" if x.get("national_average_year") else ""))
                  for x in lines], (78, 46, 25, 29))
    else:
        doc.text("Nog geen indicatorcijfers van de praktijk.", muted=True)
    if invitation.get("chart_svg"):
        doc.svg(str(invitation["chart_svg"]))

    doc.heading("Afspraken")
    open_ = prepare.get("open_agreements") or []
    if open_:
        doc.grid(("Afspraak", "Wie", "Uiterlijk", "Gemaakt", "Voorstel"),
                 [(a["text"], owner_nl(a["owner"]), date_nl(a["due"]) if a.get("due") else "-", date_nl(a["made_on"]),
                   outcome_nl(a["proposed_outcome"]) if a.get("proposed_outcome") else "")
                  for a in open_], (70, 24, 28, 28, 28))
    else:
        doc.text("Geen openstaande afspraken.", muted=True)
    if prepare.get("agreements"):
        doc.text("Afspraken van het laatste verbeterplan"
                 + (f" ({date_nl(prepare['agreements_from'])})" if prepare.get("agreements_from") else "") + ":")
        doc.bullets(prepare["agreements"])

    goals = prepare.get("goals") or []
    if goals:
        doc.heading("Doelen van het afgelopen jaar")
        doc.grid(("Indicator", "Doel", "Uiterlijk", "Stand", "Cijfer"),
                 [(_indicator_name(g), percent_nl(g["target"]), date_nl(g["by"]), goal_status_nl(g["status"]),
                   _figure(g) if g.get("score") is not None else "-") for g in goals], (62, 18, 28, 24, 46))

    if support:
        doc.heading("Ondersteuning gegeven")
        doc.grid(("Soort", "Op", "Door", "Dagdelen"),
                 [(str(v["kind"]), date_nl(v["on"]), str(v.get("by") or "-"),
                   number_nl(v["half_days"], 0) if v.get("half_days") is not None else "-") for v in support],
                 (72, 36, 48, 22))

    absence = prepare.get("meeting_absence") or []
    if absence:
        doc.heading("Overleg gemist")
        doc.text("De praktijk was bij geen enkel overleg van:")
        doc.bullets(absence)

    checklist = prepare.get("checklist")
    doc.heading("Kwaliteitssysteem van de praktijk")
    if checklist:
        open_conditions = checklist.get("open_conditions") or []
        doc.text(f"Checklist ingevuld op {date_nl(checklist['filled_on'])}: "
                 + (f"{len(open_conditions)} voorwaarde(n) niet (volledig) voldaan." if open_conditions
                    else "aan alle voorwaarden voldaan."))
        if open_conditions:
            doc.grid(("Voorwaarde", "Antwoord", "Toelichting"),
                     [(c["name"], answer_nl(c["answer"]), c.get("note") or "") for c in open_conditions],
                     (92, 22, 64))
    else:
        doc.text("Geen checklist van het kwaliteitssysteem vastgelegd.", muted=True)

    leaflets = prepare.get("leaflets") or []
    if leaflets:
        doc.heading("Patiëntenfolders")
        doc.bullets([f"{programme_nl(x['programme'])}: {x['title']} ({x['url']})" for x in leaflets])
    return bytes(doc.output())


def board_report_pdf(digest: Mapping[str, Any], made_at: datetime) -> bytes:
    """The board's report of a period (``BoardDigest`` payload as JSON): every practice under the underperformer
    policy, since when, its plan and how its flagged indicators go, and the counts around the cycle."""
    period = digest["period"]
    care_group = digest["care_group"]["name"]
    doc = _Document("Rapportage bestuur", care_group, made_at)
    doc.title_block("Rapportage voor het bestuur",
                    f"{care_group}, periode {date_nl(period['start'])} tot en met {date_nl(period['end'])}")
    trajectories = digest.get("trajectories") or []
    doc.heading(f"Praktijken onder het beleid minder presterende praktijken ({len(trajectories)})")
    if not trajectories:
        doc.text("Er vielen aan het eind van de periode geen praktijken onder het beleid.", muted=True)
    for t in trajectories:
        practice = t["practice"]
        doc.set_font("DejaVu", "B", 10)
        doc.paragraph(f"{practice['name']} (AGB-code {practice['agb_code']})", 5.5)
        doc.text(f"Onder het beleid sinds {date_nl(t['entered_policy_at'])}"
                 + (f"; verbeterplan sinds {date_nl(t['plan_agreed_on'])} (loopt "
                    f"{duration_nl(t['plan_agreed_on'], period['end'])})" if t.get("plan_agreed_on") else "") + ".",
                 muted=True)
        doc.grid(("Indicator", "Score", "Landelijk gemiddelde", "Sinds het plan"),
                 [(_indicator_name(x), _figure(x), percent_nl(x.get("national_average")),
                   (f"{number_nl(x['improvement_points'], signed=True)} punt (was {percent_nl(x['baseline_score'])})"
                    if x.get("improvement_points") is not None else "-"))
                  for x in t.get("indicators") or []], (72, 40, 30, 36))
    around = digest.get("around") or []
    if around:
        doc.heading(f"Rond de kwaliteitscyclus (stand op {date_nl(period['end'])})")
        doc.grid(("Wat", "Aantal", "Praktijken"),
                 [(c["label"], str(c["count"]), ", ".join(c.get("practices") or [])) for c in around], (78, 18, 82))
    return bytes(doc.output())
