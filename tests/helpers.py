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


def form_fields(html: str, action: str) -> dict[str, str]:
    """The fields a browser would send with the page's form that posts to `action` (a path): its hidden
    inputs (CSRF token, version, `confirmed`…) and other inputs' values. Fails if there is no such form."""
    from html.parser import HTMLParser
    from urllib.parse import unquote

    class Forms(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found: dict[str, str] | None = None
            self.inside = False

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "form" and unquote((a.get("action") or "").split("?")[0].split("#")[0]) == unquote(action) \
                    and self.found is None:
                self.inside, self.found = True, {}
            elif tag == "input" and self.inside and a.get("name") and a.get("type") not in ("checkbox", "radio"):
                self.found[a["name"]] = a.get("value") or ""

        def handle_endtag(self, tag):
            if tag == "form":
                self.inside = False

    parser = Forms()
    parser.feed(html)
    assert parser.found is not None, f"no form posting to {action}"
    return parser.found


def confirm_through_page(client, url: str, extra: dict | None = None, **kw):
    """GET a confirmation page and POST its form, as a person pressing its button would; the response."""
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:1000]
    fields = form_fields(page.get_data(as_text=True), url)
    return client.post(url, {**fields, **(extra or {})}, **kw)
