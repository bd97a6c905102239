"""A site's one-page briefing to take along to a visit (PDF): the kommun, the visit, who comes, what happened before.

Plain words: one A4 page that the coordinator can read on the train. It names the visit it
prepares (the next one not yet held, else the latest), the kommun's facts, the programme, the
invited people and their answers, the contacts, what the first visit's dialogue raised, how far
the action plan has come and what is still open. Lists are cut to fit the page and say how many
more there are; the page is in the office's language (Swedish) whatever the reader's UI language.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from .. import pdf
from ..i18n import _
from .story import SiteStory, answer_word

FOLLOWUP_CHARS = 400

ANSWERS = ("ACCEPTED", "TENTATIVE", "DECLINED", "NEEDS-ACTION")


def _visit_to_brief(s: SiteStory):
    """The visit the briefing prepares: the next one not held or cancelled, else the latest held."""
    open_ = [v for v in s.visits if v.visit is not None and v.visit.status not in ("genomford", "installd")]
    if open_:
        return open_[0]
    held = [v for v in s.visits if v.visit is not None and v.visit.status == "genomford"]
    return held[-1] if held else s.visits[0]


def _more(n: int) -> str:
    return _("… och %(n)s till", n=n)


def briefing_pdf(s: SiteStory, generated: datetime | None = None) -> bytes:
    """The briefing, with its lists cut shorter until it fits on one page."""
    generated = generated or datetime.now(timezone.utc)
    data = b""
    for limits in ((9, 6, 4), (6, 4, 3), (4, 3, 2), (2, 2, 1)):
        data = _build(s, generated, *limits)
        if page_count(data) <= 1:
            break
    return data


def page_count(data: bytes) -> int:
    """Pages of a PDF written by reportlab (its page objects are plain dictionaries)."""
    return len(re.findall(rb"/Type /Page(?![s\w])", data))


def _build(s: SiteStory, generated: datetime, max_contacts: int, max_goals: int, max_tasks: int) -> bytes:
    st = pdf.styles()
    for key in ("body", "cell", "list"):
        st[key].fontSize, st[key].leading = 8.5, 10.5
    st["h2"].spaceBefore, st["h2"].fontSize, st["h2"].leading = 6, 10.5, 13
    site, k = s.site, s.kommun
    v = _visit_to_brief(s)
    visit = v.visit
    story: list = [Paragraph(pdf.esc(site.label), st["title"])]
    when = (_("Besök %(n)s den %(day)s, %(start)s–%(end)s", n=v.round, day=visit.date.isoformat(),
              start=visit.start_time.strftime("%H.%M"), end=visit.end_time.strftime("%H.%M"))
            if visit is not None and visit.date else _("Besök %(n)s, inget datum än", n=v.round))
    story.append(Paragraph(pdf.esc(_("Underlag inför besöket · %(when)s", when=when)), st["subtitle"]))

    facts = [(_("Kommun"), f"{k.namn} ({k.kommunkod}), {k.lan.namn}"), (_("ÖJ-grupp"), str(site.grupp))]
    if s.population:
        facts.append((_("Folkmängd %(year)s", year=s.population[0]), pdf.fmt_int(s.population[1])))
    if k.skr2023_namn:
        facts.append((_("Kommungrupp (SKR 2023)"), k.skr2023_namn))
    if s.pi is not None:
        facts.append((_("Urvalssannolikhet"), _("π = %(pi)s, vikt %(w)s", pi=pdf.fmt_dec(s.pi, 4),
                                                 w=pdf.fmt_dec(s.weight, 2))))
    if s.replaces is not None:
        facts.append((_("I urvalet"), _("ersätter %(site)s, som avböjde", site=s.replaces.label)))
    if visit is not None and visit.location:
        facts.append((_("Plats"), visit.location))
    if v.parts:
        facts.append((_("Program"), "; ".join(
            (f"{p.start_time.strftime('%H.%M')} " if p.start_time else "") + p.title for p in v.parts)))
    if v.invited:
        facts.append((_("Inbjudna"), _("%(n)s personer: ", n=v.invited) + ", ".join(
            f"{v.answers[key]} {answer_word(key)}" for key in ANSWERS if v.answers.get(key))))
    story.append(pdf.facts(facts, label_width=36 * mm))

    contacts = [c for c in s.contacts if c.active]
    if contacts:
        from ..contacts.service import role_label
        answers = {a.contact_id: a.partstat for a in v.attendees if a.contact_id}
        story.append(Paragraph(pdf.esc(_("Kontakter")), st["h2"]))
        rows = [[_("Roll"), _("Namn"), _("E-post och telefon"), _("Svar")]]
        for c in contacts[:max_contacts]:
            rows.append([role_label(c.role), c.name, c.email + (f", {c.phone}" if c.phone else ""),
                         answer_word(answers[c.id]) if c.id in answers else "–"])
        story.append(pdf.table(rows, pdf.widths(29, 20, 39, 12)))
        if len(contacts) > max_contacts:
            story.append(Paragraph(pdf.esc(_more(len(contacts) - max_contacts)), st["small"]))

    earlier = [x for x in s.visits if x.note is not None and x.round <= v.round and x is not v] or \
        [x for x in s.visits if x.note is not None]
    if earlier:
        prev = earlier[-1]
        story.append(Paragraph(pdf.esc(_("Dialogen vid besök %(n)s (%(day)s)", n=prev.round,
                                          day=prev.visit.date.isoformat() if prev.visit.date else "–")), st["h2"]))
        themes = ", ".join(f"{name} ({n})" for name, n in prev.note.themes) or "–"
        f = prev.note.flags
        story.append(Paragraph(pdf.esc(_("Vanligaste teman: %(themes)s.", themes=themes)), st["body"]))
        story.append(Paragraph(pdf.esc(_("%(good)s goda exempel, %(obstacles)s hinder, %(national)s frågor för "
                                          "nationell nivå.", good=f["gott_exempel"], obstacles=f["hinder"],
                                          national=f["nationell_fraga"])), st["body"]))

    if s.plan is not None:
        t = s.plan.overall
        story.append(Paragraph(pdf.esc(_("Handlingsplanen")), st["h2"]))
        line = _("%(total)s aktiviteter: %(decided)s beslutade, %(done)s genomförda", total=t.total,
                 decided=t.decided, done=t.done)
        if s.plan.overdue:
            line += _("; %(n)s har passerat sitt datum", n=s.plan.overdue)
        story.append(Paragraph(pdf.esc(line + "."), st["body"]))
        rows = [[_("Mål"), _("Aktiviteter"), _("Beslutade"), _("Genomförda")]]
        for g, gt in s.plan.goals[:max_goals]:
            rows.append([g.title, gt.total, gt.decided, gt.done])
        if len(rows) > 1:
            story.append(pdf.table(rows, pdf.widths(55, 15, 15, 15), align_right_cols=(1, 2, 3)))
        if len(s.plan.goals) > max_goals:
            story.append(Paragraph(pdf.esc(_more(len(s.plan.goals) - max_goals)), st["small"]))
        summary = (s.plan.plan.followup_summary or "").strip()
        if summary:
            cut = summary if len(summary) <= FOLLOWUP_CHARS else summary[:FOLLOWUP_CHARS].rsplit(" ", 1)[0] + " …"
            story.append(Paragraph(pdf.esc(_("Uppföljning: %(text)s", text=cut)), st["body"]))

    req = v.request
    if req is not None:
        state = (_("inskickad") if req.submitted_at else _("inte inskickad än") if req.sent_at else _("inte skickad"))
        story.append(Spacer(1, 2 * mm))
        story.append(Paragraph(pdf.esc(_("Förmätningen inför besöket: %(state)s.", state=state)), st["body"]))

    if s.tasks:
        from ..tasks.service import title_of
        story.append(Paragraph(pdf.esc(_("Öppna uppgifter")), st["h2"]))
        for task in s.tasks[:max_tasks]:
            story.append(Paragraph(pdf.esc(f"• {title_of(task)} ({_('senast')} {task.due_date.isoformat()})"),
                                   st["list"]))
        if len(s.tasks) > max_tasks:
            story.append(Paragraph(pdf.esc(_more(len(s.tasks) - max_tasks)), st["small"]))

    title = _("Underlag inför besöket: %(site)s", site=site.label)
    footer = _("%(title)s · utskrivet %(when)s · innehåller personuppgifter", title=title,
               when=pdf.fmt_dt(generated))
    return pdf.build(story, title=title, footer_text=footer,
                     author=_("Nationella samordnaren för den sociala barn- och ungdomsvården"),
                     subject=when, page_label=lambda p, n: _("Sida %(p)s av %(n)s", p=p, n=n))
