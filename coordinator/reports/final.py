"""The final report (slutrapport) to Regeringskansliet (Socialdepartementet): its figures and its document.

Plain words: at the end of the assignment the office reports what it did, what it saw, what that
means, what it concludes and what it proposes. This module gathers what only the final report
needs (the sample protocol, the dialogue forums and their organisations, observations per dialogue
question and per theme, the questionnaire) into the figures dict, and lays the whole report out as
the same content blocks as the quarterly report (content.py), so the PDF (pdf.py), the HTML
(templates/reports/_body.html) and the Word file lay it out the same way.

The report, in order:
- cover: addressed to Regeringskansliet (Socialdepartementet), with the due date of the assignment;
- Sammanfattning: the generated findings, each with its denominator;
- 1 Uppdraget och arbetet: the sample and how it came about, visits per round, declines, the
  national dialogue, hearings, round tables and samråd, the measurement;
- 2 Iakttagelser: per dialogue question and per theme with quoted passages, good examples,
  obstacles and questions for the national level, and the measurement's national figures
  (design-weighted, beside the unweighted share of the visited: figures.py's "national");
- 3 Analys: round 1 against round 2; the action plans, decided against done; the avstämningar;
- 4 Slutsatser and 5 Förslag till åtgärder: the staff's texts (with revisions, as for the
  quarterly narratives; the staff's text also opens chapters 1-3);
- Bilaga 1 the sample protocol, Bilaga 2 the visited kommuner and districts, Bilaga 3 the
  organisations in dialogue, Bilaga 4 the questionnaire and its results.

Quoted passages: a passage appears once in the whole report, and is never attributed to its kommun
unless staff cleared it (figures._item blanks the names otherwise). `gather()` runs inside
figures.compute() for the final period and is plain counting over the database (no Flask pages);
`document()` reads the figures dict only, so an issued report renders again from its archive.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from ..i18n import _
from . import content
from .content import Figure, Para, Quotes, Section, Subheading, Text, of, of_pct, paragraphs
from .figures import num

ITEMS_PER_QUESTION = 2   # passages quoted per dialogue question
THEMES_DESCRIBED = 5     # the most frequent themes, each with a passage
ITEMS_PER_THEME = 1
ITEMS_PER_FLAG = 4       # good examples, obstacles, national questions
CANDIDATES = 200         # flagged passages considered per list (bounded)
TOP_PER_QUESTION = 3     # themes named per dialogue question
RECIPIENT = "Regeringskansliet (Socialdepartementet)"


# =========================================================================== figures (inside figures.compute)

def gather(c, data: dict[str, Any]) -> dict[str, Any]:
    """What only the final report shows, JSON-serialisable; `c` is figures._Ctx for the final period."""
    used = _Quoted()
    questions = _questions(c, used)
    themes = _themes(c, data, used)
    examples = {flag: _pick(c, _flag_filter(flag), ITEMS_PER_FLAG, used, events=True)
                for flag in ("gott_exempel", "hinder", "nationell_fraga")}
    return {"protocol": _protocol(), "events": _events(c), "organisations": _organisations(c),
            "questions": questions, "themes": themes, "examples": examples,
            "questionnaires": _questionnaires(c)}


def _protocol() -> dict[str, Any] | None:
    """The adopted sample's protocol as plain values (the sampling pages show the same)."""
    from ..sampling.design import REFERENCES
    from ..sampling.service import adopted_sample, protocol_context

    sample = adopted_sample()
    if sample is None:
        return None
    ctx = protocol_context(sample)
    last_group = ctx["groups"][-1]["number"] if ctx["groups"] else None
    sites = []
    for row in ctx["sites"]:
        s = row["site"]
        enhet = s.enhet or (_("central förvaltning") if s.grupp == last_group and row["kommun"].stadsdelar else "")
        state = row.get("state")
        status = (_("ersättare, ångrad") if state == "tillbaka" else _("avböjde") if not s.active
                  else _("ersättare") if s.replaces_id else _("med"))
        sites.append({"group": s.grupp, "kommun": row["kommun"].namn, "kommunkod": s.kommunkod, "enhet": enhet,
                      "lan": row["lan"], "folkmangd": row["folkmangd"], "pi": row["pi"], "weight": row["weight"],
                      "status": status, "active": s.active})
    diag = ctx.get("diagnostics") or {}
    return {
        "name": sample.name, "drawn": ctx["drawn"], "reference_year": sample.reference_year,
        "frame_size": ctx["frame_size"], "lan_count": ctx["lan_count"], "frame_source": sample.frame_source or "",
        "seed": sample.seed if ctx["drawn"] else None,
        "adopted_at": sample.adopted_at.date().isoformat() if sample.adopted_at else None,
        "method": paragraphs(ctx["method_text"]) if ctx["method_text"] else [],
        "references": list(REFERENCES) if ctx["drawn"] else [],
        "groups": [{k: g[k] for k in ("number", "lower", "upper", "size", "allocation", "take_all", "kommuner",
                                      "sites")} for g in ctx["groups"]],
        "sites": sites, "active": ctx["active_count"],
        "per_lan": [{"lan": r["lan"], "kommuner": r["kommuner"]} for r in ctx["per_lan"]],
        "declines": [{"date": d.declined_on.isoformat(), "site": d.site.label, "reason": d.reason,
                      "replacement": d.replacement.label if d.replacement else None,
                      "undone": d.undone_at is not None} for d in ctx["declines"]],
        "sb": diag.get("sb"),
    }


