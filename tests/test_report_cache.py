"""Report drafts cached by data version (reports/drafts.py, dataversion.py), and the registry's groups per version.

Every change the report reads, made the way the app makes it (ORM saves, a narrative form, a bulk
update), shows in the next view of the draft; an unchanged draft is computed and drawn once. Runs on
SQLite and PostgreSQL (the `app` fixture).
"""
from __future__ import annotations

import csv
import re
from datetime import date, datetime, timezone
from html import unescape

import pytest
from sqlalchemy import event, select, update

from coordinator import dataversion
from coordinator.auth.models import User
from coordinator.dialogue.models import Note, Passage
from coordinator.extensions import db
from coordinator.measurement.models import MeasurementAnswer, MeasurementRequest, Question, Questionnaire
from coordinator.plans import service as plans
from coordinator.plans.models import PlanActivity
from coordinator.registry.reference import DATA_DIR
from coordinator.reports import drafts
from coordinator.sampling.models import Site
from coordinator.scheduling.models import Visit

from .helpers import hold_a_quarter

PERIOD = "2015Q3"
DRAFT = f"/rapporter/{PERIOD}/"
STAFF = "staff@test.se"


@pytest.fixture
def quarter(app):
    """An adopted sample with its visits; three round-1 visits in 2015 Q3 (two held, one booked), the first
    with a note. Returns the visit ids and the first visit's site id."""
    drafts.clear()
    with app.app_context():
        ids = hold_a_quarter(app)
        note = Note(visit_id=ids[0])
        db.session.add(note)
        db.session.flush()
        db.session.add(Passage(note_id=note.id, section="fraga-1", position=0, gott_exempel=True,
                               text="GOTT-EXEMPEL-ETT: mentorer för nyanställda."))
        db.session.commit()
        return {"visits": ids, "site": db.session.get(Visit, ids[0]).site_id}


def body(response) -> str:
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return html[html.index('id="utkast"'):]


