"""The visits in the app: planning (CLI contract and pages), the rules checked without trusting the
solver, the life cycle with its iTIP messages, optimistic locking, the programme, and the views.

Every test runs on SQLite and PostgreSQL (the `app` fixture). Planning gets a short time limit.
"""
from __future__ import annotations

import email
import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone
from email import policy

import holidays
import pytest
from sqlalchemy import func, select

from coordinator.audit import AuditEvent
from coordinator.contacts.models import Contact
from coordinator.extensions import db
from coordinator.outbox.models import FAILED, OutboxMessage
from coordinator.registry.models import Kommun
from coordinator.sampling.models import Sample, Site
from coordinator.scheduling.defaults import assignment
from coordinator.scheduling.models import (BEKRAFTAD, FLYTTAD, FORSLAG, GENOMFORD, INBJUDEN, INSTALLD, Blackout,
                                           Visit)

from .helpers import form_fields

TIME_LIMIT = "3"


# --------------------------------------------------------------------------- helpers

def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def cli_json(app, *args, code: int = 0):
    result = cli(app, *args, "--json")
    assert result.exit_code == code, result.output
    return json.loads(result.output)


@pytest.fixture
def sites(app):
    """An adopted sample of 50 visit sites (drawn and adopted through the CLI); their ids."""
    data = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "7", "--save")
    cli_json(app, "sample", "adopt", str(data["id"]))
    with app.app_context():
        return [s.id for s in db.session.get(Sample, data["id"]).active_sites]


@pytest.fixture
def quick(app):
    """Planning from the pages with a short solver time limit."""
    saved = app.config.get("PLAN_TIME_LIMIT")
    app.config["PLAN_TIME_LIMIT"] = float(TIME_LIMIT)
    yield
    app.config["PLAN_TIME_LIMIT"] = saved


def plan_cli(app, *args, code: int = 0):
    return cli_json(app, "schedule", "plan", *args, "--time-limit", TIME_LIMIT, code=code)


