"""The report to the minister for a report period (and the final-report basis) as a PDF.

render(data, narratives, status) lays out content.document(): a cover page (the assignment,
"Rapport till statsrådet", the period, the date, the version or UTKAST, what the figures rest on
and the contents), the summary of findings, then the numbered sections with their tables, charts,
map and quotes, and the staff's narratives last. Same house style as the other printed documents
(coordinator/pdf.py).

A draft says UTKAST at the top of every page and across it. The bytes are reproducible: the same
data, narratives and status give the same file (reportlab's invariant mode; the creation date is
the issue time, or for a draft the time the figures were computed), so an issued report's SHA-256
means something.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, Spacer, Table, TableStyle

from .. import pdf
from ..i18n import _
from ..pdf import esc
from . import content
from .content import Figure, Para, Quotes, Subheading, Text

QUOTE_BAR = colors.HexColor("#1f5f99")


def _styles() -> dict[str, ParagraphStyle]:
    st = pdf.styles()
    st["cover_small"] = ParagraphStyle("cover_small", st["body"], fontSize=10.5, leading=14, textColor=pdf.MUTED)
    st["cover_to"] = ParagraphStyle("cover_to", st["body"], fontName=pdf.FONT_BOLD, fontSize=12, leading=16,
                                    spaceBefore=40, spaceAfter=4)
    st["cover_title"] = ParagraphStyle("cover_title", st["title"], fontSize=26, leading=31, spaceAfter=6)
    st["cover_period"] = ParagraphStyle("cover_period", st["subtitle"], fontSize=15, leading=19, spaceAfter=26)
    st["cover_draft"] = ParagraphStyle("cover_draft", st["body"], fontName=pdf.FONT_BOLD, fontSize=12, leading=16,
                                       textColor=pdf.ALERT, spaceAfter=10)
    st["bullet"] = ParagraphStyle("bullet", st["body"], leftIndent=12, firstLineIndent=-9, spaceAfter=4)
    st["quote"] = ParagraphStyle("quote", st["body"], fontName=pdf.FONT_ITALIC, fontSize=9.5, leading=13,
                                 spaceAfter=1)
    st["example"] = ParagraphStyle("example", st["body"], fontSize=9.5, leading=13, spaceAfter=1)
    st["source"] = ParagraphStyle("source", st["small"], textColor=pdf.MUTED, spaceAfter=0)
    st["empty"] = ParagraphStyle("empty", st["body"], fontName=pdf.FONT_ITALIC, textColor=pdf.MUTED)
    st["toc"] = ParagraphStyle("toc", st["body"], fontSize=9.5, leading=13, spaceAfter=1, leftIndent=14,
                               firstLineIndent=-14)
    return st


def _cover(doc: content.Document, st) -> list:
    story: list = [Paragraph(esc(doc.assignment), st["cover_small"])]
    if doc.recipient != doc.title:  # a report on a period other than a quarter is titled "Rapport till statsrådet"
        story.append(Paragraph(esc(doc.recipient), st["cover_to"]))
    story += [Paragraph(esc(doc.title), st["cover_title"]),
              Paragraph(esc(f"{doc.period} ({doc.period_span})"), st["cover_period"])]
    if doc.draft:
        story.append(Paragraph(esc(_("UTKAST – inte utfärdat")), st["cover_draft"]))
    story.append(pdf.facts(doc.facts, label_width=44 * mm))
    story.append(Spacer(1, 10 * mm))
    story.append(Paragraph(esc(_("Innehåll")), st["h2"]))
    story.append(Paragraph(esc(_("Sammanfattning")), st["toc"]))
    story += [Paragraph(esc(f"{s.number}\u2002{s.title}"), st["toc"]) for s in doc.sections]
    return story


def _table(t: content.Table, st) -> list:
    rows = [t.head]
    for row in t.rows:
        rows.append([Paragraph(esc(c).replace("\n", "<br/>"), st["cell"]) if isinstance(c, str) and "\n" in c else c
                     for c in row])
    return [Paragraph(esc(t.label), st["caption"]),
            pdf.table(rows, pdf.widths(*t.weights), align_right_cols=t.numeric, total_row=t.total),
            Spacer(1, 3 * mm)]


def _quotes(block: Quotes, st) -> list:
    out = []
    for item in block.items:
        text = content.quoted(item["text"]) if block.quote else item["text"]
        cell = [Paragraph(esc(text), st["quote" if block.quote else "example"]),
                Paragraph(esc(content.item_meta(item, block.quote)), st["source"])]
        box = Table([[cell]], colWidths=[pdf.CONTENT_WIDTH - 8 * mm], hAlign="LEFT")
        box.setStyle(TableStyle([("LINEBEFORE", (0, 0), (0, 0), 2, QUOTE_BAR), ("LEFTPADDING", (0, 0), (0, 0), 8),
                                 ("TOPPADDING", (0, 0), (0, 0), 1), ("BOTTOMPADDING", (0, 0), (0, 0), 1)]))
        out += [box, Spacer(1, 2.5 * mm)]
    return out


def _block(block, data: dict[str, Any], st) -> list:
    if isinstance(block, Para):
        return [Paragraph(esc(block.text), st[block.style])]
    if isinstance(block, Subheading):
        return [Paragraph(esc(block.text), st["h3" if block.level >= 3 else "h2"])]
    if isinstance(block, content.Table):
        return _table(block, st)
    if isinstance(block, Figure):
        drawing = content.drawing(block, data)
        # The caption stays on the figure's page, and a heading before them goes along (pdf._KeepWithNext).
        return [KeepTogether([Paragraph(esc(block.label), st["caption"]), drawing, Spacer(1, 4 * mm)])]
    if isinstance(block, Quotes):
        return _quotes(block, st)
    if isinstance(block, Text):
        if not block.paragraphs:
            return [Paragraph(esc(block.empty), st["empty"])]
        return [Paragraph(esc(p).replace("\n", "<br/>"), st["body"]) for p in block.paragraphs]
    raise TypeError(f"unknown block {block!r}")


def _keep_with_next(flowable):
    if isinstance(flowable, Paragraph):
        flowable.style = ParagraphStyle(flowable.style.name + "_kwn", flowable.style, keepWithNext=1)
    return flowable


def render(data: dict[str, Any], narratives: dict[str, str], status: dict[str, Any]) -> bytes:
    """The report as PDF bytes; see the module docstring."""
    doc = content.document(data, narratives, status)
    st = _styles()
    story = _cover(doc, st) + [PageBreak()]
    story.append(Paragraph(esc(_("Sammanfattning")), st["h1"]))
    story += [Paragraph("•\u2002" + esc(s), st["bullet"]) for s in doc.summary]
    for section in doc.sections:
        if section.new_page:
            story.append(PageBreak())
        story.append(Paragraph(esc(f"{section.number}\u2002{section.title}"), st["h1"]))
        after_heading = True
        for i, block in enumerate(section.blocks):
            flowables = _block(block, data, st)
            if after_heading and isinstance(block, Para) and i + 1 < len(section.blocks):
                # A heading's intro paragraph stays with the block it introduces (and so the heading too).
                flowables = [_keep_with_next(f) for f in flowables]
            after_heading = isinstance(block, Subheading)
            story += flowables
    created = datetime.fromisoformat(data["generated_at"] if doc.draft else status["issued_at"])
    mark = _("UTKAST") if doc.draft else None
    return pdf.build(
        story, title=f"{doc.title}: {doc.period}",
        author=_("Nationella samordnaren för den sociala barn- och ungdomsvården"), subject=doc.recipient,
        lang="sv-SE" if doc.lang.startswith("sv") else doc.lang,
        page_label=lambda page, pages: _("Sida %(page)d av %(pages)d", page=page, pages=pages),
        footer_text=doc.footer, header_mark=mark, watermark=mark, created=created,
        keywords=[doc.title, doc.period, data["period"]["key"]])
