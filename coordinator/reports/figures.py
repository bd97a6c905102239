"""The figures of the report to the minister for a report period, and of the final-report basis.

Plain counting over the database (sampling, visits, dialogue notes, plans, measurement), no Flask
pages: ``compute(period_key)`` returns everything the report shows as one JSON-serialisable dict.
That dict is archived as it is when a report is issued, and the PDF (pdf.py) and the HTML
(templates/reports/_body.html, through content.py) are rendered from it alone.

Periods come from the reporting rhythm (rhythm.py): ``parse_period("2015Q3")`` (also "2015 Q3",
"2015-Q3", "2015q3", or "2015-02" for a period of another rhythm) is one of the assignment's report
periods; ``parse_period("slut")`` is the whole assignment (the final-report basis).
``quarters()`` lists the report periods (calendar quarters with the shipped settings). The generated
sentences name the period through wording.py ("under kvartalet" for a calendar quarter, "under
perioden" for any other), chosen from the period's key that the dict records.

Definitions (the report states them too):
- *The plan*: the adopted sample's active sites, each visited once per round (target = active
  sites per round), and the schedule: visits that are not cancelled, with a date up to the
  period's end, are *planned to date*.
- *Held*: a visit with status genomförd and its date in the range. Held visits of sites that
  later declined still count (they took place); the lists and the map cover active sites.
- Dialogue notes belong to a period by the visit's (or the event's) date; a note counts when
  it has at least one passage. Notes from events (national dialogue, hearings, round tables...)
  are counted apart from visit notes.
- Action plans are shown as they stand when the report is generated (``as_of``).
- Passages quoted in the report go through dialogue/quotes.py: each appears once (a passage with
  several flags stands in the first list of its flags, in FLAGS order; the same words from another
  note are not quoted again), and it is never attributed to a named kommun unless staff cleared
  every use of its words for it; otherwise the source reads "En kommun i grupp N", the names of
  the kommuner and districts it was said in are blanked out of the text, and no field of the item
  names the kommun.

Keys of the dict (dates are ISO strings; shares are floats 0..1 or None without a denominator):
  schema: 1
  kind: "kvartal" | "slut"   ("kvartal": a regular report, whatever the rhythm's length)
  period: {key, kind, label, start, end}; next_period: the same for the next period, or None
  assignment: {name, start, end, final_report_due, rounds: [{round, start, end}]}
  generated_at: UTC timestamp; as_of: the date plans and bookings are read ("today")
  sample: None without an adopted sample, else {name, reference_year, sites, kommuner, declined}
  groups: ÖJ group numbers; rounds: [1, 2]
  summary: [sentence, ...]   the findings first, each with its denominator
  visits: {target, period: [per round {round, target, planned_period, held_period,
           planned_to_date, held_to_date, share_held}], total: {the same summed},
           by_group: [{group, sites, held_period, rounds: [{round, held, planned}]}],
           by_lan: [{lanskod, lan, sites, held_period, rounds: [{round, held, planned}]}],
           progress: {months: ["2015-01", ...], period_end_index, targets: [per round],
                      series: [{round, planned: [..], held: [.. or None after the period]}]}}
  not_visited: [{round, count, of, sites: [{site, kommunkod, lan, group, date, status, status_label}]}]
        (rounds whose window has begun by the period's end)
  map: {legend: [{key, label, count}], kommuner: {kommunkod: key},
        sites: [{site, kommunkod, lan, group, key, label, lon, lat, visits: [{round, date, status_label}]}]}
        key: "bada" both visits held, "forsta" one held, "bokat" booked, "ej_bokat" not booked
  declines: {period, to_date, replaced, rows: [{date, site, group, lan, replacement, in_period}]}
  upcoming: None (final) or {period: {...}, count, booked, rows: [{date, site, kommunkod, lan, group,
            round, status, status_label}]}
  plans: {as_of, sites, with_plan, visited, overall: tally, by_area: [{area, goals, plans, tally}]}
         tally = {total, done, decided, ongoing, not_started, cancelled, decided_done, share_done,
                  share_decided, share_done_decided}
  measurement: {tables: results.report_tables(None, end), since: None, until: end}
  national: {estimates: [measurement.weighted.national_estimates(q, round, until=end) for every questionnaire and
            round with answers], method: [paragraph, ...], min_base}: design-weighted (1/π) national figures with
            95 % intervals beside the unweighted share of the visited kommuner. Reports issued before lack it.
  dialogue: {notes: {period: {visits, events}, to_date: {visits, events}},
             passages: {period: {visits, events}, to_date: {...}},
             themes_period / themes_to_date: [{theme, category, notes, passages, event_notes,
                                              event_passages}]  (the most frequent, at most 8),
             by_group: {groups, notes: [per group], themes: [{theme, counts: [per group]}]},
             flags: {flag: {label, period: {passages, notes, event_passages, event_notes},
                            to_date: {...}, items: [item, ...] (at most 6, from the period)}}}
         item = {text, source, round, themes, reason, from_event, attributed, truncated}
  avstamningar: {held: [{held_on, report, actions: [action]}] (the avstämningar with the minister held in
                the period, up to as_of), carried: [action + {from}] (actions of earlier avstämningar still open
                when the period began)}; action = {title, due, done_on (None while open), outcome}, as they
                stand at as_of. Reports issued before this key existed lack it.
  final: None (a period) or {by_group_round: [{group, sites, rounds: [{round, held}]}],
         themes_by_round: {notes: [per round], themes: [{theme, counts: [per round]}]},
         plans_by_site: [{site, group, lan, tally, followup_summary, most_urgent}],
         report: what only the final report (slutrapport) shows, see final.gather(): {protocol, events,
                 organisations, questions, themes, examples, questionnaires, weighted}}
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any

from sqlalchemy import case, distinct, func, literal, select
from sqlalchemy.orm import joinedload, selectinload

from .. import formatting, links
from ..dialogue.models import FLAGS, Note, Passage, PassageTheme, Theme, ThemeCategory
from ..dialogue.quotes import key as quote_key
from ..dialogue.quotes import present
from ..dialogue.quotes import redact  # noqa: F401  (its home before quotes.py)
from ..events.models import Event
from ..extensions import db
from ..i18n import _, locale
from ..plans.models import ActionPlan, PlanActivity, PlanGoal
from ..plans.service import Tally, tally
from ..registry.models import Kommun, OjGroup
from ..sampling.models import Decline, Site
from ..sampling.service import adopted_sample
from ..scheduling.defaults import assignment
from ..scheduling.models import BOOKED, GENOMFORD, INSTALLD, Visit
from ..tasks.models import AVSTAMNING, Task
from .models import FINAL, QUARTERLY, Avstamning
from .rhythm import Period, parse_period
from .rhythm import periods as quarters  # noqa: F401  (the name from before the rhythm was a setting)
from .wording import words

SCHEMA = 1
ROUNDS = (1, 2)
TOP_THEMES = 8        # themes listed per table
CHART_THEMES = 6      # themes in the chart by ÖJ group
ITEMS_PER_LIST = 6    # passages quoted per flag
CANDIDATES = 300      # flagged passages considered per list (bounded: the report stays fast)
EXCERPT_CHARS = 280   # good examples, obstacles, questions
QUOTE_CHARS = 220     # quotes are short
PLAN_TEXT_CHARS = 500

# Visit status of a site on the map, from least to most advanced.
MAP_KEYS = ("ej_bokat", "bokat", "forsta", "bada")


def num(n) -> str:
    """A count in the reader's language (Swedish: 1 234 with a non-breaking space)."""
    return formatting.fmt_count(n, locale())