def text(response) -> str:
    """The page as plain text (tags and the map's SVG removed, whitespace collapsed)."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    import html as h
    return re.sub(r"\s+", " ", h.unescape(html))


def version_of(app, visit_id: int) -> str:
    with app.app_context():
        return str(db.session.get(Visit, visit_id).version)


def calendar_of(message: OutboxMessage) -> str:
    msg = email.message_from_string(message.message, policy=policy.default)
    part = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
    return part.get_payload(decode=True).decode("utf-8")


def unfolded(ics: str) -> str:
    return ics.replace("\r\n ", "").replace("\r\n", "\n")


def add_contacts(app, site_id: int, n: int = 2) -> list[int]:
    with app.app_context():
        site = db.session.get(Site, site_id)
        roles = ("socialchef", "ks_ordforande", "facklig", "ifo_chef")
        contacts = [Contact(site=site, role=roles[i % len(roles)], name=f"Kontakt {i} {site.kommun.namn}",
                            email=f"k{i}.{site.kommunkod}.{site.id}@kommun.example.se") for i in range(n)]
        db.session.add_all(contacts)
        db.session.commit()
        return [c.id for c in contacts]


def dated_visit(app, site_id: int, day: date = date(2015, 3, 10), round_: int = 1) -> int:
    """Creates the visits (ensure_visits) and gives one a date; its id."""
    from coordinator.scheduling import service
    with app.app_context():
        service.ensure_visits()
        visit = db.session.scalar(select(Visit).where(Visit.site_id == site_id, Visit.round == round_))
        visit.date = day
        db.session.commit()
        return visit.id


def independent_violations(app) -> list[str]:
    """Every hard rule broken by the saved dates, checked here without the planner's code.

    Holidays come from the `holidays` package itself (Sundays left out); windows, blackouts and
    limits from the assignment's data.
    """
    problems = []
    with app.app_context():
        a = assignment()
        windows = {1: (a.round1_start, a.round1_end), 2: (a.round2_start, a.round2_end)}
        blackouts = [(b.start_date, b.end_date) for b in db.session.scalars(select(Blackout))]
        rows = [(v.site_id, v.round, v.date) for v in db.session.scalars(select(Visit))
                if v.status != INSTALLD]
        red = holidays.SE(years=range(2014, 2018), include_sundays=False)
        for site_id, r, d in rows:
            if d is None:
                problems.append(f"{site_id}/{r}: no date")
                continue
            if d.weekday() >= 5:
                problems.append(f"{d} is a weekend day")
            if d in red:
                problems.append(f"{d} is a public holiday ({red.get(d)})")
            if any(s <= d <= e for s, e in blackouts):
                problems.append(f"{d} is in a blackout")
            if not windows[r][0] <= d <= windows[r][1]:
                problems.append(f"{d} is outside round {r}'s window")
        per_day = Counter(d for _s, _r, d in rows if d)
        problems += [f"{n} visits on {d}" for d, n in per_day.items() if n > a.max_per_day]
        per_week = Counter(d.isocalendar()[:2] for _s, _r, d in rows if d)
        problems += [f"{n} visits in week {w}" for w, n in per_week.items() if n > a.max_per_week]
        by_site = defaultdict(dict)
        for site_id, r, d in rows:
            by_site[site_id][r] = d
        for site_id, ds in by_site.items():
            if ds.get(1) and ds.get(2) and (ds[2] - ds[1]).days < a.min_gap_days:
                problems.append(f"site {site_id}: only {(ds[2] - ds[1]).days} days between the visits")
    return problems


# --------------------------------------------------------------------------- access

def test_visit_pages_are_for_staff_only(app, sites, anon, reader, staff):
    visit_id = dated_visit(app, sites[0])
    pages = ["/besok/", "/besok/lista", "/besok/kalender", "/besok/karta", f"/besok/{visit_id}",
             f"/besok/{visit_id}/stall-in"]
    for url in pages:
        assert reader.get(url).status_code == 403, url
        assert anon.get(url).status_code == 302, url
        assert staff.get(url).status_code == 200, url
    for url in ["/besok/foresla", "/besok/spara", f"/besok/{visit_id}/bjud-in", f"/besok/{visit_id}/bekrafta",
                f"/besok/{visit_id}/flytta", f"/besok/{visit_id}/stall-in", f"/besok/{visit_id}/genomfort",
                f"/besok/{visit_id}/program", f"/besok/{visit_id}/skicka-program"]:
        assert reader.post(url, {"version": "1", "omgang": "1"}).status_code == 403, url
    assert staff.get("/besok/999999").status_code == 404
    # A POST without the CSRF token is refused.
    assert staff.post(f"/besok/{visit_id}/bekrafta", {"version": "1"}, csrf=False).status_code == 400


def test_main_menu_links_to_the_visits_for_staff_only(app, staff, reader):
    assert 'href="/besok/"' in staff.get("/").get_data(as_text=True)
    assert 'href="/besok/"' not in reader.get("/", follow_redirects=True).get_data(as_text=True)


def test_without_an_adopted_sample_the_index_explains_and_links_to_the_sample(app, staff):
    page = staff.get("/besok/")
    assert page.status_code == 200
    assert "Inget urval är antaget än" in text(page)
    assert 'href="/urval/"' in page.get_data(as_text=True)
    refused = staff.post("/besok/foresla", {"omgang": "1"})
    assert refused.status_code == 409 and "Inget urval är antaget än" in text(refused)
    assert "Inga besök ännu" in text(staff.get("/besok/lista"))


# --------------------------------------------------------------------------- planning: CLI contract

def test_cli_plan_contract_and_nothing_saved_without_save(app, sites):
    data = plan_cli(app, "--round", "1")
    assert len(data["visits"]) == 50
    for v in data["visits"]:
        assert {"site", "kommunkod", "round", "date"} <= set(v)
        assert v["round"] == 1 and re.fullmatch(r"\d{4}-\d\d-\d\d", v["date"]) and re.fullmatch(r"\d{4}", v["kommunkod"])
    assert data["stats"]["travel_km"] > 0 and data["stats"]["travel_days"] > 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 0  # not even the visits
        assert db.session.scalar(select(func.count()).select_from(Visit).where(Visit.date.isnot(None))) == 0


def test_cli_plan_save_both_rounds_holds_every_rule_checked_independently(app, sites):
    data = plan_cli(app, "--round", "all", "--save")
    assert len(data["visits"]) == 100
    with app.app_context():
        saved = {(v.site.kommunkod, v.site.label, v.round): v.date.isoformat() for v in db.session.scalars(select(Visit))}
        assert len(saved) == 100 and len({(s, r) for s, r in
                                          db.session.execute(select(Visit.site_id, Visit.round))}) == 100
        assert all(v.trip for v in db.session.scalars(select(Visit)))
    assert sorted(saved.values()) == sorted(v["date"] for v in data["visits"])
    assert independent_violations(app) == []


def test_replanning_keeps_booked_visits_and_moves_others_around_them(app, sites):
    plan_cli(app, "--round", "1", "--save")
    with app.app_context():
        vs = sorted(db.session.scalars(select(Visit).where(Visit.round == 1, Visit.date.isnot(None))),
                    key=lambda v: v.date)
        booked, other = vs[10], vs[20]
        # The kommun asked for another day: booked on a day the plan gave to someone else.
        booked.date, booked.status = other.date, INBJUDEN
        pinned = {booked.id: booked.date}
        for v in vs[:3]:
            v.status = BEKRAFTAD
            pinned[v.id] = v.date
        other_id, other_date = other.id, other.date
        db.session.commit()
    data = plan_cli(app, "--round", "1", "--save")
    assert data["stats"]["moved"] >= 1
    with app.app_context():
        for visit_id, d in pinned.items():
            assert db.session.get(Visit, visit_id).date == d
        assert db.session.get(Visit, other_id).date != other_date
        assert db.session.get(Visit, other_id).status == FORSLAG
    assert [p for p in independent_violations(app) if "no date" not in p] == []


def test_infeasible_settings_name_the_reason_in_swedish(app, sites, staff, quick):
    with app.app_context():
        a = assignment()
        a.round1_end = a.round1_start + timedelta(days=13)
        db.session.commit()
    error = plan_cli(app, "--round", "1", code=1)["error"]
    assert "Omgång 1" in error and "möjliga besöksdagar" in error
    page = staff.post("/besok/foresla", {"omgang": "1"})
    assert page.status_code == 422
    assert "Ingen plan kunde tas fram" in text(page) and "möjliga besöksdagar" in text(page)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit).where(Visit.date.isnot(None))) == 0


# --------------------------------------------------------------------------- planning: the pages

def test_propose_shows_the_plan_without_saving_then_save_stores_it(app, sites, staff, quick):
    page = staff.get("/besok/")
    assert "Föreslå datum" in text(page) and "/kontakter" in page.get_data(as_text=True)
    for link in ('href="/kontakter"', 'href="/besok/uppdrag"', 'href="/utkorg"'):
        assert link in page.get_data(as_text=True)
    proposal = staff.post("/besok/foresla", {"omgang": "2"})
    assert proposal.status_code == 200
    body = text(proposal)
    assert "Förslag: omgång 2" in body and "Spara förslaget" in body
    assert "Resväg" in body and "Resdagar" in body and "Flyttas från sparat datum" in body
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 100  # the visits exist now
        assert db.session.scalar(select(func.count()).select_from(Visit).where(Visit.date.isnot(None))) == 0
    shown = re.findall(r"(\d{4}-\d\d-\d\d)</time></td><td>\w+</td>", proposal.get_data(as_text=True))
    assert len(shown) == 50 and all(d >= "2016-04-01" for d in shown)
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([^"]+)"', proposal.get_data(as_text=True))
    saved = staff.post("/besok/spara", {"omgang": "2", "fingerprint": fingerprint.group(1)})
    assert saved.status_code == 302 and "/besok/lista" in saved.location
    listing = staff.get(saved.location)
    assert "Planen är sparad: 50 besök har datum" in text(listing)
    assert "planen räknades om" not in text(listing)  # the saved plan is the one that was shown
    with app.app_context():
        stored = sorted(v.date.isoformat() for v in db.session.scalars(select(Visit).where(Visit.round == 2)))
        assert stored == sorted(shown)
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "visit.planned")) == 1


def test_saving_the_plan_never_moves_booked_visits(app, sites, staff, quick):
    visit_id = dated_visit(app, sites[0], date(2015, 2, 3))
    with app.app_context():
        db.session.get(Visit, visit_id).status = BEKRAFTAD
        db.session.commit()
    proposal = text(staff.post("/besok/foresla", {"omgang": "1"}))
    assert "bokat, behålls" in proposal
    assert staff.post("/besok/spara", {"omgang": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(Visit, visit_id).date == date(2015, 2, 3)
    assert independent_violations(app) and all("no date" in p for p in independent_violations(app))


# --------------------------------------------------------------------------- moving by hand

def test_move_that_breaks_a_rule_needs_confirmation(app, sites, staff):
    visit_id = dated_visit(app, sites[0], date(2015, 3, 10))
    version = version_of(app, visit_id)
    # 2015-05-01 is a public holiday (Första maj).
    first = staff.post(f"/besok/{visit_id}/flytta", {"version": version, "date": "2015-05-01", "start": "09:00",
                                                    "end": "15:00", "location": "Kommunhuset"})
    assert first.status_code == 200
    body = text(first)
    assert "2015-05-01 är första maj" in body and "Flytta ändå" in body
    with app.app_context():
        assert db.session.get(Visit, visit_id).date == date(2015, 3, 10)  # nothing saved yet
    confirmed = staff.post(f"/besok/{visit_id}/flytta", {"version": version, "date": "2015-05-01", "start": "09:00",
                                                        "end": "15:00", "location": "Kommunhuset",
                                                        "confirmed": "1"})
    assert confirmed.status_code == 302
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit.date == date(2015, 5, 1) and visit.location == "Kommunhuset"
        assert visit.status == FORSLAG and visit.sequence == 0  # never sent: no new SEQUENCE, no message
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "visit.moved"))
        assert event.details["warnings"] >= 1 and event.details["new"] == "2015-05-01"


def test_move_within_the_rules_is_saved_at_once(app, sites, staff):
    visit_id = dated_visit(app, sites[0], date(2015, 3, 10))
    response = staff.post(f"/besok/{visit_id}/flytta", {"version": version_of(app, visit_id), "date": "2015-03-11",
                                                       "start": "10:00", "end": "14:30", "location": ""})
    assert response.status_code == 302
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert (visit.date, visit.start_time, visit.end_time) == (date(2015, 3, 11), time(10), time(14, 30))


def test_move_form_keeps_typed_values_and_says_what_is_wrong(app, sites, staff):
    visit_id = dated_visit(app, sites[0])
    page = staff.post(f"/besok/{visit_id}/flytta", {"version": version_of(app, visit_id), "date": "2015-13-45",
                                                   "start": "15:00", "end": "09:00", "location": "Rådhuset"})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'value="2015-13-45"' in html and 'value="Rådhuset"' in html
    assert "Ange ett datum som ÅÅÅÅ-MM-DD" in text(page)
    assert "Sluttiden måste vara efter starttiden" in text(page)
    with app.app_context():
        assert db.session.get(Visit, visit_id).date == date(2015, 3, 10)


# --------------------------------------------------------------------------- the life cycle

def test_invite_confirm_move_and_cancel_send_the_right_messages(app, sites, staff):
    visit_id = dated_visit(app, sites[1], date(2015, 3, 10))
    add_contacts(app, sites[1], 3)
    # Invite: METHOD:REQUEST to every contact, SEQUENCE 0.
    assert staff.post(f"/besok/{visit_id}/bjud-in", {"version": version_of(app, visit_id)}).status_code == 302
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        uid = visit.uid
        assert visit.status == INBJUDEN and len(visit.attendees) == 3 and visit.sent_sequence == 0
        messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [m.kind for m in messages] == ["request"]
        ics = unfolded(calendar_of(messages[0]))
        assert "METHOD:REQUEST" in ics and f"UID:{uid}" in ics and "SEQUENCE:0" in ics
        assert ics.count("ATTENDEE") == 3
    page = text(staff.get(f"/besok/{visit_id}"))
    # Queued is not sent: the visit says the invitation waits in the outbox until it is delivered.
    assert "Inbjudan ligger i utkorgen och skickas vid nästa utskick" in page and "Inbjudan väntar i utkorgen." in page
    # Confirm.
    assert staff.post(f"/besok/{visit_id}/bekrafta", {"version": version_of(app, visit_id)}).status_code == 302
    with app.app_context():
        assert db.session.get(Visit, visit_id).status == BEKRAFTAD
    page = text(staff.get(f"/besok/{visit_id}"))
    assert "går en ny inbjudan till samma kalenderhändelse" in page  # the move form says what a move will send
    # Move the booked visit: a new REQUEST, same UID, SEQUENCE 1, status flyttad.
    moved = staff.post(f"/besok/{visit_id}/flytta", {"version": version_of(app, visit_id), "date": "2015-03-12",
                                                    "start": "09:00", "end": "15:00", "location": ""})
    assert moved.status_code == 302
    assert "En ny inbjudan till samma kalenderhändelse ligger i utkorgen" in text(staff.get(moved.location))
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit.status == FLYTTAD and visit.sequence == 1 and visit.date == date(2015, 3, 12)
        messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [m.kind for m in messages] == ["request", "request"]
        ics = unfolded(calendar_of(messages[1]))
        assert "METHOD:REQUEST" in ics and f"UID:{uid}" in ics and "SEQUENCE:1" in ics
        assert "DTSTART:20150312T080000Z" in ics  # 09.00 in Stockholm (CET)
        assert all(a.partstat == "NEEDS-ACTION" for a in visit.attendees)
    # Moved visits wait for a new confirmation.
    index = text(staff.get("/besok/?datum=2015-03-01"))
    assert "Flyttade besök som väntar på ny bekräftelse" in index
    # Cancel: a confirmation page first, then METHOD:CANCEL with the same UID and a higher SEQUENCE.
    confirm_page = staff.get(f"/besok/{visit_id}/stall-in")
    said = text(confirm_page)
    assert "Ett återkallande av inbjudan skickas till de 3 inbjudna" in said and "Kan inte ångras" in said
    assert "METHOD:CANCEL" in said.split("Tekniska detaljer", 1)[1]  # the protocol words only in the disclosure
    with app.app_context():
        assert db.session.get(Visit, visit_id).status == FLYTTAD  # the GET changed nothing
    assert staff.post(f"/besok/{visit_id}/stall-in", {"version": version_of(app, visit_id), "confirmed": "1",
                                                      "reason": "Kommunen bad om det"}).status_code == 302
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit.status == INSTALLD and visit.sequence == 2
        last = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        ics = unfolded(calendar_of(last))
        assert last.kind == "cancel" and "METHOD:CANCEL" in ics and f"UID:{uid}" in ics and "SEQUENCE:2" in ics
        actions = [e.action for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "visit", AuditEvent.object_id == str(visit_id)).order_by(AuditEvent.id))]
        for action in ("visit.invited", "visit.confirmed", "visit.moved", "visit.cancelled"):
            assert action in actions
    # A cancelled visit offers no more actions.
    page = text(staff.get(f"/besok/{visit_id}"))
    assert "Inget mer att göra" in page and "Bjud in" not in page


def test_complete_a_confirmed_visit(app, sites, staff):
    visit_id = dated_visit(app, sites[2])
    add_contacts(app, sites[2], 1)
    for step in ("bjud-in", "bekrafta", "genomfort"):
        assert staff.post(f"/besok/{visit_id}/{step}", {"version": version_of(app, visit_id)}).status_code == 302
    with app.app_context():
        assert db.session.get(Visit, visit_id).status == GENOMFORD


def test_invite_needs_a_date_and_contacts(app, sites, staff):
    visit_id = dated_visit(app, sites[0])
    refused = staff.post(f"/besok/{visit_id}/bjud-in", {"version": version_of(app, visit_id)})
    assert refused.status_code == 422 and "inga aktiva kontakter" in text(refused)
    with app.app_context():
        undated = db.session.scalar(select(Visit).where(Visit.site_id == sites[0], Visit.round == 2))
        undated_id = undated.id
    add_contacts(app, sites[0], 1)
    refused = staff.post(f"/besok/{undated_id}/bjud-in", {"version": version_of(app, undated_id)})
    assert refused.status_code == 422 and "inget datum" in text(refused)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert db.session.get(Visit, visit_id).status == FORSLAG
    # A confirm before the invitation breaks the life cycle: said in Swedish.
    wrong = staff.post(f"/besok/{visit_id}/bekrafta", {"version": version_of(app, visit_id)})
    assert wrong.status_code == 422 and "Bara inbjudna eller flyttade besök kan bekräftas" in text(wrong)


def test_a_resend_the_invitations_refuse_is_said_on_the_visit_and_changes_nothing(app, sites, staff):
    """The visits ask the invitations for the REQUEST through a signal; when nobody is left to send the programme
    to (all said no), the refusal comes back as the visits' own error: the page says why, nothing is queued."""
    visit_id = dated_visit(app, sites[4], date(2015, 3, 10))
    add_contacts(app, sites[4], 2)
    assert staff.post(f"/besok/{visit_id}/bjud-in", {"version": version_of(app, visit_id)}).status_code == 302
    with app.app_context():
        for attendee in db.session.get(Visit, visit_id).attendees:
            attendee.partstat = "DECLINED"
        db.session.commit()
    before = version_of(app, visit_id)
    refused = staff.post(f"/besok/{visit_id}/skicka-program", {"version": before})
    assert refused.status_code == 422 and "Alla inbjudna har tackat nej" in text(refused)
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit.status == INBJUDEN and visit.sequence == 0 and str(visit.version) == before
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_visit_signal_nobody_answers_is_an_error_and_the_invitations_answer_both():
    """A mail that no receiver writes would be lost without a word, so the visits refuse to go on without one."""
    from blinker import Namespace

    import coordinator.invites.service  # noqa: F401  (connects its receivers, as the app factory does)
    from coordinator.scheduling import signals
    with pytest.raises(RuntimeError, match="nobody-listens"):
        signals.send(Namespace().signal("nobody-listens"), object())
    assert signals.invitation_due.receivers and signals.cancellation_due.receivers


