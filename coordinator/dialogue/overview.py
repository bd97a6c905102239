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
  named kommun unless the passage is cleared for it; otherwise it reads "en kommun i grupp N"
  (and the län and date, which could identify it, are left out).

Read-only: nothing here writes.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import abort, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import distinct, exists, func, select
from sqlalchemy.orm import selectinload

from ..auth import staff_required
from ..extensions import db
from ..sampling.models import Site
from ..scheduling.models import Visit
from . import bp
from .models import FLAGS, Note, Passage, PassageTheme, Theme, ThemeCategory
from .search import BESOK, FORUM, ROUNDS, Filters, apply_filters, group_numbers, page_helpers, passage_loads


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


@dataclass
class Flagged:
    flag: str
    filters: Filters
    sections: list[Section]
    total: int                    # distinct passages with the flag (a passage with two themes shows twice)
    visits: int                   # distinct visits they come from
    notes: int                    # visits with a note within the filters: the denominator
    visit_passages: int = 0       # of `total`, from visits
    forum_passages: int = 0       # of `total`, from events (dialogforum)
    events: int = 0               # distinct events they come from
    event_notes: int = 0          # events with a note within the filters (0 when a visit-only filter is set)


def _order(p: Passage) -> tuple:
    """Visits by round, group and site; then events by date and title."""
    v, ev = p.note.visit, p.note.event
    if v is not None:
        return (0, v.round, v.site.grupp, v.site.label, p.section, p.position, p.id)
    return (1, 0, 0, f"{ev.date.isoformat()} {ev.title}", p.section, p.position, p.id)


def flagged(flag: str, filters: Filters) -> Flagged:
    filters = Filters(grupp=filters.grupp, lan=filters.lan, omgang=filters.omgang, tema=filters.tema, flagga=flag,
                      kalla=filters.kalla)
    passages = db.session.scalars(apply_filters(select(Passage), filters).options(*passage_loads())).unique().all()
    passages.sort(key=_order)
    by_theme: dict[int | None, Section] = {}
    for p in passages:
        themes = [t for t in p.themes if filters.tema is None or t.id == filters.tema] or [None]
        for t in themes:
            key = t.id if t is not None else None
            if key not in by_theme:
                by_theme[key] = Section(t.category if t is not None else None, t)
            by_theme[key].passages.append(p)
    sections = sorted(by_theme.values(), key=lambda s: (
        s.theme is None, s.category.position if s.category else 0, s.category.name if s.category else "",
        s.theme.name if s.theme else ""))

    def denominator(source: str) -> int:
        if filters.kalla not in (None, source):
            return 0
        stmt = apply_filters(select(func.count(distinct(Note.id))).select_from(Passage),
                             Filters(grupp=filters.grupp, lan=filters.lan, omgang=filters.omgang, kalla=source))
        return db.session.scalar(stmt) or 0

    from_visits = [p for p in passages if p.note.visit_id is not None]
    return Flagged(flag=flag, filters=filters, sections=sections, total=len(passages),
                   visits=len({p.note.visit_id for p in from_visits}), notes=denominator(BESOK),
                   visit_passages=len(from_visits), forum_passages=len(passages) - len(from_visits),
                   events=len({p.note.event_id for p in passages if p.note.event_id is not None}),
                   event_notes=denominator(FORUM))


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
    data = flagged(flag, Filters.from_args(request.args))
    return render_template(PAGES[flag], data=data, flag=flag, groups=group_numbers(), rounds=ROUNDS,
                           **page_helpers())


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
