"""Spreading what was learnt: a summary per län, and a digest of good examples for the whole country.

Plain words:
- *The regional summary* (``region(lanskod)``) is for the län's regional development leader and the
  län's kommuner. It lists the sample's visit sites in the län with their visits per round, the themes
  their dialogue notes raised most often, how far their action plans (handlingsplaner) have come, and
  the good examples from the län that staff have cleared to be shown with the kommun's name. A good
  example not cleared is left out here: beside a list of the län's few visited sites, "a kommun in the
  län" would point to one of them.
- *The good-examples digest* (``digest()``) gathers every passage marked as a good example, from
  visits and from dialogue forums, grouped by theme. A passage cleared for attribution names its
  kommun; any other is anonymised the same way everywhere (dialogue/quotes.py): "En kommun i grupp N",
  with the names blanked out of the text. It can be published as it is: no dates of visits, no links
  into the office's notes.

Both go through ``quotes.present``: the same words appear once, and if any use of them is not cleared,
no use of them names the kommun. Both are plain dicts, rendered by the pages (views.py,
templates/feedback/) and by the PDFs here (``region_pdf``, ``digest_pdf``). No Flask import.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import joinedload, selectinload

from ..dialogue.models import Note, Passage, PassageTheme, Theme
from ..dialogue.quotes import present
from ..events.models import Event
from ..extensions import db
from ..i18n import _
from ..plans.models import ActionPlan, PlanGoal
from ..plans.service import tally
from ..registry.models import Kommun, Lan
from ..sampling.models import Site
from ..sampling.service import adopted_sample
from ..scheduling.models import GENOMFORD, INSTALLD, Visit

ROUNDS = (1, 2)
SITE_THEMES = 5          # themes named per site
QUOTE_MARKS = "\"”“«»'’‘"  # a text that begins with one is printed as it is, not quoted again
EXAMPLE_CHARS = 600      # a good example longer than this is cut at a word, with an ellipsis


def _today() -> date:
    from ..scheduling.overview import today  # the office's today: honours COORDINATOR_TODAY and the demo's day
    return today()


def _excerpt(text: str) -> str:
    from ..reports.figures import excerpt
    return excerpt(text, EXAMPLE_CHARS)[0]


def _loads() -> tuple:
    return (joinedload(Passage.note).joinedload(Note.visit).joinedload(Visit.site).joinedload(Site.kommun),
            joinedload(Passage.note).joinedload(Note.event),
            selectinload(Passage.themes))


def _status_labels() -> dict[str, str]:
    from ..scheduling.views import STATUS_LABELS  # the visit statuses' words, as on the visit pages
    return {k: str(v) for k, v in STATUS_LABELS.items()}


# --------------------------------------------------------------------------- per län

def lan_list() -> list[dict[str, Any]]:
    """Every län with the adopted sample's active sites in it and how many have had a visit held."""
    sample = adopted_sample()
    sites: dict[str, int] = {}
    held: dict[str, int] = {}
    if sample is not None:
        sites = dict(db.session.execute(
            select(Kommun.lanskod, func.count(Site.id)).join(Site, Site.kommunkod == Kommun.kommunkod)
            .where(Site.sample_id == sample.id, Site.active.is_(True)).group_by(Kommun.lanskod)).all())
        held = dict(db.session.execute(
            select(Kommun.lanskod, func.count(distinct(Site.id))).join(Site, Site.kommunkod == Kommun.kommunkod)
            .join(Visit, Visit.site_id == Site.id)
            .where(Site.sample_id == sample.id, Site.active.is_(True), Visit.status == GENOMFORD)
            .group_by(Kommun.lanskod)).all())
    return [{"lanskod": lan.lanskod, "lan": lan.namn, "sites": sites.get(lan.lanskod, 0),
             "visited": held.get(lan.lanskod, 0)}
            for lan in db.session.scalars(select(Lan).order_by(Lan.lanskod))]


