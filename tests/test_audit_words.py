"""The audit log in words (coordinator/audit/words.py) and the log page's filters and pages.

The demo assignment is made once per backend (module-scoped, as in test_demo.py); the tests read it
and add only audit events of their own, which the module's teardown empties with the rest.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from coordinator.audit import AuditEvent, record
from coordinator.audit.words import KINDS, SENTENCES, describe
from coordinator.auth.models import User
from coordinator.extensions import db
from coordinator.plans.models import PlanActivity
from coordinator.scheduling.models import Visit

from .conftest import USERS, Client

ROOT = Path(__file__).parent.parent


def recorded_actions() -> set[str]:
    """Every action string that `record(` is called with in coordinator/, the conditional ones included."""
    actions = set()
    for path in (ROOT / "coordinator").rglob("*.py"):
        for call in re.finditer(r"record\(\s*(\"[a-z_.]+\"(?:\s+if\s+[^\"]+?\s+else\s+\"[a-z_.]+\")?)",
                                path.read_text(encoding="utf-8")):
            actions.update(re.findall(r"\"([a-z_.]+)\"", call.group(1)))
    return actions


class Statements:
    """Counts the SQL statements sent to the database while it is active."""

    def __init__(self):
        self.count = 0

    def __call__(self, *args):
        self.count += 1

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self)


# --------------------------------------------------------------------------- sentences

def test_every_recorded_action_has_its_own_sentence_and_none_shows_its_code(app):
    actions = recorded_actions()
    assert {"visit.moved", "note.saved", "plan.activity_updated", "invite.queued", "auth.login",
            "theme.reactivated", "measurement.submitted"} <= actions  # the scan finds plain and conditional calls
    assert actions - set(SENTENCES) == set()
    with app.test_request_context():
        for action in sorted(actions):
            kind = action.split(".")[0]
            object_type = {"invite": "visit", "plan": "action_plan", "measurement": "measurement_request",
                           "auth": "user_account", "outbox": "outbox_message", "feed": "feed_token",
                           "contacts": "contact", "registry": "oj_group",
                           "staff": "staff_member", "pace": "month_pace"}.get(kind, kind)
            e = AuditEvent(id=1, at=datetime(2016, 10, 31, 9, tzinfo=timezone.utc), actor="system", action=action,
                           object_type=object_type if object_type in KINDS else None, object_id="999999",
                           details={"fields": ["status"], "old": "2016-11-21", "new": "2016-11-24"})
            text = describe([e])[0].text
            assert text and text[0].isupper() and text.endswith("."), (action, text)
            assert action not in text and "_" not in text, (action, text)


def test_an_unknown_action_gets_a_general_sentence_from_its_last_word(app):
    with app.test_request_context():
        events = [AuditEvent(id=i, at=datetime.now(timezone.utc), actor="system", action=action,
                             object_type="task", object_id=None, details=None)
                  for i, action in enumerate(("task.archived_created", "task.undone", "widget.frobnicated"))]
        texts = [d.text for d in describe(events)]
    assert texts == ["En uppgift skapades.", "En uppgift ångrades.", "En ändring gjordes: en uppgift."]


def test_demo_events_read_as_sentences_with_the_objects_names_and_links(demo):
    app = demo
    with app.test_request_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        described = describe(events)
        by_action = {}
        for d in described:
            by_action.setdefault(d.event.action, d)
        moved = by_action["visit.moved"]
        visit = db.session.get(Visit, int(moved.event.object_id))
        assert moved.text == (f"Besöket i {visit.site.label} (omgång {visit.round}) flyttades från "
                              f"{moved.event.details['old']} till {moved.event.details['new']}.")
        assert moved.url == f"/besok/{visit.id}"
        assert moved.label == f"Besöket i {visit.site.label} (omgång {visit.round})"
        assert moved.who == "systemet" and moved.when.tzinfo is not None

        updated = next(d for d in described if d.event.action == "plan.activity_updated"
                       and d.event.details.get("fields") == ["status"])
        activity = db.session.get(PlanActivity, int(updated.event.object_id))
        site = activity.goal.plan.site
        assert updated.text == (f"Aktivitet {activity.goal.position}.{activity.position} i handlingsplanen för "
                                f"{site.label} uppdaterades (status).")
        assert updated.url == f"/handlingsplaner/plats/{site.id}/aktivitet/{activity.id}"

        note = by_action["note.saved"]
        assert note.text.startswith("Anteckningen från ") and note.text.endswith(" sparades.")
        assert note.url.startswith("/dialog/")
        assert by_action["sample.site_declined"].text.endswith("ersätter.")
        assert by_action["invite.partstat"].text.startswith("Ett svar registrerades för Demo ")
        # Never the text of a note or a plan: every demo passage and plan text starts with "[Demo]".
        assert not [d.text for d in described if "[Demo]" in d.text or "[Demo]" in (d.label or "")]


def test_who_is_a_name_the_system_or_a_kommun_through_its_link(demo):
    app = demo
    client = Client(app, USERS["admin"])  # the login is recorded with the user's id
    assert client.get("/").status_code == 200
    with app.app_context():
        record("plan.kommun_report", object_type="plan_activity", object_id=1, actor="kommunlänk 4", fields=["status"])
        record("measurement.submitted", object_type="measurement_request", object_id=1, actor="mätningslänk 2")
        record("auth.user_created", object_type="user_account", object_id=2, actor="cli", role="staff")
        db.session.commit()
    with app.test_request_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(4)).all()
        who = {d.event.action: d.who for d in describe(events)}
    assert who == {"auth.login": "Test admin", "plan.kommun_report": "en kommun via sin länk",
                   "measurement.submitted": "en kommun via sin länk", "auth.user_created": "systemet"}


def test_an_object_that_is_gone_has_no_link_and_the_sentence_says_what_it_was(demo):
    app = demo
    with app.test_request_context():
        e = AuditEvent(id=1, at=datetime.now(timezone.utc), actor="system", action="visit.moved",
                       object_type="visit", object_id="987654", details={"old": "2016-11-21", "new": "2016-11-24"})
        gone = describe([e])[0]
    assert gone.text == "Besöket flyttades från 2016-11-21 till 2016-11-24." and gone.url is None and gone.label is None


def test_the_sentences_are_in_english_when_english_is_chosen(demo):
    app = demo
    with app.test_request_context():
        from flask import session
        session["lang"] = "en"
        e = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "visit.moved"))
        d = describe([e])[0]
    assert re.fullmatch(r"The visit in .+ \(round \d\) was moved from 2016-\d\d-\d\d to 2016-\d\d-\d\d\.", d.text)
    assert d.who == "the system"


def test_describe_reads_the_objects_in_a_constant_number_of_statements(demo):
    """The same kinds of object at two sizes: one event of each, then up to forty of each."""
    app = demo
    with app.test_request_context():
        per_kind: dict[str, list[AuditEvent]] = {}
        for e in db.session.scalars(select(AuditEvent).where(AuditEvent.object_id.isnot(None))
                                    .order_by(AuditEvent.id)):
            per_kind.setdefault(e.object_type, []).append(e)
        small = [events[0].id for events in per_kind.values()]
        large = [e.id for events in per_kind.values() for e in events[:40]]
        assert len(large) > 5 * len(small)
        counts = []
        for ids in (small, large):
            db.session.remove()  # nothing read before may help the second round
            events = db.session.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids))).all()
            with Statements() as statements:
                described = describe(events)
            assert all(d.url for d in described if d.event.object_type in ("visit", "plan_activity", "note"))
            counts.append(statements.count)
    assert counts[0] == counts[1] <= len(per_kind) + 1


# --------------------------------------------------------------------------- the log page

def rows_of(html: str) -> list[str]:
    return re.findall(r'<tr id="handelse-\d+">(.*?)</tr>', html, flags=re.S)


def test_the_log_page_filters_by_person_kind_and_date_and_keeps_them_in_the_page_links(demo):
    app = demo
    admin = Client(app, USERS["admin"])
    with app.app_context():
        admin_id = db.session.scalar(select(User.id).where(User.email == USERS["admin"]))
        visits = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.object_type == "visit"))
        # One event dated in 2013 (Swedish time), before anything of the demo's, to find by date.
        old = record("sample.adopted", object_type="sample", object_id=1)
        old.at = datetime(2013, 3, 16, 23, 30, tzinfo=timezone.utc)  # 17 March 00.30 in Stockholm
        db.session.commit()

    mine = admin.get(f"/logg/?vem=u{admin_id}").get_data(as_text=True)
    assert rows_of(mine) and all("Test admin" in r for r in rows_of(mine))
    assert "Inloggning." in mine

    page = admin.get("/logg/?slag=visit").get_data(as_text=True)
    assert f"av {visits} händelser" in page and len(rows_of(page)) == 50
    assert all("Besök" in r for r in rows_of(page))
    assert 'href="/logg/?sida=2&amp;slag=visit"' in page or 'href="/logg/?slag=visit&amp;sida=2"' in page
    last = admin.get("/logg/?slag=visit&sida=999999").get_data(as_text=True)  # beyond the end: the last page
    assert f"Sida {-(-visits // 50)} av {-(-visits // 50)}" in last

    day = admin.get("/logg/?fran=2013-03-17&till=2013-03-17").get_data(as_text=True)
    assert len(rows_of(day)) == 1 and "2013-03-17" in day and "antogs." in day
    assert not rows_of(admin.get("/logg/?fran=2013-03-16&till=2013-03-16").get_data(as_text=True))


@pytest.mark.parametrize("fran, message", [
    ("2015-13-01", "Från och med: skriv datumet som ÅÅÅÅ-MM-DD"),
    ("17/3 2015", "Från och med: skriv datumet som ÅÅÅÅ-MM-DD"),
    ("0001-01-01", "Från och med: datumet ska ligga mellan år 2000 och 2200."),
    ("2015-03-17\x00x", "Från och med: skriv datumet som ÅÅÅÅ-MM-DD"),  # the NUL is taken out, the x is not
    ("9" * 400, "Från och med: skriv datumet som ÅÅÅÅ-MM-DD"),
])
def test_a_bad_date_is_refused_in_words_and_stays_in_the_form(demo, fran, message):
    admin = Client(demo, USERS["admin"])
    response = admin.get("/logg/", query_string={"fran": fran, "vem": "systemet", "sida": "x"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and message in html
    assert rows_of(html)  # the other filters still work


def test_to_before_from_is_refused(demo):
    html = Client(demo, USERS["admin"]).get("/logg/?fran=2016-10-31&till=2016-10-01").get_data(as_text=True)
    assert "Till och med-datumet ligger före från och med-datumet." in html


def test_the_log_page_runs_the_same_number_of_statements_for_a_full_and_a_short_page(demo):
    app = demo
    admin = Client(app, USERS["admin"])
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.object_type == "plan_activity"))
    assert total % 50 and total > 100
    counts = []
    for query in ("?slag=plan_activity", f"?slag=plan_activity&sida={-(-total // 50)}"):  # 50 rows, then fewer
        with app.app_context():
            with Statements() as statements:
                assert admin.get(f"/logg/{query}").status_code == 200
            counts.append(statements.count)
    assert counts[0] == counts[1]


def test_only_admin_reads_the_log(demo):
    assert Client(demo, USERS["staff"]).get("/logg/").status_code == 403