def test_a_stale_form_is_refused_and_nothing_is_overwritten(app, sites, staff):
    visit_id = dated_visit(app, sites[0], date(2015, 3, 10))
    add_contacts(app, sites[0], 1)
    old = version_of(app, visit_id)
    # Someone else moves the visit meanwhile.
    assert staff.post(f"/besok/{visit_id}/flytta", {"version": old, "date": "2015-03-11", "start": "09:00",
                                                   "end": "15:00"}).status_code == 302
    stale = staff.post(f"/besok/{visit_id}/flytta", {"version": old, "date": "2015-03-12", "start": "10:00",
                                                    "end": "12:00", "location": "Mitt förslag"})
    assert stale.status_code == 409
    assert "Besöket har ändrats av någon annan" in text(stale)
    assert 'value="Mitt förslag"' in stale.get_data(as_text=True)  # what was typed is still there
    for step in ("bjud-in", "bekrafta", "genomfort", "skicka-program"):
        assert staff.post(f"/besok/{visit_id}/{step}", {"version": old}).status_code == 409, step
    assert staff.post(f"/besok/{visit_id}/stall-in", {"version": old, "confirmed": "1"}).status_code == 409
    assert staff.post(f"/besok/{visit_id}/program", {"version": old, "new-title": "X"}).status_code == 409
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit.date == date(2015, 3, 11) and visit.location == "" and visit.status == FORSLAG
        assert len(visit.parts) == 3
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


