"""The planner's new rules wired into the app (issue 13): windows from the phases, the even pace, the report
weeks, who goes and how, checked on the saved plan without trusting the planner or the staffing code.

No demo: a sample is drawn and adopted through the CLI, the adoption backdated to the assignment's time, staff
members and absences are added here.
"""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import holidays
import pytest
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.sampling.models import Sample
from coordinator.scheduling import planner, service
from coordinator.scheduling.defaults import assignment
from coordinator.scheduling.models import (INSTALLD, Blackout, MonthPace, Phase, StaffAbsence, StaffMember, Visit,
                                           VisitStaff)
from coordinator.scheduling.travel import CAR, GOTLAND_KOMMUNKOD, MODES

TIME_LIMIT = "3"
ADOPTED = date(2014, 11, 14)
NAMES = ("Samordnaren Sam", "Anna Andersson", "Bo Berg", "Cecilia Carlsson")
ABSENCES = {"Anna Andersson": (date(2015, 3, 2), date(2015, 3, 27)), "Bo Berg": (date(2015, 9, 1), date(2015, 9, 30)),
            "Samordnaren Sam": (date(2015, 5, 4), date(2015, 5, 15))}


def cli_json(app, *args, code: int = 0):
    result = app.test_cli_runner().invoke(args=[*args, "--json"])
    assert result.exit_code == code, result.output
    return json.loads(result.output)


def adopt(app, seed: int) -> int:
    """Draw (2014, seed) and adopt through the CLI; the adoption moved back to ADOPTED, as in the assignment."""
    sample_id = cli_json(app, "sample", "draw", "--year", "2014", "--seed", str(seed), "--save")["id"]
    cli_json(app, "sample", "adopt", str(sample_id))
    with app.app_context():
        db.session.get(Sample, sample_id).adopted_at = datetime(ADOPTED.year, ADOPTED.month, ADOPTED.day, 9,
                                                                tzinfo=timezone.utc)
        db.session.commit()
    return sample_id


def add_staff(app) -> dict[str, int]:
    with app.app_context():
        members = [StaffMember(name=n, coordinator=(i == 0), email=f"m{i}@kansli.example.se")
                   for i, n in enumerate(NAMES)]
        for m in members:
            if m.name in ABSENCES:
                m.absences.append(StaffAbsence(start_date=ABSENCES[m.name][0], end_date=ABSENCES[m.name][1]))
        db.session.add_all(members)
        db.session.commit()
        return {m.name: m.id for m in members}


