"""Shared PDF basics for the office's printed documents (reportlab platypus).

The sample protocol, the action plans and the quarterly reports to the minister all use the
same font, paragraph styles, table look, page layout and Swedish number formatting from here.
Plain Python: no Flask. Callers translate their own strings and pass them in (for example the
footer's page label).

The font is DejaVu Sans, shipped in ``coordinator/fonts`` (licence there): reportlab's built-in
Helvetica has no Greek letters, so π would print as a black box.
"""
from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Sequence

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Table, TableStyle
from reportlab.platypus.flowables import _listWrapOn

# Numbers, dates and escaping live in formatting.py (no reportlab), for the HTML pages; pdf.fmt_int & co. stay.
from .formatting import MINUS, NBSP, esc, fmt_count, fmt_dec, fmt_dt, fmt_int, fmt_pct  # noqa: F401

FONT_DIR = Path(__file__).parent / "fonts"
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
FONT_ITALIC = "DejaVuSans-Oblique"

PAGE_SIZE = A4
MARGIN_LEFT = MARGIN_RIGHT = 18 * mm
MARGIN_TOP = 18 * mm
MARGIN_BOTTOM = 20 * mm  # room for the footer
CONTENT_WIDTH = PAGE_SIZE[0] - MARGIN_LEFT - MARGIN_RIGHT

TEXT = colors.HexColor("#1a1a1a")
MUTED = colors.HexColor("#555555")
RULE = colors.HexColor("#8a8a8a")
LINE = colors.HexColor("#c8c8c8")
HEADER_BG = colors.HexColor("#e4e8ee")
ZEBRA = colors.HexColor("#f4f5f7")
ALERT = colors.HexColor("#a4000f")


_registered = False


def register_fonts() -> str:
    """Register the DejaVu Sans family once per process; returns the family name."""
    global _registered
    if not _registered:
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_ITALIC, str(FONT_DIR / "DejaVuSans-Oblique.ttf")))
        # No bold oblique shipped: <b><i> falls back to bold rather than failing.
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD)
        _registered = True
    return FONT


# --- text --------------------------------------------------------------------------------------

def styles() -> dict[str, ParagraphStyle]:
    """Fresh paragraph styles: title, subtitle, h1, h2, h3, body, small, caption, list,
    cell, cell_right, cell_head, cell_head_right. Callers may change their copy."""
    register_fonts()
    base = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14, textColor=TEXT, spaceAfter=6,
                          allowWidows=0, allowOrphans=0, embeddedHyphenation=1)
    s = {
        "title": ParagraphStyle("title", base, fontName=FONT_BOLD, fontSize=20, leading=25, spaceAfter=4),
        "subtitle": ParagraphStyle("subtitle", base, fontSize=13, leading=17, textColor=MUTED, spaceAfter=14),
        "h1": ParagraphStyle("h1", base, fontName=FONT_BOLD, fontSize=14, leading=18, spaceBefore=14,
                             spaceAfter=6, keepWithNext=1),
        "h2": ParagraphStyle("h2", base, fontName=FONT_BOLD, fontSize=11.5, leading=15, spaceBefore=10,
                             spaceAfter=4, keepWithNext=1),
        "h3": ParagraphStyle("h3", base, fontName=FONT_BOLD, fontSize=10, leading=13, spaceBefore=8,
                             spaceAfter=3, keepWithNext=1),
        "body": base,
        "small": ParagraphStyle("small", base, fontSize=8.5, leading=11, spaceAfter=4),
        "caption": ParagraphStyle("caption", base, fontName=FONT_ITALIC, fontSize=8.5, leading=11,
                                  textColor=MUTED, spaceAfter=3, keepWithNext=1),
        "list": ParagraphStyle("list", base, fontSize=8.5, leading=11, spaceAfter=0, leftIndent=16,
                               firstLineIndent=-16),
        "cell": ParagraphStyle("cell", base, fontSize=8.5, leading=10.5, spaceAfter=0),
    }
    s["cell_right"] = ParagraphStyle("cell_right", s["cell"], alignment=TA_RIGHT)
    s["cell_head"] = ParagraphStyle("cell_head", s["cell"], fontName=FONT_BOLD, alignment=TA_LEFT)
    s["cell_head_right"] = ParagraphStyle("cell_head_right", s["cell_head"], alignment=TA_RIGHT)
    return s


# --- tables ------------------------------------------------------------------------------------

def widths(*fractions: float, total: float = CONTENT_WIDTH) -> list[float]:
    """Column widths in points from relative weights (normalised to the text width)."""
    s = sum(fractions)
    return [total * f / s for f in fractions]


