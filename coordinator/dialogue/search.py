"""Search across all dialogue passages, in Swedish, with filters (theme, ÖJ group, län, round, flag).

PostgreSQL: ``to_tsvector('swedish', passage.text)``, the very expression of the GIN index
``ix_passage_fts`` (migration 0003), so the index serves the match. The query is
``websearch_to_tsquery('swedish', :q)`` (quotes for phrases, ``-word`` to exclude, ``or``)
with every lexeme made a prefix (``'familjehem':*``): the Swedish stemmer gives
"familjehemmen" the stem ``familjehemm`` but "familjehem" ``familjehem``, and compounds
("familjehemsplacering") should be found by their first part too. Ranked with ``ts_rank``
(a passage matching the stems exactly ranks above one matching only the prefixes; for a very
common word only the best candidates are ranked so, see RANK_CANDIDATES); snippets from
``ts_headline``.

SQLite: the FTS5 table ``passage_fts`` (external content = passage, kept in sync by
triggers). The user's words are taken out of the input (letters and digits only, so FTS5
syntax characters can never reach the MATCH expression), given a light Swedish suffix
stripping, quoted and made prefix queries: ``"placering"* AND "barn"*``; ``-word`` excludes.
Ranked with ``bm25``; snippets from ``snippet()``.

Both backends mark the matches with two private-use characters; the snippet is HTML-escaped
first and only then are the markers turned into ``<mark>``, so passage text can never inject
markup. An empty query with filters is a filtered listing (newest visits first).

Passages come from visit notes and from event notes (hearings, round tables…: coordinator/events).
Events have no ÖJ group, län or round, so filtering by any of those lists visit passages only; the
`kalla` filter (besok / forum) picks one source.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import Text, bindparam, cast, column, func, literal_column, select, table, text, true
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import joinedload, selectinload

from ..auth import staff_required
from ..events.models import Event
from ..extensions import db
from ..forms import fits_integer
from ..registry.models import Kommun, Lan, OjGroup
from ..sampling.models import Site
from ..scheduling.models import Visit
from . import bp
from .models import FLAGS, DialogueQuestion, Note, Passage, PassageTheme, Theme, ThemeCategory

PAGE_SIZE = 50
MARK_START, MARK_END = "\ue000", "\ue001"  # private-use characters: never typed, never HTML
ROUNDS = (1, 2)
BESOK, FORUM = "besok", "forum"
SOURCES = (BESOK, FORUM)  # where a passage was said: at a visit, or at an event (dialogforum)

FLAG_LABELS = {
    "gott_exempel": _l("Gott exempel / framgångsfaktor"),
    "hinder": _l("Hinder"),
    "nationell_fraga": _l("Fråga för nationell nivå"),
    "citat": _l("Citat"),
}
QUOTE_REASON_LABELS = {"manga": _l("Många sa det"), "unik": _l("En unik synpunkt")}
EXTRA_SECTION_LABELS = {
    "fack": _l("Dialog med fackliga företrädare"),
    "barn": _l("Samtal med barn och vårdnadshavare"),
    "ovrigt": _l("Övriga iakttagelser"),
}


# --------------------------------------------------------------------------- filters

def _int(value: str | None, allowed=None) -> int | None:
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    if number is not None and not fits_integer(number):
        return None  # no row has such an id, and the database cannot compare with it
    return number if number is None or allowed is None or number in allowed else None


@dataclass(frozen=True)
class Filters:
    tema: int | None = None
    grupp: int | None = None
    lan: str | None = None
    omgang: int | None = None
    flagga: str | None = None
    kalla: str | None = None  # BESOK or FORUM: visit passages or event passages only

    @classmethod
    def from_args(cls, args) -> Filters:
        """From the query string; anything malformed is ignored rather than an error."""
        lan = (args.get("lan") or "").strip()
        flagga = args.get("flagga") or None
        kalla = args.get("kalla") or None
        return cls(tema=_int(args.get("tema")), grupp=_int(args.get("grupp")),
                   lan=lan if re.fullmatch(r"\d{2}", lan) else None,
                   omgang=_int(args.get("omgang"), ROUNDS), flagga=flagga if flagga in FLAGS else None,
                   kalla=kalla if kalla in SOURCES else None)

    def as_args(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v is not None}

    @property
    def any(self) -> bool:
        return bool(self.as_args())


def apply_filters(stmt, f: Filters):
    """Join a select over Passage to its visit and site or its event, and restrict it by the filters.

    Outer joins: an event passage has no visit or site, so a group, län or round filter leaves it out."""
    stmt = (stmt.join(Note, Note.id == Passage.note_id).outerjoin(Visit, Visit.id == Note.visit_id)
            .outerjoin(Site, Site.id == Visit.site_id).outerjoin(Event, Event.id == Note.event_id))
    if f.kalla == BESOK:
        stmt = stmt.where(Note.visit_id.isnot(None))
    elif f.kalla == FORUM:
        stmt = stmt.where(Note.event_id.isnot(None))
    if f.tema is not None:
        stmt = stmt.where(Passage.id.in_(select(PassageTheme.passage_id).where(PassageTheme.theme_id == f.tema)))
    if f.grupp is not None:
        stmt = stmt.where(Site.grupp == f.grupp)
    if f.lan is not None:
        stmt = stmt.where(Site.kommunkod.in_(select(Kommun.kommunkod).where(Kommun.lanskod == f.lan)))
    if f.omgang is not None:
        stmt = stmt.where(Visit.round == f.omgang)
    if f.flagga is not None:
        stmt = stmt.where(getattr(Passage, f.flagga).is_(True))
    return stmt


# --------------------------------------------------------------------------- queries per backend

_WORD = re.compile(r"[^\W_]+")
# Light Swedish suffix stripping for SQLite (PostgreSQL has the Snowball stemmer), longest first.
_SUFFIXES = sorted({
    "arnas", "ernas", "ornas", "andet", "arna", "erna", "orna", "ande", "ende", "aste", "heten", "heter",
    "ens", "ets", "ans", "ars", "ers", "ors", "ade", "are", "ast", "het",
    "an", "en", "ar", "er", "or", "et", "na", "es", "as", "at", "a", "e", "s",
}, key=len, reverse=True)
_MIN_STEM = 3


def searchable(q: str) -> str:
    """The query, or "" when it has no letter or digit to search for (only punctuation, say)."""
    q = (q or "").strip()
    return q if _WORD.search(q) else ""


def light_stem(word: str) -> str:
    """Strip one common Swedish inflection suffix and undouble a final consonant: placeringar →
    placering, barnens → barn, familjehemmen → familjehem. Used as a prefix, so erring short is safe."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            word = word[: -len(suffix)]
            break
    if len(word) > _MIN_STEM and word[-1] == word[-2] and word[-1] not in "aeiouyåäö":
        word = word[:-1]
    return word