def report_weeks(a) -> set[date]:
    """The week before each report's due date, counted here: quarters from report_start, due days later."""
    out = set()
    y, m = a.report_start.year, a.report_start.month
    for _ in range(40):
        ny, nm = (y + (m + a.report_interval_months - 1) // 12, (m + a.report_interval_months - 1) % 12 + 1)
        due = date(ny, nm, 1) - timedelta(days=1) + timedelta(days=a.report_due_days)
        out |= {due - timedelta(days=k) for k in range(1, 8)}
        y, m = ny, nm
    return out


def violations(app, adopted: date = ADOPTED) -> list[str]:
    """Every rule of issue 13 the saved plan breaks, computed from the data (not from the planner's output)."""
    problems = []
    with app.app_context():
        a = assignment()
        phases = {p.number: (p.start_date, p.end_date) for p in db.session.scalars(select(Phase))}
        windows = {1: (adopted + timedelta(days=a.invitation_lead_days), phases[2][1]), 2: phases[4]}
        blackouts = [(b.start_date, b.end_date) for b in db.session.scalars(select(Blackout))]
        red = holidays.SE(years=range(2014, 2018), include_sundays=False)
        weeks = report_weeks(a)
        visits = [v for v in db.session.scalars(select(Visit)) if v.status != INSTALLD]
        for v in visits:
            d = v.date
            if d is None:
                problems.append(f"{v.id}: no date")
                continue
            if not windows[v.round][0] <= d <= windows[v.round][1]:
                problems.append(f"{v.id}: {d} outside round {v.round}'s window {windows[v.round]}")
            if d.weekday() >= 5 or d in red or any(s <= d <= e for s, e in blackouts):
                problems.append(f"{v.id}: {d} is no working day")
            if d in weeks:
                problems.append(f"{v.id}: {d} is in a report week")
            if v.mode not in MODES:
                problems.append(f"{v.id}: no mode ({v.mode!r})")
            if v.site.kommunkod == GOTLAND_KOMMUNKOD and v.mode == CAR:
                problems.append(f"{v.id}: Gotland by car")
        # Staff: the coordinator and staff_per_visit others on each, nobody twice a day or inside an absence.
        members = {m.id: m for m in db.session.scalars(select(StaffMember))}
        coordinator = next(m.id for m in members.values() if m.coordinator)
        on = defaultdict(list)
        for row in db.session.scalars(select(VisitStaff)):
            on[row.visit_id].append(row.staff_id)
        days = defaultdict(list)
        for v in visits:
            team = on[v.id]
            if coordinator not in team or len(team) != 1 + a.staff_per_visit:
                problems.append(f"{v.id}: team {team}")
            for p in team:
                days[p].append(v.date)
                if any(x.start_date <= v.date <= x.end_date for x in members[p].absences):
                    problems.append(f"{v.id}: {members[p].name} is absent on {v.date}")
        for p, ds in days.items():
            if len(ds) != len(set(ds)):
                problems.append(f"{members[p].name} is double-booked")
        # The even pace: each month within one of its share of the window's working days.
        rules = service.rules()
        assert rules.windows == windows
        dates = {(v.site_id, v.round): v.date for v in visits}
        if planner.max_deviation(dates, rules) > 1:
            problems.append(f"monthly load off the even pace by {planner.max_deviation(dates, rules)}")
    return problems


@pytest.mark.parametrize("seed", [2014, 7, 11, 23])  # 2014: the demo's sample
def test_saved_plan_keeps_the_phases_pace_report_weeks_staff_and_travel(app, seed):
    adopt(app, seed)
    add_staff(app)
    data = cli_json(app, "schedule", "plan", "--round", "all", "--save", "--time-limit", TIME_LIMIT)
    assert data["staffing"] == [] and data["pace_warning"] is None
    assert data["windows"] == {"1": ["2014-12-12", "2015-12-31"], "2": ["2016-04-01", "2016-12-31"]}
    assert violations(app) == []
    assert data["stats"]["max_deviation"] <= 1
    assert any(v["kommunkod"] == GOTLAND_KOMMUNKOD for v in data["visits"])  # the Gotland rule was tested


def test_cli_json_contract(app):
    adopt(app, 7)
    names = add_staff(app)
    data = cli_json(app, "schedule", "plan", "--round", "1", "--time-limit", TIME_LIMIT)
    assert len(data["visits"]) == 50
    for v in data["visits"]:
        assert v["mode"] in MODES
        assert v["staff"][0] == "Samordnaren Sam" and len(v["staff"]) == 2 and set(v["staff"]) <= set(names)
    stats = data["stats"]
    for key in ("travel_km", "travel_hours", "overnights", "co2_kg", "by_mode", "monthly_load", "monthly_targets",
                "max_deviation"):
        assert key in stats, key
    assert stats["travel_hours"] > 0 and stats["co2_kg"] > 0 and set(stats["by_mode"]) <= set(MODES)
    assert sum(stats["monthly_load"]["1"].values()) == 50
    assert all(len(k) == 7 and k[4] == "-" for k in stats["monthly_load"]["1"])
    assert data["windows"]["1"] == ["2014-12-12", "2015-12-31"]
    words = app.test_cli_runner().invoke(args=["schedule", "plan", "--round", "1", "--time-limit", TIME_LIMIT])
    assert words.exit_code == 0 and "restimmar" in words.output and "Samordnaren Sam" in words.output
    with app.app_context():  # nothing saved without --save
        assert db.session.scalar(select(VisitStaff).limit(1)) is None
        assert all(v.date is None for v in db.session.scalars(select(Visit)))


def test_without_staff_the_plan_says_so_and_hand_windows_when_phases_do_not_fit(app):
    sample_id = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "7", "--save")["id"]
    cli_json(app, "sample", "adopt", str(sample_id))  # adopted today: long after phase 2 ended
    data = cli_json(app, "schedule", "plan", "--round", "1", "--time-limit", TIME_LIMIT)
    assert data["staffing"] and "Inga medarbetare" in data["staffing"][0]
    assert all(v["staff"] == [] for v in data["visits"])
    assert data["window_source"] == "manual" and data["window_problem"]
    with app.app_context():
        a = assignment()
        assert data["windows"]["1"] == [a.round1_start.isoformat(), a.round1_end.isoformat()]


