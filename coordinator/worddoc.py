"""Word documents (DOCX, python-docx) in the house style: the building blocks every DOCX uses.

Plain words: the ministry edits in Word, so the reports also come as .docx. A Word file is only
useful to them if it is built of Word's own parts: headings in the styles "Heading 1" to
"Heading 3" (so the navigation pane and the table of contents work), tables as real Word tables
(numbers right-aligned, the header row repeated on every page), figures as pictures with a caption
and an alternative text, quotes in the "Quote" style. This module makes those parts and nothing
else; what a document says is decided by its caller (for the reports, reports/docx.py walks the
same content Document as the PDF and the page).

The same content gives the same bytes (to_bytes): the file's dates are fixed and the zip entries
carry a fixed time, so an issued report's SHA-256 means something.

No Flask here; callers translate their own strings and pass them in. python-docx is imported
here, so import this module where a DOCX is made, not at app start.
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timezone
from typing import Iterable, Sequence

from docx import Document as _new
from docx.document import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

__all__ = ["Document", "new_document", "heading", "para", "bullets", "table", "figure", "quote", "toc",
           "furniture", "page_break", "to_bytes", "drawing_png", "clean", "FIXED_DATE"]

FIXED_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)   # the default date written into a file
TEXT_WIDTH = Cm(17.4)          # A4 less 18 mm margins each side, as the PDF
HEADER_FILL = "E4E8EE"         # the PDF's header-row grey
TABLE_STYLE = "Table Grid"
FONT = "Arial"
CELL_SIZE = Pt(8.5)            # table text, as in the PDF

_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text) -> str:
    """Text made safe for Word's XML: control characters (NUL bytes and the like) are dropped."""
    return _BAD_CHARS.sub("", "" if text is None else str(text))


# --------------------------------------------------------------------------- the document

