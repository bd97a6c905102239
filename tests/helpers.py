"""Helpers the test modules share (fixtures stay in conftest.py)."""
from __future__ import annotations

import json

from sqlalchemy import select

from coordinator.audit import AuditEvent
from coordinator.extensions import db


def cli_json(app, *args):
    """Run a command of the app's CLI with --json; what it printed, parsed. The command must succeed."""
    result = app.test_cli_runner().invoke(args=[*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def adopt_sample(app) -> int:
    """Draw (2014, seed 7) and adopt a sample through the CLI, as the coordinator does; the sample's id."""
    sample_id = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "7", "--save")["id"]
    cli_json(app, "sample", "adopt", str(sample_id))
    return sample_id


def audit_events(app, prefix: str) -> list[AuditEvent]:
    """The audit log's entries whose action starts with `prefix`, oldest first (detached, readable after)."""
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith(prefix))
                                  .order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return rows