def plain(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def figure_svg(html: str, number: int) -> str:
    """The inline SVG of "Figur n" (its ids are rapport-figur-n…)."""
    match = re.search(rf'<svg[^>]*rapport-figur-{number}\b.*?</svg>', html, re.S)
    assert match, f"no SVG of figure {number}"
    return match.group(0)


def all_svgs(html: str) -> list[str]:
    return re.findall(r'<svg[^>]*rapport-figur-.*?</svg>', html, re.S)


def table_after(html: str, caption_start: str, last: bool = False) -> str:
    start = html.rindex(caption_start) if last else html.index(caption_start)
    return plain(html[start:html.index("</table>", start)])


# --------------------------------------------------------------------------- drawn once per version

def test_two_views_of_an_unchanged_draft_compute_and_draw_once(app, staff, quarter):
    before = dict(drafts.stats)
    first = body(staff.get(DRAFT))
    after_first = dict(drafts.stats)
    assert after_first["computed"] == before["computed"] + 1
    drawn = after_first["charts_drawn"] - before["charts_drawn"]
    assert drawn == len(re.findall(r'<svg[^>]*rapport-figur-', first)) >= 2  # the progress chart, the map…

    statements = []

    def count(*_args):
        statements.append(1)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    try:
        second = body(staff.get(DRAFT))
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", count)
    assert drafts.stats["computed"] == after_first["computed"]
    assert drafts.stats["charts_drawn"] == after_first["charts_drawn"]
    assert drafts.stats["hits"] == after_first["hits"] + 1
    assert drafts.stats["bodies_rendered"] == after_first["bodies_rendered"]  # laid out once too
    assert second == first
    # The page without the figures: login, the version, narratives, issued versions and the forms.
    assert len(statements) <= 12, len(statements)

    # Forgotten (another process, a restart): computed and drawn again, the same report.
    drafts.clear()
    third = body(staff.get(DRAFT))
    assert drafts.stats["computed"] == after_first["computed"] + 1
    assert drafts.stats["charts_drawn"] == after_first["charts_drawn"] + drawn
    assert all_svgs(third) == all_svgs(first)


def test_a_moved_visit_changes_the_next_view(app, staff, quarter):
    first = body(staff.get(DRAFT))
    with app.app_context():
        v = db.session.get(Visit, quarter["visits"][0])
        v.date = date(2015, 6, 10)  # out of the quarter, into the one before
        db.session.commit()
    second = body(staff.get(DRAFT))
    assert figure_svg(second, 1) != figure_svg(first, 1)
    assert "GOTT-EXEMPEL-ETT" not in second  # the note goes with its visit, out of the quarter


def test_a_bulk_update_changes_the_next_view(app, staff, quarter):
    first = body(staff.get(DRAFT))
    with app.app_context():
        db.session.execute(update(Visit).where(Visit.id == quarter["visits"][2]).values(status="genomford"))
        db.session.commit()
    second = body(staff.get(DRAFT))
    assert figure_svg(second, 1) != figure_svg(first, 1)  # the booked visit now counts as held


def test_a_change_through_another_session_changes_the_next_view(app, staff, quarter):
    """As another worker process would: its own session and connection, a plain SQLAlchemy Session."""
    from sqlalchemy.orm import Session

    first = body(staff.get(DRAFT))
    with app.app_context(), Session(db.engine) as other:
        other.get(Visit, quarter["visits"][2]).status = "genomford"
        other.commit()
    second = body(staff.get(DRAFT))
    assert figure_svg(second, 1) != figure_svg(first, 1)


def test_an_edited_note_changes_the_next_view(app, staff, quarter):
    assert "GOTT-EXEMPEL-ETT" in plain(body(staff.get(DRAFT)))
    with app.app_context():
        passage = db.session.scalar(select(Passage).where(Passage.text.like("GOTT-EXEMPEL-ETT%")))
        passage.text = "GOTT-EXEMPEL-TVÅ: gemensam rutin med elevhälsan."
        db.session.commit()
    second = plain(body(staff.get(DRAFT)))
    assert "GOTT-EXEMPEL-TVÅ" in second and "GOTT-EXEMPEL-ETT" not in second


def test_a_changed_plan_activity_changes_the_next_view(app, staff, quarter):
    with app.app_context():
        site = db.session.get(Site, quarter["site"])
        p = plans.save_challenges(site, 0, "Utmaningar.")
        db.session.flush()
        goal = plans.add_goal(site, p.version, {"title": "Mål", "description": "", "theme_id": None})
        db.session.flush()
        plans.add_activity(goal, {"description": "Aktivitet", "status": "ej_paborjad", "decided": False})
        db.session.commit()
    caption = "Handlingsplanernas aktiviteter per målområde"
    first = table_after(body(staff.get(DRAFT)), caption)
    with app.app_context():
        activity = db.session.scalar(select(PlanActivity))
        activity.status, activity.decided = "genomford", True
        db.session.commit()
    second = table_after(body(staff.get(DRAFT)), caption)
    assert first != second
    assert "0 av 1" in first and "1 av 1" in second


def test_a_measurement_answer_changes_the_next_view(app, staff, quarter):
    with app.app_context():
        qn = Questionnaire(name="Inför besöket", intro="", round=None, locked=True)
        qn.questions = [Question(position=1, text="Har ni en plan för kompetensförsörjning?", kind="en",
                                 options=["Ja", "Nej"])]
        db.session.add(qn)
        site = db.session.get(Site, quarter["site"])
        req = MeasurementRequest(questionnaire=qn, site=site, round=1, nonce="n-cache",
                                 expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc),
                                 submitted_at=datetime(2015, 8, 1, tzinfo=timezone.utc))
        db.session.add(req)
        db.session.add(MeasurementAnswer(request=req, question=qn.questions[0], value="Ja"))
        db.session.commit()
    caption = "Har ni en plan för kompetensförsörjning"
    first = body(staff.get(DRAFT))
    unweighted = table_after(first, caption, last=True)  # the table of answers per site, after the weighted one
    assert re.search(r"Ja 1 100\s?% Nej 0 0\s?%", unweighted), unweighted
    with app.app_context():
        answer = db.session.scalar(select(MeasurementAnswer))
        answer.value = "Nej"
        db.session.commit()
    second = table_after(body(staff.get(DRAFT)), caption, last=True)
    assert re.search(r"Ja 0 0\s?% Nej 1 100\s?%", second), second


