"""The log of avstämningar with the minister, and the actions that follow them.

Plain words: an avstämning records the day it was (or will be) held, who attended, which issued
report was discussed, what the minister said (feedback) and decided. A planned one may be logged
ahead and completed afterwards. The actions are tasks (tasks.service, kind "avstamning") with an
owner from the office and a due date; closing one asks what came of it (the outcome), and the next
report lists the actions with their outcome (figures.py).

Every save is guarded by the row's `version`: a form based on an older version is refused and
nothing changes. The audit log gets ids, dates and the names of changed fields, never the texts
(they may quote the minister or name people).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from ..audit import record
from ..auth.models import User
from ..extensions import db
from ..i18n import _
from ..scheduling.defaults import assignment
from ..tasks import service as tasks
from ..tasks.models import AVSTAMNING, Task
from ..versions import Stale, check_version
from .models import Avstamning, IssuedReport

TEXT_MAX = 20_000
FIELDS = ("held_on", "attendees", "report_id", "feedback", "decisions")
TEXTS = ("attendees", "feedback", "decisions")
SLACK_DAYS = 366  # an avstämning or an action may fall up to a year after the final report is due
MAX_ID = 2**31 - 1  # ids beyond a database integer name nothing (and must not reach the driver)


class AvstamningError(Exception):
    """A request the log refuses; the message is for the user. `field` names the form field, if one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class StaleError(AvstamningError, Stale):
    """The form was based on an older version: someone else saved in between. Nothing was changed."""


def date_window() -> tuple[date, date]:
    """The days an avstämning or an action's due date may fall on: from the assignment's start to a
    year after the final report is due."""
    a = assignment()
    return a.start_date, max(a.end_date, a.final_report_due) + timedelta(days=SLACK_DAYS)


def check_day(day: date | None, field: str) -> None:
    first, last = date_window()
    if day is None:
        raise AvstamningError(_("Ange ett datum (ÅÅÅÅ-MM-DD)."), field)
    if not first <= day <= last:
        raise AvstamningError(_("Ange ett datum mellan %(first)s och %(last)s.", first=first.isoformat(),
                                last=last.isoformat()), field)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out = {key: values.get(key) for key in FIELDS}
    for key in TEXTS:
        text = (out[key] or "").replace("\r\n", "\n").replace("\r", "\n").strip()
        if "\x00" in text:
            raise AvstamningError(_("Texten innehåller otillåtna tecken."), key)
        if len(text) > TEXT_MAX:
            raise AvstamningError(_("Texten får vara högst %(n)s tecken.", n=TEXT_MAX), key)
        out[key] = text
    check_day(out["held_on"], "held_on")
    report_id = out["report_id"]
    if report_id is not None and (not 0 < report_id <= MAX_ID or db.session.get(IssuedReport, report_id) is None):
        raise AvstamningError(_("Välj en av de utfärdade rapporterna, eller ingen."), "report_id")
    return out


# --------------------------------------------------------------------------- reading

@dataclass
class Listed:
    avstamning: Avstamning
    actions: int
    open: int


def listing() -> list[Listed]:
    """Every avstämning, newest first, with its report and its count of actions (two statements)."""
    rows = list(db.session.scalars(select(Avstamning).options(joinedload(Avstamning.report))
                                   .order_by(Avstamning.held_on.desc(), Avstamning.id.desc())))
    counts = {aid: (n, n_open) for aid, n, n_open in db.session.execute(
        select(Task.avstamning_id, func.count(), func.count(Task.id).filter(Task.done_at.is_(None)))
        .where(Task.avstamning_id.isnot(None)).group_by(Task.avstamning_id))}
    return [Listed(row, *counts.get(row.id, (0, 0))) for row in rows]


def get(avstamning_id: int) -> Avstamning | None:
    """One avstämning with its report and its actions (and their owners)."""
    if not 0 < avstamning_id <= MAX_ID:
        return None
    return db.session.scalar(select(Avstamning).where(Avstamning.id == avstamning_id).options(
        joinedload(Avstamning.report), selectinload(Avstamning.tasks).joinedload(Task.owner)))