@pytest.fixture
def restore_assignment(app):
    """The assignment row is reference data kept between tests: put back what a test changes."""
    fields = ("max_day_hours", "report_week_free", "windows_from_phases")
    with app.app_context():
        saved = {f: getattr(assignment(), f) for f in fields}
    yield
    with app.app_context():
        a = assignment()
        for f, value in saved.items():
            setattr(a, f, value)
        db.session.commit()


def test_rules_take_pace_coordinator_absence_report_weeks_and_day_length(app, restore_assignment):
    adopt(app, 7)
    add_staff(app)
    with app.app_context():
        a = assignment()
        a.max_day_hours, a.report_week_free = 8.0, True
        db.session.add(MonthPace(year=2015, month=3, weight=0.5))
        db.session.commit()
        r = service.rules()
        assert r.pace == {(2015, 3): 0.5}
        assert r.travel.max_day_hours == 8.0
        assert not r.is_working_day(date(2015, 5, 6))  # the coordinator is away
        assert date(2015, 4, 14) in r.report_dues and not r.is_working_day(date(2015, 4, 9))
        a.report_week_free = False
        a.windows_from_phases = False
        db.session.commit()
        r = service.rules()
        assert r.is_working_day(date(2015, 4, 9))
        assert r.windows[1] == (a.round1_start, a.round1_end)
        assert service.window_info()["source"] == "manual"


def test_staffing_trouble_is_a_warning_not_a_refusal(app):
    adopt(app, 7)
    with app.app_context():  # a coordinator and nobody else, though one more is needed on each visit
        db.session.add(StaffMember(name="Ensam Samordnare", coordinator=True))
        db.session.commit()
    data = cli_json(app, "schedule", "plan", "--round", "1", "--save", "--time-limit", TIME_LIMIT)
    assert data["staffing"] and all("Vem som åker" in w for w in data["staffing"])
    assert len(data["visits"]) == 50
    with app.app_context():
        assert all(v.date is not None for v in db.session.scalars(select(Visit).where(Visit.round == 1)))


def test_the_plan_page_shows_windows_travel_load_and_who_goes(app, staff):
    adopt(app, 7)
    add_staff(app)
    saved = app.config.get("PLAN_TIME_LIMIT")
    app.config["PLAN_TIME_LIMIT"] = float(TIME_LIMIT)
    try:
        index = staff.get("/besok/").get_data(as_text=True)
        assert "räknas fram ur uppdragets faser" in index and 'href="/besok/uppdrag"' in index
        page = staff.post("/besok/foresla", {"omgang": "1"})
    finally:
        app.config["PLAN_TIME_LIMIT"] = saved
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "2014-12-12–2015-12-31" in html  # the round's window, in the table of rounds
    for words in ("Restid", "Övernattningar", "kg per resenär", "Resor per färdsätt", "Jämn takt", "Vem åker",
                  "Samordnaren Sam", "Besök per månad i omgång 1"):
        assert words in html, words
    assert any(f"<th scope=\"row\">{m}</th>" in html for m in ("tåg", "bil", "flyg", "färja"))