# --------------------------------------------------------------------------- the programme

def programme_form(app, visit_id: int, **overrides) -> dict:
    """The programme form as the page would post it, with overrides."""
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        data = {"version": str(visit.version)}
        for i, p in enumerate(visit.parts):
            data.update({f"parts-{i}-id": str(p.id), f"parts-{i}-title": p.title, f"parts-{i}-kind": p.kind,
                         f"parts-{i}-start": p.start_time.strftime("%H:%M") if p.start_time else "",
                         f"parts-{i}-end": p.end_time.strftime("%H:%M") if p.end_time else ""})
    data.update(overrides)
    return data


def test_programme_edit_add_remove_and_invite_only_the_ticked_contacts(app, sites, staff):
    visit_id = dated_visit(app, sites[3])
    c1, c2, c3 = add_contacts(app, sites[3], 3)
    page = staff.get(f"/besok/{visit_id}").get_data(as_text=True)
    assert "Dialog med ledningen" in page and "Kontakt 0" in page
    data = programme_form(app, visit_id, **{
        "parts-0-title": "Dialog med kommunledningen", "parts-0-start": "09:30", "parts-0-end": "11:30",
        "new-title": "Lunch med nämnden", "new-kind": "annat", "new-start": "12:00", "new-end": "12:45",
        "parts-2-remove": "y"})
    data["parts-0-contacts"] = [str(c1), str(c2)]
    data["parts-1-contacts"] = [str(c3)]
    response = staff.post(f"/besok/{visit_id}/program", data)
    assert response.status_code == 302, text(response)
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert [(p.title, p.start_time) for p in visit.parts] == [
            ("Dialog med kommunledningen", time(9, 30)), ("Lunch med nämnden", time(12)),
            ("Dialog med fackliga företrädare", time(13))]
        assert {c.id for c in visit.parts[0].contacts} == {c1, c2}
        assert event_count(app, "visit.programme_changed") == 1
    # Untick c3 (the unions' part) and invite: only the ticked contacts get the invitation.
    data = programme_form(app, visit_id)
    data["parts-0-contacts"] = [str(c1), str(c2)]
    assert staff.post(f"/besok/{visit_id}/program", data).status_code == 302
    assert staff.post(f"/besok/{visit_id}/bjud-in", {"version": version_of(app, visit_id)}).status_code == 302
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert {a.contact_id for a in visit.attendees} == {c1, c2}
        message = db.session.scalars(select(OutboxMessage)).one()
        assert "Lunch med n" in unfolded(calendar_of(message))
    # After the invitation: tick c3 too and send the programme again (same SEQUENCE, c3 added).
    data = programme_form(app, visit_id)
    data["parts-0-contacts"] = [str(c1), str(c2), str(c3)]
    assert staff.post(f"/besok/{visit_id}/program", data).status_code == 302
    assert staff.post(f"/besok/{visit_id}/skicka-program", {"version": version_of(app, visit_id)}).status_code == 302
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert {a.contact_id for a in visit.attendees} == {c1, c2, c3}
        messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert len(messages) == 2 and messages[1].sequence == 0 and visit.status == INBJUDEN