def fts5_query(q: str) -> str | None:
    """An FTS5 MATCH expression built only from the words of ``q``; None if nothing to search.

    Every term is a quoted prefix query, so no character the user types can be FTS5 syntax."""
    positive, negative = [], []
    for chunk in q.split():
        words = [light_stem(w.lower()) for w in _WORD.findall(chunk)]
        terms = [f'"{w}"*' for w in words if w]
        (negative if chunk.startswith("-") and len(terms) == 1 else positive).extend(terms)
    if not positive:
        return None
    expression = "(" + " AND ".join(positive) + ")"
    return expression + "".join(f" NOT {t}" for t in negative)


_SWEDISH = literal_column("'swedish'")  # a literal, not a parameter: the index's expression exactly


def pg_document():
    return func.to_tsvector(_SWEDISH, Passage.text)


def pg_queries(q: str):
    """(exact, prefixed) tsqueries for ``q``: websearch syntax, Swedish stems; prefixed makes every
    lexeme a prefix ('familjehem':* matches familjehemm, familjehemsplacering)."""
    exact = func.websearch_to_tsquery(_SWEDISH, bindparam("q", q))
    prefixed = cast(func.regexp_replace(cast(exact, Text), bindparam("lexeme", r"'(?:[^']|'')*'"),
                                        bindparam("prefix", r"\&:*"), bindparam("g", "g")), TSQUERY)
    return exact, prefixed


