"""`coordinator demo --scale N`: the demo N times as large, with N parallel teams, consistent with the rules.

Made once per backend at --scale 2 (module-scoped); the base team's sites are those without a "(demo)"
unit, the second team's are its units, so "twice the base" is counted in the same database.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import func, select

from coordinator.audit import AuditEvent
from coordinator.contacts.models import Attendee, Contact
from coordinator.dialogue.models import Note, Passage
from coordinator.extensions import db
from coordinator.measurement.models import MeasurementAnswer, MeasurementRequest
from coordinator.plans.models import ActionPlan, PlanActivity, PlanGoal
from coordinator.sampling.models import ADOPTED, Sample, Site
from coordinator.scheduling.defaults import assignment
from coordinator.scheduling.models import GENOMFORD, StaffMember, Visit

from .conftest import USERS, Client, _reset

SCALE = 2


def run(app, *args):
    return app.test_cli_runner().invoke(args=["demo", *args])


@pytest.fixture(scope="module")
def scaled(backend_app):
    app = backend_app
    _reset(app)
    result = run(app, "--scale", str(SCALE), "--json")
    assert result.exit_code == 0, result.output
    yield app, json.loads(result.output)
    _reset(app)


def extra(site: Site) -> bool:
    return site.enhet.endswith("(demo)")


def test_the_summary_reports_the_scale_and_twice_the_sites(scaled):
    _app, summary = scaled
    assert summary["scale"] == SCALE
    assert summary["sites"] == 50 * SCALE
    assert sum(summary["visits"].values()) == 100 * SCALE
    assert summary["staff"] == 4 * SCALE


def test_every_count_of_the_sites_content_is_twice_the_base_teams(scaled):
    app, summary = scaled
    with app.app_context():
        sites = {s.id: extra(s) for s in db.session.scalars(select(Site).where(Site.active.is_(True)))}

        def split(site_ids) -> tuple[int, int]:
            c = Counter(sites[i] for i in site_ids if i in sites)
            return c[False], c[True]

        visit_site = dict(db.session.execute(select(Visit.id, Visit.site_id)).all())
        note_site = {n: visit_site[v] for n, v in db.session.execute(
            select(Note.id, Note.visit_id).where(Note.visit_id.isnot(None))).all()}
        plan_site = dict(db.session.execute(select(ActionPlan.id, ActionPlan.site_id)).all())
        goal_site = {g: plan_site[p] for g, p in db.session.execute(select(PlanGoal.id, PlanGoal.plan_id)).all()}
        request_site = dict(db.session.execute(select(MeasurementRequest.id, MeasurementRequest.site_id)).all())
        counts = {
            "sites": split(sites),
            "visits": split(visit_site.values()),
            "contacts": split(db.session.scalars(select(Contact.site_id))),
            "notes": split(note_site.values()),
            "passages": split(note_site[n] for n in db.session.scalars(select(Passage.note_id))
                              if n in note_site),
            "plans": split(plan_site.values()),
            "goals": split(goal_site.values()),
            "activities": split(goal_site[g] for g in db.session.scalars(select(PlanActivity.goal_id))),
            "measurements": split(request_site.values()),
            "answers": split(request_site[r] for r in db.session.scalars(select(MeasurementAnswer.request_id))),
            "attendees": split(visit_site[v] for v in db.session.scalars(
                select(Attendee.visit_id).where(Attendee.visit_id.isnot(None)))),
        }
    for name, (base, more) in counts.items():
        assert base > 0 and more == base * (SCALE - 1), (name, base, more)
    assert summary["passages"] > 1000 * SCALE


def test_every_visit_is_at_an_active_site_of_the_adopted_sample_within_the_capacity(scaled):
    app, _summary = scaled
    with app.app_context():
        sample = db.session.scalar(select(Sample).where(Sample.status == ADOPTED))
        active = {s.id for s in sample.active_sites}
        visits = list(db.session.scalars(select(Visit)))
        assert visits and all(v.site_id in active for v in visits)
        a = assignment()
        assert (a.max_per_day, a.max_per_week) == (SCALE, 3 * SCALE)
        per_day = Counter(v.date for v in visits if v.date)
        per_week = Counter(v.date.isocalendar()[:2] for v in visits if v.date)
        assert max(per_day.values()) <= a.max_per_day and max(per_week.values()) <= a.max_per_week
        site_days = Counter((v.site_id, v.date) for v in visits)
        assert max(site_days.values()) == 1  # no site is visited twice on a day
        # Each site has its two rounds, the second keeping the minimum gap.
        rounds = Counter(v.site_id for v in visits)
        assert set(rounds.values()) == {2} and set(rounds) == active


def test_the_extra_team_has_its_own_people_and_units_marked_demo(scaled):
    app, _summary = scaled
    with app.app_context():
        names = set(db.session.scalars(select(StaffMember.name)))
        assert "Demo Teamledare 2" in names
        assert sum(db.session.scalars(select(StaffMember.coordinator))) == 1  # still one coordinator
        units = [s for s in db.session.scalars(select(Site)) if extra(s)]
        assert len(units) == 50 * (SCALE - 1) and all("(demo)" in s.enhet for s in units)
        unit_ids = {s.id for s in units}
        team = {m.id for m in db.session.scalars(select(StaffMember).where(StaffMember.name.like("%team 2%")))}
        team |= {db.session.scalar(select(StaffMember.id).where(StaffMember.name == "Demo Teamledare 2"))}
        for v in db.session.scalars(select(Visit).where(Visit.site_id.in_(unit_ids))):
            assert {m.id for m in v.staff} <= team, v.id
        contacts = list(db.session.scalars(select(Contact).where(Contact.site_id.in_(unit_ids))))
        assert all(c.name.startswith("Demo ") and c.email.endswith("@example.se") for c in contacts)
        base_emails = set(db.session.scalars(select(Contact.email).where(Contact.site_id.notin_(unit_ids))))
        assert not base_emails & {c.email for c in contacts}
        # The units' time lines: their own log events, in the demo's time.
        events = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.site_id.in_(unit_ids)))
        base_events = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                        .where(AuditEvent.site_id.isnot(None), AuditEvent.site_id.notin_(unit_ids)))
        assert events > 0 and events <= base_events
        # What their events name is the unit's own (the log's words link to it).
        visit_site = dict(db.session.execute(select(Visit.id, Visit.site_id)).all())
        for e in db.session.scalars(select(AuditEvent).where(AuditEvent.site_id.in_(unit_ids))):
            if e.object_type == "visit":
                assert visit_site[int(e.object_id)] == e.site_id, (e.action, e.object_id)
            if isinstance(e.details, dict) and "visit_id" in e.details:
                assert visit_site[e.details["visit_id"]] == e.site_id, (e.action, e.details)


def test_the_pages_answer_for_the_extra_sites(scaled):
    app, _summary = scaled
    staff = Client(app, USERS["staff"])
    with app.app_context():
        units = {s.id: s.label for s in db.session.scalars(select(Site)) if extra(s)}
        visit = db.session.scalar(select(Visit).where(Visit.site_id.in_(units), Visit.status == GENOMFORD)
                                  .order_by(Visit.date, Visit.id))
        plan_site = db.session.scalar(select(ActionPlan.site_id).where(ActionPlan.site_id.in_(units))
                                      .order_by(ActionPlan.id))
        label = units[visit.site_id]
    for url in ("/besok/lista", "/besok/karta", "/besok/kalender", "/dialog/", "/dialog/oversikt",
                "/handlingsplaner", f"/handlingsplaner/plats/{plan_site}", "/matningar/",
                f"/besok/{visit.id}", f"/dialog/besok/{visit.id}", f"/platser/{visit.site_id}/",
                "/platser/", "/urval/protokoll"):
        response = staff.get(url)
        assert response.status_code == 200, url
    page = staff.get(f"/platser/{visit.site_id}/").get_data(as_text=True)
    assert label.split(", ")[-1] in page
    assert "[Demo]" in staff.get(f"/dialog/besok/{visit.id}").get_data(as_text=True)


def test_nonsense_scales_are_refused_in_plain_swedish_and_nothing_changes(scaled):
    # One test, not parametrized: pytest would move the later --replace test between the parameters.
    app, summary = scaled
    for value, words in (("0", "minst 1"), ("-1", "minst 1"), ("11", "högst 10"), ("100", "högst 10")):
        result = run(app, "--replace", "--scale", value)
        assert result.exit_code == 1 and "--scale" in result.output and words in result.output, value
        with app.app_context():
            sample = db.session.scalar(select(Sample).where(Sample.status == ADOPTED))
            assert len(sample.active_sites) == summary["sites"], value


def test_a_refused_scale_in_json_says_so(scaled):
    app, _summary = scaled
    result = run(app, "--scale", "0", "--json")
    assert result.exit_code == 1 and "minst 1" in result.output


def test_the_office_goes_on_working_after_the_bulk_copies(scaled):
    """New rows get ids past the copied ones (PostgreSQL's sequences were moved on)."""
    from coordinator.audit import record

    app, _summary = scaled
    with app.app_context():
        site = db.session.scalar(select(Site).where(Site.enhet.like("%(demo)")).order_by(Site.id.desc()))
        contact = Contact(site_id=site.id, role="socialchef", name="Demo Ny", email="demo.ny@example.se",
                          organisation="")
        member = StaffMember(name="Demo Ny handläggare", title="Handläggare", email="demo.ny@example.se",
                             coordinator=False, active=True)
        db.session.add_all([contact, member])
        db.session.flush()
        record("contact.created", contact, site_id=site.id)
        db.session.commit()
        assert contact.id > max(db.session.scalars(select(Contact.id).where(Contact.id != contact.id)))


def test_replace_at_scale_one_gives_the_base_demo_with_the_offices_own_capacity(scaled):
    """The scaled demo raised the visits per day and week; the next demo plans with the figures before it."""
    app, _summary = scaled
    result = run(app, "--replace", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["scale"] == 1 and summary["sites"] == 50 and summary["staff"] == 4
    assert sum(summary["visits"].values()) == 100
    with app.app_context():
        a = assignment()
        assert (a.max_per_day, a.max_per_week) == (1, 3)
        assert not any(extra(s) for s in db.session.scalars(select(Site)))
