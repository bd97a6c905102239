"""A site's action plan (handlingsplan) as a PDF for paper: the kommun's copy and the office's file.

Same look as the sample protocol (coordinator/pdf.py). Contents: the site and the date, the
kommun's challenges, each development goal with its table of activities (activity, ansvarig,
beslutad, beroende av beslut / resurser, klart senast, status in words, kommentar), and the
follow-up at the second visit when it has been written. Strings are the Swedish source strings;
inside a request they are translated like the pages.
"""
from __future__ import annotations

import re
import unicodedata

from flask import current_app, has_app_context
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from .. import pdf
from ..i18n import _, locale, ngettext
from ..pdf import esc
from . import service
from .models import AVBRUTEN, EJ_PABORJAD, GENOMFORD, PAGAR, ActionPlan, PlanActivity

# Light tints behind the status word (the word carries the meaning; the tint helps on screen and in colour).
TINT = {GENOMFORD: colors.HexColor("#d5ecd9"), PAGAR: colors.HexColor("#fbeaa5"),
        EJ_PABORJAD: colors.HexColor("#f6d0cd"), AVBRUTEN: colors.HexColor("#e2e2e2")}



def in_brief(goals: int, activities: int, done: int, decided: int) -> str:
    """ "1 mål, 1 aktivitet: 0 genomförda, 1 beslutad." with every count in agreement with its word."""
    return _("%(goals)s, %(activities)s: %(done)s, %(decided)s.",
             goals=ngettext("%(num)d mål", "%(num)d mål", goals),
             activities=ngettext("%(num)d aktivitet", "%(num)d aktiviteter", activities),
             done=ngettext("%(num)d genomförd", "%(num)d genomförda", done),
             decided=ngettext("%(num)d beslutad", "%(num)d beslutade", decided))


def status_word(status: str) -> str:
    return {EJ_PABORJAD: _("Ej påbörjad"), PAGAR: _("Pågår"), GENOMFORD: _("Genomförd"),
            AVBRUTEN: _("Avbruten")}.get(status, status)


def _pct(share) -> str:
    if share is None:
        return "–"
    if locale().startswith("sv"):
        return f"{pdf.fmt_int(share * 100)}{pdf.NBSP}%"
    from flask_babel import format_percent
    return format_percent(share)


def _dt(dt, fmt: str = "%Y-%m-%d") -> str:
    tz = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Stockholm") if has_app_context() \
        else "Europe/Stockholm"
    return pdf.fmt_dt(dt, tz=tz, fmt=fmt)