def region(lanskod: str, as_of: date | None = None) -> dict[str, Any] | None:
    """The regional summary of a län (None for a län that does not exist).

    Keys: lanskod, lan, as_of, sample (bool: a sample is adopted), sites: [{label, kommunkod, group,
    visits: [{round, date, status, status_label, held}], themes: [{theme, passages}], plan: None or
    {goals, total, done, decided, ongoing, not_started, cancelled, share_done}}], visited (sites with
    a visit held), with_plan, plan_total {the same tally over all sites}, examples: [{text, source,
    round, themes}] (cleared good examples only)."""
    lan = db.session.get(Lan, lanskod) if isinstance(lanskod, str) and len(lanskod) <= 2 else None
    if lan is None:
        return None
    as_of = as_of or _today()
    sample = adopted_sample()
    out: dict[str, Any] = {"lanskod": lan.lanskod, "lan": lan.namn, "as_of": as_of.isoformat(),
                           "sample": sample is not None, "sites": [], "visited": 0, "with_plan": 0,
                           "plan_total": None, "examples": []}
    if sample is None:
        return out
    sites = db.session.scalars(
        select(Site).join(Kommun, Kommun.kommunkod == Site.kommunkod)
        .where(Site.sample_id == sample.id, Site.active.is_(True), Kommun.lanskod == lan.lanskod)
        .options(joinedload(Site.kommun)).order_by(Kommun.namn, Site.enhet)).all()
    ids = [s.id for s in sites]
    if not ids:
        return out
    labels = _status_labels()
    visits: dict[int, list[Visit]] = defaultdict(list)
    for v in db.session.scalars(select(Visit).where(Visit.site_id.in_(ids)).order_by(Visit.round, Visit.date)):
        visits[v.site_id].append(v)
    themes: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for site_id, name, n in db.session.execute(
            select(Visit.site_id, Theme.name, func.count(distinct(Passage.id))).select_from(Passage)
            .join(Note, Note.id == Passage.note_id).join(Visit, Visit.id == Note.visit_id)
            .join(PassageTheme, PassageTheme.passage_id == Passage.id).join(Theme, Theme.id == PassageTheme.theme_id)
            .where(Visit.site_id.in_(ids)).group_by(Visit.site_id, Theme.name)):
        themes[site_id].append((name, n))
    plans = {p.site_id: p for p in db.session.scalars(
        select(ActionPlan).where(ActionPlan.site_id.in_(ids))
        .options(selectinload(ActionPlan.goals).selectinload(PlanGoal.activities)))}
    every_activity = []
    for s in sites:
        vs = [{"round": v.round, "date": v.date.isoformat() if v.date else None, "status": v.status,
               "status_label": labels.get(v.status, v.status), "held": v.status == GENOMFORD}
              for v in visits.get(s.id, []) if v.status != INSTALLD]
        top = sorted(themes.get(s.id, []), key=lambda t: (-t[1], t[0]))[:SITE_THEMES]
        plan = plans.get(s.id)
        plan_row = None
        if plan is not None:
            acts = [a for g in plan.goals for a in g.activities]
            every_activity.extend(acts)
            t = tally(acts)
            plan_row = {"goals": len(plan.goals), "total": t.total, "done": t.done, "decided": t.decided,
                        "ongoing": t.ongoing, "not_started": t.not_started, "cancelled": t.cancelled,
                        "share_done": t.share_done}
        out["sites"].append({"site_id": s.id, "label": s.label, "kommunkod": s.kommunkod, "group": s.grupp, "visits": vs,
                             "themes": [{"theme": name, "passages": n} for name, n in top], "plan": plan_row})
    out["visited"] = sum(1 for row in out["sites"] if any(v["held"] for v in row["visits"]))
    out["with_plan"] = len(plans)
    if plans:
        t = tally(every_activity)
        out["plan_total"] = {"total": t.total, "done": t.done, "decided": t.decided, "share_done": t.share_done}

    passages = db.session.scalars(
        select(Passage).join(Note, Note.id == Passage.note_id).join(Visit, Visit.id == Note.visit_id)
        .where(Visit.site_id.in_(ids), Passage.gott_exempel.is_(True))
        .options(*_loads()).order_by(Visit.round, Visit.date, Passage.section, Passage.position, Passage.id)).unique()
    for q in present(passages):
        if not q.attributed:
            continue  # only what is cleared for the kommun's name: see the module's docstring
        p = q.passage
        out["examples"].append({"text": _excerpt(q.text), "source": q.source(), "round": p.note.visit.round,
                                "themes": [t.name for t in p.themes]})
    return out