def _events(c) -> list[dict[str, Any]]:
    """The dialogue forums held during the assignment, with the organisations invited and attending."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from ..events.models import GENOMFORT, Event, EventOrganisation
    from ..extensions import db
    from .figures import _event_kind_labels

    kinds = _event_kind_labels()
    rows = db.session.scalars(
        select(Event).where(Event.status == GENOMFORT, Event.date >= c.start, Event.date <= c.end)
        .options(selectinload(Event.organisations).joinedload(EventOrganisation.organisation))
        .order_by(Event.date, Event.id))
    return [{"date": e.date.isoformat(), "kind": e.kind, "kind_label": kinds.get(e.kind, e.kind), "title": e.title,
             "invited": len(e.organisations), "attended": sum(1 for eo in e.organisations if eo.attended)}
            for e in rows]


def _organisations(c) -> list[dict[str, Any]]:
    """Every organisation invited to a forum held during the assignment: how often invited and attending."""
    from sqlalchemy import func, select

    from ..events.forms import ORGANISATION_KIND_LABELS
    from ..events.models import GENOMFORT, Event, EventOrganisation, Organisation
    from ..extensions import db

    rows = db.session.execute(
        select(Organisation.name, Organisation.kind, func.count(EventOrganisation.event_id),
               func.sum(_attended()))
        .join(EventOrganisation, EventOrganisation.organisation_id == Organisation.id)
        .join(Event, Event.id == EventOrganisation.event_id)
        .where(Event.status == GENOMFORT, Event.date >= c.start, Event.date <= c.end)
        .group_by(Organisation.id, Organisation.name, Organisation.kind).order_by(Organisation.name)).all()
    return [{"name": name, "kind": str(ORGANISATION_KIND_LABELS.get(kind, kind)), "invited": invited,
             "attended": int(attended or 0)} for name, kind, invited, attended in rows]


def _attended():
    from sqlalchemy import case

    from ..events.models import EventOrganisation
    return case((EventOrganisation.attended.is_(True), 1), else_=0)


def _flag_filter(flag: str):
    from ..dialogue.models import Passage
    return getattr(Passage, flag).is_(True)


def _any_flag():
    from ..dialogue.models import Passage
    return Passage.citat.is_(True) | Passage.gott_exempel.is_(True) | Passage.hinder.is_(True) | \
        Passage.nationell_fraga.is_(True)


class _Quoted:
    """The passages quoted so far in the report, and their words: a passage (or the same words from another
    note) is quoted once."""

    def __init__(self):
        self.ids: set[int] = set()
        self.texts: set[str] = set()

    @staticmethod
    def words(text: str) -> str:
        return " ".join(text.lower().split())

    def fresh(self, row) -> bool:
        return row.id not in self.ids and self.words(row.text) not in self.texts

    def add(self, row) -> None:
        self.ids.add(row.id)
        self.texts.add(self.words(row.text))


def _pick(c, where, limit: int, used: _Quoted, events: bool = False) -> list[dict[str, Any]]:
    """Up to `limit` passages matching `where` that are not quoted elsewhere in the report (by passage or by
    words): quotes that many said first, then other quotes, good examples, the rest; the most recent first;
    one per note before a second from the same note. Each passage chosen is added to `used`."""
    from sqlalchemy import case

    from ..dialogue.models import Passage
    from ..events.models import Event
    from ..extensions import db
    from ..scheduling.models import Visit
    from .figures import _event_kind_labels, _flag_labels, _from_passages, _item, _scoped, quotes_of

    rank = case((Passage.citat.is_(True) & (Passage.quote_reason == "manga"), 0), (Passage.citat.is_(True), 1),
                (Passage.gott_exempel.is_(True), 2), else_=3)
    candidates = []
    for kind, when in (("visit", Visit.date), ("event", Event.date)) if events else (("visit", Visit.date),):
        stmt = _scoped(_from_passages(Passage.id, Passage.note_id, Passage.text, rank.label("rank"),
                                      when.label("day")).where(where), kind, c, None)
        if used.ids:
            stmt = stmt.where(Passage.id.not_in(sorted(used.ids)))
        candidates.extend(db.session.execute(stmt.order_by(rank, when.desc(), Passage.id.desc())
                                             .limit(CANDIDATES)).all())
    candidates.sort(key=lambda row: (row.rank, -row.day.toordinal(), -row.id))
    chosen: list[int] = []
    notes: set[int] = set()
    for row in candidates:
        if len(chosen) < limit and row.note_id not in notes and used.fresh(row):
            chosen.append(row.id)
            notes.add(row.note_id)
            used.add(row)
    for row in candidates:
        if len(chosen) < limit and used.fresh(row):
            chosen.append(row.id)
            used.add(row)
    labels, kinds = _flag_labels(), _event_kind_labels()
    return [{**_item(q, labels, kinds), "passage": q.passage.id, "quote": bool(q.passage.citat)}
            for q in quotes_of(chosen)]


def _questions(c, used: _Quoted) -> list[dict[str, Any]]:
    """Per dialogue question: the visit notes and sites that discussed it, its themes and a few passages."""
    from sqlalchemy import distinct, func, select

    from ..dialogue.models import DialogueQuestion, Note, Passage, PassageTheme, Theme
    from ..extensions import db
    from ..scheduling.models import Visit
    from .figures import _from_passages, _scoped

    out = []
    questions = db.session.scalars(select(DialogueQuestion).where(DialogueQuestion.active)
                                   .order_by(DialogueQuestion.nr)).all()
    counts = {section: (n, p, s) for section, n, p, s in db.session.execute(_scoped(
        _from_passages(Passage.section, func.count(distinct(Note.id)), func.count(distinct(Passage.id)),
                       func.count(distinct(Visit.site_id))), "visit", c, None).group_by(Passage.section))}
    theme_counts: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for section, name, n in db.session.execute(_scoped(
            _from_passages(Passage.section, Theme.name, func.count(distinct(Note.id)))
            .join(PassageTheme, PassageTheme.passage_id == Passage.id)
            .join(Theme, Theme.id == PassageTheme.theme_id), "visit", c, None)
            .group_by(Passage.section, Theme.name)):
        theme_counts[section].append((name, n))
    for q in questions:
        section = f"fraga-{q.nr}"
        notes, passages, sites = counts.get(section, (0, 0, 0))
        top = sorted(theme_counts.get(section, []), key=lambda t: (-t[1], t[0]))[:TOP_PER_QUESTION]
        out.append({"nr": q.nr, "lagrum": q.lagrum, "question": q.fraga, "notes": notes, "passages": passages,
                    "sites": sites, "themes": [{"theme": t, "notes": k} for t, k in top],
                    "items": _pick(c, (Passage.section == section) & _any_flag(), ITEMS_PER_QUESTION, used)})
    return out


def _themes(c, data: dict[str, Any], used: _Quoted) -> list[dict[str, Any]]:
    """The most frequent themes: the sites where they came up, and a passage each."""
    from sqlalchemy import distinct, func, select

    from ..dialogue.models import Passage, PassageTheme, Theme
    from ..extensions import db
    from ..scheduling.models import Visit
    from .figures import _from_passages, _scoped

    top = [t for t in data["dialogue"]["themes_to_date"] if t["notes"]][:THEMES_DESCRIBED]
    names = [t["theme"] for t in top]
    if not names:
        return []
    sites = dict(db.session.execute(_scoped(
        _from_passages(Theme.name, func.count(distinct(Visit.site_id)))
        .join(PassageTheme, PassageTheme.passage_id == Passage.id)
        .join(Theme, Theme.id == PassageTheme.theme_id).where(Theme.name.in_(names)), "visit", c, None)
        .group_by(Theme.name)).all())
    out = []
    for t in top:
        ids = select(PassageTheme.passage_id).join(Theme, Theme.id == PassageTheme.theme_id) \
            .where(Theme.name == t["theme"])
        out.append({"theme": t["theme"], "category": t["category"], "notes": t["notes"],
                    "event_notes": t["event_notes"], "sites": sites.get(t["theme"], 0),
                    "items": _pick(c, Passage.id.in_(ids) & _any_flag(), ITEMS_PER_THEME, used, events=True)})
    return out


def _questionnaires(c) -> list[dict[str, Any]]:
    """The questionnaires answered during the assignment, question by question (Bilaga 4)."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from ..extensions import db
    from ..measurement.forms import KIND_LABELS
    from ..measurement.models import MeasurementRequest, Questionnaire

    ids = select(MeasurementRequest.questionnaire_id).where(MeasurementRequest.submitted_at.is_not(None))
    out = []
    for q in db.session.scalars(select(Questionnaire).where(Questionnaire.id.in_(ids))
                                .options(selectinload(Questionnaire.questions))
                                .order_by(Questionnaire.name, Questionnaire.id)):
        out.append({"id": q.id, "name": q.name, "round": q.round, "intro": q.intro,
                    "questions": [{"position": x.position, "text": x.text, "kind": str(KIND_LABELS.get(x.kind, x.kind)),
                                   "options": list(x.options or []) + ([_("Annat, ange")] if x.other_option else []),
                                   "required": x.required}
                                  for x in sorted(q.questions, key=lambda x: x.position)]})
    return out