def action(row: Avstamning, task_id: int) -> Task | None:
    """An action of this avstämning (None for any other task)."""
    return next((t for t in row.tasks if t.id == task_id), None)


def report_choices() -> list[IssuedReport]:
    """The issued versions an avstämning may discuss, newest first."""
    return list(db.session.scalars(select(IssuedReport).order_by(IssuedReport.issued_at.desc(),
                                                                 IssuedReport.id.desc())))


def owner_choices(keep: int | None = None) -> list[User]:
    """Active admin and staff users by name; `keep` (an action's owner who has since left) stays choosable."""
    query = select(User).where(User.role.in_(("admin", "staff")), User.active.is_(True))
    if keep is not None:
        query = select(User).where((User.id == keep) | (User.role.in_(("admin", "staff")) & User.active.is_(True)))
    return list(db.session.scalars(query.order_by(User.name, User.id)))


# --------------------------------------------------------------------------- writing

def create(values: dict[str, Any], user=None) -> Avstamning:
    values = _clean(values)
    row = Avstamning(created_by_id=getattr(user, "id", None), **values)
    db.session.add(row)
    db.session.flush()
    record("avstamning.created", row, held_on=row.held_on.isoformat(), report_id=row.report_id)
    return row


def update(row: Avstamning, expected_version, values: dict[str, Any], user=None) -> list[str]:
    """Change an avstämning; the names of the fields that changed (none: nothing was written)."""
    check_version(expected_version, row.version, StaleError)
    values = _clean(values)
    changed = [key for key in FIELDS if getattr(row, key) != values[key]]
    for key in changed:
        setattr(row, key, values[key])
    if changed:
        db.session.flush()  # raises the version, and checks the one we read
        record("avstamning.updated", row, fields=changed, held_on=row.held_on.isoformat())
    return changed


def delete(row: Avstamning, expected_version, user=None) -> int:
    """Remove an avstämning and its actions; how many actions went with it."""
    check_version(expected_version, row.version, StaleError)
    n = len(row.tasks)
    record("avstamning.deleted", row, held_on=row.held_on.isoformat(), actions=[t.id for t in row.tasks])
    db.session.delete(row)  # its actions go with it (cascade)
    db.session.flush()
    return n


def _action_values(values: dict[str, Any], keep_owner: int | None = None) -> dict[str, Any]:
    check_day(values.get("due_date"), "due_date")
    owner = values.get("owner_id")
    if owner is None or owner not in {u.id for u in owner_choices(keep=keep_owner)}:
        raise AvstamningError(_("Välj en av kansliets aktiva användare."), "owner_id")
    return values


def add_action(row: Avstamning, values: dict[str, Any], user=None) -> Task:
    """A new open action of the avstämning: title, owner_id, due_date, details."""
    try:
        return tasks.create(_action_values(values), user, kind=AVSTAMNING, avstamning_id=row.id)
    except tasks.TaskError as e:  # the title or a text (tasks.service checks them)
        raise AvstamningError(str(e), "title") from None


def update_action(task: Task, expected_version, values: dict[str, Any], user=None) -> list[str]:
    try:
        return tasks.update(task, expected_version, _action_values(values, keep_owner=task.owner_id), user)
    except tasks.StaleError as e:
        raise StaleError(str(e)) from None
    except tasks.TaskError as e:
        raise AvstamningError(str(e), "title") from None


def close_action(task: Task, expected_version, outcome: str, user=None) -> bool:
    try:
        return tasks.set_done(task, expected_version, True, user, outcome=outcome)
    except tasks.StaleError as e:
        raise StaleError(str(e)) from None
    except tasks.TaskError as e:
        raise AvstamningError(str(e), "outcome") from None


def reopen_action(task: Task, expected_version, user=None) -> bool:
    try:
        return tasks.set_done(task, expected_version, False, user)
    except tasks.StaleError as e:
        raise StaleError(str(e)) from None


def delete_action(task: Task, expected_version, user=None) -> None:
    try:
        tasks.delete(task, expected_version, user)
    except tasks.StaleError as e:
        raise StaleError(str(e)) from None