def _cell(value, style: ParagraphStyle):
    if isinstance(value, Flowable):
        return value
    if isinstance(value, (list, tuple)):  # several flowables in one cell
        return list(value)
    return Paragraph(esc(value), style)


PAD_H, PAD_TOP, PAD_BOTTOM = 3.5, 2.5, 3


HEADER_MIN_SIZE = 6.5


def header_style(text: str, style: ParagraphStyle, room: float) -> ParagraphStyle:
    """A header cell's style that wraps only at spaces, never inside a word or at its hyphen.

    Plain words: a column heading such as "Besöksanteckningar" is never cut into "Besöksanteck-" and
    "ningar". If its longest word does not fit the column, the font shrinks in half points down to
    HEADER_MIN_SIZE (6.5 pt); a word still too wide at that size runs into the padding rather than breaking.
    """
    size = style.fontSize
    longest = max((pdfmetrics.stringWidth(w, style.fontName, size) for w in text.split()), default=0)
    while longest > room and size > HEADER_MIN_SIZE:
        size = max(HEADER_MIN_SIZE, size - 0.5)
        longest = max(pdfmetrics.stringWidth(w, style.fontName, size) for w in text.split())
    return ParagraphStyle(f"{style.name}_{size}", style, fontSize=size,
                          leading=round(style.leading * size / style.fontSize, 2), splitLongWords=0,
                          embeddedHyphenation=0, hyphenationLang="", uriWasteReduce=0)


def table(data: Sequence[Sequence], col_widths: Sequence[float] | None, header: bool = True,
          align_right_cols: Iterable[int] = (), total_row: bool = False, zebra: bool = True,
          muted_rows: Iterable[int] = (), style_commands: Sequence[tuple] = ()) -> Table:
    """A platypus Table in the house style.

    data: rows of cells. A str/number is plain text (escaped; wrapped onto more lines if it does
    not fit its column); a Flowable (e.g. a Paragraph with markup) is used as it is. col_widths in
    points (see widths()). With header=True the first row is the bold header, repeated at the top
    of every page the table runs onto. total_row=True sets the last row in bold above a rule.
    muted_rows: row indexes (in data) printed grey, such as struck-out entries. Numbers belong in
    align_right_cols.
    """
    st = styles()
    right = set(align_right_cols)
    muted = set(muted_rows)
    n_rows = len(data)
    size = st["cell"].fontSize
    rows = []
    for r, row in enumerate(data):
        bold = (header and r == 0) or (total_row and r == n_rows - 1)
        font = FONT_BOLD if bold else FONT
        out = []
        for c, value in enumerate(row):
            if value is None:
                value = ""
            if not isinstance(value, (Flowable, list, tuple)):
                text = str(value)
                room = (col_widths[c] - 2 * PAD_H) if col_widths else None
                # Short text is drawn by the table itself (much faster than a Paragraph per cell).
                if "\n" not in text and room is not None and pdfmetrics.stringWidth(text, font, size) <= room:
                    out.append(text)
                    continue
                style = st["cell_head_right" if c in right else "cell_head"] if bold \
                    else st["cell_right" if c in right else "cell"]
                if header and r == 0 and room is not None:
                    style = header_style(text, style, room)
                if r in muted:
                    style = ParagraphStyle(style.name + "_muted", style, textColor=MUTED)
                value = Paragraph(esc(text), style)
            out.append(_cell(value, st["cell"]))
        rows.append(out)
    t = Table(rows, colWidths=list(col_widths) if col_widths else None, repeatRows=1 if header else 0,
              hAlign="LEFT")
    cmds: list[tuple] = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), size),
        ("LEADING", (0, 0), (-1, -1), st["cell"].leading),
        ("TEXTCOLOR", (0, 0), (-1, -1), TEXT),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD_H),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD_H),
        ("TOPPADDING", (0, 0), (-1, -1), PAD_TOP),
        ("BOTTOMPADDING", (0, 0), (-1, -1), PAD_BOTTOM),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, LINE),
    ]
    for c in sorted(right):
        cmds.append(("ALIGN", (c, 0), (c, -1), "RIGHT"))
    for r in sorted(muted):
        cmds.append(("TEXTCOLOR", (0, r), (-1, r), MUTED))
    first_body = 1 if header else 0
    last_body = n_rows - (2 if total_row else 1)
    if zebra and last_body >= first_body:
        cmds.append(("ROWBACKGROUNDS", (0, first_body), (-1, last_body), [colors.white, ZEBRA]))
    if header and n_rows:
        cmds += [("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
                 ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
                 ("LINEABOVE", (0, 0), (-1, 0), 0.8, RULE),
                 ("LINEBELOW", (0, 0), (-1, 0), 0.8, RULE),
                 ("VALIGN", (0, 0), (-1, 0), "BOTTOM")]
    if total_row and n_rows > first_body:
        cmds += [("FONTNAME", (0, -1), (-1, -1), FONT_BOLD),
                 ("LINEABOVE", (0, -1), (-1, -1), 0.8, RULE)]
    cmds.append(("LINEBELOW", (0, -1), (-1, -1), 0.8, RULE))
    t.setStyle(TableStyle(cmds + list(style_commands)))
    return t


def facts(pairs: Sequence[tuple[str, object]], label_width: float = 42 * mm) -> Table:
    """A definition list (label: value) as a borderless two-column table."""
    st = styles()
    label = ParagraphStyle("fact_label", st["cell_head"], fontSize=9, leading=12)
    value = ParagraphStyle("fact_value", st["cell"], fontSize=9, leading=12)
    rows = [[_cell(k, label), _cell(v, value)] for k, v in pairs]
    t = Table(rows, colWidths=[label_width, CONTENT_WIDTH - label_width], hAlign="LEFT")
    t.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT),  # else the table selects Helvetica before drawing
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]))
    return t