# PostgreSQL ranks with ts_rank, which needs each passage's tsvector. The schema indexes the
# expression (no stored tsvector column), so ts_rank parses the passage again: about 0.1-0.2 ms
# each. A common word ("barn") can match most passages; ranking them all would cost more than
# the page's 100 ms budget. So: the matches are first ordered by a cheap stand-in (how often the
# query's stems occur in the text, plain string functions), the best RANK_CANDIDATES of them are
# ranked by ts_rank and come first, the rest follow in the stand-in's order. When there are at
# most RANK_CANDIDATES matches (the usual case) the order is exactly ts_rank's. The order is the
# same on every page of one search.
RANK_CANDIDATES = 100
_LEXEME = re.compile(r"(!?)'((?:[^']|'')*)'")


def pg_lexemes(q: str) -> list[str]:
    """The positive lexemes (Swedish stems) of the websearch query."""
    tsquery = db.session.scalar(select(cast(func.websearch_to_tsquery(_SWEDISH, bindparam("q", q)), Text))) or ""
    return sorted({lex.replace("''", "'") for neg, lex in _LEXEME.findall(tsquery) if not neg and lex})


def _pg_ranked(q: str, filters: Filters, limit: int, offset: int) -> tuple[list[int], dict[int, float], int]:
    exact, prefixed = pg_queries(q)
    # Occurrences of each stem in the text, in lower case or capitalised (stems are prefixes of the words
    # they come from). Bytes, not characters: octet_length is cheap, length() and lower() on UTF-8 are not;
    # å/Å, ä/Ä, ö/Ö have the same length in bytes.
    counts = []
    for i, lex in enumerate(pg_lexemes(q)):
        removed = func.replace(func.replace(Passage.text, bindparam(f"lex{i}", lex), ""),
                               bindparam(f"cap{i}", lex[:1].upper() + lex[1:]), "")
        counts.append((func.octet_length(Passage.text) - func.octet_length(removed)) / len(lex.encode()))
    stand_in = sum(counts[1:], counts[0]) if counts else literal_column("0")
    matched = apply_filters(select(Passage.id, Passage.text, stand_in.label("tf"))
                            .where(pg_document().op("@@")(prefixed)), filters).subquery("matched")
    numbered = select(matched.c.id, matched.c.text, matched.c.tf,
                      func.row_number().over(order_by=(matched.c.tf.desc(), matched.c.id)).label("n"),
                      func.count().over().label("total")).subquery("numbered")
    # The tsvector is made once per ranked candidate, and not at all for the others.
    vector = (select(func.to_tsvector(_SWEDISH, numbered.c.text).label("v"))
              .where(numbered.c.n <= RANK_CANDIDATES).offset(0).correlate(numbered).lateral("vector"))
    rank = (func.ts_rank(vector.c.v, prefixed) + func.ts_rank(vector.c.v, exact)).label("rank")
    rows = db.session.execute(
        select(numbered.c.id, rank, numbered.c.total).select_from(numbered.outerjoin(vector, true()))
        .order_by(rank.desc().nulls_last(), numbered.c.tf.desc(), numbered.c.id)
        .limit(limit).offset(offset)).all()
    if rows:
        total = rows[0].total
    else:
        total = db.session.scalar(select(func.count()).select_from(matched)) if offset else 0
    return [r.id for r in rows], {r.id: float(r.rank or 0) for r in rows}, total


def highlight(snippet: str) -> Markup:
    """Escape the snippet, then turn the match markers into <mark> (stray markers are dropped)."""
    html = str(escape(snippet))
    html = re.sub(f"{MARK_START}([^{MARK_START}{MARK_END}]*){MARK_END}", r"<mark>\1</mark>", html)
    return Markup(html.replace(MARK_START, "").replace(MARK_END, ""))


def plain_snippet(text_: str, words: int = 40) -> Markup:
    parts = text_.split()
    return escape(" ".join(parts[:words]) + (" …" if len(parts) > words else ""))


# --------------------------------------------------------------------------- the search

@dataclass
class Hit:
    passage: Passage
    snippet: Markup
    rank: float | None = None


