"""Compiled pages over all dialogue notes: themes × ÖJ group × round, and the flagged passages.

- ``/dialog/oversikt``: per theme (grouped by category), per ÖJ group and round, the number of
  passages tagged with it and the number of distinct visit sites they come from. Every count
  links to the search page with the matching filters, which lists exactly the passages counted.
  The denominator is always shown: visits with a note (a note with at least one passage) per
  group and round. Event notes (hearings, round tables…: coordinator/events) have no group or
  round: they are their own column, "Dialogforum", counting passages and distinct events, with
  the events that have a note as its denominator.
- ``/dialog/goda-exempel``, ``/dialog/hinder``, ``/dialog/nationella-fragor``: the passages with
  that flag, grouped by theme, with site and round (or, from an event, marked so with its title and kind).
- ``/dialog/citat``: quotes with the reason they were chosen. A quote is not attributed to a
  named kommun unless every use of its words is cleared for it (quotes.present); otherwise it reads
  "en kommun i grupp N", the names are blanked out of its text (and the län and date, which could
  identify it, are left out). The list is of the notes' passages: the same words in two notes are two
  entries (each with its own note), anonymised alike.

Read-only: nothing here writes.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import abort, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import distinct, exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from ..auth import staff_required
from ..events.models import Event
from ..extensions import db
from ..paging import Page, page_of
from ..registry.models import Kommun
from ..sampling.models import Site
from ..scheduling.models import Visit
from . import bp
from .models import FLAGS, Note, Passage, PassageTheme, Theme, ThemeCategory
from .quotes import present
from .search import BESOK, FORUM, ROUNDS, Filters, apply_filters, group_numbers, load_passages, page_helpers


@dataclass
class Cell:
    passages: int = 0
    sites: int = 0


@dataclass
class ThemeRow:
    theme: Theme
    cells: dict[tuple[int, int], Cell]   # (group, round) -> counts
    totals: dict[int, Cell]              # round -> counts over all groups
    forum: Cell = field(default_factory=Cell)  # event passages; `sites` counts distinct events

    @property
    def used(self) -> bool:
        return bool(self.forum.passages) or any(c.passages for c in self.totals.values())


@dataclass
class Crosstab:
    groups: list[int]
    rounds: tuple[int, ...]
    categories: list[tuple[ThemeCategory, list[ThemeRow]]]
    notes: dict[tuple[int, int], int]    # (group, round) -> visits with a note: the denominator
    notes_total: dict[int, int]          # round -> visits with a note
    flag: str | None = None
    forum_notes: int = 0                 # events with a note: the Dialogforum column's denominator


def _with_passages():
    return exists().where(Passage.note_id == Note.id)


def forum_note_count() -> int:
    """Events whose note has at least one passage."""
    return db.session.scalar(select(func.count(distinct(Note.id))).where(Note.event_id.isnot(None),
                                                                          _with_passages())) or 0


def note_counts() -> dict[tuple[int, int], int]:
    """(group, round) -> visits whose note has at least one passage."""
    rows = db.session.execute(
        select(Site.grupp, Visit.round, func.count(distinct(Note.id))).select_from(Note)
        .join(Visit, Visit.id == Note.visit_id).join(Site, Site.id == Visit.site_id)
        .where(_with_passages()).group_by(Site.grupp, Visit.round))
    return {(g, r): n for g, r, n in rows}


def crosstab(flag: str | None = None) -> Crosstab:
    groups = group_numbers()

    def counted(*keys):
        stmt = (select(PassageTheme.theme_id, *keys, func.count(distinct(Passage.id)), func.count(distinct(Site.id)))
                .select_from(PassageTheme).join(Passage, Passage.id == PassageTheme.passage_id)
                .join(Note, Note.id == Passage.note_id).join(Visit, Visit.id == Note.visit_id)
                .join(Site, Site.id == Visit.site_id).group_by(PassageTheme.theme_id, *keys))
        if flag:
            stmt = stmt.where(getattr(Passage, flag).is_(True))
        return db.session.execute(stmt).all()

    cells: dict[int, dict] = defaultdict(dict)
    for theme_id, g, r, passages, sites in counted(Site.grupp, Visit.round):
        cells[theme_id][(g, r)] = Cell(passages, sites)
    totals: dict[int, dict] = defaultdict(dict)
    for theme_id, r, passages, sites in counted(Visit.round):
        totals[theme_id][r] = Cell(passages, sites)
    cells, totals = dict(cells), dict(totals)
    forum_stmt = (select(PassageTheme.theme_id, func.count(distinct(Passage.id)), func.count(distinct(Note.event_id)))
                  .select_from(PassageTheme).join(Passage, Passage.id == PassageTheme.passage_id)
                  .join(Note, Note.id == Passage.note_id).where(Note.event_id.isnot(None))
                  .group_by(PassageTheme.theme_id))
    if flag:
        forum_stmt = forum_stmt.where(getattr(Passage, flag).is_(True))
    forum = {theme_id: Cell(passages, events) for theme_id, passages, events in db.session.execute(forum_stmt)}

    rows = []
    categories = db.session.scalars(select(ThemeCategory).order_by(ThemeCategory.position, ThemeCategory.name)
                                    .options(selectinload(ThemeCategory.themes))).all()
    for category in categories:
        themes = [ThemeRow(t, {(g, r): cells.get(t.id, {}).get((g, r), Cell()) for g in groups for r in ROUNDS},
                           {r: totals.get(t.id, {}).get(r, Cell()) for r in ROUNDS}, forum.get(t.id, Cell()))
                  for t in category.themes if t.merged_into_id is None or t.id in totals or t.id in forum]
        rows.append((category, themes))
    notes = note_counts()
    full = {(g, r): notes.get((g, r), 0) for g in groups for r in ROUNDS}
    return Crosstab(groups=groups, rounds=ROUNDS, categories=rows, notes=full,
                    notes_total={r: sum(n for (_g, rr), n in notes.items() if rr == r) for r in ROUNDS}, flag=flag,
                    forum_notes=forum_note_count())


# --------------------------------------------------------------------------- flagged passages

@dataclass
class Section:
    category: ThemeCategory | None
    theme: Theme | None           # None: passages without a theme
    passages: list[Passage] = field(default_factory=list)
    total: int = 0                # the theme's passages on all pages
    continued: bool = False       # the section began on an earlier page


@dataclass
class Flagged:
    flag: str
    filters: Filters
    sections: list[Section]       # this page's part of the list
    total: int                    # distinct passages with the flag (a passage with two themes shows twice)
    visits: int                   # distinct visits they come from
    notes: int                    # visits with a note within the filters: the denominator
    visit_passages: int = 0       # of `total`, from visits
    forum_passages: int = 0       # of `total`, from events (dialogforum)
    events: int = 0               # distinct events they come from
    event_notes: int = 0          # events with a note within the filters (0 when a visit-only filter is set)
    page: Page | None = None      # the page shown: entries are (theme, passage) pairs in theme order


FLAGGED_PAGE = 50


def flagged(flag: str, filters: Filters, args=None, per_page: int = FLAGGED_PAGE) -> Flagged:
    """The passages with `flag`, grouped by theme, one page at a time (`args`: the query string with `sida`).

    The whole list is ordered from the passages' keys alone (one query); only the page's passages are
    read with their visit, site and themes, so a page costs the same whatever the number of passages."""
    filters = Filters(grupp=filters.grupp, lan=filters.lan, omgang=filters.omgang, tema=filters.tema, flagga=flag,
                      kalla=filters.kalla)
    keys = select(Passage.id, PassageTheme.theme_id, Note.visit_id, Note.event_id, Visit.round, Site.grupp,
                  Kommun.namn, Site.enhet, Event.date, Event.title, Passage.section, Passage.position)
    keys = apply_filters(keys, filters).outerjoin(Kommun, Kommun.kommunkod == Site.kommunkod)
    theme_join = PassageTheme.passage_id == Passage.id
    if filters.tema is not None:
        theme_join = theme_join & (PassageTheme.theme_id == filters.tema)
    rows = db.session.execute(keys.outerjoin(PassageTheme, theme_join)).all()

    themes = {t.id: t for t in db.session.scalars(select(Theme).options(joinedload(Theme.category)))}

    def theme_order(theme_id):
        t = themes.get(theme_id)
        if t is None:
            return (True, 0, "", "")
        return (False, t.category.position, t.category.name, t.name)

    def passage_order(r):
        """Visits by round, group and site; then events by date and title (as the pages always did)."""
        if r.visit_id is not None:
            label = f"{r.namn}, {r.enhet}" if r.enhet else (r.namn or "")
            return (0, r.round, r.grupp, label, r.section, r.position, r.id)
        return (1, 0, 0, f"{r.date.isoformat() if r.date else ''} {r.title}", r.section, r.position, r.id)

    entries = sorted(((r.theme_id if r.theme_id in themes else None, r) for r in rows),
                     key=lambda e: (theme_order(e[0]), passage_order(e[1])))
    per_theme: dict[int | None, int] = defaultdict(int)
    for theme_id, _r in entries:
        per_theme[theme_id] += 1
    page = page_of(args or {}, len(entries), per_page)
    shown = entries[page.offset:page.offset + page.per_page]
    loaded = load_passages(list(dict.fromkeys(r.id for _t, r in shown)))
    sections: list[Section] = []
    for i, (theme_id, r) in enumerate(shown):
        if i == 0 or shown[i - 1][0] != theme_id:
            t = themes.get(theme_id)
            continued = i == 0 and page.offset > 0 and entries[page.offset - 1][0] == theme_id
            sections.append(Section(t.category if t is not None else None, t, total=per_theme[theme_id],
                                    continued=continued))
        if r.id in loaded:
            sections[-1].passages.append(loaded[r.id])

    def denominator(source: str) -> int:
        if filters.kalla not in (None, source):
            return 0
        stmt = apply_filters(select(func.count(distinct(Note.id))).select_from(Passage),
                             Filters(grupp=filters.grupp, lan=filters.lan, omgang=filters.omgang, kalla=source))
        return db.session.scalar(stmt) or 0

    by_passage = {r.id: r for r in rows}
    from_visits = [r for r in by_passage.values() if r.visit_id is not None]
    return Flagged(flag=flag, filters=filters, sections=sections, total=len(by_passage),
                   visits=len({r.visit_id for r in from_visits}), notes=denominator(BESOK),
                   visit_passages=len(from_visits), forum_passages=len(by_passage) - len(from_visits),
                   events=len({r.event_id for r in by_passage.values() if r.event_id is not None}),
                   event_notes=denominator(FORUM), page=page)


# --------------------------------------------------------------------------- pages

def cell_links(table: Crosstab) -> dict[tuple, tuple[str, str]]:
    """(theme id, group or None, round) -> (search URL, accessible label) of every non-zero count.
    Built here with one url_for and one translation: the table has hundreds of cells."""
    base = url_for("dialogue.search_page")
    one_group = gettext("%(theme)s, grupp %(g)s, omgång %(r)s: %(p)s passager från %(s)s besöksplatser")
    all_groups = gettext("%(theme)s, alla grupper, omgång %(r)s: %(p)s passager från %(s)s besöksplatser")
    forum = gettext("%(theme)s, dialogforum: %(p)s passager från %(s)s dialogforum")
    extra = [("flagga", table.flag)] if table.flag else []
    links = {}
    for _category, rows in table.categories:
        for row in rows:
            name = row.theme.name
            for (g, r), c in row.cells.items():
                if c.passages:
                    args = [("tema", row.theme.id), ("grupp", g), ("omgang", r), *extra]
                    links[(row.theme.id, g, r)] = (f"{base}?{urlencode(args)}",
                                                   one_group % {"theme": name, "g": g, "r": r, "p": c.passages,
                                                                "s": c.sites})
            for r, c in row.totals.items():
                if c.passages:
                    args = [("tema", row.theme.id), ("omgang", r), *extra]
                    links[(row.theme.id, None, r)] = (f"{base}?{urlencode(args)}",
                                                      all_groups % {"theme": name, "r": r, "p": c.passages,
                                                                    "s": c.sites})
            if row.forum.passages:
                args = [("tema", row.theme.id), ("kalla", FORUM), *extra]
                links[(row.theme.id, FORUM, None)] = (f"{base}?{urlencode(args)}",
                                                      forum % {"theme": name, "p": row.forum.passages,
                                                               "s": row.forum.sites})
    return links


@bp.route("/oversikt")
@staff_required
def overview():
    flag = request.args.get("flagga") or None
    if flag is not None and flag not in FLAGS:
        abort(404)
    table = crosstab(flag)
    return render_template("dialogue/overview.html", table=table, flag=flag, flags=FLAGS,
                           links=cell_links(table), **page_helpers({}))


PAGES = {
    "gott_exempel": "dialogue/overview_flagged.html",
    "hinder": "dialogue/overview_flagged.html",
    "nationell_fraga": "dialogue/overview_flagged.html",
    "citat": "dialogue/overview_quotes.html",
}


def _flag_page(flag: str):
    data = flagged(flag, Filters.from_args(request.args), request.args)
    pager_args = {k: v for k, v in data.filters.as_args().items() if k != "flagga"}
    # Quotes: attributed only if every use of the words is cleared, the names blanked out otherwise.
    quotes = {}
    if flag == "citat":
        shown = dict.fromkeys(p for s in data.sections for p in s.passages)
        quotes = {use.id: q for q in present(shown) for use in q.uses}
    return render_template(PAGES[flag], data=data, flag=flag, groups=group_numbers(), rounds=ROUNDS,
                           pager_args=pager_args, quotes=quotes, **page_helpers())


@bp.route("/goda-exempel")
@staff_required
def good_examples():
    return _flag_page("gott_exempel")


@bp.route("/hinder")
@staff_required
def obstacles():
    return _flag_page("hinder")


@bp.route("/nationella-fragor")
@staff_required
def national_questions():
    return _flag_page("nationell_fraga")


@bp.route("/citat")
@staff_required
def quotes():
    return _flag_page("citat")