def test_an_edited_narrative_changes_the_next_view(app, staff, quarter):
    first = plain(body(staff.get(DRAFT)))
    assert "Kansliets iakttagelse före." not in first
    response = staff.post(f"/rapporter/{PERIOD}/text/iakttagelser", data={
        "iakttagelser-text": "Kansliets iakttagelse före.", "iakttagelser-version": "0",
        "iakttagelser-csrf_token": staff.token})
    assert response.status_code == 302
    rendered = drafts.stats["bodies_rendered"]
    assert "Kansliets iakttagelse före." in plain(body(staff.get(DRAFT)))
    assert drafts.stats["bodies_rendered"] == rendered + 1  # laid out anew with the new text


# --------------------------------------------------------------------------- the counter itself

def test_the_version_moves_with_committed_changes_only(app):
    with app.app_context():
        start = dataversion.current()
        assert start is not None
        db.session.commit()
        assert dataversion.current() == start  # nothing changed

        user = db.session.scalar(select(User).where(User.email == STAFF))
        user.name = "Ny Namn"  # not read by any cached computation
        db.session.commit()
        assert dataversion.current() == start

        db.session.add(Questionnaire(name="Utkast", intro="", round=None))
        db.session.flush()
        assert dataversion.current() is None  # changed here, not yet committed: nothing may be cached by it
        db.session.rollback()
        assert dataversion.current() == start  # rolled back: no change

        db.session.add(Questionnaire(name="Sparad", intro="", round=None))
        db.session.commit()
        token, n = dataversion.current()
        assert token == start[0] and n == start[1] + 1
        assert dataversion.current(dataversion.REFERENCE) is not None


# --------------------------------------------------------------------------- the registry's groups

def scb_2014(changes: dict[str, int]) -> bytes:
    with open(DATA_DIR / "population_1950_2019.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    lines = ['"region";"2014"']
    for r in rows:
        lines.append(f'"{r["kommunkod"]} {r["kommun"]}";"{changes.get(r["kommunkod"], int(r["2014"]))}"')
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def kommun_cells(staff, query: str) -> list[str]:
    html = staff.get(f"/register/?ar=2014&q={query}").get_data(as_text=True)
    table = re.findall(r"<table.*?</table>", html, re.S)[0]
    row = re.findall(r"<tr.*?</tr>", table, re.S)[1]
    return [re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", c))).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]


def test_a_population_import_changes_the_registry_pages_groups(app, staff):
    stockholm = kommun_cells(staff, "Stockholm")
    assert stockholm[1] == "Stockholm" and stockholm[4] == "5"
    assert "Grupp 5" in staff.get("/register/grupper?ar=2014").get_data(as_text=True)

    from coordinator.registry import service
    with app.app_context():
        service.import_population(scb_2014({"0180": 12345}), "stockholm_2014.csv")
    stockholm = kommun_cells(staff, "Stockholm")
    assert re.sub(r"\D", "", stockholm[3]) == "12345" and stockholm[4] == "1"
    with app.app_context():
        assert service.groups_lenient(2014)["0180"] == 1


def test_a_change_of_the_groups_changes_the_registry_page(app, staff):
    assert kommun_cells(staff, "Uppsala")[4] == "5"
    from coordinator.registry import service
    with app.app_context():
        values = service.settings_values()
        new = dict(values)
        new["g4.upper"], new["g5.lower"] = 299_999, 300_000  # Uppsala (about 207 000 in 2014) moves to group 4
        service.save_settings(new, service.fingerprint(values))
    assert kommun_cells(staff, "Uppsala")[4] == "4"
    with app.app_context():
        service.reset_group_settings()
    assert kommun_cells(staff, "Uppsala")[4] == "5"
