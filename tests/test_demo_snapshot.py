"""The demo's snapshot (conftest.demo_data): a module that gets the demo restored sees what a fresh build makes.

The test modules that read the demo get it built once per backend and worker and restored after that. Restored
must mean the same: the same rows with the same ids, the same sequences (the next row gets the id it would
get), the same audit log; and nothing a module changed may reach the next module.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from sqlalchemy import select, text

from coordinator.audit import record
from coordinator.dataversion import DataVersion
from coordinator.extensions import db

from .helpers import restore_snapshot

ARGS = ["demo", "--json"]
# A fresh build stamps some values with the moment it runs; the demo's own world ends years before that.
CLOCK = datetime.now() - timedelta(days=1)
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d)?")
RANDOM = {"nonce", "uid", "token"}  # token_urlsafe, uuid4


def dump(app) -> dict[str, list[tuple]]:
    """Every row of every table in primary-key order, and where each sequence stands. The data versions' tokens
    are left out: every restore renews them, so that no cache takes the restored data for what it cached."""
    with app.app_context():
        out = {t.name: [tuple(r) for r in db.session.execute(select(t).order_by(*t.primary_key.columns))]
               for t in db.metadata.sorted_tables}
        token = [c.name for c in DataVersion.__table__.columns].index("token")
        out[DataVersion.__tablename__] = [r[:token] + ("<renewed>",) + r[token + 1:]
                                          for r in out[DataVersion.__tablename__]]
        if db.engine.dialect.name == "postgresql":
            out["(sequences)"] = db.session.execute(text(
                "SELECT sequencename, last_value FROM pg_sequences ORDER BY sequencename")).all()
        elif db.session.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first():
            out["(sequences)"] = db.session.execute(text("SELECT name, seq FROM sqlite_sequence ORDER BY name")).all()
        db.session.rollback()
        return out


def comparable(rows: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """The dump without what no two builds share: the build's moment (audit events of kinds the demo does not
    re-date, rows it does not backdate, a report's generated_at) and what is drawn at random by design (links'
    nonces, calendar uids; an outbox message keeps only its Subject and To, its Message-ID, MIME boundaries and
    links being drawn afresh)."""
    columns = {t.name: [c.name for c in t.columns] for t in db.metadata.sorted_tables}

    def value(table: str, column: str, v):
        if column in RANDOM:
            return "<random>"
        if (table, column) == ("outbox_message", "message"):
            return re.findall(r"^(?:Subject|To): .*$", v, re.M)
        return clock_free(v)

    return {t: [tuple(value(t, c, v) for c, v in zip(columns.get(t) or [""] * len(r), r)) for r in rs]
            for t, rs in rows.items()}


def clock_free(v):
    if isinstance(v, datetime) and v.replace(tzinfo=None) >= CLOCK:
        return "<the build's moment>"
    if isinstance(v, str) and ISO.fullmatch(v) and datetime.fromisoformat(v).replace(tzinfo=None) >= CLOCK:
        return "<the build's moment>"
    if isinstance(v, dict):
        return {k: clock_free(x) for k, x in v.items()}
    if isinstance(v, list):
        return [clock_free(x) for x in v]
    return v


def differences(a: dict, b: dict) -> list[str]:
    """Per table, the columns in which `a` and `b` differ, each with its first differing pair of values."""
    columns = {t.name: [c.name for c in t.columns] for t in db.metadata.sorted_tables}
    found = []
    for t in sorted(set(a) | set(b)):
        ra, rb = a.get(t, []), b.get(t, [])
        if len(ra) != len(rb):
            found.append(f"{t}: {len(ra)} vs {len(rb)} rows")
            continue
        names = columns.get(t) or [str(i) for i in range(len(ra[0]) if ra else 0)]
        for i, name in enumerate(names):
            pairs = [(x[i], y[i]) for x, y in zip(ra, rb) if x[i] != y[i]]
            if pairs:
                found.append(f"{t}.{name}: {len(pairs)} of {len(ra)} rows differ, e.g. {str(pairs[0])[:200]}")
    return found


def test_a_restored_demo_is_what_a_fresh_build_makes(app, make_demo):
    output = make_demo(app, ARGS)  # built here, or restored if an earlier module in this worker built it
    assert make_demo(app, ARGS) == output  # restored now, whichever it was
    restored = dump(app)
    # A fresh build by the command, from the very database the snapshot's build started from.
    restore_snapshot(app, ("before", *ARGS))
    result = app.test_cli_runner().invoke(args=ARGS)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(output)  # the summary's counts
    fresh = dump(app)
    assert sum(len(rows) for rows in fresh.values()) > 5000  # the demo's data, not an empty database
    found = differences(comparable(fresh), comparable(restored))
    assert not found, "\n".join(found)


def test_what_a_module_changes_is_gone_when_the_next_gets_the_demo(app, make_demo):
    make_demo(app, ARGS)
    first = dump(app)
    with app.app_context():
        db.session.execute(text("UPDATE visit SET location = 'ändrad' WHERE id = (SELECT MIN(id) FROM visit)"))
        db.session.execute(text("DELETE FROM audit_event WHERE id = (SELECT MIN(id) FROM audit_event)"))
        record("test.changed", object_type="demo", object_id=None)  # one more audit row: its sequence moves on
        db.session.commit()
    assert differences(dump(app), first)
    make_demo(app, ARGS)
    found = differences(dump(app), first)
    assert not found, "\n".join(found)  # exactly: ids, sequences and timestamps too
