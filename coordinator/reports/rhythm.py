"""The assignment's reporting rhythm: the report periods, their due dates, what is due, the avstämningar.

Plain words: the office reports to the minister every `report_interval_months` months, counted
from `report_start` (the first of a month), and each report is due `report_due_days` days after
its period ends. The periods are the intervals of that rhythm that overlap the assignment
(start_date..end_date); the final-report basis ("slut") covers the whole assignment and is due
on `final_report_due`. With the shipped settings (every 3 months from 2014-10-01) the periods are
calendar quarters.

Keys and labels: a calendar quarter keeps its old key and label ("2015Q3", "Kvartal 3 2015"), so
narratives, issued reports, addresses and commands from before keep working. Any other period is
keyed by the month it starts in ("2015-02") and labelled by its months ("februari–april 2015").

No Flask pages here: the report pages, the settings page, the reminder command and the lead
engineer's overview and weekly digest read these functions. Each runs a fixed number of SQL
statements whatever the number of periods, reports or actions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from babel.dates import format_date
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..i18n import _, locale
from ..scheduling.defaults import assignment
from ..tasks.models import AVSTAMNING, Task
from .models import FINAL, FINAL_PERIOD, QUARTERLY, Avstamning, IssuedReport, Narrative, sections_for

_QUARTER = re.compile(r"^(\d{4})\s*[-_/ ]?\s*[QK]\s*([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
MAX_PERIODS = 240  # a rhythm that would make more is refused by the settings form
YEARS = (1900, 2199)  # a period named outside these is no period (and no date arithmetic near year 9999)


def add_months(d: date, months: int) -> date:
    """The first of the month `months` after d's month (d is the first of a month)."""
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, 1)


def months_between(first: date, later: date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


# --------------------------------------------------------------------------- periods

@dataclass(frozen=True)
class Period:
    """A report period ("2015Q3", "2015-02"; kind kvartal) or the whole assignment ("slut", kind slut).

    kind "kvartal" means a regular report to the minister, whatever the rhythm's length."""
    key: str
    kind: str
    start: date
    end: date
    label: str
    due: date | None = None
    months: int = 0          # the rhythm's length; 0 for the whole assignment

    def next(self) -> Period | None:
        """The following period of the same rhythm (None for the whole assignment)."""
        if self.kind != QUARTERLY:
            return None
        return _period(add_months(self.start, self.months), self.months, (self.due - self.end).days)

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "kind": self.kind, "label": self.label, "start": self.start.isoformat(),
                "end": self.end.isoformat()}


def _month_name(d: date) -> str:
    return format_date(d, "LLLL", locale=locale())


def _period(start: date, months: int, due_days: int) -> Period:
    """The period of `months` months from `start` (the first of a month), due `due_days` after its end."""
    end = add_months(start, months) - timedelta(days=1)
    if months == 3 and start.month % 3 == 1:
        q = start.month // 3 + 1
        key, label = f"{start.year}Q{q}", _("Kvartal %(q)s %(year)s", q=q, year=start.year)
    else:
        key = f"{start.year}-{start.month:02d}"
        if months == 1:
            label = f"{_month_name(start)} {start.year}"
        elif start.year == end.year:
            label = f"{_month_name(start)}\u2013{_month_name(end)} {start.year}"
        else:
            label = f"{_month_name(start)} {start.year}\u2013{_month_name(end)} {end.year}"
    return Period(key, QUARTERLY, start, end, label, end + timedelta(days=due_days), months)


def _rhythm(a) -> tuple[date, int, int]:
    """(anchor, months, due days) of the settings; a stored day other than the first counts from its month."""
    return a.report_start.replace(day=1), max(1, a.report_interval_months or 1), max(0, a.report_due_days or 0)


def calendar_quarters(a=None) -> bool:
    """Whether the rhythm makes calendar quarters (the shipped settings): every 3 months from January,
    April, July or October. The pages about the rhythm as a whole say "kvartal" then, "period" otherwise;
    a single report decides from its own period's key (wording.py)."""
    anchor, months, _days = _rhythm(a or assignment())
    return months == 3 and anchor.month % 3 == 1