def new_document(title: str, *, subtitle: str | None = None, lang: str = "sv-SE") -> Document:
    """A new A4 document whose first lines are the title (style "Title") and the subtitle.

    The language is set on the document's default text (so Word checks the spelling in Swedish)
    and in its properties; the margins are the PDF's.
    """
    doc = _new()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(1.8)
    section.top_margin, section.bottom_margin = Cm(1.8), Cm(2.0)
    _language(doc, lang)
    styles = doc.styles
    for name in ("Normal", "Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "TOC Heading"):
        styles[name].font.name = FONT   # a font every Word has (LibreOffice uses its metric twin)
    styles["Normal"].font.size = Pt(10.5)
    styles["Normal"].paragraph_format.space_after = Pt(6)
    for name in ("Heading 1", "Heading 2", "Heading 3", "Caption"):
        styles[name].paragraph_format.keep_with_next = True
    styles["Caption"].font.size = Pt(9)
    styles["Caption"].font.color.rgb = RGBColor(0x55, 0x55, 0x55)
    styles["Quote"].paragraph_format.left_indent = Cm(0.8)
    for name in ("Header", "Footer"):  # the template's tab stops are for US Letter: one right stop at the margin
        styles[name].font.size = Pt(8.5)
        styles[name].font.color.rgb = RGBColor(0x55, 0x55, 0x55)
        stops = styles[name].paragraph_format.tab_stops
        stops.clear_all()
        stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
    props = doc.core_properties
    props.title = clean(title)
    props.language = lang
    props.author = ""
    props.last_modified_by = ""
    props.comments = ""
    props.revision = 1
    doc.add_paragraph(clean(title), style="Title")
    if subtitle:
        doc.add_paragraph(clean(subtitle), style="Subtitle")
    return doc


def _language(doc: Document, lang: str) -> None:
    """The default language of every run (w:docDefaults/w:rPrDefault/w:rPr/w:lang)."""
    styles_el = doc.styles.element
    defaults = styles_el.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles_el.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = OxmlElement("w:rPrDefault")
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_default.append(rpr)
    el = rpr.find(qn("w:lang"))
    if el is None:
        el = OxmlElement("w:lang")
        rpr.append(el)
    el.set(qn("w:val"), lang)
    el.set(qn("w:eastAsia"), lang)


def heading(doc: Document, text: str, level: int = 1):
    """A heading in Word's "Heading N" style (level 1-3), so it shows in the navigation and the contents."""
    if level not in (1, 2, 3):
        raise ValueError("heading level must be 1, 2 or 3")
    return doc.add_paragraph(clean(text), style=f"Heading {level}")


def _lines(paragraph, text: str, *, italic: bool | None = None, bold: bool | None = None) -> None:
    """Text into a paragraph, a line break for each line break in the text."""
    run = paragraph.add_run()
    for i, line in enumerate(clean(text).split("\n")):
        if i:
            run.add_break()
        run.add_text(line)
    if italic is not None:
        run.italic = italic
    if bold is not None:
        run.bold = bold


def para(doc: Document, text: str, style: str | None = None, *, keep_with_next: bool = False):
    """A paragraph (style "Normal" unless given); a line break in the text is a line break in Word."""
    p = doc.add_paragraph(style=style)
    _lines(p, text)
    if keep_with_next:
        p.paragraph_format.keep_with_next = True
    return p


def bullets(doc: Document, items: Iterable[str]) -> list:
    """A bulleted list in Word's "List Bullet" style."""
    out = []
    for item in items:
        p = doc.add_paragraph(style="List Bullet")
        _lines(p, item)
        out.append(p)
    return out


def _shade(cell, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def _repeat_header(row) -> None:
    """The row is repeated at the top of every page the table runs onto (w:tblHeader)."""
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _cant_split(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))


def table(doc: Document, header: Sequence[str], rows: Sequence[Sequence], *, caption: str | None = None,
          numeric_cols: Iterable[int] = (), weights: Sequence[float] | None = None, total: bool = False):
    """A real Word table: the bold, shaded header row repeated on every page, numbers right-aligned.

    caption, if given, is a "Caption" paragraph kept with the table above it (as in the PDF).
    weights are relative column widths (the PDF's); total=True sets the last row in bold.
    A cell's line breaks stay line breaks.
    """
    numeric = set(numeric_cols)
    if caption:
        cap = doc.add_paragraph(style="Caption")
        _lines(cap, caption)
        cap.paragraph_format.keep_with_next = True
    n_cols = len(header)
    t = doc.add_table(rows=1 + len(rows), cols=n_cols)
    t.style = doc.styles[TABLE_STYLE]
    t.alignment = WD_TABLE_ALIGNMENT.LEFT
    widths = None
    if weights and len(weights) == n_cols:
        s = float(sum(weights)) or 1.0
        widths = [int(TEXT_WIDTH * w / s) for w in weights]
        t.autofit = False
        for c, w in enumerate(widths):  # the grid (LibreOffice reads it) as well as every cell (Word does)
            t.columns[c].width = w
    for r, values in enumerate([list(header), *[list(row) for row in rows]]):
        row = t.rows[r]
        if r == 0:
            _repeat_header(row)
        _cant_split(row)
        bold = r == 0 or (total and r == len(rows))
        for c in range(n_cols):
            cell = row.cells[c]
            value = values[c] if c < len(values) else ""
            p = cell.paragraphs[0]
            _lines(p, "" if value is None else str(value), bold=True if bold else None)
            for run in p.runs:
                run.font.size = CELL_SIZE
            p.paragraph_format.space_after = Pt(0)
            if c in numeric:
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            if r == 0:
                _shade(cell, HEADER_FILL)
            if widths:
                cell.width = widths[c]
    return t


def figure(doc: Document, png_bytes: bytes, *, caption: str, description: str | None = None,
           width=None):
    """A picture with its caption above it (as in the PDF); the alternative text is the description.

    The picture is scaled to the text width (or `width`) and kept on the caption's page.
    """
    cap = doc.add_paragraph(style="Caption")
    _lines(cap, caption)
    cap.paragraph_format.keep_with_next = True
    p = doc.add_paragraph()
    p.paragraph_format.keep_with_next = False
    run = p.add_run()
    shape = run.add_picture(io.BytesIO(png_bytes), width=width or TEXT_WIDTH)
    doc_pr = shape._inline.docPr
    doc_pr.set("descr", clean(description or caption))
    doc_pr.set("title", clean(caption))
    return shape


def quote(doc: Document, text: str, source: str | None = None):
    """A passage in Word's "Quote" style, its source on a line of its own under it."""
    p = doc.add_paragraph(style="Quote")
    _lines(p, text)
    if source:
        p.paragraph_format.keep_with_next = True
        s = doc.add_paragraph(style="Quote")
        _lines(s, source, italic=False)
        for run in s.runs:
            run.font.size = Pt(8.5)
    return p


def _field(paragraph, instruction: str, placeholder: str = "") -> None:
    """A Word field (begin, instruction, separate, shown text, end) at the end of the paragraph."""
    def run_with(el):
        r = OxmlElement("w:r")
        r.append(el)
        paragraph._p.append(r)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    begin.set(qn("w:dirty"), "true")
    run_with(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run_with(instr)
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    run_with(sep)
    t = OxmlElement("w:t")
    t.set(qn("xml:space"), "preserve")
    t.text = clean(placeholder)
    run_with(t)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def toc(doc: Document, *, title: str | None = None, placeholder: str = "Innehållsförteckningen visas när "
        "fälten uppdateras (högerklicka och välj Uppdatera fält, eller tryck F9).", levels: str = "1-2"):
    """A Word table-of-contents field over the headings (levels 1-2 by default).

    Word fills it in when the fields are updated; the document asks Word to do so when it is
    opened (w:updateFields). Until then the placeholder text shows.
    """
    if title:
        doc.add_paragraph(clean(title), style="TOC Heading")
    p = doc.add_paragraph()
    _field(p, f'TOC \\o "{levels}" \\h \\z \\u', placeholder)
    settings = doc.settings.element
    if settings.find(qn("w:updateFields")) is None:
        el = OxmlElement("w:updateFields")
        el.set(qn("w:val"), "true")
        settings.append(el)
    return p


def furniture(doc: Document, *, header: str, footer_page_numbers: bool = True, footer: str | None = None,
              page_label: str = "Sida {page} av {pages}", mark: str | None = None) -> None:
    """Running header and footer on every page: the header text (and a mark such as "UTKAST" after
    it), the footer text and "Sida N av M" (page_label in the reader's language; {page} and {pages}
    become Word's PAGE and NUMPAGES fields)."""
    section = doc.sections[0]
    hp = section.header.paragraphs[0]
    hp.style = doc.styles["Header"]
    _lines(hp, header)
    if mark:
        run = hp.add_run("\t" + clean(mark))
        run.bold = True
        run.font.color.rgb = RGBColor(0xA4, 0x00, 0x0F)
    if footer is not None or footer_page_numbers:
        fp = section.footer.paragraphs[0]
        fp.style = doc.styles["Footer"]
        if footer:
            _lines(fp, footer)
        if footer_page_numbers:
            if footer:
                fp.add_run("\t")
            for part in re.split(r"(\{page\}|\{pages\})", page_label):
                if part == "{page}":
                    _field(fp, "PAGE", "1")
                elif part == "{pages}":
                    _field(fp, "NUMPAGES", "1")
                elif part:
                    fp.add_run(clean(part))


def page_break(doc: Document) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def to_bytes(doc: Document, *, when: datetime | None = None) -> bytes:
    """The document as DOCX bytes; the same content gives the same bytes (and SHA-256).

    The core properties' dates are `when` (default 2000-01-01) and every zip entry carries a fixed
    time, in a fixed order.
    """
    when = when or FIXED_DATE
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    props = doc.core_properties
    props.created = props.modified = props.last_printed = when
    props.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


# --------------------------------------------------------------------------- pictures

def drawing_png(drawing, dpi: int = 150) -> bytes:
    """A reportlab Drawing (a chart, the map) as PNG: the same picture as in the PDF.

    Plain words: the drawing is put on a one-page PDF of its own size, which pdfium turns into
    pixels at `dpi` on a white background. The same drawing gives the same PNG.
    """
    import pypdfium2 as pdfium
    from reportlab.graphics import renderPDF

    from . import pdf
    pdf.register_fonts()
    pdf_bytes = renderPDF.drawToString(drawing)
    document = pdfium.PdfDocument(pdf_bytes)
    try:
        page = document[0]
        bitmap = page.render(scale=dpi / 72.0, fill_color=(255, 255, 255, 255))
        image = bitmap.to_pil().convert("RGB")
        page.close()
    finally:
        document.close()
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, dpi=(dpi, dpi))
    return buf.getvalue()