@dataclass
class Result:
    q: str
    filters: Filters
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = PAGE_SIZE
    searched: bool = False  # False: neither words nor filters were given, nothing was looked up

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def search(q: str, filters: Filters, page: int = 1, per_page: int = PAGE_SIZE) -> Result:
    q = searchable(q)
    result = Result(q=q, filters=filters, page=max(1, page), per_page=per_page)
    if not q and not filters.any:
        return result
    result.searched = True
    offset = (result.page - 1) * per_page
    snippets: dict[int, Markup] = {}
    ranks: dict[int, float] = {}
    dialect = _dialect()

    if not q:
        base = apply_filters(select(Passage.id), filters)
        result.total = db.session.scalar(select(func.count()).select_from(base.subquery()))
        day = func.coalesce(Visit.date, Event.date)
        ids = list(db.session.scalars(
            base.order_by(day.is_(None), day.desc(), Note.id, Passage.section, Passage.position,
                          Passage.id).limit(per_page).offset(offset)))
    elif dialect == "postgresql":
        ids, ranks, total = _pg_ranked(q, filters, per_page, offset)
        result.total = total
        if ids:
            _exact, prefixed = pg_queries(q)
            options = (f'StartSel="{MARK_START}", StopSel="{MARK_END}", MaxWords=35, MinWords=15, '
                       'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "')
            headline = func.ts_headline(_SWEDISH, Passage.text, prefixed, bindparam("options", options))
            snippets = {pid: highlight(h) for pid, h in db.session.execute(
                select(Passage.id, headline).where(Passage.id.in_(ids)))}
    else:
        match = fts5_query(q)
        if match is None:
            return result
        fts = table("passage_fts", column("rowid"))
        matched = text("passage_fts MATCH :match").bindparams(match=match)
        base = apply_filters(select(Passage.id).select_from(fts).join(Passage, Passage.id == fts.c.rowid)
                             .where(matched), filters)
        result.total = db.session.scalar(select(func.count()).select_from(base.subquery()))
        bm25 = literal_column("bm25(passage_fts)")
        snippet = func.snippet(literal_column("passage_fts"), 0, MARK_START, MARK_END, " … ", 32)
        rows = db.session.execute(base.add_columns(bm25, snippet).order_by(bm25, Passage.id)
                                  .limit(per_page).offset(offset)).all()
        ids = [r[0] for r in rows]
        ranks = {r[0]: -float(r[1]) for r in rows}
        snippets = {r[0]: highlight(r[2]) for r in rows}

    passages = load_passages(ids)
    result.hits = [Hit(passages[pid], snippets.get(pid) or plain_snippet(passages[pid].text), ranks.get(pid))
                   for pid in ids if pid in passages]
    return result


def load_passages(ids: list[int]) -> dict[int, Passage]:
    """Passages with everything a result line shows, in a fixed number of queries."""
    if not ids:
        return {}
    rows = db.session.scalars(select(Passage).where(Passage.id.in_(ids)).options(*passage_loads())).unique()
    return {p.id: p for p in rows}


def passage_loads() -> tuple:
    """Loader options for showing passages: the visit with its site, kommun and län, or the event; themes."""
    return (joinedload(Passage.note).joinedload(Note.visit).joinedload(Visit.site).joinedload(Site.kommun)
            .joinedload(Kommun.lan),
            joinedload(Passage.note).joinedload(Note.event),
            selectinload(Passage.themes).joinedload(Theme.category))


# --------------------------------------------------------------------------- shared page helpers

def questions_by_nr() -> dict[int, DialogueQuestion]:
    return {q.nr: q for q in db.session.scalars(select(DialogueQuestion))}


def section_names(questions: dict[int, DialogueQuestion]) -> dict[str, str]:
    """Every section key a passage can have, with its label ("Fråga 3: …", "Dialog med fackliga …")."""
    names = {f"fraga-{nr}": _("Fråga %(nr)s: %(fraga)s", nr=nr, fraga=q.fraga) for nr, q in questions.items()}
    names.update({key: str(label) for key, label in EXTRA_SECTION_LABELS.items()})
    return names


def _note_endpoint() -> str | None:
    """The note editor's page (coordinator/dialogue/views.py), if it is registered."""
    return "dialogue.note" if "dialogue.note" in current_app.view_functions else None


def note_url(passage: Passage, endpoint: str | None = None) -> str:
    """The note the passage belongs to, at the passage's section (else the visit's page)."""
    if passage.note.event_id is not None:
        return url_for("dialogue.event_note", event_id=passage.note.event_id, _anchor=f"avsnitt-{passage.section}")
    endpoint = endpoint or _note_endpoint()
    if endpoint:
        return url_for(endpoint, visit_id=passage.note.visit_id, _anchor=f"avsnitt-{passage.section}")
    return url_for("scheduling.visit", visit_id=passage.note.visit_id)


