"""Tasks: creating, editing, closing and reopening, with optimistic locking and an audit trail.

Plain words: a task is something one person in the office must do by a day. Staff write their
own; an avstämning with the minister leaves actions, which are tasks tied to it; and the app
makes two kinds itself (see `sync`): the dialogue note to write after a held visit, and the
action-plan follow-up to prepare two weeks before a site's second visit. The app's own tasks
carry a `source` key so they are made once, follow their visit's date while open, and close
themselves when what they ask for is done. The audit log gets ids and field names, never the
text of a task (it may name people).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..audit import record
from ..extensions import db
from ..i18n import _
from ..timeutil import utcnow
from ..versions import Stale, check_version
from .models import ANTECKNING, AVSTAMNING, EGEN, TASK_KINDS, UPPFOLJNING, Task

TITLE_MAX = 300
TEXT_MAX = 10_000
FOLLOWUP_DAYS_BEFORE = 14  # the plan follow-up is prepared two weeks before the second visit
EDITABLE = ("title", "details", "owner_id", "due_date", "site_id", "visit_id", "outcome")


class TaskError(Exception):
    """A request the tasks' rules refuse; the message is for the user."""


class StaleError(TaskError, Stale):
    """The form was based on an older version: someone else saved in between. Nothing was changed."""


def _user_id(user) -> int | None:
    return getattr(user, "id", None)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for key in ("title", "details", "outcome"):
        if key in out:
            text = (out[key] or "").replace("\r\n", "\n").replace("\r", "\n").strip()
            if "\x00" in text:
                raise TaskError(_("Texten innehåller otillåtna tecken."))
            out[key] = text
    if "title" in out:
        if not out["title"]:
            raise TaskError(_("Skriv vad som ska göras."))
        if "\n" in out["title"]:
            raise TaskError(_("Rubriken får bara vara en rad."))
        if len(out["title"]) > TITLE_MAX:
            raise TaskError(_("Rubriken får vara högst %(n)s tecken.", n=TITLE_MAX))
    for key in ("details", "outcome"):
        if len(out.get(key) or "") > TEXT_MAX:
            raise TaskError(_("Texten får vara högst %(n)s tecken.", n=TEXT_MAX))
    if "due_date" in out and out["due_date"] is None:
        raise TaskError(_("Ange ett datum då uppgiften ska vara klar."))
    return out


def create(values: dict[str, Any], user=None, kind: str = EGEN, avstamning_id: int | None = None) -> Task:
    """A new open task; `values` holds title, due_date and optionally details, owner_id, site_id, visit_id."""
    if kind not in TASK_KINDS:
        raise TaskError(_("Okänd sorts uppgift."))
    values = _clean({key: values.get(key) for key in EDITABLE if key in values})
    for key in ("title", "due_date"):
        if key not in values:
            raise TaskError(_("Skriv vad som ska göras och när det ska vara klart."))
    task = Task(kind=kind, avstamning_id=avstamning_id, created_by_id=_user_id(user),
                **{k: v for k, v in values.items() if v is not None or k.endswith("_id")})
    db.session.add(task)
    db.session.flush()
    record("task.created", task, kind=kind, owner_id=task.owner_id, due=task.due_date.isoformat(),
           avstamning_id=avstamning_id)
    return task


def update(task: Task, expected_version, values: dict[str, Any], user=None) -> list[str]:
    """Change a task's fields; the names of the fields that changed (none: nothing was written)."""
    check_version(expected_version, task.version, StaleError)
    values = _clean({key: values[key] for key in EDITABLE if key in values})
    changed = [key for key, value in values.items() if getattr(task, key) != value]
    for key in changed:
        setattr(task, key, values[key])
    if changed:
        db.session.flush()
        record("task.updated", task, fields=changed)
    return changed


def set_done(task: Task, expected_version, done: bool, user=None, outcome: str | None = None) -> bool:
    """Close (or reopen) a task; False if it already was so. `outcome` is kept when given."""
    check_version(expected_version, task.version, StaleError)
    if outcome is not None:
        outcome = _clean({"outcome": outcome})["outcome"]
        if outcome != task.outcome:
            task.outcome = outcome
    if done == task.done:
        if outcome is not None and db.session.is_modified(task):
            db.session.flush()
            record("task.updated", task, fields=["outcome"])
            return True
        return False
    task.done_at = utcnow() if done else None
    task.done_by_id = _user_id(user) if done else None
    db.session.flush()
    record("task.done" if done else "task.reopened", task)
    return True