# =========================================================================== the document

def document(data: dict[str, Any], narratives: dict[str, str], status: dict[str, Any]) -> content.Document:
    """The final report as content blocks (the quarterly report's types), numbered chapters and appendices."""
    from ..formatting import fmt_dt

    p = data["period"]
    f = data["final"]
    extra = f.get("report") or {}
    draft = bool(status.get("draft")) or "version" not in status
    if draft:
        day = fmt_dt(content._parse(data["generated_at"]), fmt="%Y-%m-%d")
        status_line = _("Utkast, inte utfärdat. Siffrorna är framräknade %(at)s och ändras när uppgifterna ändras.",
                        at=fmt_dt(content._parse(data["generated_at"])))
    else:
        day = fmt_dt(content._parse(status["issued_at"]), fmt="%Y-%m-%d")
        status_line = _("Version %(n)s, utfärdad %(at)s av %(who)s.", n=status["version"],
                        at=fmt_dt(content._parse(status["issued_at"])), who=status.get("issued_by") or "–")
    a = data["assignment"]
    facts = [(_("Till"), _("Regeringskansliet (Socialdepartementet)")),
             (_("Uppdraget"), f"{a['name']} ({content.span(a['start'], a['end'])})"),
             (_("Ska lämnas senast"), a["final_report_due"] or "–"), (_("Datum"), day), (_("Status"), status_line)]
    if not draft and status.get("comment"):
        facts.append((_("Ändringar i denna version"), status["comment"]))
    facts.append((_("Underlag"), _("Besök, anteckningar och svar till och med %(end)s. Handlingsplaner visas som de "
                                   "är %(as_of)s.", end=p["end"], as_of=data["as_of"])))

    n = content._Numbers()
    texts = narratives or {}
    chapters = [
        (_("Uppdraget och arbetet"), "slut-uppdraget", _chapter_work(data, extra, texts, n)),
        (_("Iakttagelser"), "slut-iakttagelser", _chapter_observations(data, extra, texts, n)),
        (_("Analys"), "slut-analys", _chapter_analysis(data, texts, n)),
        (_("Slutsatser"), "slut-slutsatser", [_narrative(texts, "slutsatser")]),
        (_("Förslag till åtgärder"), "slut-forslag", [_narrative(texts, "atgarder")]),
    ]
    sections = [Section(i, t, anchor, blocks, new_page=True) for i, (t, anchor, blocks) in enumerate(chapters, 1)]
    appendices = [
        (_("Urvalsprotokollet"), "bilaga-urval", _appendix_protocol(extra, n)),
        (_("De besökta kommunerna och stadsdelarna"), "bilaga-besoksplatser", _appendix_sites(data, n)),
        (_("Organisationerna i dialogen"), "bilaga-organisationer", _appendix_organisations(extra, n)),
        (_("Formuläret och resultaten"), "bilaga-formular", _appendix_questionnaire(data, extra, n)),
    ]
    sections += [Section(_("Bilaga %(n)s", n=i), t, anchor, blocks, new_page=True)
                 for i, (t, anchor, blocks) in enumerate(appendices, 1)]
    title = _("Slutrapport")
    footer = f"{title} – " + (_("UTKAST") if draft else _("version %(n)s", n=status["version"]))
    return content.Document(kind=data["kind"], lang=content.locale().replace("_", "-"), title=title,
                            period=p["label"], period_span=content.span(p["start"], p["end"]),
                            assignment=a["name"], recipient=_("Till Regeringskansliet (Socialdepartementet)"),
                            date=day, draft=draft, status_line=status_line, facts=facts,
                            summary=list(data["summary"]), sections=sections, footer=footer)