def event_count(app, action: str) -> int:
    """Audit events of one kind (inside an app context)."""
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def test_programme_errors_keep_what_was_typed(app, sites, staff):
    visit_id = dated_visit(app, sites[0])
    data = programme_form(app, visit_id, **{"parts-0-title": "", "parts-1-start": "14:00", "parts-1-end": "13:00",
                                            "new-title": "Ny punkt", "new-start": "kl 9"})
    page = staff.post(f"/besok/{visit_id}/program", data)
    assert page.status_code == 400
    body = text(page)
    assert "Programmet innehåller fel" in body and "Ange en rubrik för programpunkten" in body
    assert "Sluttiden måste vara efter starttiden" in body and "Ange en tid som TT:MM" in body
    assert 'value="Ny punkt"' in page.get_data(as_text=True) and 'value="kl 9"' in page.get_data(as_text=True)
    with app.app_context():
        assert [p.title for p in db.session.get(Visit, visit_id).parts][0] == "Dialog med ledningen"


# --------------------------------------------------------------------------- list, calendar, map, what is due

def test_list_filters_by_round_status_and_lan(app, sites, staff):
    plan_cli(app, "--round", "1", "--save")
    with app.app_context():
        gotland = db.session.scalar(select(Visit).join(Site).where(Site.kommunkod == "0980", Visit.round == 1))
        gotland.status = BEKRAFTAD
        db.session.commit()
    everything = text(staff.get("/besok/lista"))
    assert "Visar 1–100 av 100 besök." in everything
    assert "Visar 1–50 av 50 besök (av 100 i allt)." in text(staff.get("/besok/lista?omgang=2"))
    confirmed = text(staff.get("/besok/lista?status=bekraftad"))
    assert "Visar 1–1 av 1 besök (av 100 i allt)." in confirmed and "Gotland" in confirmed and "bekräftad" in confirmed
    lan = text(staff.get("/besok/lista?lan=09&omgang=1"))
    assert "Visar 1–1 av 1 besök (av 100 i allt)." in lan and "Gotlands län" in lan
    nothing = text(staff.get("/besok/lista?lan=09&status=genomford"))
    assert "Visar 0 av 100 besök." in nothing and "Inga besök matchar urvalet." in nothing
    assert re.search(r"\d{4}-\d\d-\d\d \w+dag Gotland Gotlands län 1 bekräftad \d+", confirmed)