def flag_list(passage: Passage) -> list[str]:
    return [flag for flag in FLAGS if getattr(passage, flag)]


def theme_choices() -> list[tuple[ThemeCategory, list[Theme]]]:
    """Every category with its themes that are not merged away (retired ones too: they tag old passages)."""
    categories = db.session.scalars(select(ThemeCategory).order_by(ThemeCategory.position, ThemeCategory.name)
                                    .options(selectinload(ThemeCategory.themes))).all()
    return [(c, [t for t in c.themes if t.merged_into_id is None]) for c in categories]


def group_numbers() -> list[int]:
    return list(db.session.scalars(select(OjGroup.number).order_by(OjGroup.number))) or [1, 2, 3, 4, 5]


def lan_choices() -> list[tuple[str, str]]:
    return [(lan.lanskod, lan.namn) for lan in db.session.scalars(select(Lan).order_by(Lan.lanskod))]


def page_helpers(questions: dict[int, DialogueQuestion] | None = None) -> dict:
    """What the templates of the compiled pages use, translated once per page: a page can show hundreds
    of passages, and a lookup per label per passage would cost more than the rest of the page."""
    endpoint = _note_endpoint()
    urls: dict[tuple[int, str], str] = {}  # (note, section) -> the note's URL, built once
    flags = {flag: str(label) for flag, label in FLAG_LABELS.items()}
    questions = questions if questions is not None else questions_by_nr()
    question = _("Fråga %(nr)s")
    short_sections = {f"fraga-{nr}": question % {"nr": nr} for nr in questions}
    short_sections.update({key: str(label) for key, label in EXTRA_SECTION_LABELS.items()})
    return {
        "flag_names": flags,
        "flag_label": lambda f: flags.get(f, f),
        "reason_names": {reason: str(label) for reason, label in QUOTE_REASON_LABELS.items()},
        "section_names": section_names(questions),
        "short_sections": short_sections,
        "note_url": lambda p: urls.get((p.note_id, p.section)) or urls.setdefault(
            (p.note_id, p.section), note_url(p, endpoint)),
        "flag_list": flag_list,
        # Labels of a passage card; "%(n)s" ones are filled in by the template's format filter.
        "L": {
            "section": _("Avsnitt"), "lan": _("Län"), "grupp": _("ÖJ-grupp"), "date": _("Datum"),
            "themes": _("Teman"), "flags": _("Markeringar"), "open": _("Öppna anteckningen"),
            "no_themes": _("inga teman"), "no_flags": _("inga"), "no_date": _("inget datum"),
            "reason": _("Varför citatet valdes"), "no_reason": _("inget skäl angivet"),
            "anonymous": _("En kommun i grupp %(n)s"), "round": _("omgång %(n)s"), "also": _("Även"),
            "forum": _("Dialogforum"), "kind": _("Slag"), "from_forum": _("Från ett dialogforum"),
        },
    }


# --------------------------------------------------------------------------- the page

@bp.route("/sok")
@staff_required
def search_page():
    q = (request.args.get("q") or "")[:500]
    filters = Filters.from_args(request.args)
    result = search(q, filters, page=_int(request.args.get("sida")) or 1)
    return render_template("dialogue/search.html", result=result, q=q, filters=filters, themes=theme_choices(),
                           groups=group_numbers(), lans=lan_choices(), flags=FLAGS, rounds=ROUNDS,
                           anonymised=anonymised_quotes(result.hits), **page_helpers())


def anonymised_quotes(hits: list[Hit]) -> dict[int, Markup]:
    """Hits whose words are a quote somewhere (marked citat in some note) and are not cleared in every use
    (dialogue/quotes.py): passage id -> the snippet with the names blanked out. They are shown as on
    /dialog/citat, "En kommun i grupp N"; other hits are the office's notes and name their site."""
    from .quotes import present

    snippets = {h.passage.id: h.snippet for h in hits}
    out = {}
    for quote in present(h.passage for h in hits):
        if quote.quoted and not quote.attributed:
            for use in quote.uses:
                out[use.id] = Markup(quote.blank(str(snippets[use.id])))
    return out