def _narrative(texts: dict[str, str], section: str) -> Text:
    return Text(paragraphs(texts.get(section)), _("Ingen text är skriven för detta avsnitt."))


def _sub(number: str, text: str, anchor: str) -> Subheading:
    return Subheading(f"{number}\u2002{text}", anchor)


# --------------------------------------------------------------------------- 1 Uppdraget och arbetet

def _chapter_work(data, extra, texts, n) -> list:
    blocks: list = [_narrative(texts, "uppdraget")]
    proto = extra.get("protocol")
    blocks.append(_sub("1.1", _("Urvalet och hur det kom till"), "slut-urvalet"))
    if data["sample"] is None or proto is None:
        blocks.append(Para(_("Inget urval av besöksplatser är antaget.")))
        return blocks + _forums(extra, n, "1.2") + _measurement_account(data, extra, "1.3")
    how = _("Urvalet drogs som ett kontrollerat urval med geografisk spridning inom Öppna jämförelsers "
            "befolkningsgrupper.") if proto["drawn"] else _("Urvalet valdes för hand och prövades mot samma regler "
                                                              "som en dragning.")
    blocks.append(Para(how + " " + _(
        "Ramen var %(frame)s kommuner i %(lan)s län med folkmängden den 31 december %(year)s. Urvalet har "
        "%(sites)s besöksplatser i %(kommuner)s kommuner; alla län är med.", frame=num(proto["frame_size"]),
        lan=num(proto["lan_count"]), year=proto["reference_year"], sites=num(data["sample"]["sites"]),
        kommuner=num(data["sample"]["kommuner"])) + " " + _("Hela urvalsprotokollet finns i bilaga 1.")))
    blocks.append(_group_table(proto, n))
    blocks.append(_sub("1.2", _("Besöken per omgång"), "slut-besoken"))
    blocks += content._visits(data, n, True)
    blocks.append(_sub("1.3", _("Avböjanden och ersättare"), "slut-avbojanden"))
    blocks.append(Para(_("En kommun som avböjde ersattes av den första reserven i samma grupp som höll alla regler. "
                         "Ersättaren får den avböjande kommunens vikt när siffror för hela landet räknas fram.")))
    blocks += content._declines(data, n, True)
    return blocks + _forums(extra, n, "1.4") + _measurement_account(data, extra, "1.5")