# --------------------------------------------------------------------------- the whole country

def digest() -> dict[str, Any]:
    """The good-examples digest: every good example once, grouped by its first theme.

    Keys: generated (date), total, attributed, anonymised, forum (from dialogue forums),
    themes: [{theme, examples: [{text, source, attributed, themes (the others), from_event}]}]
    in theme order (by name; "Utan tema" last)."""
    from ..events.forms import KIND_LABELS  # as on the event pages

    kinds = {k: str(v).lower() for k, v in KIND_LABELS.items()}
    day = func.coalesce(Visit.date, Event.date)
    passages = db.session.scalars(
        select(Passage).join(Note, Note.id == Passage.note_id).outerjoin(Visit, Visit.id == Note.visit_id)
        .outerjoin(Event, Event.id == Note.event_id).where(Passage.gott_exempel.is_(True))
        .options(*_loads()).order_by(day, Passage.note_id, Passage.section, Passage.position, Passage.id)).unique()
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    counts: Counter = Counter()
    no_theme = _("Utan tema")
    for q in present(passages):
        p = q.passage
        names = sorted(t.name for t in p.themes)
        theme = names[0] if names else no_theme
        event = p.note.event
        kind = kinds.get(event.kind, event.kind) if event is not None else None
        groups[theme].append({"text": _excerpt(q.text), "source": q.source(kind), "attributed": q.attributed,
                              "themes": names[1:], "from_event": event is not None})
        counts["total"] += 1
        counts["attributed" if q.attributed else "anonymised"] += 1
        counts["forum"] += event is not None
    order = sorted(groups, key=lambda name: (name == no_theme, name.casefold()))
    return {"generated": _today().isoformat(), "total": counts["total"], "attributed": counts["attributed"],
            "anonymised": counts["anonymised"], "forum": counts["forum"],
            "themes": [{"theme": name, "examples": groups[name]} for name in order]}


# --------------------------------------------------------------------------- PDFs

def _author() -> str:
    return _("Nationella samordnaren för den sociala barn- och ungdomsvården")


def _page_label(page: int, pages: int) -> str:
    return _("Sida %(page)d av %(pages)d", page=page, pages=pages)


def _visits_text(visits: list[dict[str, Any]]) -> str:
    if not visits:
        return _("inget besök bokat")
    return "; ".join(_("omgång %(n)s: %(status)s %(date)s", n=v["round"], status=v["status_label"],
                       date=v["date"] or "").strip() for v in visits)


def plan_text(plan: dict[str, Any] | None) -> str:
    """A plan's progress in words: "3 av 8 aktiviteter genomförda (2 mål)"."""
    from ..i18n import locale
    if plan is None:
        return _("ingen handlingsplan än")
    if not plan["total"]:
        return _("handlingsplan utan aktiviteter än")
    from .. import pdf
    return _("%(done)s av %(total)s aktiviteter genomförda (%(pct)s)", done=plan["done"], total=plan["total"],
             pct=pdf.fmt_pct(plan["share_done"], locale()))


def region_pdf(data: dict[str, Any], generated: datetime | None = None) -> bytes:
    from reportlab.platypus import Paragraph

    from .. import pdf

    st = pdf.styles()
    generated = generated or datetime.now(timezone.utc)
    title = _("Regional sammanfattning: %(lan)s", lan=data["lan"])
    story: list = [Paragraph(pdf.esc(title), st["title"]),
                   Paragraph(pdf.esc(_("Återkoppling från den nationella samordnaren, %(date)s", date=data["as_of"])),
                             st["subtitle"])]
    story.append(Paragraph(pdf.esc(region_lead(data)), st["body"]))
    story.append(Paragraph(pdf.esc(_("Besökta platser")), st["h1"]))
    if data["sites"]:
        rows = [[_("Plats"), _("ÖJ-grupp"), _("Besök"), _("Teman i dialogen"), _("Handlingsplan")]]
        for s in data["sites"]:
            rows.append([s["label"], s["group"], _visits_text(s["visits"]),
                         ", ".join(t["theme"] for t in s["themes"]) or _("inga än"), plan_text(s["plan"])])
        story.append(pdf.table(rows, pdf.widths(18, 9, 25, 28, 20), align_right_cols=(1,)))
    else:
        story.append(Paragraph(pdf.esc(_("Inga platser i länet ingår i urvalet.")), st["body"]))
    story.append(Paragraph(pdf.esc(_("Goda exempel från länet")), st["h1"]))
    story.append(Paragraph(pdf.esc(region_examples_note()), st["small"]))
    _quote_story(story, data["examples"], st)
    if not data["examples"]:
        story.append(Paragraph(pdf.esc(_("Inga goda exempel från länet är godkända för att visas med kommunens namn än.")),
                               st["body"]))
    return pdf.build(story, title=title, author=_author(), subject=_("Regional sammanfattning"),
                     page_label=_page_label, footer_text=title, created=generated)