class ColumnList(Flowable):
    """A long list (such as a numbered reserve list) in newspaper columns, read down then across.

    On each page the items fill the columns top to bottom, and the page's part is balanced, so
    the order never jumps between pages. Much faster than platypus' BalancedColumns (which lays
    the content out again and again to find its split).
    """

    def __init__(self, items: Sequence[Flowable], n_cols: int = 3, gap: float = 4 * mm, space_after: float = 4,
                 _measured: tuple[float, list[float]] | None = None):
        super().__init__()
        self.items = list(items)
        self.n_cols = n_cols
        self.gap = gap
        self.spaceAfter = space_after
        self._col_width, self._heights = _measured or (0.0, [])
        self._rows = 0

    def _measure(self, avail_width: float) -> None:
        col_width = (avail_width - self.gap * (self.n_cols - 1)) / self.n_cols
        if col_width != self._col_width or len(self._heights) != len(self.items):
            self._col_width = col_width
            self._heights = [item.wrap(col_width, 10_000)[1] for item in self.items]

    def _layout_height(self, count: int, rows: int) -> float:
        h = self._heights
        return sum(max(h[c * rows + r] for c in range(self.n_cols) if c * rows + r < count) for r in range(rows))

    def wrap(self, avail_width, avail_height):
        self._measure(avail_width)
        self._rows = -(-len(self.items) // self.n_cols)  # ceil
        self.width = avail_width
        self.height = self._layout_height(len(self.items), self._rows)
        return self.width, self.height

    def split(self, avail_width, avail_height):
        self._measure(avail_width)
        if self.wrap(avail_width, avail_height)[1] <= avail_height:
            return [self]
        rows = self._rows
        while rows >= 2 and self._layout_height(min(len(self.items), rows * self.n_cols), rows) > avail_height:
            rows -= 1
        if rows < 2:
            return []
        cut = rows * self.n_cols
        # The parts keep the measurements: each item is wrapped once, at the column width.
        w, h = self._col_width, self._heights
        return [ColumnList(self.items[:cut], self.n_cols, self.gap, 0, (w, h[:cut])),
                ColumnList(self.items[cut:], self.n_cols, self.gap, self.spaceAfter, (w, h[cut:]))]

    def draw(self):
        rows = self._rows
        row_heights = [max(self._heights[c * rows + r] for c in range(self.n_cols) if c * rows + r < len(self.items))
                       for r in range(rows)]
        for i, item in enumerate(self.items):
            c, r = divmod(i, rows)
            top = self.height - sum(row_heights[:r])
            item.drawOn(self.canv, c * (self._col_width + self.gap), top - self._heights[i])


# --- the document ------------------------------------------------------------------------------

class _KeepWithNext(KeepTogether):
    """What platypus makes of a heading (keepWithNext) and the flowable after it.

    platypus' own KeepTogether moves the heading *and the whole of a long table* to the next page
    when the table does not fit, leaving most of a page blank. Here the heading stays where it is
    if it fits together with the start (MIN_TAIL points) of what follows; tables and paragraphs
    split by themselves. What cannot split (a figure kept with its caption, a drawing) must fit
    whole, or the heading goes to the next page with it: a heading is never left at the foot of a
    page with its block on the next.
    """
    MIN_TAIL = 60

    def split(self, aW, aH):
        if getattr(self, "_wrapInfo", None) != (aW, aH):
            self.wrap(aW, aH)
        content = self._content[:]
        if self._H <= aH or len(content) < 2:
            return super().split(aW, aH)
        head_h = _listWrapOn(content[:-1], aW, self.canv)[1]
        tail = content[-1]
        tail_h = tail.wrap(aW, aH)[1] + tail.getSpaceBefore()
        if isinstance(tail, KeepTogether):  # wrap() says 0xffffff to force a split; its content must fit whole
            tail_h = tail._H + tail.getSpaceBefore()
        elif isinstance(tail, (Table, Paragraph, ColumnList)):  # these split by themselves
            if tail_h <= self.MIN_TAIL:  # a short one does not split: it goes with its heading to the next page
                return super().split(aW, aH)
            tail_h = self.MIN_TAIL
        if head_h + tail_h <= aH:
            return content
        return super().split(aW, aH)


def _default_page_label(page: int, pages: int) -> str:
    return f"Sida {page} av {pages}"


def build(story: list, title: str, author: str, subject: str = "", lang: str = "sv-SE",
          page_label: Callable[[int, int], str] | None = None, footer_text: str | None = None,
          header_mark: str | None = None, keywords: Sequence[str] = (), created: datetime | None = None,
          watermark: str | None = None) -> bytes:
    """Lay out the story on A4 and return the PDF.

    Every page gets a footer: footer_text (default the title) on the left and page_label(page,
    pages) on the right ("Sida 1 av 4"; pass a translated callable for other languages).
    header_mark, if given, is printed in red at the top right of every page (e.g. "UTKAST").
    The document info carries title, author, subject, keywords and the language (lang).
    created, if given, makes the file reproducible: the same story and date give the same bytes
    (reportlab's invariant mode, with this date as the creation date instead of 2000-01-01).
    watermark, if given, is printed large, light and diagonal across every page (e.g. "UTKAST").
    """
    register_fonts()
    label = page_label or _default_page_label
    footer = title if footer_text is None else footer_text

    class NumberedCanvas(Canvas):
        """Holds every page back until the end, so the footer can say how many there are."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._saved_pages: list[dict] = []
            if created is not None:
                self._doc._timeStamp = _FixedTimeStamp(created)

        def showPage(self):
            self._saved_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            pages = len(self._saved_pages)
            for state in self._saved_pages:
                self.__dict__.update(state)
                self._decorate(pages)
                super().showPage()
            super().save()

        def _decorate(self, pages: int) -> None:
            width, _height = PAGE_SIZE
            y = MARGIN_BOTTOM - 10 * mm
            self.saveState()
            self.setStrokeColor(LINE)
            self.setLineWidth(0.5)
            self.line(MARGIN_LEFT, y + 4 * mm, width - MARGIN_RIGHT, y + 4 * mm)
            self.setFillColor(MUTED)
            self.setFont(FONT, 8)
            right = label(self._pageNumber, pages)
            room = CONTENT_WIDTH - pdfmetrics.stringWidth(right, FONT, 8) - 8 * mm
            self.drawString(MARGIN_LEFT, y, _fit(footer, FONT, 8, room))
            self.drawRightString(width - MARGIN_RIGHT, y, right)
            if watermark:
                self.setFillColor(ALERT, alpha=0.07)
                self.setFont(FONT_BOLD, 110)
                self.translate(width / 2, PAGE_SIZE[1] / 2)
                self.rotate(55)
                self.drawCentredString(0, -38, watermark)
                self.rotate(-55)
                self.translate(-width / 2, -PAGE_SIZE[1] / 2)
            if header_mark:
                self.setFillColor(ALERT)
                self.setFont(FONT_BOLD, 9)
                self.drawRightString(width - MARGIN_RIGHT, PAGE_SIZE[1] - MARGIN_TOP + 6 * mm, header_mark)
            self.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=PAGE_SIZE, leftMargin=MARGIN_LEFT, rightMargin=MARGIN_RIGHT, topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM, title=title, author=author, subject=subject, keywords=list(keywords),
        creator="coordinator", lang=lang, displayDocTitle=True, initialFontName=FONT,
        keepTogetherClass=_KeepWithNext, invariant=1 if created is not None else None)
    doc.build(story, canvasmaker=NumberedCanvas)
    return buf.getvalue()


class _FixedTimeStamp:
    """What reportlab's PDF info reads for CreationDate/ModDate: a given UTC time."""

    def __init__(self, when: datetime):
        if when.tzinfo is not None:
            when = when.astimezone(timezone.utc)
        self.YMDhms = (when.year, when.month, when.day, when.hour, when.minute, when.second)
        self.dhh = self.dmm = 0
        self.tzname = "UTC"


def _fit(text: str, font: str, size: float, room: float) -> str:
    """Shorten text with an ellipsis so that it fits in room points."""
    if pdfmetrics.stringWidth(text, font, size) <= room:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > room:
        text = text[:-1]
    return text.rstrip() + "…"