def _group_table(proto, n) -> content.Table:
    rows = []
    for g in proto["groups"]:
        band = _("minst %(n)s", n=num(g["lower"])) if g["upper"] is None else f"{num(g['lower'])}–{num(g['upper'])}"
        rows.append([_("Grupp %(g)s", g=g["number"]), band, num(g["size"]),
                     _("alla") if g["take_all"] else num(g["allocation"]), num(g["kommuner"]), num(g["sites"])])
    rows.append([_("Alla grupper"), "", num(sum(g["size"] for g in proto["groups"])), "",
                 num(sum(g["kommuner"] for g in proto["groups"])), num(sum(g["sites"] for g in proto["groups"]))])
    return content.Table(n.table(), _("Urvalet per ÖJ-grupp: kommuner i landet, antal att välja, valda kommuner och "
                                      "besöksplatser."),
                         [_("ÖJ-grupp"), _("Invånare"), _("Kommuner i landet"), _("Att välja"), _("Valda kommuner"),
                          _("Besöksplatser")], rows, [1.1, 1.5, 1, 0.9, 1, 1], numeric=(2, 3, 4, 5), total=True)


def _forums(extra, n, number: str) -> list:
    events = extra.get("events") or []
    blocks: list = [_sub(number, _("Nationell dialog, hearingar, rundabordssamtal och samråd"), "slut-dialogforum")]
    if not events:
        return blocks + [Para(_("Inga dialogforum hölls under uppdraget."))]
    kinds = Counter(e["kind_label"] for e in events)
    orgs = extra.get("organisations") or []
    blocks.append(Para(_("Utöver besöken hölls %(n)s dialogforum: %(kinds)s. %(orgs)s organisationer bjöds in; de "
                         "finns i bilaga 3.", n=num(len(events)),
                         kinds=", ".join(f"{k} {num(v)}" for k, v in sorted(kinds.items())), orgs=num(len(orgs)))))
    blocks.append(content.Table(
        n.table(), _("Dialogforum under uppdraget: inbjudna organisationer och de som deltog."),
        [_("Datum"), _("Form"), _("Dialogforum"), _("Inbjudna"), _("Deltog")],
        [[e["date"], e["kind_label"], e["title"], num(e["invited"]), of(e["attended"], e["invited"])]
         for e in events], [1, 1.45, 2.6, 0.8, 0.9], numeric=(3, 4), row_headers=False))
    return blocks


def _measurement_account(data, extra, number: str) -> list:
    tables = data["measurement"]["tables"]
    blocks: list = [_sub(number, _("Mätningen före besöken"), "slut-matningen")]
    if not tables:
        return blocks + [Para(_("Inga svar på förmätningen kom in under uppdraget."))]
    asked = {}
    for t in tables:
        key = (t["questionnaire"], t["round"])
        asked[key] = max(asked.get(key, 0), t["asked"])
    parts = [(_("%(name)s, omgång %(r)s: %(n)s svar", name=name, r=r, n=num(k)) if r
              else _("%(name)s: %(n)s svar", name=name, n=num(k))) for (name, r), k in asked.items()]
    text = _("Före besöken besvarade kommunerna ett kort formulär, så att varje dialog började från samma grund. "
             "Inlämnade formulär: %(parts)s.", parts="; ".join(parts))
    if _national(data):
        text += " " + _("Siffror som gäller hela landet är vägda med urvalets designvikter (1/π) och redovisas med "
                        "ett 95-procentigt konfidensintervall bredvid andelen av de besökta; metoden beskrivs i "
                        "bilaga 4.")
    else:
        text += " " + _("Andelarna gäller de kommuner som svarade, inte hela landet.")
    return blocks + [Para(text + " " + _("Formuläret och alla resultat finns i bilaga 4."))]


# --------------------------------------------------------------------------- 2 Iakttagelser

