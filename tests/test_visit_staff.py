"""Who goes on a visit, by hand (POST /besok/<id>/vem-aker), and the invitation that names them.

No demo: a sample is drawn and adopted through the CLI; staff members are added here.
"""
from __future__ import annotations

import email
from datetime import date
from email import policy

import pytest
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.outbox.models import OutboxMessage
from coordinator.scheduling.models import StaffAbsence, StaffMember, Visit

from .helpers import adopt_sample, audit_events, form_fields
from .test_visits import add_contacts, calendar_of, dated_visit, text, unfolded, version_of

DAY = date(2015, 3, 10)


@pytest.fixture
def setup(app):
    """An adopted sample, a visit on DAY, a coordinator and two staff members (Bo away on DAY)."""
    from coordinator.sampling.models import Sample
    sample_id = adopt_sample(app)
    with app.app_context():
        site_id = db.session.get(Sample, sample_id).active_sites[0].id
        people = [StaffMember(name="Samordnaren Sam", coordinator=True), StaffMember(name="Anna Andersson"),
                  StaffMember(name="Bo Berg", absences=[StaffAbsence(start_date=DAY, end_date=DAY, reason="kurs")])]
        db.session.add_all(people)
        db.session.commit()
        ids = {p.name.split()[-1]: p.id for p in people}
    visit_id = dated_visit(app, site_id, DAY)
    return {"visit_id": visit_id, "site_id": site_id, **ids}


def team(app, visit_id) -> list[str]:
    with app.app_context():
        return [m.name for m in db.session.get(Visit, visit_id).staff]


def test_staff_choose_who_goes_and_it_shows_on_the_visit_and_the_list(app, staff, setup):
    visit_id = setup["visit_id"]
    page = staff.get(f"/besok/{visit_id}")
    html = page.get_data(as_text=True)
    fields = form_fields(html, f"/besok/{visit_id}/vem-aker")
    assert 'name="staff"' in html and "Bo Berg" in html
    before = version_of(app, visit_id)
    done = staff.post(f"/besok/{visit_id}/vem-aker", {**fields, "staff": [str(setup["Sam"]), str(setup["Andersson"])]})
    assert done.status_code == 302 and done.headers["Location"].endswith("#vem-aker")
    assert team(app, visit_id) == ["Samordnaren Sam", "Anna Andersson"]
    assert version_of(app, visit_id) != before  # a form opened before the change is now stale
    shown = text(staff.get(f"/besok/{visit_id}"))
    assert "Vem åker Samordnaren Sam, Anna Andersson" in shown
    assert "Samordnaren Sam, Anna Andersson" in text(staff.get("/besok/lista"))
    events = audit_events(app, "visit.staff_changed")
    assert len(events) == 1 and events[0].details == {"count": 2, "added": 2, "removed": 0}
    assert "Anna" not in str(events[0].details)
    # The same choice again changes nothing.
    again = staff.post(f"/besok/{visit_id}/vem-aker", {"version": version_of(app, visit_id),
                                                      "staff": [str(setup["Sam"]), str(setup["Andersson"])]})
    assert again.status_code == 302 and len(audit_events(app, "visit.staff_changed")) == 1


def test_a_member_absent_that_day_is_refused_with_a_clear_message(app, staff, setup):
    visit_id = setup["visit_id"]
    refused = staff.post(f"/besok/{visit_id}/vem-aker", {"version": version_of(app, visit_id),
                                                        "staff": [str(setup["Sam"]), str(setup["Berg"])]})
    assert refused.status_code == 422
    assert "Bo Berg är ledig 2015-03-10 och kan inte åka på besöket" in text(refused)
    assert team(app, visit_id) == [] and audit_events(app, "visit.staff_changed") == []


def test_stale_version_garbage_and_csrf_are_refused(app, staff, setup):
    visit_id = setup["visit_id"]
    stale = staff.post(f"/besok/{visit_id}/vem-aker", {"version": "999", "staff": [str(setup["Sam"])]})
    assert stale.status_code == 409 and "ändrats av någon annan" in text(stale)
    garbage = staff.post(f"/besok/{visit_id}/vem-aker", {"version": version_of(app, visit_id),
                                                        "staff": ["1x", "99999999999999999999"]})
    assert garbage.status_code == 422 and "Välj medarbetare i listan" in text(garbage)
    unknown = staff.post(f"/besok/{visit_id}/vem-aker", {"version": version_of(app, visit_id), "staff": ["987654"]})
    assert unknown.status_code == 422
    no_csrf = staff.post(f"/besok/{visit_id}/vem-aker", {"version": version_of(app, visit_id),
                                                        "staff": [str(setup["Sam"])]}, csrf=False)
    assert no_csrf.status_code == 400
    assert staff.post("/besok/999999/vem-aker", {"version": "1"}).status_code == 404
    assert team(app, visit_id) == []


def test_the_invitation_names_who_comes_from_the_office(app, staff, setup):
    visit_id = setup["visit_id"]
    add_contacts(app, setup["site_id"], 2)
    staff.post(f"/besok/{visit_id}/vem-aker", {"version": version_of(app, visit_id),
                                              "staff": [str(setup["Sam"]), str(setup["Andersson"])]})
    assert staff.post(f"/besok/{visit_id}/bjud-in", {"version": version_of(app, visit_id)}).status_code == 302
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.visit_id == visit_id)).one()
        ics = unfolded(calendar_of(message))
        body = email.message_from_string(message.message, policy=policy.default)
        plain = next(p for p in body.walk() if p.get_content_type() == "text/plain").get_content()
    description = next(line for line in ics.split("\n") if line.startswith("DESCRIPTION"))
    assert "Från samordnarens kansli kommer: Samordnaren Sam\\, Anna Andersson" in description
    assert "ORGANIZER;CN=" in ics and "samordnaren@example.se" in ics.split("ORGANIZER")[1].split("\n")[0]
    assert "Från samordnarens kansli kommer: Samordnaren Sam, Anna Andersson" in plain
