"""Date offers: the kommun chooses the day of its visit among dates the planner ranks.

On the demo assignment (made once per backend; its proposals are round 2, November–December 2016):
the ranking keeps every rule of the independent checker and is deterministic; the office offers dates
through the visit page with a confirmation step, the mail goes through the outbox to a real SMTP server on
loopback and carries the kommun's link; the kommun picks a date without a login; refusals (stale form,
expired, withdrawn and tampered links, a day taken since, NUL bytes, extreme dates, too many suggestions);
reminders; the command line; the start page's section at a constant number of SQL statements.
"""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import delete, event, select

from coordinator.extensions import db

from .conftest import USERS, Client
from .helpers import audit_events, form_fields
from .test_invites import SmtpServer


@pytest.fixture(scope="module")
def mailserver(demo):
    server = SmtpServer()
    server.start()
    keys = ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS", "SMTP_SSL", "SMTP_USERNAME", "SMTP_PASSWORD", "MAIL_FROM")
    saved = {k: demo.config.get(k) for k in keys}
    demo.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_STARTTLS=False, SMTP_SSL=False,
                       SMTP_USERNAME="", SMTP_PASSWORD="", MAIL_FROM="")
    yield server
    server.stop()
    demo.config.update(saved)


@pytest.fixture(scope="module")
def original(demo):
    """The demo's unbooked visits as made: (id, date) in date order."""
    from coordinator.scheduling.models import FORSLAG, Visit
    with demo.app_context():
        return [(v.id, v.date) for v in db.session.scalars(
            select(Visit).where(Visit.status == FORSLAG, Visit.date.isnot(None)).order_by(Visit.date, Visit.id))]


def _clear(app, original) -> None:
    from coordinator.outbox.models import OutboxMessage
    from coordinator.scheduling.models import DateOffer, Visit
    with app.app_context():
        db.session.execute(delete(DateOffer))
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.kind.in_(("datum", "datum-paminnelse"))))
        for visit_id, d in original:
            v = db.session.get(Visit, visit_id)
            v.date, v.agreed = d, False
        db.session.commit()


def test_the_demo_has_an_open_offer_and_a_none_fits_answer(demo, original):
    from coordinator.scheduling.models import DateOffer
    with demo.app_context():
        rows = db.session.scalars(select(DateOffer).order_by(DateOffer.id)).all()
        assert [r.status for r in rows] == ["oppen", "ingen_passar"]
        assert rows[1].suggested_dates and rows[1].comment
        assert {r.visit_id for r in rows} <= {visit_id for visit_id, _d in original}
    html = Client(demo, USERS["staff"]).get("/").get_data(as_text=True)
    assert "Kommuner som svarat att inget datum passar" in html


@pytest.fixture
def fresh(demo, original):
    """Each test starts with no offers (the demo's are removed) and the unbooked visits on their demo dates."""
    _clear(demo, original)
    yield demo
    _clear(demo, original)


def _visit(app, visit_id):
    from coordinator.scheduling.models import Visit
    with app.app_context():
        v = db.session.get(Visit, visit_id)
        return {"id": v.id, "date": v.date, "agreed": v.agreed, "fixed": v.fixed, "site": v.site.label,
                "site_id": v.site_id, "round": v.round, "version": v.version}


def _offer(app, visit_id):
    from coordinator.scheduling.models import DateOffer
    with app.app_context():
        row = db.session.scalar(select(DateOffer).where(DateOffer.visit_id == visit_id).order_by(DateOffer.id.desc()))
        db.session.expunge(row)
        return row


def _make_offer(app, visit_id, count=3):
    from coordinator.scheduling import offers
    from coordinator.scheduling.models import Visit
    with app.app_context(), app.test_request_context("/"):
        row = offers.offer(db.session.get(Visit, visit_id), count=count)
        db.session.commit()
        return {"id": row.id, "dates": [date.fromisoformat(d) for d in row.dates], "version": row.version,
                "path": urlsplit(offers.offer_url(row)).path}