def period_count(a) -> int:
    """How many periods the settings make (without making them)."""
    anchor, months, _days = _rhythm(a)
    if a.end_date < a.start_date:
        return 0
    return months_between(anchor, a.end_date) // months - months_between(anchor, a.start_date) // months + 1


def periods(a=None) -> list[Period]:
    """The assignment's report periods in order (without the final-report basis).

    `a` is the assignment, or anything with its dates and rhythm (the settings form checks a change
    before saving it); None reads the stored assignment."""
    a = a or assignment()
    anchor, months, due_days = _rhythm(a)
    # The rhythm's intervals run both ways from the anchor: take those that overlap the assignment.
    start = add_months(anchor, months * (months_between(anchor, a.start_date) // months))
    out = []
    for _i in range(min(period_count(a), MAX_PERIODS)):
        out.append(_period(start, months, due_days))
        start = add_months(start, months)
    return out


def final_period(a=None) -> Period:
    a = a or assignment()
    return Period(FINAL_PERIOD, FINAL, a.start_date, a.end_date, _("Hela uppdraget"), a.final_report_due)


def due_date(period: Period, a=None) -> date:
    """The day the period's report is due: `report_due_days` after its end; the final report's own date."""
    a = a or assignment()
    if period.kind == FINAL:
        return a.final_report_due
    return period.end + timedelta(days=_rhythm(a)[2])


def canonical_key(text: str) -> str | None:
    """ "2015 q3" -> "2015Q3", "2015-2" -> "2015-02", "SLUT" -> "slut"; None if it names no period."""
    raw = (text or "").strip()
    if raw.lower() == FINAL_PERIOD:
        return FINAL_PERIOD
    if (match := _QUARTER.match(raw)) and YEARS[0] <= int(match.group(1)) <= YEARS[1]:
        return f"{match.group(1)}Q{match.group(2)}"
    match = _MONTH.match(raw)
    if match and YEARS[0] <= int(match.group(1)) <= YEARS[1] and 1 <= int(match.group(2)) <= 12:
        return f"{match.group(1)}-{int(match.group(2)):02d}"
    return None


def parse_period(text: str, a=None) -> Period:
    """The period a user names: its key in any usual spelling ("2015Q3", "2015 q3", "2015-02") or "slut".

    ValueError with a message for the user when the text names no period of the assignment."""
    a = a or assignment()
    key = canonical_key(text)
    if key is None:
        raise ValueError(_("Ogiltig period ”%(text)s”. Ange en period som 2015Q3 (ett kvartal) eller 2015-02 (perioden "
                           "som börjar i februari 2015), eller ”slut” för hela uppdraget.", text=(text or "").strip()))
    if key == FINAL_PERIOD:
        return final_period(a)
    ps = periods(a)
    for p in ps:
        if p.key == key:
            return p
    # Well formed but not one of the rhythm's periods: say whether it lies outside the assignment.
    if "Q" in key:
        year, q = int(key[:4]), int(key[-1])
        asked = _period(date(year, 3 * q - 2, 1), 3, 0)
    else:
        asked = _period(date(int(key[:4]), int(key[5:]), 1), _rhythm(a)[1], 0)
    if asked.end < a.start_date or asked.start > a.end_date:
        raise ValueError(_("%(label)s ligger utanför uppdraget (%(start)s–%(end)s).", label=asked.label,
                           start=a.start_date.isoformat(), end=a.end_date.isoformat()))
    raise ValueError(_("%(label)s är inte en av uppdragets rapportperioder. Rapporterna avser %(n)s månader i taget "
                       "från %(start)s, till exempel %(example)s.", label=asked.label, n=_rhythm(a)[1],
                       start=_rhythm(a)[0].isoformat(),
                       example=", ".join(p.key for p in ps[:3]) if ps else FINAL_PERIOD))


def all_periods(a=None) -> list[Period]:
    """Every report period, then the final-report basis."""
    a = a or assignment()
    return [*periods(a), final_period(a)]


# --------------------------------------------------------------------------- what is due

@dataclass
class DueReport:
    period: Period
    due: date
    issued: int                  # versions issued
    empty_sections: list[str]    # narrative sections without text, in report order
    overdue: bool


def report_status(on: date) -> list[DueReport]:
    """What the office owes the minister on a day: every report whose due date has passed with no
    issued version (overdue), then the next one due (the first due on or after `on`, issued or not).
    The final-report basis takes its turn by its due date. Three statements whatever the number of
    periods."""
    a = assignment()
    issued = dict(db.session.execute(select(IssuedReport.period, func.count()).group_by(IssuedReport.period))
                  .tuples().all())
    written: dict[str, set[str]] = {}
    for period, section in db.session.execute(select(Narrative.period, Narrative.section)
                                              .where(Narrative.text != "")):
        written.setdefault(period, set()).add(section)

    def row(p: Period, overdue: bool) -> DueReport:
        return DueReport(p, p.due, issued.get(p.key, 0),
                         [s for s in sections_for(p.key) if s not in written.get(p.key, set())], overdue)

    by_due = sorted(all_periods(a), key=lambda p: (p.due, p.kind == FINAL, p.start))
    out = [row(p, True) for p in by_due if p.due < on and not issued.get(p.key)]
    nxt = next((p for p in by_due if p.due >= on), None)
    if nxt is not None:
        out.append(row(nxt, False))
    return out


# --------------------------------------------------------------------------- avstämningar

def next_avstamning(on: date) -> Avstamning | None:
    """The first avstämning with the minister on or after `on` (with the report it discusses)."""
    return db.session.scalar(select(Avstamning).where(Avstamning.held_on >= on)
                             .options(joinedload(Avstamning.report)).order_by(Avstamning.held_on, Avstamning.id)
                             .limit(1))


def open_actions() -> list[Task]:
    """The open actions from avstämningar, by due date, with their owner and avstämning."""
    return list(db.session.scalars(
        select(Task).where(Task.kind == AVSTAMNING, Task.done_at.is_(None))
        .options(joinedload(Task.owner), joinedload(Task.avstamning))
        .order_by(Task.due_date, Task.id)))


# --------------------------------------------------------------------------- a change of the settings

# The settings that make the periods; the first of them that changed carries the refusal.
RHYTHM_FIELDS = ("report_interval_months", "report_start", "start_date", "end_date")


def check_change(a, values: dict[str, Any]) -> dict[str, str]:
    """Refuse (in words, naming them) a change of the assignment's dates or rhythm that would leave
    report texts or issued reports on periods that no longer exist, or make too many periods.
    {field name: message}; empty when the change may be saved. Two statements."""
    new = SimpleNamespace(**{k: values.get(k, getattr(a, k)) for k in
                             (*RHYTHM_FIELDS, "report_due_days", "final_report_due")})
    changed = [k for k in RHYTHM_FIELDS if getattr(new, k) != getattr(a, k)]
    if not changed:
        return {}
    field = changed[0]
    count = period_count(new)
    if count > MAX_PERIODS:
        return {field: _("Med de datumen och den rytmen blir det %(n)s rapportperioder; högst %(max)s går.",
                         n=count, max=MAX_PERIODS)}
    old_keys = {p.key: p.label for p in all_periods(a)}
    new_keys = {p.key for p in all_periods(new)}
    kept: dict[str, list[str]] = {}
    for key in db.session.scalars(select(Narrative.period).distinct()):
        kept.setdefault(key, []).append(_("texter"))
    for key in db.session.scalars(select(IssuedReport.period).distinct()):
        kept.setdefault(key, []).append(_("utfärdad"))
    # Only what the change would strand: texts already outside every period are not its doing.
    stranded = [key for key in kept if key in old_keys and key not in new_keys]
    if not stranded:
        return {}
    stranded.sort(key=list(old_keys).index)
    names = "; ".join(f"{old_keys[key]} ({', '.join(kept[key])})" for key in stranded)
    return {field: _("Ändringen sparades inte: med den nya rytmen skulle dessa perioder inte längre finnas, men de "
                     "har rapporttexter eller utfärdade rapporter: %(periods)s. Behåll rytmen, eller välj en som "
                     "ger samma perioder för dem.", periods=names)}