def _text(text: str, style: ParagraphStyle) -> list[Paragraph]:
    """Free text as paragraphs: a blank line starts a new paragraph, a line break stays a line break."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n")) if p.strip()]
    return [Paragraph(esc(p).replace("\n", "<br/>"), style) for p in parts]


def filename(plan: ActionPlan) -> str:
    """An ASCII file name: handlingsplan-<site>.pdf (å, ä, ö become a, a, o)."""
    label = unicodedata.normalize("NFKD", plan.site.label).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or str(plan.site_id)
    return f"handlingsplan-{slug}.pdf"


def _depends(a: PlanActivity) -> str:
    if a.depends_on_decision and a.depends_on_resources:
        return _("beslut och resurser")
    if a.depends_on_decision:
        return _("beslut")
    if a.depends_on_resources:
        return _("resurser")
    return _("nej")


def _activity_table(activities: list[PlanActivity], st: dict[str, ParagraphStyle]):
    """One row per activity; its comments (the office's and the kommun's) in a full-width row right under it.

    Seven columns do not fit A4 portrait without breaking words, so "Kommentar" spans the row below.
    """
    head = [_("Aktivitet"), _("Ansvarig"), _("Beslutad"), _("Beroende av beslut / resurser"), _("Klart senast"),
            _("Status")]
    rows: list[list] = [head]
    cmds: list[tuple] = []
    status_style = ParagraphStyle("plan_status", st["cell"], fontName=pdf.FONT_BOLD)
    note_style = ParagraphStyle("plan_note", st["cell"], leftIndent=10)
    kommun_style = ParagraphStyle("plan_kommun", note_style, fontName=pdf.FONT_ITALIC)
    shade = False
    for n, a in enumerate(activities, start=1):
        r = len(rows)
        rows.append([
            Paragraph(f"{n}.{pdf.NBSP}" + esc(a.description).replace("\n", "<br/>"), st["cell"]),
            a.responsible or "–",
            _("Ja") if a.decided else _("Nej"),
            _depends(a),
            a.due_date.isoformat() if a.due_date else "–",
            Paragraph(esc(status_word(a.status)), status_style),
        ])
        cmds.append(("BACKGROUND", (5, r), (5, r), TINT.get(a.status, colors.white)))
        if not a.decided:
            cmds.append(("FONTNAME", (2, r), (2, r), pdf.FONT_BOLD))
        last = r
        notes: list = []
        if a.comment:
            notes.append(Paragraph(f"<b>{esc(_('Kommentar:'))}</b> " + esc(a.comment).replace("\n", "<br/>"),
                                   note_style))
        if a.kommun_comment or a.kommun_updated_at:
            label = _("Kommunens kommentar %(day)s:", day=_dt(a.kommun_updated_at))
            notes.append(Paragraph(f"<b>{esc(label)}</b> " + esc(a.kommun_comment or "–").replace("\n", "<br/>"),
                                   kommun_style))
        if notes:
            last = len(rows)
            rows.append([notes, "", "", "", "", ""])
            # The comment row belongs to the activity above: no rule between them, the status spans both.
            cmds += [("SPAN", (0, last), (4, last)), ("SPAN", (5, r), (5, last)), ("NOSPLIT", (0, r), (-1, last)),
                     ("LINEBELOW", (0, r), (4, r), 0, colors.white), ("TOPPADDING", (0, last), (4, last), 0)]
        if shade:
            cmds.append(("BACKGROUND", (0, r), (4, last), pdf.ZEBRA))
        shade = not shade
    return pdf.table(rows, pdf.widths(190, 78, 50, 56, 57, 62), zebra=False, style_commands=cmds)


def _share_cell(part: int, whole: int, with_pct: bool = True) -> str:
    text = _("%(part)d av %(whole)d", part=part, whole=whole)
    return f"{text} ({_pct(part / whole)})" if with_pct and whole else text


def _figures_table(fu: service.Followup, st) -> list:
    rows = [[_("Mål"), _("Genomförda"), _("Beslutade"), _("Genomförda bland beslutade"),
             _("Genomförda bland ej beslutade")]]
    for g in fu.goals:
        t = g.tally
        rows.append([f"{g.goal.position}. {g.goal.title}", _share_cell(t.done, t.total),
                     _share_cell(t.decided, t.total, False), _share_cell(t.decided_done, t.decided, False),
                     _share_cell(t.not_decided_done, t.not_decided, False)])
    t = fu.overall
    rows.append([_("Hela planen"), _share_cell(t.done, t.total), _share_cell(t.decided, t.total, False),
                 _share_cell(t.decided_done, t.decided, False), _share_cell(t.not_decided_done, t.not_decided, False)])
    return [pdf.table(rows, pdf.widths(150, 75, 55, 70, 70), total_row=True)]


def has_followup(plan: ActionPlan) -> bool:
    return bool(plan.followup_summary.strip() or plan.most_urgent.strip() or any(g.situation.strip() for g in plan.goals))


def render_plan_pdf(plan: ActionPlan) -> bytes:
    st = pdf.styles()
    site = plan.site
    story: list = []
    fu = service.followup(plan)

    story.append(Paragraph(esc(_("Handlingsplan")), st["title"]))
    story.append(Paragraph(esc(site.label), st["subtitle"]))
    visit1, visit2 = service.visit_of(site, 1), service.visit_of(site, 2)
    t = fu.overall
    facts: list[tuple[str, object]] = [
        (_("Besöksplats"), site.label),
        (_("Län"), site.kommun.lan.namn),
        (_("Datum"), service.today().isoformat()),
        (_("Första besöket"), visit1.date.isoformat() if visit1 and visit1.date else _("inget datum")),
        (_("Uppföljning (andra besöket)"), visit2.date.isoformat() if visit2 and visit2.date else _("inget datum")),
        (_("Planen i korthet"), in_brief(len(plan.goals), t.total, t.done, t.decided)),
    ]
    if fu.last_report:
        facts.append((_("Kommunens senaste rapport"), _dt(fu.last_report, "%Y-%m-%d %H:%M")))
    story.append(pdf.facts(facts, label_width=60 * mm))

    story.append(Paragraph(esc(_("Kommunens utmaningar")), st["h1"]))
    story.extend(_text(plan.challenges, st["body"]) or
                 [Paragraph(esc(_("Inga utmaningar är beskrivna.")), st["body"])])

    story.append(Paragraph(esc(_("Utvecklingsmål och aktiviteter")), st["h1"]))
    story.append(Paragraph(esc(_("Status anges i ord; färgen är ett stöd: genomförd grön, pågår gul, ej påbörjad "
                                 "röd, avbruten grå. ”Beslutad” säger om aktiviteten är beslutad; aktiviteter som "
                                 "aldrig beslutas är där mål oftast inte nås.")), st["small"]))
    if not plan.goals:
        story.append(Paragraph(esc(_("Planen har inga mål än.")), st["body"]))
    for goal in plan.goals:
        head = [Paragraph(esc(_("Mål %(n)d: %(title)s", n=goal.position, title=goal.title)), st["h2"])]
        if goal.theme is not None:
            head.append(Paragraph(esc(_("Målområde: %(theme)s", theme=goal.theme.name)), st["caption"]))
        head.extend(_text(goal.description, st["body"]))
        gt = service.tally(goal.activities)
        if goal.activities:
            head.append(Paragraph(esc(ngettext("%(done)d av %(num)d aktivitet genomförd, %(decided)d av %(num)d beslutad.",
                                               "%(done)d av %(num)d aktiviteter genomförda, %(decided)d av %(num)d "
                                               "beslutade.", gt.total, done=gt.done, decided=gt.decided)),
                                  st["caption"]))
            story.extend(head + [_activity_table(goal.activities, st)])
        else:
            story.extend(head + [Paragraph(esc(_("Inga aktiviteter än.")), st["body"])])

    if has_followup(plan):
        story.append(Paragraph(esc(_("Uppföljning vid andra besöket")), st["h1"]))
        story.append(Paragraph(esc(ngettext(
            "%(done)d av %(num)d aktivitet genomförd (%(pct)s).", "%(done)d av %(num)d aktiviteter genomförda (%(pct)s).",
            t.total, done=t.done, pct=_pct(t.share_done)) + " " + _(
            "Beslutade: %(decided)d av %(n)d; av dem genomförda: %(dd)d. Ej beslutade: %(nd)d; av dem genomförda: "
            "%(ndd)d.", n=t.total, decided=t.decided, dd=t.decided_done, nd=t.not_decided,
            ndd=t.not_decided_done)), st["body"]))
        if plan.goals:
            story.extend(_figures_table(fu, st))
        if any(g.situation.strip() for g in plan.goals):
            story.append(Paragraph(esc(_("Läget per mål")), st["h2"]))
            for g in plan.goals:
                story.append(Paragraph(esc(_("Mål %(n)d: %(title)s", n=g.position, title=g.title)), st["h3"]))
                story.extend(_text(g.situation, st["body"]) or
                             [Paragraph(esc(_("Inget beskrivet.")), st["body"])])
        if plan.followup_summary.strip():
            story.append(Paragraph(esc(_("Sammanfattning")), st["h2"]))
            story.extend(_text(plan.followup_summary, st["body"]))
        if plan.most_urgent.strip():
            story.append(Paragraph(esc(_("Det mest angelägna härnäst")), st["h2"]))
            story.extend(_text(plan.most_urgent, st["body"]))
    story.append(Spacer(1, 4 * mm))

    title = _("Handlingsplan: %(site)s", site=site.label)
    lang = locale()
    return pdf.build(
        story, title=title, author=_("Nationella samordnaren för den sociala barn- och ungdomsvården"),
        subject=_("Handlingsplan"), lang="sv-SE" if lang.startswith("sv") else lang.replace("_", "-"),
        page_label=lambda page, pages: _("Sida %(page)d av %(pages)d", page=page, pages=pages),
        keywords=[_("handlingsplan"), site.kommun.namn])