def delete(task: Task, expected_version, user=None) -> None:
    """Remove a task typed by hand or from an avstämning; the app's own tasks are closed instead."""
    check_version(expected_version, task.version, StaleError)
    if task.automatic:
        raise TaskError(_("Appens egna uppgifter tas inte bort; markera den som klar i stället."))
    record("task.deleted", task, kind=task.kind, avstamning_id=task.avstamning_id)
    db.session.delete(task)
    db.session.flush()


# --------------------------------------------------------------------------- reading

def N_(s: str) -> str:
    """Marks a string for translation where it is defined; `_` translates it where it is shown."""
    return s


KIND_LABELS = {EGEN: N_("Egen"), AVSTAMNING: N_("Avstämning med statsrådet"),
               ANTECKNING: N_("Appen: anteckning efter besök"), UPPFOLJNING: N_("Appen: uppföljning inför besök 2")}


def kind_label(kind: str) -> str:
    return _(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def title_of(task: Task) -> str:
    """What the task says, in the reader's language: the app's own tasks are worded afresh."""
    if task.kind == ANTECKNING and task.visit is not None and task.site is not None:
        return _("Skriv anteckningen från besöket i %(site)s (omgång %(round)s)", site=task.site.label,
                 round=task.visit.round)
    if task.kind == UPPFOLJNING and task.site is not None:
        return _("Förbered uppföljningen av handlingsplanen inför besök 2 i %(site)s", site=task.site.label)
    return task.title


def _with_links(stmt):
    return stmt.options(joinedload(Task.owner), joinedload(Task.site), joinedload(Task.visit),
                        joinedload(Task.avstamning))


def open_tasks(owner_id: int | None = None, due_by: date | None = None) -> list[Task]:
    """Open tasks by due date (optionally one person's, or due by a day)."""
    stmt = select(Task).where(Task.done_at.is_(None))
    if owner_id is not None:
        stmt = stmt.where(Task.owner_id == owner_id)
    if due_by is not None:
        stmt = stmt.where(Task.due_date <= due_by)
    return list(db.session.scalars(_with_links(stmt).order_by(Task.due_date, Task.id)).unique())


@dataclass
class SyncReport:
    created: int = 0
    moved: int = 0
    closed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "moved": self.moved, "closed": self.closed}


def note_due(held_on: date, working_days: int, is_working_day) -> date:
    """The day a dialogue note is due: `working_days` working days after the visit was held."""
    day, left = held_on, working_days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def sync(on: date, wanted: Iterable[dict[str, Any]]) -> SyncReport:
    """Make the app's own tasks agree with what the data asks for.

    `wanted` lists the tasks that should be open now, each {source, kind, title, due_date,
    site_id, visit_id}. A wanted task that does not exist is created (unowned); an open one whose
    due date changed (its visit moved) follows; an open app task that is no longer wanted is
    closed by the app (its note was written, its follow-up is done, its visit cancelled). A task
    someone closed by hand stays closed. Commits nothing."""
    report = SyncReport()
    wanted = {w["source"]: w for w in wanted}
    existing = {t.source: t for t in db.session.scalars(
        select(Task).where(Task.kind.in_((ANTECKNING, UPPFOLJNING)), Task.source.isnot(None)))}
    for source, w in wanted.items():
        task = existing.get(source)
        if task is None:
            task = Task(kind=w["kind"], title=w["title"][:TITLE_MAX], due_date=w["due_date"], source=source,
                        site_id=w.get("site_id"), visit_id=w.get("visit_id"))
            db.session.add(task)
            db.session.flush()
            record("task.created", task, kind=task.kind, due=task.due_date.isoformat(), actor="system")
            report.created += 1
        elif not task.done and task.due_date != w["due_date"]:
            task.due_date = w["due_date"]
            report.moved += 1
    for source, task in existing.items():
        if source not in wanted and not task.done:
            task.done_at = utcnow()
            record("task.done", task, actor="system", automatic=True)
            report.closed += 1
    if report.moved or report.closed:
        db.session.flush()
    return report


__all__ = ["ANTECKNING", "AVSTAMNING", "EGEN", "UPPFOLJNING", "FOLLOWUP_DAYS_BEFORE", "SyncReport", "StaleError",
           "Task", "TaskError", "create", "delete", "note_due", "open_tasks", "set_done", "sync", "update"]