def pct(part: float | None) -> str:
    """A share (0..1) as a whole percentage ("38 %"); "–" without a denominator."""
    return formatting.fmt_pct(part, locale())


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --------------------------------------------------------------------------- helpers

def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> tuple[str, bool]:
    """The text cut at a word boundary before `limit` characters, with an ellipsis; (text, was cut)."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text, False
    cut = text[:limit + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > limit // 2 else text[:limit]
    return cut.rstrip(" ,;:–-") + "…", True


def _tally_dict(t: Tally) -> dict[str, Any]:
    return {"total": t.total, "done": t.done, "decided": t.decided, "ongoing": t.ongoing,
            "not_started": t.not_started, "cancelled": t.cancelled, "decided_done": t.decided_done,
            "share_done": t.share_done, "share_decided": t.share_decided,
            "share_done_decided": t.share_done_decided}


def _status_labels() -> dict[str, str]:
    from ..scheduling.views import STATUS_LABELS  # the visit statuses' words, as on the visit pages
    return {k: str(v) for k, v in STATUS_LABELS.items()}


def _flag_labels() -> dict[str, str]:
    from ..dialogue.search import FLAG_LABELS, QUOTE_REASON_LABELS
    return {**{k: str(v) for k, v in FLAG_LABELS.items()},
            **{f"reason:{k}": str(v) for k, v in QUOTE_REASON_LABELS.items()}}


def _event_kind_labels() -> dict[str, str]:
    from ..events.forms import KIND_LABELS  # as on the event pages
    return {k: str(v).lower() for k, v in KIND_LABELS.items()}


def _months(first: date, last: date) -> list[tuple[str, date]]:
    """(YYYY-MM, last day of the month) from first's month to last's month."""
    out = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        out.append((f"{y:04d}-{m:02d}", date.fromordinal(nxt.toordinal() - 1)))
        y, m = nxt.year, nxt.month
    return out


# --------------------------------------------------------------------------- the figures

@dataclass
class _Ctx:
    period: Period
    sample_id: int | None
    sites: list[Site]          # every site of the adopted sample (declined ones too)
    active: list[Site]
    visits: list[Any]          # rows (id, site_id, round, date, status)
    groups: list[int]
    labels: dict[str, str]     # visit status -> word

    @property
    def start(self) -> date:
        return self.period.start

    @property
    def end(self) -> date:
        return self.period.end


def _held(v, start: date | None, end: date) -> bool:
    return v.status == GENOMFORD and v.date is not None and (start is None or v.date >= start) and v.date <= end


def _planned(v, start: date | None, end: date) -> bool:
    return v.status != INSTALLD and v.date is not None and (start is None or v.date >= start) and v.date <= end


def _visit_figures(c: _Ctx) -> dict[str, Any]:
    a = assignment()
    target = len(c.active)
    per_round = []
    for r in ROUNDS:
        vs = [v for v in c.visits if v.round == r]
        held_to_date = sum(_held(v, None, c.end) for v in vs)
        per_round.append({
            "round": r, "target": target,
            "planned_period": sum(_planned(v, c.start, c.end) for v in vs),
            "held_period": sum(_held(v, c.start, c.end) for v in vs),
            "planned_to_date": sum(_planned(v, None, c.end) for v in vs),
            "held_to_date": held_to_date, "share_held": share(held_to_date, target)})
    total = {k: sum(row[k] for row in per_round) for k in
             ("target", "planned_period", "held_period", "planned_to_date", "held_to_date")}
    total["share_held"] = share(total["held_to_date"], total["target"])

    site_of = {s.id: s for s in c.sites}

    def breakdown(key) -> dict:
        rows: dict[Any, dict] = {}
        for s in c.active:
            row = rows.setdefault(key(s), {"sites": 0, "held_period": 0,
                                           "rounds": [{"round": r, "held": 0, "planned": 0} for r in ROUNDS]})
            row["sites"] += 1
        for v in c.visits:
            s = site_of[v.site_id]
            row = rows.get(key(s))
            if row is None:
                continue
            row["held_period"] += _held(v, c.start, c.end)
            rr = row["rounds"][ROUNDS.index(v.round)] if v.round in ROUNDS else None
            if rr is not None:
                rr["held"] += _held(v, None, c.end)
                rr["planned"] += _planned(v, None, c.end)
        return rows

    groups = breakdown(lambda s: s.grupp)
    by_group = [{"group": g, **groups[g]} for g in c.groups if g in groups]
    lans = breakdown(lambda s: s.kommun.lanskod)
    lan_names = {s.kommun.lanskod: s.kommun.lan.namn for s in c.active}
    by_lan = [{"lanskod": k, "lan": lan_names[k], **lans[k]} for k in sorted(lans)]

    # Progress per month over the whole schedule; "held" stops at the period's end.
    dated = [v.date for v in c.visits if v.date is not None]
    last = max([a.round2_end, *dated] + ([c.end] if c.period.kind == QUARTERLY else []))
    months = _months(min([a.round1_start, *dated]), last)
    upto = (c.end.year, c.end.month)
    series = []
    for r in ROUNDS:
        vs = [v for v in c.visits if v.round == r]
        planned = [sum(_planned(v, None, month_end) for v in vs) for _key, month_end in months]
        held = [sum(_held(v, None, min(month_end, c.end)) for v in vs)
                if (month_end.year, month_end.month) <= upto else None for _key, month_end in months]
        series.append({"round": r, "planned": planned, "held": held})
    end_index = max((i for i, (_k, m) in enumerate(months) if (m.year, m.month) <= upto), default=None)
    return {"target": target, "period": per_round, "total": total, "by_group": by_group, "by_lan": by_lan,
            "progress": {"months": [k for k, _m in months], "period_end_index": end_index,
                         "targets": [target for _r in ROUNDS], "series": series}}


def _site_brief(s: Site) -> dict[str, Any]:
    return {"site": s.label, "kommunkod": s.kommunkod, "lan": s.kommun.lan.namn, "group": s.grupp}


def _not_visited(c: _Ctx) -> list[dict[str, Any]]:
    a = assignment()
    windows = {1: a.round1_start, 2: a.round2_start}
    by_site = {(v.site_id, v.round): v for v in c.visits}
    out = []
    for r in ROUNDS:
        if windows[r] > c.end:
            continue  # the round has not begun by the period's end
        rows = []
        for s in c.active:
            v = by_site.get((s.id, r))
            if v is not None and _held(v, None, c.end):
                continue
            status = v.status if v is not None else None
            rows.append({**_site_brief(s), "date": _iso(v.date) if v is not None and status != INSTALLD else None,
                         "status": status, "status_label": c.labels.get(status, _("inget besök skapat"))})
        rows.sort(key=lambda row: (row["date"] is None, row["date"] or "", row["site"]))
        out.append({"round": r, "count": len(rows), "of": len(c.active), "sites": rows})
    return out


def _map(c: _Ctx) -> dict[str, Any]:
    by_site: dict[int, list] = defaultdict(list)
    for v in c.visits:
        by_site[v.site_id].append(v)
    labels = {"bada": _("Båda besöken genomförda"), "forsta": _("Första besöket genomfört"),
              "bokat": _("Besök bokat, inte genomfört"), "ej_bokat": _("Inget besök bokat")}
    sites, kommuner = [], {}
    counts = dict.fromkeys(MAP_KEYS, 0)
    for s in c.active:
        vs = sorted(by_site.get(s.id, []), key=lambda v: v.round)
        held = sum(_held(v, None, c.end) for v in vs)
        # Booked at the period's end: told to the kommun (or held later), and not cancelled.
        booked = any(v.status in BOOKED and v.date is not None and not _held(v, None, c.end) for v in vs)
        key = "bada" if held >= 2 else "forsta" if held == 1 else "bokat" if booked else "ej_bokat"
        counts[key] += 1
        # A kommun with several sites (a city and its districts) takes its least advanced site's colour.
        if s.kommunkod not in kommuner or MAP_KEYS.index(key) < MAP_KEYS.index(kommuner[s.kommunkod]):
            kommuner[s.kommunkod] = key
        sites.append({**_site_brief(s), "key": key, "label": labels[key], "lon": s.kommun.lon, "lat": s.kommun.lat,
                      "visits": [{"round": v.round, "date": _iso(v.date) if v.status != INSTALLD else None,
                                  "status_label": c.labels.get(v.status, v.status)} for v in vs]})
    legend = [{"key": k, "label": labels[k], "count": counts[k]} for k in reversed(MAP_KEYS)]
    return {"legend": legend, "kommuner": kommuner, "sites": sites}


def _declines(c: _Ctx) -> dict[str, Any]:
    rows = db.session.scalars(
        # An undone decline was registered by mistake: the report counts only those that stand.
        select(Decline).where(Decline.sample_id == c.sample_id, Decline.declined_on <= c.end,
                              Decline.undone_at.is_(None))
        .options(joinedload(Decline.site).joinedload(Site.kommun).joinedload(Kommun.lan),
                 joinedload(Decline.replacement).joinedload(Site.kommun))
        .order_by(Decline.declined_on, Decline.id)).all()
    out = [{"date": d.declined_on.isoformat(), "site": d.site.label, "group": d.site.grupp,
            "lan": d.site.kommun.lan.namn, "replacement": d.replacement.label if d.replacement else None,
            "in_period": d.declined_on >= c.start} for d in rows]
    return {"period": sum(r["in_period"] for r in out), "to_date": len(out),
            "replaced": sum(r["replacement"] is not None for r in out), "rows": out}


def _upcoming(c: _Ctx) -> dict[str, Any] | None:
    nxt = c.period.next()
    if nxt is None:
        return None
    site_of = {s.id: s for s in c.sites}
    rows = [v for v in c.visits if _planned(v, nxt.start, nxt.end)]
    rows.sort(key=lambda v: (v.date, site_of[v.site_id].label))
    out = [{"date": v.date.isoformat(), **_site_brief(site_of[v.site_id]), "round": v.round, "status": v.status,
            "status_label": c.labels.get(v.status, v.status)} for v in rows]
    return {"period": nxt.as_dict(), "count": len(out), "booked": sum(v.status in BOOKED for v in rows),
            "rows": out}


def _plans(c: _Ctx, as_of: date, per_site: bool) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    active_ids = [s.id for s in c.active]
    rows = db.session.execute(
        select(ActionPlan.site_id, PlanGoal.id.label("goal_id"), PlanGoal.theme_id, PlanActivity.status,
               PlanActivity.decided)
        .join(PlanGoal, PlanGoal.plan_id == ActionPlan.id)
        .join(PlanActivity, PlanActivity.goal_id == PlanGoal.id)
        .where(ActionPlan.site_id.in_(active_ids))).all() if active_ids else []
    # The plans are read once: their sites for the summary, their follow-up texts for the per-site table.
    plans = {p.site_id: p for p in db.session.scalars(select(ActionPlan).where(ActionPlan.site_id.in_(active_ids)))} \
        if active_ids else {}
    plan_sites = set(plans)
    themes = {t.id: t.name for t in db.session.scalars(select(Theme))}
    by_area: dict[int | None, list] = defaultdict(list)
    goals: dict[int | None, set] = defaultdict(set)
    plans_in: dict[int | None, set] = defaultdict(set)
    for row in rows:
        by_area[row.theme_id].append(row)
        goals[row.theme_id].add(row.goal_id)
        plans_in[row.theme_id].add(row.site_id)
    areas = sorted(by_area, key=lambda k: (k is None, -len(by_area[k]), themes.get(k, "")))
    visited = len({v.site_id for v in c.visits if v.round == 1 and _held(v, None, c.end)} & set(active_ids))
    summary = {
        "as_of": as_of.isoformat(), "sites": len(c.active), "with_plan": len(plan_sites), "visited": visited,
        "overall": _tally_dict(tally(rows)),
        "by_area": [{"area": themes.get(k, "") if k is not None else _("Utan målområde"), "goals": len(goals[k]),
                     "plans": len(plans_in[k]), "tally": _tally_dict(tally(by_area[k]))} for k in areas]}
    if not per_site:
        return summary, None
    by_site: dict[int, list] = defaultdict(list)
    for row in rows:
        by_site[row.site_id].append(row)
    out = []
    for s in c.active:
        p = plans.get(s.id)
        if p is None:
            continue
        out.append({**_site_brief(s), "tally": _tally_dict(tally(by_site.get(s.id, []))),
                    "followup_summary": excerpt(p.followup_summary, PLAN_TEXT_CHARS)[0],
                    "most_urgent": excerpt(p.most_urgent, PLAN_TEXT_CHARS)[0]})
    return summary, out


# --------------------------------------------------------------------------- the dialogues

def _scoped(stmt, kind: str, c: _Ctx, start: date | None):
    """Restrict a select over Note to visit notes of the sample (kind "visit") or event notes, by date."""
    if kind == "visit":
        stmt = (stmt.join(Visit, Visit.id == Note.visit_id).join(Site, Site.id == Visit.site_id)
                .where(Site.sample_id == c.sample_id, Visit.date <= c.end))
        return stmt.where(Visit.date >= start) if start else stmt
    stmt = stmt.join(Event, Event.id == Note.event_id).where(Event.date <= c.end)
    return stmt.where(Event.date >= start) if start else stmt


def _from_passages(*cols):
    return select(*cols).select_from(Passage).join(Note, Note.id == Passage.note_id)


def _dialogue(c: _Ctx, final: bool) -> tuple[dict[str, Any], dict[str, Any] | None]:
    themes = {t.id: (t.name, cat) for t, cat in db.session.execute(
        select(Theme, ThemeCategory.name).join(ThemeCategory, Theme.category_id == ThemeCategory.id))}
    spans = {"period": c.start, "to_date": None}
    notes = {k: {} for k in spans}
    passages = {k: {} for k in spans}
    theme_rows = {}
    for span, start in spans.items():
        counted: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(
            ("notes", "passages", "event_notes", "event_passages"), 0))
        for kind in ("visit", "event"):
            n_notes, n_passages = db.session.execute(_scoped(
                _from_passages(func.count(distinct(Note.id)), func.count(distinct(Passage.id))), kind, c,
                start)).one()
            notes[span][kind + "s"] = n_notes or 0
            passages[span][kind + "s"] = n_passages or 0
            prefix = "" if kind == "visit" else "event_"
            for theme_id, n, p in db.session.execute(_scoped(
                    _from_passages(PassageTheme.theme_id, func.count(distinct(Note.id)),
                                   func.count(distinct(Passage.id)))
                    .join(PassageTheme, PassageTheme.passage_id == Passage.id), kind, c, start)
                    .group_by(PassageTheme.theme_id)):
                counted[theme_id][prefix + "notes"] = n
                counted[theme_id][prefix + "passages"] = p
        ranked = sorted(counted, key=lambda t: (-(counted[t]["notes"] + counted[t]["event_notes"]),
                                                -(counted[t]["passages"] + counted[t]["event_passages"]),
                                                themes.get(t, ("", ""))[0]))
        theme_rows[span] = [{"theme": themes[t][0], "category": themes[t][1], **counted[t]}
                            for t in ranked[:TOP_THEMES] if t in themes]

    # Themes by ÖJ group, for the chart.
    by_group = {"groups": c.groups, **_themes_by(c, Site.grupp, c.groups, themes, CHART_THEMES)}

    labels = _flag_labels()
    flags = {}
    shown: set[str] = set()  # quotes already listed: a passage appears in the first list of its flags only
    for flag in FLAGS:
        entry = {"label": labels[flag]}
        for span, start in spans.items():
            counts = {}
            for kind in ("visit", "event"):
                prefix = "" if kind == "visit" else "event_"
                n_passages, n_notes = db.session.execute(_scoped(
                    _from_passages(func.count(distinct(Passage.id)), func.count(distinct(Note.id)))
                    .where(getattr(Passage, flag).is_(True)), kind, c, start)).one()
                counts[prefix + "passages"], counts[prefix + "notes"] = n_passages or 0, n_notes or 0
            entry[span] = counts
        entry["items"] = _items(c, flag, labels, shown)
        flags[flag] = entry

    dialogue = {"notes": notes, "passages": passages, "themes_period": theme_rows["period"],
                "themes_to_date": theme_rows["to_date"], "by_group": by_group, "flags": flags}
    if not final:
        return dialogue, None
    return dialogue, _themes_by(c, Visit.round, ROUNDS, themes, TOP_THEMES)


def _themes_by(c: _Ctx, column, keys, themes: dict, limit: int) -> dict[str, list]:
    """Visit notes up to the period's end per value of `column` (in the order of `keys`), and the same
    for the `limit` themes in most notes: {"notes": [n per key], "themes": [{"theme", "counts"}]}."""
    per_key = dict(db.session.execute(_scoped(_from_passages(column, func.count(distinct(Note.id))), "visit",
                                              c, None).group_by(column)).all())
    cells = defaultdict(dict)
    for theme_id, key, n in db.session.execute(_scoped(
            _from_passages(PassageTheme.theme_id, column, func.count(distinct(Note.id)))
            .join(PassageTheme, PassageTheme.passage_id == Passage.id), "visit", c, None)
            .group_by(PassageTheme.theme_id, column)):
        cells[theme_id][key] = n
    top = sorted(cells, key=lambda t: (-sum(cells[t].values()), themes.get(t, ("", ""))[0]))[:limit]
    return {"notes": [per_key.get(k, 0) for k in keys],
            "themes": [{"theme": themes[t][0], "counts": [cells[t].get(k, 0) for k in keys]}
                       for t in top if t in themes]}


def _items(c: _Ctx, flag: str, labels: dict[str, str], shown: set[str]) -> list[dict[str, Any]]:
    """Up to ITEMS_PER_LIST flagged passages of the period: for quotes "many said it" first, then the
    most recent; one per note before a second from the same note. A text already in `shown` (listed under
    an earlier flag, or the same words from another note) is left out, and what is chosen is added to it:
    a passage appears once in the report (dialogue/quotes.py)."""
    rank = literal(0)
    if flag == "citat":
        rank = case((Passage.quote_reason == "manga", 0), (Passage.quote_reason == "unik", 1), else_=2)
    candidates = []
    for kind, when in (("visit", Visit.date), ("event", Event.date)):
        stmt = _scoped(_from_passages(Passage.id, Passage.note_id, Passage.text, rank.label("rank"),
                                      when.label("day"))
                       .where(getattr(Passage, flag).is_(True)), kind, c, c.start)
        candidates.extend(db.session.execute(
            stmt.order_by(rank, when.desc(), Passage.id.desc()).limit(CANDIDATES)).all())
    candidates.sort(key=lambda row: (row.rank, -row.day.toordinal(), -row.id))
    chosen, seen, texts = [], set(), set(shown)
    for second in (False, True):
        for row in candidates:
            if len(chosen) == ITEMS_PER_LIST:
                break
            k = quote_key(row.text)
            if k in texts or (not second and row.note_id in seen):
                continue
            chosen.append(row.id)
            seen.add(row.note_id)
            texts.add(k)
    quotes = quotes_of(chosen)
    shown.update(quote_key(q.passage.text) for q in quotes)
    kinds = _event_kind_labels()
    return [_item(q, labels, kinds) for q in quotes]


def quotes_of(chosen: list[int]) -> list:
    """The chosen passages, in their order, as quotes (quotes.present) with what their items show read in
    one statement."""
    if not chosen:
        return []
    passages = {p.id: p for p in db.session.scalars(
        select(Passage).where(Passage.id.in_(chosen)).options(
            selectinload(Passage.themes),
            joinedload(Passage.note).joinedload(Note.visit).joinedload(Visit.site).joinedload(Site.kommun),
            joinedload(Passage.note).joinedload(Note.event)))}
    return present(passages[pid] for pid in chosen if pid in passages)


def _item(q, labels: dict[str, str], kinds: dict[str, str]) -> dict[str, Any]:
    """A report item from a quote (quotes.present): the source names the kommun only if every use of the
    text is cleared; otherwise "En kommun i grupp N", and the names are blanked out of the text."""
    p = q.passage
    note = p.note
    kind = kinds.get(note.event.kind, note.event.kind) if note.event is not None else None
    rnd = note.visit.round if note.event is None else None
    text, truncated = excerpt(q.text, QUOTE_CHARS if p.citat else EXCERPT_CHARS)
    reason = labels.get(f"reason:{p.quote_reason}") if p.citat and p.quote_reason else None
    return {"text": text, "source": q.source(kind), "round": rnd, "themes": [t.name for t in p.themes],
            "reason": reason, "from_event": note.event_id is not None, "attributed": q.attributed,
            "truncated": truncated}


# --------------------------------------------------------------------------- avstämningar with the minister

def _action(t: Task) -> dict[str, Any]:
    done = links.aware(t.done_at).astimezone(links.TZ).date().isoformat() if t.done_at else None
    return {"title": t.title, "due": t.due_date.isoformat(), "done_on": done, "outcome": t.outcome}


def _avstamningar(c: _Ctx, as_of: date) -> dict[str, Any]:
    """The avstämningar held in the period (none after as_of: they have not happened) with their actions,
    and the actions of earlier avstämningar that were still open when the period began. Owners are
    left out: the report speaks for the office, and the minister's feedback is the office's own record."""
    held = db.session.scalars(
        select(Avstamning).where(Avstamning.held_on >= c.start, Avstamning.held_on <= min(c.end, as_of))
        .options(joinedload(Avstamning.report), selectinload(Avstamning.tasks))
        .order_by(Avstamning.held_on, Avstamning.id)).all()
    began = datetime.combine(c.start, time(0), links.TZ)
    carried = db.session.scalars(
        select(Task).join(Avstamning, Task.avstamning_id == Avstamning.id)
        .where(Task.kind == AVSTAMNING, Avstamning.held_on < c.start,
               Task.done_at.is_(None) | (Task.done_at >= began))
        .options(joinedload(Task.avstamning)).order_by(Task.due_date, Task.id)).all()
    return {"held": [{"held_on": a.held_on.isoformat(),
                      "report": _("%(title)s, version %(n)s", title=a.report.title, n=a.report.version_number)
                      if a.report else None,
                      "actions": [_action(t) for t in a.tasks]} for a in held],
            "carried": [{**_action(t), "from": t.avstamning.held_on.isoformat()} for t in carried]}


# --------------------------------------------------------------------------- the summary

def _summary(d: dict[str, Any]) -> list[str]:
    """The findings first: short generated sentences, each with its denominator."""
    out = []
    if d["sample"] is None:
        return [_("Inget urval av besöksplatser är antaget än; rapporten har inga besökssiffror."),
                *_avstamning_summary(d)]
    quarter = d["kind"] == QUARTERLY  # a regular report, whatever the rhythm's length
    w = words(d["period"])
    v = d["visits"]
    t = v["total"]
    if quarter and not t["planned_period"]:
        out.append(_("Inga besök var planerade under %(the_period)s.", the_period=w.the_period))
    elif quarter:
        out.append(_("Under %(the_period)s genomfördes %(held)s av %(planned)s besök som var planerade för "
                     "%(the_period)s.", the_period=w.the_period, held=num(t["held_period"]),
                     planned=num(t["planned_period"])))
    r1, r2 = v["period"][0], v["period"][1]
    out.append(_("Totalt har %(n1)s av %(sites)s besöksplatser fått sitt första besök och %(n2)s av %(sites)s sitt "
                 "andra (%(held)s av %(target)s besök, %(share)s).", n1=num(r1["held_to_date"]),
                 n2=num(r2["held_to_date"]), sites=num(v["target"]), held=num(t["held_to_date"]),
                 target=num(t["target"]), share=pct(t["share_held"])))
    if t["planned_to_date"]:
        out.append(_("Av de %(planned)s besök som enligt schemat skulle vara genomförda vid periodens slut är "
                     "%(held)s markerade som genomförda.", planned=num(t["planned_to_date"]),
                     held=num(sum(r["held_to_date"] for r in v["period"]))))
    for nv in d["not_visited"]:
        if nv["count"]:
            out.append(_("%(n)s av %(of)s besöksplatser har inte haft sitt besök i omgång %(r)s.", n=num(nv["count"]),
                         of=num(nv["of"]), r=nv["round"]))
    dec = d["declines"]
    if dec["to_date"]:
        if quarter:
            out.append(_("Avböjanden: %(n)s under %(the_period)s och %(total)s sedan urvalet antogs; %(replaced)s av "
                         "%(total)s har fått en ersättare.", n=num(dec["period"]), the_period=w.the_period,
                         total=num(dec["to_date"]), replaced=num(dec["replaced"])))
        else:
            out.append(_("Avböjanden under uppdraget: %(total)s; %(replaced)s av %(total)s fick en ersättare.",
                         total=num(dec["to_date"]), replaced=num(dec["replaced"])))
    up = d["upcoming"]
    if up is not None:
        out.append(_("Under %(next_period)s (%(label)s) är %(n)s besök inplanerade; %(booked)s av dem är bokade med "
                     "kommunen.", next_period=w.next_period, label=up["period"]["label"],
                     n=num(up["count"]), booked=num(up["booked"])))
    p = d["plans"]
    o = p["overall"]
    out.append(_("%(plans)s av %(sites)s besöksplatser har en handlingsplan. Av planernas %(total)s aktiviteter är "
                 "%(done)s genomförda (%(share_done)s) och %(decided)s beslutade (%(share_decided)s).",
                 plans=num(p["with_plan"]), sites=num(p["sites"]), total=num(o["total"]), done=num(o["done"]),
                 share_done=pct(o["share_done"]), decided=num(o["decided"]), share_decided=pct(o["share_decided"])))
    dl = d["dialogue"]
    span = "period" if quarter else "to_date"
    n_notes, n_events = dl["notes"][span]["visits"], dl["notes"][span]["events"]
    themes = dl["themes_period"] if quarter else dl["themes_to_date"]
    if n_notes or n_events:
        sentence = _("Dialoganteckningar finns från %(n)s besök och %(e)s dialogforum under perioden.",
                     n=num(n_notes), e=num(n_events))
        top = next((row for row in themes if row["notes"]), None)
        if top is not None:
            sentence += " " + _("Vanligast tema: %(theme)s (i %(k)s av %(n)s besöksanteckningar).", theme=top["theme"],
                                k=num(top["notes"]), n=num(n_notes))
        out.append(sentence)
    flags = dl["flags"]
    counts = [flags[f][span]["passages"] + flags[f][span]["event_passages"] for f in
              ("gott_exempel", "hinder", "nationell_fraga")]
    if any(counts):
        out.append(_("Markerade passager i periodens anteckningar: goda exempel %(good)s, hinder %(obstacles)s, "
                     "frågor för nationell nivå %(national)s.", good=num(counts[0]), obstacles=num(counts[1]),
                     national=num(counts[2])))
    if d["measurement"]["tables"]:
        out.append(_("Resultat från förmätningen redovisas för %(n)s frågor.", n=num(len(d["measurement"]["tables"]))))
    return out + _avstamning_summary(d)


def _avstamning_summary(d: dict[str, Any]) -> list[str]:
    av = d["avstamningar"]
    actions = [x for a in av["held"] for x in a["actions"]] + av["carried"]
    if not av["held"] and not actions:
        return []
    return [_("Avstämningar med statsrådet under perioden: %(n)s. %(done)s av %(total)s åtgärder efter "
              "avstämningarna är klara.", n=num(len(av["held"])), total=num(len(actions)),
              done=num(sum(x["done_on"] is not None for x in actions)))]


# --------------------------------------------------------------------------- compute

def _national(end: date) -> dict[str, Any]:
    """Design-weighted national figures (measurement/weighted.py) of every questionnaire and round with
    answers submitted up to ``end``; the method in words."""
    from ..measurement.models import MeasurementRequest
    from ..measurement.weighted import method_paragraphs, min_base, national_estimates

    pairs = db.session.execute(select(MeasurementRequest.questionnaire_id, MeasurementRequest.round)
                               .where(MeasurementRequest.submitted_at.isnot(None)).distinct()).all()
    estimates = []
    for qid, rnd in sorted(pairs):
        result = national_estimates(qid, rnd, until=end)
        if result["sites"]:
            estimates.append(result)
    estimates.sort(key=lambda e: (e["questionnaire"], e["questionnaire_id"], e["round"]))
    return {"estimates": estimates, "method": method_paragraphs(), "min_base": min_base()}


def _local_today() -> date:
    from ..scheduling.overview import today  # honours COORDINATOR_TODAY (demos, tests)
    return today()


def compute(period_key: str) -> dict[str, Any]:
    """Every figure and generated text of the report for the period, as a JSON-serialisable dict."""
    from ..measurement.results import report_tables

    period = parse_period(period_key)
    final = period.kind == FINAL
    a = assignment()
    sample = adopted_sample()
    generated_at = datetime.now(timezone.utc).replace(microsecond=0)
    as_of = _local_today()
    groups = list(db.session.scalars(select(OjGroup.number).order_by(OjGroup.number))) or [1, 2, 3, 4, 5]
    sites: list[Site] = []
    visits: list[Any] = []
    if sample is not None:
        sites = list(db.session.scalars(select(Site).where(Site.sample_id == sample.id)
                                        .options(joinedload(Site.kommun).joinedload(Kommun.lan))
                                        .order_by(Site.position, Site.id)))
        visits = db.session.execute(select(Visit.id, Visit.site_id, Visit.round, Visit.date, Visit.status)
                                    .join(Site, Site.id == Visit.site_id).where(Site.sample_id == sample.id)
                                    .order_by(Visit.id)).all()
    c = _Ctx(period, sample.id if sample else None, sites, [s for s in sites if s.active], visits, groups,
             _status_labels())
    nxt = period.next()
    data: dict[str, Any] = {
        "schema": SCHEMA, "kind": period.kind, "period": period.as_dict(),
        "next_period": nxt.as_dict() if nxt else None,
        "assignment": {"name": a.name, "start": _iso(a.start_date), "end": _iso(a.end_date),
                       "final_report_due": _iso(a.final_report_due),
                       "rounds": [{"round": 1, "start": _iso(a.round1_start), "end": _iso(a.round1_end)},
                                  {"round": 2, "start": _iso(a.round2_start), "end": _iso(a.round2_end)}]},
        "generated_at": generated_at.isoformat(), "as_of": as_of.isoformat(),
        "sample": None if sample is None else {
            "name": sample.name, "reference_year": sample.reference_year, "sites": len(c.active),
            "kommuner": len({s.kommunkod for s in c.active}), "declined": len(sites) - len(c.active)},
        "groups": groups, "rounds": list(ROUNDS),
    }
    data["visits"] = _visit_figures(c)
    data["not_visited"] = _not_visited(c)
    data["map"] = _map(c)
    data["declines"] = _declines(c) if sample else {"period": 0, "to_date": 0, "replaced": 0, "rows": []}
    data["upcoming"] = _upcoming(c)
    data["plans"], plans_by_site = _plans(c, as_of, final)
    data["measurement"] = {"tables": report_tables(None, period.end), "since": None, "until": period.end.isoformat()}
    data["national"] = _national(period.end)
    data["dialogue"], themes_by_round = _dialogue(c, final)
    data["avstamningar"] = _avstamningar(c, as_of)
    data["final"] = None
    if final:
        data["final"] = {
            "by_group_round": [{"group": row["group"], "sites": row["sites"],
                                "rounds": [{"round": rr["round"], "held": rr["held"]} for rr in row["rounds"]]}
                               for row in data["visits"]["by_group"]],
            "themes_by_round": themes_by_round, "plans_by_site": plans_by_site}
        from .final import gather  # what only the final report shows (its chapters and appendices)
        data["final"]["report"] = gather(c, data)
    data["summary"] = _summary(data)
    return data