def test_list_is_paged_in_date_order_and_keeps_its_filters(app, sites, staff, monkeypatch):
    from coordinator.scheduling import views
    plan_cli(app, "--round", "1", "--save")
    with app.app_context():
        # The list's order: by date (undated last), then start time, round and the site's place in the sample.
        ordered = [v.id for v in db.session.scalars(
            select(Visit).join(Site).order_by(Visit.date.is_(None), Visit.date, Visit.start_time, Visit.round,
                                              Site.position, Visit.id))]
        round_1 = [v for v in ordered if db.session.get(Visit, v).round == 1]
    monkeypatch.setattr(views, "LIST_PAGE", 30)  # 100 visits make four pages of 30

    def ids(response) -> list[int]:
        return [int(i) for i in re.findall(r'<th scope="row"><a href="/besok/(\d+)">', response.get_data(as_text=True))]

    pages = [staff.get(f"/besok/lista?sida={n}") for n in (1, 2, 3, 4)]
    assert sum((ids(p) for p in pages), []) == ordered
    assert "Visar 31–60 av 100 besök." in text(pages[1]) and "Sida 2 av 4" in text(pages[1])
    html = pages[1].get_data(as_text=True)
    assert 'href="/besok/lista?sida=1" rel="prev"' in html and 'href="/besok/lista?sida=3" rel="next"' in html
    assert 'rel="next"' not in pages[3].get_data(as_text=True)
    # A filter is kept on the other pages (the pager's links carry it), and the page counts within it.
    first = staff.get("/besok/lista?omgang=1")
    assert "Visar 1–30 av 50 besök (av 100 i allt)." in text(first) and ids(first) == round_1[:30]
    link = re.search(r'href="([^"]+)" rel="next"', first.get_data(as_text=True)).group(1).replace("&amp;", "&")
    assert "omgang=1" in link and "sida=2" in link
    second = staff.get(link)
    assert "Visar 31–50 av 50 besök (av 100 i allt)." in text(second) and ids(second) == round_1[30:]
    assert re.search(r'<option value="1"\s+selected>', second.get_data(as_text=True))  # the form shows the filter
    # A page out of range, or not a number, shows the nearest page.
    assert ids(staff.get("/besok/lista?omgang=1&sida=99")) == round_1[30:]
    assert ids(staff.get("/besok/lista?sida=x")) == ordered[:30]