def _chapter_observations(data, extra, texts, n) -> list:
    blocks: list = [_narrative(texts, "iakttagelser")]
    notes = data["dialogue"]["notes"]["to_date"]
    blocks.append(_sub("2.1", _("Iakttagelser per dialogfråga"), "slut-dialogfragor"))
    blocks.append(Para(_("Dialogerna följde samma frågor, förankrade i socialtjänstlagen. Anteckningar finns från "
                         "%(v)s besök. För varje fråga anges i hur många besöksanteckningar den togs upp, de "
                         "vanligaste temana och några passager ur anteckningarna.", v=num(notes["visits"]))))
    for q in extra.get("questions") or []:
        blocks.append(Subheading(_("Fråga %(nr)s: %(question)s", nr=q["nr"], question=q["question"]),
                                 f"slut-fraga-{q['nr']}", level=3))
        text = _("Lagrum: %(lagrum)s. Frågan togs upp i %(notes)s besöksanteckningar på %(sites)s besöksplatser "
                 "(%(passages)s).", lagrum=q["lagrum"], notes=of_pct(q["notes"], notes["visits"]),
                 sites=num(q["sites"]), passages=content.passages(q["passages"]))
        if q["themes"]:
            text += " " + _("Vanligaste teman: %(themes)s.", themes=", ".join(
                _("%(theme)s (%(n)s anteckningar)", theme=t["theme"], n=num(t["notes"])) for t in q["themes"]))
        blocks.append(Para(text))
        if q["items"]:
            blocks += _quotes(q["items"])
    blocks.append(_sub("2.2", _("Iakttagelser per tema"), "slut-teman"))
    dl = data["dialogue"]
    if dl["themes_to_date"]:
        blocks.append(Para(_("Ett tema räknas en gång i varje anteckning där det förekommer, av antalet "
                             "anteckningar. Tabellen och figuren gäller de besökta platserna och är inte vägda.")))
        blocks.append(content._theme_table(dl["themes_to_date"], dl["notes"]["to_date"], n.table(),
                                           _("De vanligaste temana under hela uppdraget.")))
        # The chart by ÖJ group as the quarterly report draws it (its other blocks are not used here).
        themes_fig = [b for b in content._dialogue(data, content._Numbers(), True) if isinstance(b, Figure)]
        for fig in themes_fig:
            fig.number = n.figure()
            blocks.append(fig)
    else:
        blocks.append(Para(_("Inga anteckningar med teman finns.")))
    for t in extra.get("themes") or []:
        blocks.append(Subheading(t["theme"], f"slut-tema-{_slug(t['theme'])}", level=3))
        blocks.append(Para(_("%(theme)s (%(category)s) förekommer i %(notes)s besöksanteckningar, på %(sites)s "
                             "besöksplatser, och i %(events)s anteckningar från dialogforum.", theme=t["theme"],
                             category=t["category"], notes=of_pct(t["notes"], notes["visits"]),
                             sites=num(t["sites"]), events=num(t["event_notes"]))))
        if t["items"]:
            blocks += _quotes(t["items"])
    blocks.append(_sub("2.3", _("Goda exempel, hinder och frågor för nationell nivå"), "slut-exempel"))
    headings = {"gott_exempel": _("Goda exempel"), "hinder": _("Hinder"),
                "nationell_fraga": _("Frågor för nationell nivå")}
    flags = dl["flags"]
    for flag, items in (extra.get("examples") or {}).items():
        blocks.append(Subheading(headings[flag], f"slut-{flag.replace('_', '-')}", level=3))
        c = flags[flag]["to_date"]
        blocks.append(Para(_("Under uppdraget markerades %(passages)s i %(n)s besöksanteckningar och %(events)s "
                             "från dialogforum.", passages=content.passages(c["passages"]), n=num(c["notes"]),
                             events=content.passages(c["event_passages"]))
                           + (" " + _("Här visas %(n)s som inte citeras på annat ställe i rapporten.",
                                      n=num(len(items))) if items else "")))
        if items:
            blocks.append(Quotes(items, quote=False))
    blocks.append(_sub("2.4", _("Förmätningen: siffror för hela landet"), "slut-nationella-siffror"))
    blocks += _national_figures(data, n)
    blocks.append(Para(_("Citat och exempel anges utan kommunens namn, som ”en kommun i grupp 2”, om inte kansliet "
                         "har bedömt att namnet kan anges. Kommunens namn är då också borttaget ur texten. En passage "
                         "citeras bara en gång i rapporten. Långa passager är förkortade (…)."), style="small"))
    return blocks


def _slug(text: str) -> str:
    import re
    import unicodedata
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-") or "tema"


def _quotes(items: list[dict]) -> list:
    """Passages marked as quotes in quotation marks, the others as described examples."""
    quoted = [i for i in items if i.get("quote")]
    other = [i for i in items if not i.get("quote")]
    return ([Quotes(quoted, quote=True)] if quoted else []) + ([Quotes(other, quote=False)] if other else [])


def _national(data) -> bool:
    """The figures have design-weighted national estimates (figures.py's "national"; not in reports issued
    before it existed, and not without a drawn sample)."""
    return bool((data.get("national") or {}).get("estimates"))