@contextmanager
def statements(app):
    count = [0]

    def counter(*args, **kwargs):
        count[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", counter)


def _plan_state(app, visit_id):
    """(target request, other dates, sites, rules) as the offers module sees them."""
    from coordinator.scheduling import offers
    from coordinator.scheduling.models import Visit
    v = db.session.get(Visit, visit_id)
    target, others, sites = offers._inputs(v)
    return target, others, sites, offers._rules(None)


# --------------------------------------------------------------------------- ranking

def test_ranked_dates_keep_every_rule_are_deterministic_and_spread(fresh, original):
    from coordinator.scheduling import offers, planner
    from coordinator.scheduling.models import Visit
    app = fresh
    with app.app_context():
        for visit_id, current in original:
            target, others, sites, rules = _plan_state(app, visit_id)
            first = offers.rank_dates(db.session.get(Visit, visit_id), 3)
            again = offers.rank(target, others, sites, rules, 3)
            assert first == again and len(first) == 3 and len(set(first)) == 3
            requests = [planner.VisitRequest(k[0], k[1]) for k in others] + [planner.VisitRequest(*target.key)]
            before = {(x.code, x.message) for x in planner.check(others, requests[:-1], sites, rules)}
            for d in first:
                assert d >= offers.office_today() + timedelta(days=offers.LEAD_DAYS)
                after = planner.check({**others, target.key: d}, requests, sites, rules)
                assert {(x.code, x.message) for x in after} <= before, (visit_id, d)
            # Cheapest first; the present date wins a tie; not all in one week when near as good.
            ranked = offers.candidates(target, others, sites, rules)
            assert [c.extra_km for c in ranked] == sorted(c.extra_km for c in ranked)
            mine = next((c for c in ranked if c.day == current), None)
            if mine is not None and mine.extra_km == ranked[0].extra_km:
                assert first[0] == current
            weeks = {d.isocalendar()[:2] for d in first}
            if len(weeks) == 1:  # then every other week costs more than the spread allows
                second = next(c for c in ranked if c.day == first[1])
                alt = next((c for c in ranked if c.week not in weeks), None)
                assert alt is None or alt.extra_km > second.extra_km + max(offers.SPREAD_KM,
                                                                           offers.SPREAD_SHARE * second.extra_km)


def test_rank_is_pure_and_breaks_ties_by_the_current_date_then_the_day():
    from coordinator.scheduling import offers, planner
    rules = planner.Rules(windows={1: (date(2015, 3, 2), date(2015, 3, 27))}, max_per_week=2)
    sites = [planner.Site(1, "Gävle", 60.67, 17.14), planner.Site(2, "Sundsvall", 62.39, 17.31),
             planner.Site(3, "Malmö", 55.60, 13.00)]
    others = {(2, 1): date(2015, 3, 10), (3, 1): date(2015, 3, 18)}
    target = planner.VisitRequest(1, 1, current=date(2015, 3, 24))
    ranked = offers.candidates(target, others, sites, rules)
    # Sundsvall's week is cheapest (Gävle lies on the way); the 10th itself is taken (one visit a day).
    assert ranked[0].day.isocalendar()[1] == 11 and date(2015, 3, 10) not in [c.day for c in ranked]
    assert offers.rank(target, others, sites, rules, 3) == offers.rank(target, others, sites, rules, 3)
    chosen = offers.rank(target, others, sites, rules, 3, taken={date(2015, 3, 9)})
    assert date(2015, 3, 9) not in chosen
    # Alone, every day costs the same: the current date first, then a spread over weeks, earlier first.
    alone = offers.rank(target, {}, sites, rules, 3)
    assert alone[0] == date(2015, 3, 24)
    assert len({d.isocalendar()[1] for d in alone}) == 3


# --------------------------------------------------------------------------- the life cycle through the pages

def test_the_office_offers_dates_and_the_kommun_picks_one(fresh, mailserver, original):
    from coordinator.outbox import delivery as outbox
    app = fresh
    visit_id = original[0][0]
    v = _visit(app, visit_id)
    staff = Client(app, USERS["staff"])
    page = staff.get(f"/besok/{visit_id}").get_data(as_text=True)
    assert "Erbjud datum till kommunen" in page and 'name="datum"' in page
    checked = re.findall(r'name="datum" value="([0-9-]+)"[^>]*checked', page)
    assert len(checked) == 3
    fields = form_fields(page, f"/besok/{visit_id}/erbjud-datum")
    # The first step is a confirmation that names the number of contacts; nothing is sent yet.
    confirmation = staff.post(f"/besok/{visit_id}/erbjud-datum", {**fields, "datum": checked[:2]})
    text = confirmation.get_data(as_text=True)
    assert confirmation.status_code == 200 and "aktiva kontakter" in text and 'name="confirmed"' in text
    with app.app_context():
        from coordinator.scheduling.models import DateOffer
        assert db.session.scalar(select(DateOffer).where(DateOffer.visit_id == visit_id)) is None
    done = staff.post(f"/besok/{visit_id}/erbjud-datum", form_fields(text, f"/besok/{visit_id}/erbjud-datum"))
    assert done.status_code == 302
    row = _offer(app, visit_id)
    assert row.status == "oppen" and row.dates == checked[:2] and row.outbox_message_id
    page = staff.get(f"/besok/{visit_id}").get_data(as_text=True)
    assert "väntar i utkorgen" in page and "Återkalla erbjudandet" in page

    with app.app_context():
        report = outbox.deliver_pending(app.config)
    assert report.sent >= 1
    assert "skickat" in staff.get(f"/besok/{visit_id}").get_data(as_text=True)
    mails = [m for m in mailserver.handler.messages() if v["site"] in str(m["Subject"])]
    assert len(mails) == 1 and str(mails[0]["Subject"]) == f"Välj datum för besöket – {v['site']}"
    body = mails[0].get_body(("plain",)).get_content()
    first = date.fromisoformat(checked[0])
    weekday = ["måndag", "tisdag", "onsdag", "torsdag", "fredag"][first.weekday()]
    assert f"{weekday} {first.day} " in body and str(first.year) in body
    url = re.search(r"https?://\S+/besok/datum/\S+", body).group(0)
    path = urlsplit(url).path

    anon = Client(app, None)
    kommun = anon.get(path)
    html = kommun.get_data(as_text=True)
    assert kommun.status_code == 200 and kommun.headers["Referrer-Policy"] == "no-referrer"
    assert kommun.headers["Cache-Control"] == "no-store" and v["site"] in html and 'type="radio"' in html
    fields = form_fields(html, path)
    # A date that was not offered, and no name: refused in words, nothing saved.
    refused = anon.post(path, {**fields, "datum": "2016-12-30", "name": "Anna Andersson"})
    assert refused.status_code == 422 and "Välj ett av de erbjudna datumen" in refused.get_data(as_text=True)
    refused = anon.post(path, {**fields, "datum": checked[1], "name": "  "})
    assert refused.status_code == 422 and "Skriv ert namn" in refused.get_data(as_text=True)
    stale = anon.post(path, {**fields, "version": str(int(fields["version"]) + 5), "datum": checked[1],
                             "name": "Anna Andersson"})
    assert stale.status_code == 409
    picked = anon.post(path, {**fields, "datum": checked[1], "name": "Anna Andersson"})
    assert picked.status_code == 302
    after = _visit(app, visit_id)
    assert after["date"] == date.fromisoformat(checked[1]) and after["agreed"] and after["fixed"]
    thanks = anon.get(path).get_data(as_text=True)
    assert "Tack för ert svar" in thanks and 'type="radio"' not in thanks
    again = anon.post(path, {**fields, "datum": checked[0], "name": "Bertil"})
    assert again.status_code in (409, 422) and _visit(app, visit_id)["date"] == date.fromisoformat(checked[1])
    page = staff.get(f"/besok/{visit_id}").get_data(as_text=True)
    assert "Datum valt av kommunen" in page and "Anna Andersson" in page
    assert "Datum valt av kommunen" in staff.get("/besok/lista").get_data(as_text=True)
    actions = [e.action for e in audit_events(app, "offer.")]
    assert actions[-2:] == ["offer.created", "offer.chosen"]
    assert all("Anna" not in json.dumps(e.details, default=str) for e in audit_events(app, "offer."))


def test_links_refused_when_expired_withdrawn_or_tampered(fresh, original):
    from coordinator.scheduling.models import DateOffer
    app = fresh
    made = _make_offer(app, original[1][0])
    anon = Client(app, None)
    assert anon.get(made["path"]).status_code == 200
    assert anon.get(made["path"][:-3] + "abc").status_code == 404
    with app.app_context():
        row = db.session.get(DateOffer, made["id"])
        kept = row.expires_at
        row.expires_at = row.created_at
        db.session.commit()
    expired = anon.get(made["path"])
    assert expired.status_code == 403 and "Länken har gått ut" in expired.get_data(as_text=True)
    with app.app_context():
        db.session.get(DateOffer, made["id"]).expires_at = kept
        db.session.commit()
    staff = Client(app, USERS["staff"])
    confirmation = staff.get(f"/besok/erbjudande/{made['id']}/aterkalla").get_data(as_text=True)
    assert "Återkalla datumen" in confirmation
    assert staff.post(f"/besok/erbjudande/{made['id']}/aterkalla",
                      form_fields(confirmation, f"/besok/erbjudande/{made['id']}/aterkalla")).status_code == 302
    revoked = anon.get(made["path"])
    assert revoked.status_code == 403 and "återkalla" in revoked.get_data(as_text=True).lower()
    assert _offer(app, original[1][0]).status == "aterkallad"


def test_a_date_taken_since_is_refused_and_none_fits_is_checked(fresh, original):
    from coordinator.scheduling import offers
    from coordinator.scheduling.models import DateOffer, Visit
    app = fresh
    visit_id, other_id = original[2][0], original[3][0]
    made = _make_offer(app, visit_id)
    taken_day = made["dates"][0]
    with app.app_context():
        db.session.get(Visit, other_id).date = taken_day  # another visit takes the day
        db.session.commit()
    anon = Client(app, None)
    html = anon.get(made["path"]).get_data(as_text=True)
    fields = form_fields(html, made["path"])
    refused = anon.post(made["path"], {**fields, "datum": taken_day.isoformat(), "name": "Anna"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "går tyvärr inte längre" in text and 'type="radio"' in text
    assert _visit(app, visit_id)["agreed"] is False

    none_path = made["path"] + "/inget-passar"
    none_fields = form_fields(html, none_path)
    window_day = made["dates"][-1].isoformat()
    cases = [
        ({f"dag{i}": window_day for i in range(1, 6)} | {"dag6": window_day}, "högst 5"),
        ({"dag1": "9999-12-31"}, "inget datum"),
        ({"dag1": "2016-02-30"}, "inget datum"),
        ({"dag1": "2030-01-07"}, "utanför omgångens period"),
        ({"dag1": window_day, "comment": "x" * 2001}, "högst 2000"),
        ({"dag1": window_day, "name": "Anna\nBertil"}, "på en rad"),
    ]
    for extra, message in cases:
        response = anon.post(none_path, {**none_fields, "name": "Anna", **extra})
        assert response.status_code in (400, 422), extra
        assert message in response.get_data(as_text=True), (extra, message)
    assert _offer(app, visit_id).status == "oppen"
    # NUL bytes never get as far as the database: the request drops them, the service refuses them.
    ok = anon.post(none_path, {**none_fields, "name": "Anna\x00", "dag1": window_day, "dag2": "",
                               "comment": "Vi har\x00 nämndmöte\nden veckan."})
    assert ok.status_code == 302
    row = _offer(app, visit_id)
    assert row.status == "ingen_passar" and row.suggested_dates == [window_day]
    assert row.comment == "Vi har nämndmöte\nden veckan." and row.answered_by == "Anna"
    with app.app_context():
        other = _make_offer(app, original[4][0])
        o = db.session.get(DateOffer, other["id"])
        with pytest.raises(offers.OfferError):
            offers.none_fits(o, [], "a\x00b", "Anna", expected_version=o.version)
        with pytest.raises(offers.OfferError):
            offers.choose(o, other["dates"][0], "An\x00na", expected_version=o.version)
        with pytest.raises(offers.StaleError):
            offers.choose(o, other["dates"][0], "Anna", expected_version=o.version + 1)
        db.session.rollback()
    # The visit page shows the answer to the office.
    page = Client(app, USERS["staff"]).get(f"/besok/{visit_id}").get_data(as_text=True)
    assert "inget av datumen passar" in page and "nämndmöte" in page


def test_offers_are_refused_for_fixed_visits_and_dates_already_offered_are_left_out(fresh, original):
    from coordinator.scheduling import offers
    from coordinator.scheduling.models import Visit
    app = fresh
    made = _make_offer(app, original[0][0])
    with app.app_context():
        second = offers.rank_dates(db.session.get(Visit, original[1][0]), 5)
        assert not set(second) & set(made["dates"])
        booked = db.session.scalar(select(Visit).where(Visit.status == "bekraftad").order_by(Visit.id))
        with pytest.raises(offers.OfferError, match="redan bokat"):
            offers.offer(booked)
        held = db.session.scalar(select(Visit).where(Visit.status == "genomford").order_by(Visit.id))
        with pytest.raises(offers.OfferError, match="genomfört"):
            offers.offer(held)
        db.session.rollback()
    # A new offer for the same visit withdraws the open one.
    again = _make_offer(app, original[0][0], count=2)
    assert len(again["dates"]) == 2
    anon = Client(app, None)
    assert anon.get(made["path"]).status_code == 403 and anon.get(again["path"]).status_code == 200


# --------------------------------------------------------------------------- reminders and the CLI

def test_reminders_after_the_set_days_and_not_twice_in_a_row(fresh, original):
    from coordinator import links
    from coordinator.outbox.models import OutboxMessage
    from coordinator.scheduling import offers
    app = fresh
    made = _make_offer(app, original[0][0])
    today = links.today()
    with app.app_context(), app.test_request_context("/"):
        assert offers.remind(today + timedelta(days=6)) == 0
        assert offers.remind(today + timedelta(days=7)) == 1
        db.session.commit()
        assert offers.remind(today + timedelta(days=7)) == 0
        assert offers.remind(today + timedelta(days=13)) == 0
        assert offers.remind(today + timedelta(days=14)) == 1
        db.session.commit()
        reminders = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "datum-paminnelse")).all()
        assert len(reminders) == 2 and all(m.subject.startswith("Påminnelse: välj datum") for m in reminders)
    row = _offer(app, original[0][0])
    assert row.reminders == 2 and row.reminded_at is not None and row.id == made["id"]
    result = app.test_cli_runner().invoke(args=["schedule", "remind-offers", "--json"])
    assert result.exit_code == 0 and json.loads(result.output) == {"reminders": 0}


def test_the_command_line_contract(fresh, original):
    from coordinator.scheduling.models import Visit
    app = fresh
    runner = app.test_cli_runner()
    result = runner.invoke(args=["schedule", "offer", str(original[0][0]), "--count", "2", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert len(out["dates"]) == 2 and all(date.fromisoformat(d) for d in out["dates"])
    assert re.match(r"https?://[^/]+/besok/datum/\S+$", out["link"]) and isinstance(out["offer_id"], int)
    assert Client(app, None).get(urlsplit(out["link"]).path).status_code == 200
    for bad in ("999999", "99999999999999999999", "abc"):
        result = runner.invoke(args=["schedule", "offer", bad, "--json"])
        assert result.exit_code != 0 and "finns inte" in json.loads(result.output)["error"]
    with app.app_context():
        booked = db.session.scalar(select(Visit.id).where(Visit.status == "bekraftad").order_by(Visit.id))
    result = runner.invoke(args=["schedule", "offer", str(booked), "--json"])
    assert result.exit_code != 0 and "bokat" in json.loads(result.output)["error"]
    result = runner.invoke(args=["schedule", "offer", str(original[1][0]), "--count", "9", "--json"])
    assert result.exit_code != 0 and "error" in json.loads(result.output)


# --------------------------------------------------------------------------- the start page

def _answer_none_fits(app, made, day):
    from coordinator.scheduling import offers
    from coordinator.scheduling.models import DateOffer
    with app.app_context():
        o = db.session.get(DateOffer, made["id"])
        offers.none_fits(o, [day.isoformat()], "", "Anna", expected_version=o.version)
        db.session.commit()


def test_the_start_page_lists_none_fits_at_a_constant_number_of_statements(fresh, original):
    app = fresh
    staff = Client(app, USERS["staff"])
    made = _make_offer(app, original[0][0])
    _answer_none_fits(app, made, made["dates"][0])
    staff.get("/")  # the first visit syncs the app's own tasks
    with statements(app) as small:
        html = staff.get("/").get_data(as_text=True)
    assert "Kommuner som svarat att inget datum passar" in html
    assert _visit(app, original[0][0])["site"] in html and made["dates"][0].isoformat() in html
    for visit_id, _d in original[1:4]:
        m = _make_offer(app, visit_id)
        _answer_none_fits(app, m, m["dates"][0])
    staff.get("/")
    with statements(app) as large:
        html = staff.get("/").get_data(as_text=True)
    section = re.search(r'<section aria-labelledby="datumsvar".*?</section>', html, re.S).group(0)
    assert section.count("<li>") == 4
    assert large[0] == small[0]


def test_a_saved_replan_keeps_the_kommuns_pick_and_the_effect_lists_only_movable_visits(fresh, original):
    from coordinator.scheduling import offers, service
    from coordinator.scheduling.models import DateOffer, Visit
    app = fresh
    visit_id = original[0][0]
    made = _make_offer(app, visit_id)
    picked = made["dates"][-1]
    with app.app_context(), app.test_request_context("/"):
        offers.choose(db.session.get(DateOffer, made["id"]), picked, "Karin Kommunsson",
                      expected_version=made["version"])
        db.session.commit()
        visit = db.session.get(Visit, visit_id)
        effect = offers.pick_effect(visit, time_limit=5)
        db.session.rollback()
        fixed_ids = {v.id for v in service.visits() if v.fixed}
        assert visit_id in fixed_ids and not {m["visit_id"] for m in effect} & fixed_ids
        assert all(m["from"] != m["to"] for m in effect)
        # What the page promised is what a saved re-plan does: the others move as listed, the pick stays.
        result = service.plan(visit.round, save=True, time_limit=5,
                              earliest=service.plan_from(offers.office_today()))
        db.session.commit()
        moved = {v["visit_id"]: v["date"] for v in result["visits"] if v["moved"]}
        assert visit_id not in moved
        assert {m["visit_id"]: m["to"] for m in effect} == {k: d for k, d in moved.items() if k not in fixed_ids}
        visit = db.session.get(Visit, visit_id)
        assert visit.date == picked and visit.agreed
    # A hand move of the agreed visit clears "agreed": the kommun did not choose the new day.
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        service.move(visit, picked + timedelta(days=1 if picked.weekday() < 4 else 3))
        assert not visit.agreed
        db.session.rollback()