def _quote_story(story: list, examples: list[dict[str, Any]], st, as_pairs: bool = False) -> None:
    """Each example as its text in italics and a line of where it was said, kept together on a page
    (as_pairs: the two paragraphs as a list, for the caller to keep with more)."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph

    from .. import pdf

    quote = ParagraphStyle("quote", st["body"], leftIndent=6 * mm, fontName=pdf.FONT_ITALIC, spaceAfter=1)
    source = ParagraphStyle("source", st["small"], leftIndent=6 * mm, textColor=pdf.MUTED, spaceAfter=8)
    for e in examples:
        line = e["source"]
        if e.get("round"):
            line += ", " + _("omgång %(n)s", n=e["round"])
        if e.get("themes"):
            line += " · " + ", ".join(e["themes"])
        text = e["text"] if e["text"][:1] in QUOTE_MARKS else f"”{e['text']}”"
        pair = [Paragraph(pdf.esc(text), quote), Paragraph(pdf.esc(line), source)]
        story.append(pair if as_pairs else KeepTogether(pair))


def region_lead(data: dict[str, Any]) -> str:
    n = len(data["sites"])
    if not data["sample"]:
        return _("Inget urval är antaget än.")
    return _("%(n)s av länets kommuner och stadsdelar ingår i urvalet; %(visited)s av dem har haft besök. "
             "%(plans)s har en handlingsplan.", n=n, visited=data["visited"], plans=data["with_plan"])


def region_examples_note() -> str:
    return _("Här står bara de goda exempel som kommunen har godkänt att visas med sitt namn. Fler goda "
             "exempel, utan kommunernas namn, finns i sammanställningen för hela landet.")


def digest_lead(data: dict[str, Any]) -> str:
    return _("%(total)s goda exempel från samordnarens besök och dialogforum. %(named)s visas med kommunens "
             "namn efter kommunens godkännande; övriga står utan namn, som \"En kommun i grupp N\", där N är "
             "kommunens grupp i urvalet.", total=data["total"], named=data["attributed"])


def digest_pdf(data: dict[str, Any], generated: datetime | None = None) -> bytes:
    from reportlab.platypus import Paragraph

    from .. import pdf

    st = pdf.styles()
    generated = generated or datetime.now(timezone.utc)
    title = _("Goda exempel från hela landet")
    story: list = [Paragraph(pdf.esc(title), st["title"]),
                   Paragraph(pdf.esc(_("Sammanställt av den nationella samordnaren, %(date)s", date=data["generated"])),
                             st["subtitle"]),
                   Paragraph(pdf.esc(digest_lead(data)), st["body"])]
    from reportlab.platypus import KeepTogether
    for group in data["themes"]:
        pairs: list = []
        _quote_story(pairs, group["examples"], st, as_pairs=True)
        # The theme's heading stays with its first example: never stranded at the foot of a page.
        story.append(KeepTogether([Paragraph(pdf.esc(group["theme"]), st["h1"]), *pairs[0]]))
        story.extend(KeepTogether(pair) for pair in pairs[1:])
    if not data["themes"]:
        story.append(Paragraph(pdf.esc(_("Inga goda exempel är markerade än.")), st["body"]))
    return pdf.build(story, title=title, author=_author(), subject=title, page_label=_page_label,
                     footer_text=title, created=generated)