def _national_figures(data, n) -> list:
    """The weighted national tables as the quarterly report prints them (content._national), under 2.4: its
    own heading and the method are left out here (the method is in Bilaga 4), its subheadings one level down."""
    if not data["measurement"]["tables"]:
        return [Para(_("Inga svar på förmätningen kom in under uppdraget."))]
    if not _national(data):
        return [Para(_("Förmätningens andelar gäller de kommuner som svarade och är inte skattningar för hela landet: "
                       "urvalet tog med alla storstäder och fler små län än ett slumpmässigt urval skulle ha gjort. "
                       "Resultaten per fråga finns i bilaga 4."))]
    blocks: list = [Para(_("Siffror som gäller hela landet är vägda med urvalsdesignens vikter (1/π) och har ett "
                           "95-procentigt konfidensintervall (KI). Bredvid står den ovägda andelen bland de besökta "
                           "kommuner som svarade. Hur riksskattningarna räknas beskrivs i bilaga 4."))]
    for block in content._national(data, n):
        if isinstance(block, Subheading) and block.anchor == "rapport-riksskattningar-metod":
            break  # the method and the unweighted answers follow: Bilaga 4 has them
        if isinstance(block, content.Table):
            blocks.append(block)  # the tables (their own heading and opening words are replaced above)
    return blocks


# --------------------------------------------------------------------------- 3 Analys

def _chapter_analysis(data, texts, n) -> list:
    blocks: list = [_narrative(texts, "analys")]
    blocks.append(_sub("3.1", _("Omgång 1 jämfört med omgång 2"), "slut-omgangar"))
    if data["sample"] is None:
        blocks.append(Para(_("Inget urval av besöksplatser är antaget.")))
    else:
        blocks += content._comparison(data, n)
    rounds = content._measurement_rounds(data["measurement"]["tables"], n)
    blocks += [b for b in rounds if not isinstance(b, Subheading)]
    blocks.append(_sub("3.2", _("Handlingsplanerna: beslutat och genomfört"), "slut-handlingsplaner"))
    if data["sample"] is not None:
        blocks += content._plans(data, n)
        blocks += content._plans_by_site(data, n)
    blocks.append(_sub("3.3", _("Avstämningar med statsrådet"), "slut-avstamningar"))
    if "avstamningar" in data:
        for block in content._avstamningar(data, n):
            if isinstance(block, Subheading):
                block.level = 3  # under 3.3
            blocks.append(block)
    return blocks


# --------------------------------------------------------------------------- appendices

def _appendix_protocol(extra, n) -> list:
    proto = extra.get("protocol")
    if proto is None:
        return [Para(_("Inget urval av besöksplatser är antaget."))]
    facts = [_("Urval: %(name)s.", name=proto["name"]),
             _("Referensår: %(year)s (folkmängd 31 december).", year=proto["reference_year"]),
             _("Urvalsram: %(n)s kommuner i %(l)s län.", n=num(proto["frame_size"]), l=num(proto["lan_count"]))
             + (" " + proto["frame_source"] if proto["frame_source"] else "")]
    if proto["seed"] is not None:
        facts.append(_("Slumpfrö: %(seed)s.", seed=proto["seed"]))
    if proto["adopted_at"]:
        facts.append(_("Antaget: %(day)s.", day=proto["adopted_at"]))
    blocks: list = [Para(" ".join(facts))]
    if proto["method"]:
        blocks.append(Subheading(_("Metod"), "bilaga-urval-metod"))
        blocks += [Para(p) for p in proto["method"]]
    blocks.append(Para(_("En ersättare efter ett avböjande ärver vikten hos den besöksplats den ersätter "
                         "(substitution). Stadsdelarna i de stora städerna redovisas för sig; stadens centrala "
                         "förvaltning svarar för kommunen.")))
    if proto["references"]:
        blocks.append(Subheading(_("Referenser"), "bilaga-urval-referenser"))
        blocks += [Para(r, style="small") for r in proto["references"]]
    blocks.append(Subheading(_("Grupper och fördelning"), "bilaga-urval-grupper"))
    blocks.append(_group_table(proto, n))
    blocks.append(Subheading(_("Besöksplatserna och deras vikter"), "bilaga-urval-platser"))
    head = [_("Grupp"), _("Kommun"), _("Enhet"), _("Län"), _("Folkmängd")]
    if proto["drawn"]:
        head += ["π", _("Vikt")]
    head.append(_("Status"))
    rows = []
    for s in proto["sites"]:
        cells = [num(s["group"]), s["kommun"], s["enhet"] or "–", s["lan"], num(s["folkmangd"])]
        if proto["drawn"]:
            cells += [_dec4(s["pi"]), content._dec(s["weight"]) if s["weight"] else "–"]
        rows.append(cells + [s["status"]])
    widths = [0.75, 1.45, 1.4, 1.5, 1.15, 0.8, 0.7, 1] if proto["drawn"] else [0.75, 1.7, 1.6, 1.8, 1.15, 1]
    caption = _("Besöksplatserna i urvalet. π är kommunens sannolikhet att komma med; vikten är 1/π.") \
        if proto["drawn"] else _("Besöksplatserna i urvalet (handplockat: inga urvalssannolikheter).")
    blocks.append(content.Table(n.table(), caption, head, rows, widths,
                                numeric=(0, 4, 5, 6) if proto["drawn"] else (0, 4), row_headers=False))
    blocks.append(Subheading(_("Valda kommuner per län"), "bilaga-urval-lan"))
    blocks.append(content.Table(n.table(), _("Valda kommuner per län (alla %(n)s län ska vara med).",
                                             n=num(proto["lan_count"])),
                                [_("Län"), _("Kommuner")], [[r["lan"], num(r["kommuner"])] for r in proto["per_lan"]],
                                [3, 1], numeric=(1,)))
    if proto["sb"] is not None:
        blocks.append(Para(_("Rumslig balans (Stevens och Olsen, sb; lägre är jämnare spritt): %(sb)s.",
                             sb=_dec3(proto["sb"]))))
    blocks.append(Subheading(_("Avböjanden och ersättare"), "bilaga-urval-avbojanden"))
    if proto["declines"]:
        blocks.append(content.Table(
            n.table(), _("Avböjanden i den ordning de registrerades."),
            [_("Datum"), _("Avböjde"), _("Skäl"), _("Ersattes av")],
            [[d["date"], d["site"] + (" " + _("(ångrat)") if d["undone"] else ""), d["reason"],
              d["replacement"] or _("ingen reserv uppfyller reglerna")] for d in proto["declines"]],
            [1, 1.6, 2.4, 1.6], row_headers=False))
    else:
        blocks.append(Para(_("Inga avböjanden.")))
    return blocks