def test_calendar_month_grid_with_holidays_blackouts_and_visits(app, sites, staff):
    visit_id = dated_visit(app, sites[0], date(2015, 4, 7))
    page = staff.get("/besok/kalender?ar=2015&manad=4")
    assert page.status_code == 200
    html, body = page.get_data(as_text=True), text(page)
    assert "Kalender: april 2015" in body
    assert "Långfredagen" in body and "Annandag påsk" in body  # 3 and 6 April 2015
    weeks = re.findall(r'<th scope="row" class="week">(\d+)</th>', html)
    assert weeks == ["14", "15", "16", "17", "18"]
    headers = re.findall(r'<abbr title="(\w+)">', html)
    assert headers[0] == "måndag" and headers[-1] == "söndag"
    assert f'href="/besok/{visit_id}"' in html
    assert 'href="/besok/kalender?ar=2015&amp;manad=3"' in html and 'href="/besok/kalender?ar=2015&amp;manad=5"' in html
    july = text(staff.get("/besok/kalender?ar=2015&manad=7"))
    assert "Uppehåll: Juli 2015" in july
    december = staff.get("/besok/kalender?ar=2015&manad=12").get_data(as_text=True)
    assert 'href="/besok/kalender?ar=2016&amp;manad=1"' in december
    # Without a month: the month of the next visit.
    assert "Kalender: april 2015" in text(staff.get("/besok/kalender"))
    assert staff.get("/besok/kalender?ar=abc&manad=99").status_code == 200


def test_calendar_opens_on_this_month_else_the_next_with_a_visit_else_the_last(app, sites, staff):
    dated_visit(app, sites[0], date(2015, 4, 7))
    dated_visit(app, sites[1], date(2015, 9, 15))
    cancelled = dated_visit(app, sites[2], date(2015, 6, 10))
    with app.app_context():
        db.session.get(Visit, cancelled).status = INSTALLD  # a cancelled visit does not count
        db.session.commit()
    saved = app.config.get("COORDINATOR_TODAY")
    try:
        for today, month in (("2015-04-20", "april 2015"),      # a visit earlier this month: this month
                             ("2015-03-02", "april 2015"),      # none this month: the next month with one
                             ("2015-05-01", "september 2015"),  # June's visit is cancelled
                             ("2015-09-30", "september 2015"),
                             ("2016-01-10", "september 2015")):  # none from now on: the last month with one
            app.config["COORDINATOR_TODAY"] = today
            assert f"Kalender: {month}" in text(staff.get("/besok/kalender")), today
    finally:
        app.config["COORDINATOR_TODAY"] = saved


def test_map_colours_kommuner_by_status_with_a_table_and_trips(app, sites, staff):
    plan_cli(app, "--round", "1", "--save")
    with app.app_context():
        gotland = db.session.scalar(select(Visit).join(Site).where(Site.kommunkod == "0980", Visit.round == 1))
        gotland.status = BEKRAFTAD
        db.session.commit()
        gotland_id = gotland.id
    page = staff.get("/besok/karta?omgang=1")
    html, body = page.get_data(as_text=True), text(page)
    assert page.status_code == 200 and "<svg" in html
    assert re.search(r'<a href="/besok/%d" aria-label="Gotland: bekräftad, [-\d]+"><path id="besokskarta-0980" '
                     r'data-kommunkod="0980" fill="#0072b2"' % gotland_id, html)
    assert "bekräftad: 1 besök" in body and "förslag: 49 besök" in body
    assert "Resor i omgång 1" in body and "km fågelvägen" in body
    assert html.count('<th scope="row"><a href="/besok/') == 50
    second = text(staff.get("/besok/karta?omgang=2"))
    assert "förslag utan datum: 50 besök" in second and "Inga besök med datum i omgången" in second


