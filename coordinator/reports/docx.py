"""The report to the minister (and any document built of the same blocks) as a Word file (DOCX).

Plain words: the ministry edits in Word. The Word file is made from the very same content Document
as the PDF (pdf.py) and the page (templates/reports/_body.html), so the three never say different
things. Each block becomes the Word part that means the same: a section title is "Heading 1", a
subheading "Heading 2", a table a Word table (numbers right-aligned, the header repeated on every
page), a figure a picture of the same drawing as in the PDF with its caption and its description
as alternative text, a quote a paragraph in the "Quote" style with its source under it. The cover
(the title, the period, the facts), a table of contents field and the summary come first.

render_document() works on any Document of these blocks (the quarterly report, the final report):
a figure is drawn by the `drawing` callable given, by default the report's own charts. The same
content and date give the same bytes (worddoc.to_bytes), so an issued DOCX has a SHA-256 that
means something.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from .. import worddoc
from ..i18n import _
from . import content
from .content import Figure, Para, Quotes, Subheading, Text


def _cover(doc, d) -> None:
    recipient = getattr(d, "recipient", None)
    assignment = getattr(d, "assignment", None)
    if assignment:
        worddoc.para(doc, assignment)
    if recipient and recipient != d.title:
        p = worddoc.para(doc, recipient)
        for run in p.runs:
            run.bold = True
    if getattr(d, "draft", False):
        p = worddoc.para(doc, _("UTKAST – inte utfärdat"))
        for run in p.runs:
            run.bold = True
    for label, value in getattr(d, "facts", None) or []:
        p = doc.add_paragraph()
        run = p.add_run(worddoc.clean(f"{label}: "))
        run.bold = True
        p.add_run(worddoc.clean(value))
        p.paragraph_format.space_after = worddoc.Pt(2)


def _table(doc, t: content.Table) -> None:
    worddoc.table(doc, t.head, t.rows, caption=t.label, numeric_cols=t.numeric, weights=t.weights, total=t.total)


def _block(doc, block, draw: Callable[[Figure], Any]) -> None:
    kind = getattr(block, "kind", None)
    if isinstance(block, Para) or kind == "para":
        worddoc.para(doc, block.text, style="Caption" if getattr(block, "style", "body") == "small" else None)
    elif isinstance(block, Subheading) or kind == "subheading":
        worddoc.heading(doc, block.text, min(max(getattr(block, "level", 2), 2), 3))
    elif isinstance(block, content.Table) or kind == "table":
        _table(doc, block)
    elif isinstance(block, Figure) or kind == "figure":
        worddoc.figure(doc, worddoc.drawing_png(draw(block)), caption=block.label, description=block.desc)
    elif isinstance(block, Quotes) or kind == "quotes":
        for item in block.items:
            text = content.quoted(item["text"]) if block.quote else item["text"]
            worddoc.quote(doc, text, content.item_meta(item, block.quote))
    elif isinstance(block, Text) or kind == "text":
        if not block.paragraphs:
            p = worddoc.para(doc, block.empty)
            for run in p.runs:
                run.italic = True
        for text in block.paragraphs:
            worddoc.para(doc, text)
    elif kind == "bullets":
        worddoc.bullets(doc, block.items)
    else:
        raise TypeError(f"unknown block {block!r}")


def render_document(d, drawing: Callable[[Figure], Any], *, created: datetime | None = None) -> bytes:
    """Any content Document (title, period, facts, summary, numbered sections of blocks) as DOCX bytes.

    drawing(figure) returns the reportlab Drawing of a Figure block (the PDF's picture); created is
    the date written into the file (the issue time, or for a draft the time the figures were computed).
    """
    subtitle = None
    if getattr(d, "period", None):
        span = getattr(d, "period_span", None)
        subtitle = f"{d.period} ({span})" if span else d.period
    lang = getattr(d, "lang", "sv-SE") or "sv-SE"
    doc = worddoc.new_document(d.title, subtitle=subtitle, lang="sv-SE" if lang.startswith("sv") else lang)
    worddoc.furniture(doc, header=getattr(d, "assignment", "") or d.title, footer=getattr(d, "footer", None),
                      page_label=_("Sida %(p)s av %(n)s", p="{page}", n="{pages}"), mark=_("UTKAST") if getattr(d, "draft", False) else None)
    _cover(doc, d)
    worddoc.toc(doc, title=_("Innehåll"), placeholder=_(
        "Innehållsförteckningen visas när fälten uppdateras: högerklicka här och välj Uppdatera fält, eller tryck F9."))
    worddoc.page_break(doc)
    summary = getattr(d, "summary", None)
    if summary:
        worddoc.heading(doc, _("Sammanfattning"), 1)
        worddoc.bullets(doc, summary)
    for section in d.sections:
        title = worddoc.heading(doc, f"{section.number}\u2002{section.title}" if getattr(section, "number", None)
                                else section.title, 1)
        # The final report's chapters and appendices start on a page of their own, as in the PDF.
        title.paragraph_format.page_break_before = bool(getattr(section, "new_page", False))
        for block in section.blocks:
            _block(doc, block, drawing)
    props = doc.core_properties
    props.subject = worddoc.clean(getattr(d, "recipient", "") or "")
    props.author = _("Nationella samordnaren för den sociala barn- och ungdomsvården")
    props.keywords = worddoc.clean(", ".join(x for x in (d.title, getattr(d, "period", "")) if x))
    return worddoc.to_bytes(doc, when=created)


def render(data: dict[str, Any], narratives: dict[str, str], status: dict[str, Any]) -> bytes:
    """The report as DOCX bytes: the same Document as pdf.render(), the same date in the file."""
    d = content.document(data, narratives, status)
    created = datetime.fromisoformat(data["generated_at"] if d.draft else status["issued_at"])
    return render_document(d, lambda figure: content.drawing(figure, data), created=created)
