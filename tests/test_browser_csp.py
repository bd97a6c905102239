"""The Content-Security-Policy breaks nothing, in a real browser on the demo's data: the pages that use the
app's scripts (layout.js everywhere, notes.js in the note editor, measurement.js in the kommun's
questionnaire) and the pages with charts and maps (inline SVG with style attributes) load without a single
policy violation, and the scripts do their work.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import url_for
from playwright.sync_api import expect
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.measurement import service as measurement
from coordinator.measurement.models import MeasurementRequest
from coordinator.timeutil import utcnow

from .conftest import browser_login
from .helpers import demo_ids

pytestmark = pytest.mark.browser

# Seen by the page itself (an init script is not subject to the page's policy): every violation reported.
WATCH = """window.__violations = [];
document.addEventListener("securitypolicyviolation",
  e => window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline")));"""


def watched(page) -> list[str]:
    """Console messages about the policy, collected while the page lives."""
    messages: list[str] = []
    page.add_init_script(WATCH)
    page.on("console", lambda m: messages.append(m.text) if "Content Security Policy" in m.text else None)
    return messages


def assert_no_violation(page, messages: list[str], url: str) -> None:
    assert page.evaluate("window.__violations") == [], url
    assert messages == [], url


def loaded(page, script: str) -> bool:
    """The browser fetched the script (a script the policy blocks is never fetched)."""
    return page.evaluate("name => performance.getEntriesByType('resource').some(e => e.name.endsWith(name))",
                         f"/static/{script}")


def open_questionnaire(app) -> str:
    """A path to a kommun's questionnaire that is open for answers today (the demo's lie in its past)."""
    with app.app_context():
        req = db.session.scalars(select(MeasurementRequest).order_by(MeasurementRequest.id)).first()
        req.submitted_at, req.revoked_at, req.expires_at = None, None, utcnow() + timedelta(days=30)
        db.session.commit()
        return f"/matning/{measurement.token_for(req)}"


def test_the_policy_lets_every_script_chart_and_map_work(demo_page, demo):
    page = demo_page
    messages = watched(page)
    ids = demo_ids(demo)
    with demo.test_request_context():
        note = url_for("dialogue.note", visit_id=ids["held_visit"])
        pages = ["/", note, "/register/karta", "/besok/karta", f"/rapporter/{ids['period']}/",
                 f"/platser/{ids['site_id']}/", "/matningar/"]
    questionnaire = open_questionnaire(demo)

    # The kommun's questionnaire, without a login: measurement.js hides what a skip rule jumps over.
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(questionnaire)
    expect(page.locator("form.m-form")).to_be_visible()
    assert loaded(page, "measurement.js") and loaded(page, "layout.js")
    assert_no_violation(page, messages, questionnaire)

    browser_login(page, "staff")
    for url in pages:
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("load")
        assert_no_violation(page, messages, url)

    # The note editor's script is running: typing is saved as a draft by itself (fetch to the autosave URL).
    page.goto(note)
    assert loaded(page, "notes.js")
    with page.expect_response(lambda r: "/utkast" in r.url and r.request.method == "POST", timeout=20_000) as saved:
        page.locator("form.note-form textarea").first.type(" CSP", delay=20)
    assert saved.value.status == 204
    assert_no_violation(page, messages, note)

    # Charts and maps are drawn (inline SVG, styled by attributes the policy allows).
    page.goto(f"/rapporter/{ids['period']}/")
    expect(page.locator("svg.report-chart").first).to_be_visible()
    page.goto("/register/karta")
    expect(page.locator("svg").first).to_be_visible()
    assert_no_violation(page, messages, "charts and maps")

    # layout.js is running: on a phone, a wide table gets its "scrolls sideways" hint.
    page.goto("/besok/")
    page.wait_for_load_state("load")
    if page.locator(".table-scroll").count():
        expect(page.locator(".scroll-hint").first).to_be_attached()
    assert_no_violation(page, messages, "/besok/")
