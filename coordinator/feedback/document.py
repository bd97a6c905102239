"""A feedback letter as a list of blocks, and the blocks as PDF and DOCX (the page walks the same blocks).

Plain words: the letter is said once, here, as headings, paragraphs, quotes and tables; the web
page (feedback/_letter.html), the PDF (reportlab, the house style of coordinator/pdf.py) and the
Word file (coordinator/worddoc.py) only lay those blocks out. So the three never say different
things. The letter is always in Swedish, whatever language the reader of the app has chosen.

    blocks(data) -> list[Block]
    render_pdf(data) -> bytes
    render_docx(data) -> bytes
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Sequence

from flask_babel import force_locale

from ..i18n import _

LETTER_LOCALE = "sv"
NBSP = "\u00a0"


@dataclass
class Block:
    kind: str                       # "h1" | "h2" | "p" | "quote" | "facts" | "table" | "small"
    text: str = ""
    rows: list[Sequence[str]] = field(default_factory=list)   # facts: (term, value); table: body rows
    header: Sequence[str] = ()
    caption: str = ""
    numeric: tuple[int, ...] = ()
    weights: tuple[float, ...] = ()


def pct(share: float | None) -> str:
    if share is None:
        return "–"
    return f"{round(share * 100):d}{NBSP}%"


def num(x: float | None) -> str:
    if x is None:
        return "–"
    text = f"{x:.1f}".rstrip("0").rstrip(".") if abs(x - round(x)) > 1e-9 else f"{int(round(x)):d}"
    return text.replace(".", ",").replace("-", "\u2212")


def _ci(ci) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return ""
    return f" ({round(ci[0] * 100):d}–{round(ci[1] * 100):d}{NBSP}%)"


def _ci_num(ci) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return ""
    return f" ({num(ci[0])}–{num(ci[1])})"


def _paragraphs(text: str) -> list[str]:
    import re
    return [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]


def status_word(status: str) -> str:
    return {"ej_paborjad": _("Ej påbörjad"), "pagar": _("Pågår"), "genomford": _("Genomförd"),
            "avbruten": _("Avbruten")}.get(status, status)


def title() -> str:
    return _("Återkoppling efter besöket")


def _date(iso: str | None) -> str:
    if not iso:
        return _("inget datum")
    from ..i18n import locale
    if not locale().startswith("sv"):
        from flask_babel import format_date
        return format_date(date.fromisoformat(iso), "EEEE d MMMM y")
    from ..formatting import swedish_date
    return swedish_date(date.fromisoformat(iso))


def _blocks(data: dict[str, Any]) -> list[Block]:
    texts = data.get("texts") or {}
    out: list[Block] = [Block("facts", rows=[
        (_("Till"), data["site"]), (_("Län"), data["lan"]),
        (_("Besök"), _("Omgång %(n)d, %(day)s", n=data["round"], day=_date(data.get("visit_date")))),
        (_("ÖJ-grupp"), str(data["grupp"]))])]
    out += [Block("p", p) for p in _paragraphs(texts.get("inledning", ""))]

    out.append(Block("h1", _("Vad vi samtalade om")))
    out.append(Block("small", _("Det som antecknades under dialogfrågorna. Samtal med barn och vårdnadshavare "
                                "återges inte.")))
    for q in data.get("questions", []):
        out.append(Block("h2", _("Fråga %(nr)s: %(fraga)s", nr=q["nr"], fraga=q["fraga"])))
        if q["passages"]:
            out += [Block("quote", p) for p in q["passages"]]
        else:
            out.append(Block("p", _("Inget särskilt antecknades under den här frågan.")))
    if texts.get("sammanfattning"):
        out.append(Block("h1", _("Våra iakttagelser")))
        out += [Block("p", p) for p in _paragraphs(texts["sammanfattning"])]

    out.append(Block("h1", _("Er handlingsplan")))
    plan = data.get("plan")
    if plan is None:
        out.append(Block("p", _("Ingen handlingsplan är upprättad för er.")))
    else:
        t = plan["totals"]
        out.append(Block("p", _("Planen har %(goals)s och %(acts)s. %(done)d är genomförda, %(ongoing)d pågår, "
                                "%(decided)d av %(n)d är beslutade.",
                                goals=_n_goals(len(plan["goals"])), acts=_n_activities(t["total"]), done=t["done"],
                                ongoing=t["ongoing"], decided=t["decided"], n=t["total"])))
        if plan["challenges"]:
            out.append(Block("h2", _("Era utmaningar")))
            out += [Block("p", p) for p in _paragraphs(plan["challenges"])]
        for g in plan["goals"]:
            out.append(Block("h2", _("Mål %(n)d: %(title)s", n=g["position"], title=g["title"])))
            out += [Block("p", p) for p in _paragraphs(g["description"])]
            if g["activities"]:
                out.append(Block("table", header=(_("Aktivitet"), _("Beslutad"), _("Klart senast"), _("Status")),
                                 rows=[(a["description"], _("Ja") if a["decided"] else _("Nej"),
                                        a["due_date"] or "–", status_word(a["status"])) for a in g["activities"]],
                                 weights=(5, 1.2, 1.6, 1.6)))
            if g.get("situation"):
                out.append(Block("p", _("Läget: %(text)s", text=g["situation"])))
        if plan.get("followup_summary"):
            out.append(Block("h2", _("Uppföljningen i korthet")))
            out += [Block("p", p) for p in _paragraphs(plan["followup_summary"])]
        if plan.get("most_urgent"):
            out.append(Block("h2", _("Mest angeläget framåt")))
            out += [Block("p", p) for p in _paragraphs(plan["most_urgent"])]

    out += _measurement_blocks(data.get("measurement"))

    if texts.get("fortsattning"):
        out.append(Block("h1", _("Fortsättningen")))
        out += [Block("p", p) for p in _paragraphs(texts["fortsattning"])]
    out.append(Block("p", _("Med vänliga hälsningar\nDen nationella samordnarens kansli")))
    return out


def _ngettext(one: str, many: str, n: int) -> str:
    from flask import has_request_context
    if has_request_context():
        from flask_babel import ngettext
        return ngettext(one, many, n)
    return (one if n == 1 else many) % {"num": n}


def _n_goals(n: int) -> str:
    return _ngettext("%(num)d mål", "%(num)d mål", n)


def _n_activities(n: int) -> str:
    return _ngettext("%(num)d aktivitet", "%(num)d aktiviteter", n)


def _measurement_blocks(m: dict[str, Any] | None) -> list[Block]:
    out = [Block("h1", _("Era svar på mätningen"))]
    if m is None:
        out.append(Block("p", _("Vi har inga inskickade svar på mätningen från er i den här omgången.")))
        return out
    out.append(Block("p", _(
        "Era svar på enkäten ”%(name)s” (inskickad %(day)s) bredvid de besökta kommunerna i er ÖJ-grupp "
        "(%(n)d svar, era medräknade; ovägda andelar) och hela landet. Hela landets siffror är vägda med urvalets designvikter, "
        "med ett 95-procentigt konfidensintervall inom parentes. Där färre än %(min)d har svarat visas ingen "
        "andel.", name=m["questionnaire"], day=_date(m["submitted_on"]), n=m["group_sites"], min=m["min_base"])))
    few = _("för få svar")
    numbers = []
    for q in m["questions"]:
        national_missing = q.get("national_answered") is None
        if q["kind"] == "tal":
            group = few if q["group_suppressed"] else num(q.get("group_mean"))
            nat = "–" if national_missing else (few if q.get("national_suppressed") else
                                                num(q.get("national_mean")) + _ci_num(q.get("national_ci95")))
            numbers.append((f"{q['position']}. {q['text']}", num(q.get("own")), group, nat))
            continue
        rows = []
        for o in q["options"]:
            group = few if q["group_suppressed"] else pct(o["group_share"])
            if national_missing:
                nat = "–"
            elif q.get("national_suppressed") or o["national_share"] is None:
                nat = few
            else:
                nat = pct(o["national_share"]) + _ci(o.get("national_ci95"))
            rows.append((o["label"], _("Ert svar") if o["own"] else "", group, nat))
        out.append(Block("table", caption=_("Fråga %(n)d: %(text)s", n=q["position"], text=q["text"]),
                         header=(_("Svarsalternativ"), _("Ni"), _("ÖJ-grupp %(g)d", g=m["group"]),
                                 _("Hela landet (vägt)")), rows=rows, numeric=(2, 3), weights=(4, 1.4, 1.6, 2.4)))
    if numbers:
        out.append(Block("table", caption=_("Frågor med tal som svar (medelvärden)"),
                         header=(_("Fråga"), _("Ni"), _("ÖJ-grupp %(g)d", g=m["group"]), _("Hela landet (vägt)")),
                         rows=numbers, numeric=(1, 2, 3), weights=(4, 1.2, 1.6, 2.4)))
    from ..measurement.weighted import method_paragraphs
    out.append(Block("small", _("Så räknar vi: %(text)s", text=" ".join(method_paragraphs()))))
    return out


def blocks(data: dict[str, Any], reader: bool = False) -> list[Block]:
    """The letter's blocks, in Swedish as the kommun reads it; with `reader`, in the language of the
    staff member reading the app (the office's preview). What staff and the kommun wrote stays as written."""
    if reader:
        return _blocks(data)
    with force_locale(LETTER_LOCALE):
        return _blocks(data)


# --------------------------------------------------------------------------- PDF

def render_pdf(data: dict[str, Any], draft: bool = False) -> bytes:
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer

    from .. import pdf
    from ..pdf import esc
    with force_locale(LETTER_LOCALE):
        st = pdf.styles()
        heading = title()
        story: list = [Paragraph(esc(heading), st["title"]), Paragraph(esc(data["site"]), st["subtitle"])]
        quote_style = st.get("quote") or st["body"]
        if "quote" not in st:
            from reportlab.lib.styles import ParagraphStyle
            quote_style = ParagraphStyle("letter_quote", st["body"], leftIndent=12, fontName=pdf.FONT_ITALIC)
        for b in _blocks(data):
            if b.kind == "facts":
                story.append(pdf.facts(list(b.rows), label_width=35 * mm))
                story.append(Spacer(1, 4 * mm))
            elif b.kind in ("h1", "h2"):
                story.append(Paragraph(esc(b.text), st[b.kind]))
            elif b.kind == "p":
                story.append(Paragraph(esc(b.text).replace("\n", "<br/>"), st["body"]))
            elif b.kind == "small":
                story.append(Paragraph(esc(b.text), st["small"]))
            elif b.kind == "quote":
                story.append(Paragraph(esc(b.text).replace("\n", "<br/>"), quote_style))
            elif b.kind == "table":
                if b.caption:
                    story.append(Paragraph(esc(b.caption), st["caption"]))
                cells = [list(b.header)] + [[Paragraph(esc(c), st["cell"]) if i == 0 else c for i, c in enumerate(r)]
                                            for r in b.rows]
                story.append(pdf.table(cells, pdf.widths(*b.weights) if b.weights else None,
                                       align_right_cols=b.numeric))
                story.append(Spacer(1, 3 * mm))
        return pdf.build(story, title=f"{heading} – {data['site']}", author=_("Den nationella samordnarens kansli"),
                         subject=_("Återkopplingsbrev, omgång %(n)d", n=data["round"]),
                         header_mark=_("UTKAST") if draft else None)


# --------------------------------------------------------------------------- DOCX

def render_docx(data: dict[str, Any], draft: bool = False) -> bytes:
    from .. import worddoc
    with force_locale(LETTER_LOCALE):
        heading = title()
        doc = worddoc.new_document(heading, subtitle=data["site"])
        worddoc.furniture(doc, header=f"{heading} – {data['site']}", mark=_("UTKAST") if draft else None)
        for b in _blocks(data):
            if b.kind == "facts":
                worddoc.table(doc, (_("Uppgift"), _("Värde")), [list(r) for r in b.rows], weights=(1, 3))
            elif b.kind == "h1":
                worddoc.heading(doc, b.text, 1)
            elif b.kind == "h2":
                worddoc.heading(doc, b.text, 2)
            elif b.kind == "p":
                worddoc.para(doc, b.text)
            elif b.kind == "small":
                worddoc.para(doc, b.text, style="Caption")
            elif b.kind == "quote":
                worddoc.quote(doc, b.text)
            elif b.kind == "table":
                worddoc.table(doc, list(b.header), [list(r) for r in b.rows], caption=b.caption or None,
                              numeric_cols=b.numeric, weights=b.weights or None)
        return worddoc.to_bytes(doc)