def test_map_labels_a_kommun_with_many_visits_by_status(app, sites, staff, monkeypatch):
    from coordinator.scheduling import views
    plan_cli(app, "--round", "1", "--save")
    with app.app_context():
        per_kommun = Counter(db.session.get(Site, s).kommunkod for s in sites)
        city, n = per_kommun.most_common(1)[0]
        city_name = db.session.get(Kommun, city).namn
        one = db.session.scalars(select(Visit).join(Site).where(Visit.round == 1, Site.kommunkod == city)
                                 .order_by(Site.position)).first()
        one.status = BEKRAFTAD
        db.session.commit()
    assert n >= 2, "the sample has a city with several sites"
    monkeypatch.setattr(views, "MAP_LABEL_VISITS", n - 1)  # the city is over the limit, every other kommun under
    html = staff.get("/besok/karta?omgang=1").get_data(as_text=True)
    label = re.search(r'aria-label="([^"]*)"><path id="besokskarta-%s"' % city, html).group(1)
    assert label == f"{city_name}: {n} besök (förslag: {n - 1}, bekräftad: 1)"
    assert f"<title>{label}</title>" in html
    single = next(k for k, c in per_kommun.items() if c == 1)
    detailed = re.search(r'aria-label="([^"]*)"><path id="besokskarta-%s"' % single, html).group(1)
    assert re.fullmatch(r"[^;]+: förslag, \d{4}-\d\d-\d\d", detailed), detailed
    # The table still names every visit of the city.
    assert len(re.findall(r'<th scope="row"><a href="/besok/\d+">%s' % re.escape(city_name), html)) == n


def test_index_lists_what_is_due(app, sites, staff):
    from coordinator.scheduling import service
    soon = dated_visit(app, sites[0], date(2015, 3, 20))          # a proposal in the next six weeks
    invited = dated_visit(app, sites[1], date(2015, 3, 25))
    add_contacts(app, sites[1], 2)
    with app.app_context():
        visit = db.session.get(Visit, invited)
        service.invite(visit)
        db.session.commit()
        # The invitation went out 20 days before "today" and nobody has answered.
        message = db.session.scalars(select(OutboxMessage)).one()
        message.created_at = datetime(2015, 2, 10, 12, tzinfo=timezone.utc)
        failed = OutboxMessage(kind="request", recipients="x@example.se", subject="s", message="m", status=FAILED,
                               attempts=8, last_error="nej")
        db.session.add(failed)
        db.session.commit()
    page = staff.get("/besok/?datum=2015-03-02")
    body = text(page)
    assert "Besök utan datum 98" in body
    assert "Föreslagna de närmaste sex veckorna, inte inbjudna 1" in body
    assert "Inbjudningar utan svar i mer än 14 dagar 1" in body and "2 har inte svarat" in body
    assert "Kommande besök de närmaste 30 dagarna 1" in body
    assert "1 meddelande i utkorgen kunde inte skickas" in body
    html = page.get_data(as_text=True)
    assert f'href="/besok/{soon}"' in html and f'href="/besok/{invited}/svar"' in html
    assert 'href="/utkorg?status=failed"' in html
    # Another day: nothing is soon any more.
    later = text(staff.get("/besok/?datum=2016-01-01"))
    assert "Föreslagna de närmaste sex veckorna" not in later and "Kommande besök" not in later
    assert staff.get("/besok/?datum=igår").status_code == 200


def test_a_declining_site_has_its_booked_visit_cancelled_and_the_replacement_gets_visits(app, sites, staff):
    """Registering a refusal on the sample cancels the site's visits (CANCEL to those invited) and
    gives the replacement its two visits, in the same transaction."""
    declining = next(s for s in sites if s != sites[0])
    visit_id = dated_visit(app, declining, date(2015, 3, 10))
    add_contacts(app, declining, 2)
    assert staff.post(f"/besok/{visit_id}/bjud-in", {"version": version_of(app, visit_id)}).status_code == 302
    with app.app_context():
        sample_id = db.session.get(Site, declining).sample_id
    preview = staff.post(f"/urval/{sample_id}/avboj", {"site_id": str(declining), "declined_on": "2015-03-01",
                                                       "reason": "Omorganisation"})
    # The preview says what will happen before anything is saved: the invited visit, and its mail.
    assert "ställs in. Ett återkallande av inbjudan skickas till 2 personer" in text(preview)
    response = staff.post(f"/urval/{sample_id}/avboj",
                          form_fields(preview.get_data(as_text=True), f"/urval/{sample_id}/avboj"))
    assert response.status_code == 302
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit.status == "installd"
        kinds = [m.kind for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
        assert kinds == ["request", "cancel"]
        replacement = db.session.scalar(select(Site).where(Site.replaces_id == declining))
        assert replacement is not None
        assert sorted(v.round for v in db.session.scalars(select(Visit).where(Visit.site_id == replacement.id))) == [1, 2]