def _dec4(x) -> str:
    from ..formatting import fmt_dec
    if x is None:
        return "–"
    return fmt_dec(x, 4) if content.locale().startswith("sv") else f"{x:.4f}"


def _dec3(x) -> str:
    from ..formatting import fmt_dec
    return fmt_dec(x, 3) if content.locale().startswith("sv") else f"{x:.3f}"


def _appendix_sites(data, n) -> list:
    sites = sorted(data["map"]["sites"], key=lambda s: (s["group"], s["site"]))
    if not sites:
        return [Para(_("Inget urval av besöksplatser är antaget."))]

    def visit(s, r):
        return next((f"{v['date'] or _('inget datum')}, {v['status_label']}" for v in s["visits"]
                     if v["round"] == r), "–")
    return [Para(_("%(n)s besöksplatser i %(k)s kommuner, ordnade efter ÖJ-grupp. Datum och status för besöket i "
                   "varje omgång.", n=num(len(sites)), k=num(len({s["kommunkod"] for s in sites})))),
            content.Table(n.table(), _("De besökta kommunerna och stadsdelarna."),
                          [_("Besöksplats"), _("Län"), _("ÖJ-grupp"), _("Omgång 1"), _("Omgång 2")],
                          [[s["site"], s["lan"], num(s["group"]), visit(s, 1), visit(s, 2)] for s in sites],
                          [1.75, 1.35, 0.65, 1.85, 1.85], numeric=(2,))]


def _appendix_organisations(extra, n) -> list:
    orgs = extra.get("organisations") or []
    if not orgs:
        return [Para(_("Inga organisationer bjöds in till dialogforum under uppdraget."))]
    return [Para(_("Organisationer, myndigheter och forskare som bjöds in till den nationella dialogen, hearingar, "
                   "rundabordssamtal och samråd under uppdraget.")),
            content.Table(n.table(), _("Organisationerna i dialogen: antal dialogforum de bjöds in till och deltog i."),
                          [_("Organisation"), _("Slag"), _("Inbjuden"), _("Deltog")],
                          [[o["name"], o["kind"], num(o["invited"]), of(o["attended"], o["invited"])] for o in orgs],
                          [3, 1.4, 0.8, 0.9], numeric=(2, 3))]


def _appendix_questionnaire(data, extra, n) -> list:
    qs = extra.get("questionnaires") or []
    blocks: list = []
    if not qs:
        return [Para(_("Inget formulär besvarades under uppdraget."))]
    for q in qs:
        name = _("%(name)s (omgång %(r)s)", name=q["name"], r=q["round"]) if q["round"] else q["name"]
        blocks.append(Subheading(name, f"bilaga-formular-{q['id']}"))
        if q["intro"]:
            blocks += [Para(p) for p in paragraphs(q["intro"])]
        blocks.append(content.Table(
            n.table(), _("Formulärets frågor: %(name)s.", name=q["name"]),
            [_("Nr"), _("Fråga"), _("Svarssätt"), _("Svarsalternativ")],
            [[num(x["position"]), x["text"], x["kind"], "; ".join(x["options"]) or "–"] for x in q["questions"]],
            [0.4, 3, 0.9, 2.2], numeric=(0,), row_headers=False))
    blocks.append(Subheading(_("Resultaten"), "bilaga-formular-resultat"))
    blocks += content._measurement({**data, "national": None}, n, False)  # unweighted; the weighted are in 2.4
    blocks.append(Subheading(_("Så har siffrorna för hela landet räknats fram"), "bilaga-formular-metod"))
    if _national(data):
        blocks += [Para(p) for p in data["national"]["method"]]
    else:
        blocks.append(Para(_("Tabellerna ovan är andelar av de kommuner som svarade. De är inte vägda och gäller "
                             "inte hela landet.")))
        blocks.append(Para(_("Uppdelningar per ÖJ-grupp och län är ovägda inom sina celler.")))
    return blocks
