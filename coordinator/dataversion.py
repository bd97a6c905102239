"""Data versions: a counter per kind of data that changes with every committed change to it.

Caches key what they keep by it (reports/drafts.py, the registry's groups), so a cached result is
never served for data that changed since, in this process or in any other one.

Two counters, rows of the table data_version:
- "data": any change to the office's records (every table but the few in UNTRACKED, which no cached
  computation reads);
- "reference": a change to the registry (kommuner, län, population figures and their imports, ÖJ
  groups, sampling defaults); it moves "data" too.

How a change cannot be missed: every flush notes which tables it wrote (new, changed and deleted
objects), and so does every bulk insert/update/delete run through the session (session.execute of
update(), delete(), insert()). Just before the transaction commits, the noted counters are raised in
the same transaction, so the counter and the data become visible together. The raise is the
transaction's last statement: the counter's row is locked only for the moment of the commit, after
every other lock the transaction takes, so writers never wait on each other in a circle.

The row also holds a random token, new whenever the row is (re)created: two databases (a test run's
SQLite and PostgreSQL, a restored backup) never share a cache key.
"""
from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import String, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .extensions import db

DATA = "data"
REFERENCE = "reference"
# Tables no cached computation reads, written often (logins, autosaved drafts, mail, the audit log).
UNTRACKED = frozenset({"data_version", "audit_event", "login_lock", "user_account", "outbox_message", "note_draft",
                       "feed_token"})
REFERENCE_TABLES = frozenset({"lan", "kommun", "stadsdel", "population", "population_import", "oj_group",
                              "sampling_defaults"})
_PENDING = "coordinator.data_versions"  # key in Session.info: the counters to raise at commit
_SEEN = "coordinator.data_versions_seen"  # and the counters read in this transaction


class DataVersion(db.Model):
    __tablename__ = "data_version"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(default=1)
    token: Mapped[str] = mapped_column(String(32))


def _names(tables) -> set[str]:
    names = set()
    for table in tables:
        if table not in UNTRACKED:
            names.add(DATA)
            if table in REFERENCE_TABLES:
                names.add(REFERENCE)
    return names


def _note(session: Session, tables) -> None:
    names = _names(tables)
    if names:
        session.info.setdefault(_PENDING, set()).update(names)


def _unflushed(session: Session) -> set[str]:
    return _names({_table_name(obj) for part in (session.new, session.dirty, session.deleted) for obj in part})


def _table_name(obj) -> str | None:
    table = getattr(type(obj), "__table__", None)
    return getattr(table, "name", None)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush_context) -> None:
    # Still the flush's own collections here: what was new, changed and deleted.
    _note(session, {_table_name(obj) for part in (session.new, session.dirty, session.deleted) for obj in part})


@event.listens_for(Session, "do_orm_execute")
def _bulk(state) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name is None:  # a statement whose table cannot be told raises both: one recomputation too many at worst
        state.session.info.setdefault(_PENDING, set()).update({DATA, REFERENCE})
    else:
        _note(state.session, [name])


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the outer commit raises the counters
        return
    if session.new or session.dirty or session.deleted:  # the commit's own flush comes after this hook
        session.flush()
    names = session.info.pop(_PENDING, None)
    if names:
        bump(session, names)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:  # committed, rolled back or closed: the next one reads afresh
        session.info.pop(_PENDING, None)
        session.info.pop(_SEEN, None)


def bump(session: Session, names) -> None:
    """Raise the counters `names` in the session's transaction; a missing row is created anew, with a new
    token. Through the connection, so it does not count as a change itself."""
    connection = session.connection()
    table = DataVersion.__table__
    for name in sorted(names):
        done = connection.execute(update(table).where(table.c.name == name).values(n=table.c.n + 1)).rowcount
        if not done:  # two first commits at once: the one that comes second adds nothing
            connection.execute(_insert(connection.dialect.name)(table).values(
                name=name, n=1, token=secrets.token_hex(16)).on_conflict_do_nothing())


def renew(connection) -> None:
    """Give every counter a new token: after the whole database was replaced (a backup restored), the counters
    may stand where they stood at an earlier moment of the same database, and a worker's cache must not take
    the restored data for what it cached then."""
    from sqlalchemy import inspect

    if not inspect(connection).has_table(DataVersion.__tablename__):  # an older backup, before its migration
        return
    table = DataVersion.__table__
    for name in connection.execute(select(table.c.name)).scalars().all():
        connection.execute(update(table).where(table.c.name == name).values(token=secrets.token_hex(16)))


def _insert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def current(name: str = DATA) -> tuple[str, int] | None:
    """(token, counter) of `name` as the session's transaction sees it, read once per transaction.

    None when nothing may be cached by it: the transaction has changed such data and not yet committed
    (the counter does not show that change yet), or the counter was never set."""
    session = db.session()
    if name in session.info.get(_PENDING, ()) or name in _unflushed(session):
        return None
    seen = session.info.setdefault(_SEEN, {})
    if name not in seen:
        row = session.execute(select(DataVersion.token, DataVersion.n).where(DataVersion.name == name)).first()
        seen[name] = None if row is None else (row[0], row[1])
    return seen[name]


class Cache:
    """Values kept per process while the data is unchanged: compute() once per (key, data version), the
    `max_entries` most recently used kept. Nothing is kept while the session's transaction holds changes it has
    not committed (the version does not show them yet), nor on a database that never counted a change. The
    values are shared between views: callers read them and never change them. `stats` counts "computed" and
    "hits" (tests and benchmarks read it)."""

    def __init__(self, max_entries: int, stats: dict[str, int] | None = None):
        self.max_entries = max_entries
        self.stats = stats if stats is not None else {}
        self.stats.update(computed=0, hits=0)
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, Any] = OrderedDict()

    def get(self, key: Hashable, compute: Callable[[], Any], name: str = DATA) -> Any:
        version = current(name)
        if version is None:
            self.stats["computed"] += 1
            return compute()
        full = (key, version)
        with self._lock:
            if full in self._entries:
                self._entries.move_to_end(full)
                self.stats["hits"] += 1
                return self._entries[full]
        value = compute()  # outside the lock: another key's view need not wait
        self.stats["computed"] += 1
        with self._lock:
            self._entries.setdefault(full, value)
            self._entries.move_to_end(full)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            return self._entries[full]

    def values(self) -> list[Any]:
        with self._lock:
            return list(self._entries.values())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