def test_a_pace_that_cannot_hold_gives_a_plan_without_it_and_says_why(app):
    adopt(app, 7)
    with app.app_context():  # every visit of round 1 asked into February 2015: at most 3 a week cannot take 50
        for month in range(1, 13):
            if month != 2:
                db.session.add(MonthPace(year=2015, month=month, weight=0.0, note=""))
        db.session.add(MonthPace(year=2014, month=12, weight=0.0, note=""))
        db.session.commit()
    data = cli_json(app, "schedule", "plan", "--round", "1", "--time-limit", TIME_LIMIT)
    assert "Den jämna takten per månad gick inte att hålla" in data["pace_warning"]
    assert len(data["visits"]) == 50 and data["stats"]["max_deviation"] > 1
    per_week = defaultdict(int)
    for v in data["visits"]:
        d = date.fromisoformat(v["date"])
        per_week[d.isocalendar()[:2]] += 1
        assert d.weekday() < 5
    assert max(per_week.values()) <= 3  # the other rules still hold


def test_one_rounds_proposal_counts_only_its_own_travel_and_months(app):
    adopt(app, 7)
    add_staff(app)
    cli_json(app, "schedule", "plan", "--round", "1", "--save", "--time-limit", TIME_LIMIT)
    both = cli_json(app, "schedule", "plan", "--round", "all", "--time-limit", TIME_LIMIT)
    two = cli_json(app, "schedule", "plan", "--round", "2", "--time-limit", TIME_LIMIT)
    assert set(two["stats"]["monthly_load"]) == {"2"} and sum(two["stats"]["monthly_load"]["2"].values()) == 50
    with app.app_context():
        rules = service.rules()
        sites = service._planner_sites(service.visits())
        dates = {(db.session.get(Visit, v["visit_id"]).site_id, 2): date.fromisoformat(v["date"])
                 for v in two["visits"]}
        own = planner.travel_summary(dates, sites, rules)
    assert two["stats"]["travel_hours"] == round(own.hours, 1) and two["stats"]["overnights"] == own.overnights
    assert two["stats"]["travel_km"] == round(own.km, 1)
    assert two["stats"]["travel_hours"] < both["stats"]["travel_hours"]  # the whole plan has round 1's travel too


def test_while_the_rounds_run_a_replan_gives_no_new_date_before_today(app):
    adopt(app, 7)
    with app.app_context():
        windows = service.window_info()["windows"]
        first, last = windows[1][0], windows[2][1]
        assert service.plan_from(first) == first and service.plan_from(date(2015, 5, 4)) == date(2015, 5, 4)
        assert service.plan_from(first - timedelta(days=1)) is None and service.plan_from(last + timedelta(days=1)) is None
        result = service.plan(1, earliest=service.plan_from(date(2015, 5, 4)), time_limit=float(TIME_LIMIT))
        db.session.rollback()
    days = [date.fromisoformat(v["date"]) for v in result["visits"]]
    assert len(days) == 50 and min(days) >= date(2015, 5, 4)


def test_the_proposal_table_reads_its_visits_in_a_fixed_number_of_statements(app):
    """The plan page's proposal shows each visit's kommun and län: read with the visits, not one row at a time."""
    from sqlalchemy import event

    from coordinator.scheduling.overview import proposal

    adopt(app, 7)
    with app.app_context():
        service.ensure_visits()
        db.session.commit()
        all_visits = [(v.id, v.round, v.site_id) for v in service.visits()]

        def statements(visits) -> tuple[int, dict]:
            result = {"visits": [{"visit_id": id_, "round": round_, "trip": i // 3, "site_id": site_id,
                                  "date": (date(2015, 3, 2) + timedelta(days=i)).isoformat()}
                                 for i, (id_, round_, site_id) in enumerate(visits)], "stats": {}}
            db.session.expunge_all()  # nothing already loaded: every read counts
            seen = []
            listener = lambda *args: seen.append(args[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                shown = proposal(result)
                lans = [row["lan"] for row in shown["rows"]]
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            return len(seen), lans

        few, few_lans = statements(all_visits[:4])
        many, many_lans = statements(all_visits)
    assert len(all_visits) == 100 and all(many_lans) and all(few_lans)
    assert few == many, f"4 visits: {few} statements, 100 visits: {many}"
