"""PROVISIONAL stand-in until the reporting-rhythm branch lands (same names and shapes)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..tasks.models import AVSTAMNING, Task
from . import figures
from .models import NARRATIVE_SECTIONS, Avstamning, IssuedReport, Narrative


@dataclass
class DueReport:
    period: figures.Period
    due: date
    issued: int
    empty_sections: list[str] = field(default_factory=list)
    overdue: bool = False


def periods(a=None):
    return figures.quarters()


def due_date(period) -> date:
    return period.end + timedelta(days=14)


def report_status(on: date) -> list[DueReport]:
    issued = {}
    for p in db.session.scalars(select(IssuedReport.period)):
        issued[p] = issued.get(p, 0) + 1
    texts = {}
    for n in db.session.scalars(select(Narrative)):
        if n.text:
            texts.setdefault(n.period, set()).add(n.section)
    out = []
    for p in periods():
        due = due_date(p)
        if due < on and not issued.get(p.key):
            out.append(DueReport(p, due, 0, [s for s in NARRATIVE_SECTIONS if s not in texts.get(p.key, set())], True))
        elif due >= on:
            out.append(DueReport(p, due, issued.get(p.key, 0),
                                 [s for s in NARRATIVE_SECTIONS if s not in texts.get(p.key, set())], False))
            break
    return out


def next_avstamning(on: date):
    return db.session.scalar(select(Avstamning).where(Avstamning.held_on >= on).order_by(Avstamning.held_on).limit(1))


def open_actions():
    return list(db.session.scalars(select(Task).where(Task.kind == AVSTAMNING, Task.done_at.is_(None))
                                   .options(joinedload(Task.owner), joinedload(Task.avstamning))
                                   .order_by(Task.due_date, Task.id)))
