"""The figures of the quarterly report and the final-report basis, checked in the PDF's text.

A seeded assignment (sample drawn and adopted through the CLI, visits dated around 2015 Q3, two
declines, dialogue notes with themes and flags, a hearing's note, two action plans) is reported for
2015 Q3; every figure the test looks for in the PDF is counted here again, independently, with
plain select() queries over the models, never with the report's own code. Both backends.
"""
from __future__ import annotations

import io
import json
import re
from datetime import date, time

import pytest
from pypdf import PdfReader
from sqlalchemy import distinct, func, select

from coordinator.dialogue.models import Note, Passage, PassageTheme, Theme
from coordinator.events.models import Event
from coordinator.extensions import db
from coordinator.plans import service as plans
from coordinator.plans.models import ActionPlan, PlanActivity, PlanGoal
from coordinator.registry.models import Kommun, Lan
from coordinator.sampling.models import Decline, Sample, Site
from coordinator.sampling.service import record_decline
from coordinator.scheduling.models import BOOKED, Visit
from coordinator.scheduling.service import ensure_visits

Q3 = (date(2015, 7, 1), date(2015, 9, 30))
Q4 = (date(2015, 10, 1), date(2015, 12, 31))
NBSP = "\u00a0"


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages).replace(NBSP, " "))


def pct(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} %"


def passages(n: int) -> str:
    return f"{n} passage" if n == 1 else f"{n} passager"


def between(text: str, start: str, end: str) -> str:
    """From the last `start` (past the table of contents) to the next `end`."""
    first = text.rindex(start)
    return text[first:text.index(end, first)]


@pytest.fixture
def seeded(app):
    """The assignment as in the module docstring; returns the names the tests look for."""
    drawn = cli(app, "sample", "draw", "--year", "2014", "--seed", "7", "--save", "--json")
    assert drawn.exit_code == 0, drawn.output
    sample_id = json.loads(drawn.output)["id"]
    assert cli(app, "sample", "adopt", str(sample_id)).exit_code == 0
    with app.app_context():
        sample = db.session.get(Sample, sample_id)
        ensure_visits()
        db.session.flush()
        # Two sites decline: one before the quarter, one in it; the reserves take their places.
        record_decline(sample, sample.active_sites[40], date(2015, 3, 2), "Tidsbrist")
        record_decline(sample, sample.active_sites[41], date(2015, 8, 12), "Omorganisation")
        ensure_visits()
        db.session.flush()
        sites = sample.active_sites

        def visit(site, round_=1) -> Visit:
            return db.session.scalar(select(Visit).where(Visit.site_id == site.id, Visit.round == round_))

        plan = ([(date(2015, 3, 2 + i), "genomford") for i in range(12)]           # held before the quarter
                + [(date(2015, 7, 20 + i), "genomford") for i in range(8)]         # held in the quarter
                + [(date(2015, 9, 1 + i), "bekraftad") for i in range(3)]          # planned, not held
                + [(date(2015, 9, 14 + i), "installd") for i in range(2)]          # cancelled
                + [(date(2015, 10, 5 + i), "inbjuden") for i in range(3)]          # next quarter, booked
                + [(date(2015, 11, 9 + i), "forslag") for i in range(2)]           # next quarter, proposed
                + [(date(2015, 10, 1), "genomford")])                              # held after the quarter
        for site, (day, status) in zip(sites, plan):
            v = visit(site)
            v.date, v.status = day, status
        db.session.flush()

        themes = db.session.scalars(select(Theme).order_by(Theme.id)).all()
        t1, t2, t3 = themes[0], themes[1], themes[2]
        anonymous_site, cleared_site, example_site, early_site = sites[12], sites[13], sites[14], sites[2]
        anonymous_name = anonymous_site.kommun.namn
        cleared_label = cleared_site.label

        def note(site, passages):
            n = Note(visit_id=visit(site).id)
            db.session.add(n)
            db.session.flush()
            for i, (text, tags, flags) in enumerate(passages):
                db.session.add(Passage(note_id=n.id, section="fraga-1", position=i, text=text, themes=tags, **flags))
            return n

        note(anonymous_site, [
            ("Familjehemmen räcker inte till.", [t1, t2], {"hinder": True}),
            (f"I {anonymous_name} saknas familjehem, säger CITAT-ANONYM alla vi träffade.", [t1],
             {"citat": True, "quote_reason": "manga"}),
        ])
        note(cleared_site, [("CITAT-GODKÄNT: vi har en mentor för varje nyanställd.", [t1],
                             {"citat": True, "quote_reason": "unik", "attribution_cleared": True})])
        note(example_site, [("Gemensam rutin med elevhälsan.", [t3], {"gott_exempel": True}),
                            ("Staten borde samordna utbildningen.", [], {"nationell_fraga": True})])
        note(early_site, [("Svårt att rekrytera.", [t2], {"hinder": True})])  # before the quarter
        hearing = Event(kind="hearing", title="Hearing om familjehem", date=date(2015, 9, 10), start_time=time(10),
                        end_time=time(12), uid="hearing-1@test", status="genomfort")
        db.session.add(hearing)
        db.session.flush()
        forum = Note(event_id=hearing.id)
        db.session.add(forum)
        db.session.flush()
        db.session.add(Passage(note_id=forum.id, section="ovrigt", position=0, text="FORUM-EXEMPEL om samverkan.",
                               themes=[t1], gott_exempel=True))

        def plan_for(site, goals):
            p = plans.save_challenges(site, 0, "Utmaningar.")
            db.session.flush()
            for theme_id, acts in goals:
                goal = plans.add_goal(site, p.version, {"title": "Mål", "description": "", "theme_id": theme_id})
                db.session.flush()
                for status, decided in acts:
                    plans.add_activity(goal, {"description": "Aktivitet", "status": status, "decided": decided})
            db.session.flush()

        plan_for(sites[0], [(t1.id, [("genomford", True), ("pagar", True), ("ej_paborjad", False)]),
                            (None, [("genomford", False), ("avbruten", True)])])
        plan_for(sites[1], [(t3.id, [("genomford", True)])])
        db.session.commit()
        return {"sample_id": sample_id, "anonymous_name": anonymous_name, "cleared_label": cleared_label,
                "t1": t1.name, "t3": t3.name, "group_of_anonymous": anonymous_site.grupp}


def quarterly_pdf(app, tmp_path, period="2015Q3") -> str:
    out = tmp_path / "rapport.pdf"
    result = cli(app, "report", "quarterly", period, "--out", str(out))
    assert result.exit_code == 0, result.output
    return pdf_text(out.read_bytes())


# --------------------------------------------------------------------------- independent counts

def count(stmt) -> int:
    return db.session.scalar(stmt) or 0


def visits_of(sample_id, *where):
    return (select(func.count(Visit.id)).join(Site, Site.id == Visit.site_id)
            .where(Site.sample_id == sample_id, *where))


def held(sample_id, start, end, *where):
    return count(visits_of(sample_id, Visit.status == "genomford", Visit.date <= end,
                           *([Visit.date >= start] if start else []), *where))


def planned(sample_id, start, end, *where):
    return count(visits_of(sample_id, Visit.status != "installd", Visit.date.isnot(None), Visit.date <= end,
                           *([Visit.date >= start] if start else []), *where))


def test_visit_figures_in_the_pdf_equal_an_independent_count(app, seeded, tmp_path):
    text = quarterly_pdf(app, tmp_path)
    sid = seeded["sample_id"]
    start, end = Q3
    with app.app_context():
        target = count(select(func.count(Site.id)).where(Site.sample_id == sid, Site.active))
        rows = {}
        for r in (1, 2):
            rows[r] = (planned(sid, start, end, Visit.round == r), held(sid, start, end, Visit.round == r),
                       planned(sid, None, end, Visit.round == r), held(sid, None, end, Visit.round == r))
        held_q = rows[1][1] + rows[2][1]
        planned_q = rows[1][0] + rows[2][0]
        groups = {}
        for g in range(1, 6):
            in_group = Site.grupp == g
            n_sites = count(select(func.count(Site.id)).where(Site.sample_id == sid, Site.active, in_group))
            groups[g] = (n_sites, held(sid, start, end, in_group), held(sid, None, end, in_group, Visit.round == 1),
                         held(sid, None, end, in_group, Visit.round == 2), planned(sid, None, end, in_group))
        # The län with the most sites.
        lan_code = db.session.scalar(
            select(Kommun.lanskod).join(Site, Site.kommunkod == Kommun.kommunkod)
            .where(Site.sample_id == sid, Site.active).group_by(Kommun.lanskod)
            .order_by(func.count().desc(), Kommun.lanskod).limit(1))
        lan_name = db.session.get(Lan, lan_code).namn
        in_lan = Site.kommunkod.in_(select(Kommun.kommunkod).where(Kommun.lanskod == lan_code))
        lan_sites = count(select(func.count(Site.id)).where(Site.sample_id == sid, Site.active, in_lan))
        lan_row = (lan_sites, held(sid, start, end, in_lan), held(sid, None, end, in_lan, Visit.round == 1),
                   held(sid, None, end, in_lan, Visit.round == 2), planned(sid, None, end, in_lan))
        r1_held_sites = select(Visit.site_id).where(Visit.round == 1, Visit.status == "genomford", Visit.date <= end)
        not_visited = count(select(func.count(Site.id)).where(Site.sample_id == sid, Site.active,
                                                              Site.id.notin_(r1_held_sites)))
    assert (held_q, planned_q) == (8, 11)  # the seed is what the test thinks it is
    assert f"Under kvartalet genomfördes {held_q} av {planned_q} besök som var planerade för kvartalet." in text
    assert (f"Totalt har {rows[1][3]} av {target} besöksplatser fått sitt första besök och {rows[2][3]} av {target} "
            f"sitt andra") in text
    for r in (1, 2):
        p_q, h_q, p_td, h_td = rows[r]
        assert f"Omgång {r} {target} {p_q} {h_q} {p_td} {h_td} {pct(h_td, target)}" in text
    total = [sum(rows[r][i] for r in (1, 2)) for i in range(4)]
    assert (f"Båda omgångarna {2 * target} {total[0]} {total[1]} {total[2]} {total[3]} "
            f"{pct(total[3], 2 * target)}") in text
    for g, (n_sites, h_q, r1, r2, p_td) in groups.items():
        assert f"Grupp {g} {n_sites} {h_q} {r1} av {n_sites} {r2} av {n_sites} {p_td} av {2 * n_sites}" in text
    n_sites, h_q, r1, r2, p_td = lan_row
    assert f"{lan_name} {n_sites} {h_q} {r1} av {n_sites} {r2} av {n_sites} {p_td} av {2 * n_sites}" in text
    assert f"Omgång 1: {not_visited} av {target} besöksplatser har inte haft sitt besök" in text
    # Round 2 had not begun by the quarter's end: no list for it.
    assert "Omgång 2: " not in text


def test_declines_and_next_quarter_in_the_pdf_equal_an_independent_count(app, seeded, tmp_path):
    text = quarterly_pdf(app, tmp_path)
    sid = seeded["sample_id"]
    with app.app_context():
        in_q = count(select(func.count(Decline.id)).where(Decline.sample_id == sid,
                                                          Decline.declined_on.between(*Q3)))
        to_date = count(select(func.count(Decline.id)).where(Decline.sample_id == sid, Decline.declined_on <= Q3[1]))
        replaced = count(select(func.count(Decline.id)).where(Decline.sample_id == sid, Decline.declined_on <= Q3[1],
                                                              Decline.replacement_site_id.isnot(None)))
        declined = db.session.execute(select(Decline.declined_on, Site.kommunkod).join(Site, Site.id == Decline.site_id)
                                      .where(Decline.sample_id == sid)).all()
        upcoming = planned(sid, *Q4)
        booked = count(visits_of(sid, Visit.date.between(*Q4), Visit.status.in_(BOOKED)))
        names = {k: db.session.get(Kommun, k).namn for _d, k in declined}
    assert (in_q, to_date, upcoming, booked) == (1, 2, 6, 4)
    assert (f"Avböjanden under kvartalet: {in_q}. Besöksplatser som har avböjt till och med periodens slut: {to_date}; "
            f"{replaced} av {to_date} har fått en ersättare") in text
    for day, kommunkod in declined:
        assert f"{day.isoformat()} {names[kommunkod]}" in text
    assert f"Kvartal 4 2015 (2015-10-01–2015-12-31): {upcoming} besök är inplanerade; {booked} av dem är bokade" in text


def test_plan_figures_in_the_pdf_equal_an_independent_count(app, seeded, tmp_path):
    text = quarterly_pdf(app, tmp_path)
    sid = seeded["sample_id"]
    with app.app_context():
        acts = (select(func.count(PlanActivity.id)).join(PlanGoal, PlanGoal.id == PlanActivity.goal_id)
                .join(ActionPlan, ActionPlan.id == PlanGoal.plan_id).join(Site, Site.id == ActionPlan.site_id)
                .where(Site.sample_id == sid, Site.active))
        total, done, decided = (count(acts), count(acts.where(PlanActivity.status == "genomford")),
                                count(acts.where(PlanActivity.decided.is_(True))))
        decided_done = count(acts.where(PlanActivity.decided.is_(True), PlanActivity.status == "genomford"))
        theme_id = db.session.scalar(select(Theme.id).where(Theme.name == seeded["t1"]))
        area = acts.where(PlanGoal.theme_id == theme_id)
        a_total, a_done, a_decided = (count(area), count(area.where(PlanActivity.status == "genomford")),
                                      count(area.where(PlanActivity.decided.is_(True))))
        a_dd = count(area.where(PlanActivity.decided.is_(True), PlanActivity.status == "genomford"))
        goals = count(select(func.count(PlanGoal.id)))
        with_plan = count(select(func.count(ActionPlan.id)))
        sites = count(select(func.count(Site.id)).where(Site.sample_id == sid, Site.active))
    assert (total, done, decided) == (6, 3, 4)
    assert (f"{with_plan} av {sites} besöksplatser har en handlingsplan. Av planernas {total} aktiviteter är {done} "
            f"genomförda ({pct(done, total)}) och {decided} beslutade ({pct(decided, total)})") in text
    assert (f"{seeded['t1']} 1 {a_total} {a_done} av {a_total} ({pct(a_done, a_total)}) {a_decided} av {a_total} "
            f"({pct(a_decided, a_total)}) {a_dd} av {a_decided} ({pct(a_dd, a_decided)})") in text
    assert f"Utan målområde 1 2 1 av 2 (50 %) 1 av 2 (50 %) 0 av 1 (0 %)" in text
    assert (f"Alla målområden {goals} {total} {done} av {total} ({pct(done, total)}) {decided} av {total} "
            f"({pct(decided, total)}) {decided_done} av {decided} ({pct(decided_done, decided)})") in text


def test_dialogue_figures_in_the_pdf_equal_an_independent_count(app, seeded, tmp_path):
    text = quarterly_pdf(app, tmp_path)
    sid = seeded["sample_id"]
    with app.app_context():
        def visit_notes(*where):
            return count(select(func.count(distinct(Note.id))).select_from(Passage)
                         .join(Note, Note.id == Passage.note_id).join(Visit, Visit.id == Note.visit_id)
                         .join(Site, Site.id == Visit.site_id)
                         .where(Site.sample_id == sid, Visit.date.between(*Q3), *where))

        def visit_passages(*where):
            return count(select(func.count(distinct(Passage.id))).join(Note, Note.id == Passage.note_id)
                         .join(Visit, Visit.id == Note.visit_id).where(Visit.date.between(*Q3), *where))

        def event_notes(*where):
            return count(select(func.count(distinct(Note.id))).select_from(Passage)
                         .join(Note, Note.id == Passage.note_id).join(Event, Event.id == Note.event_id)
                         .where(Event.date.between(*Q3), *where))

        notes, forums = visit_notes(), event_notes()
        t1 = db.session.scalar(select(Theme.id).where(Theme.name == seeded["t1"]))
        tagged = Passage.id.in_(select(PassageTheme.passage_id).where(PassageTheme.theme_id == t1))
        t1_notes, t1_passages, t1_forums = visit_notes(tagged), visit_passages(tagged), event_notes(tagged)
        obstacles = (visit_passages(Passage.hinder.is_(True)), visit_notes(Passage.hinder.is_(True)),
                     event_notes(Passage.hinder.is_(True)))
        examples = (visit_passages(Passage.gott_exempel.is_(True)), visit_notes(Passage.gott_exempel.is_(True)))
    assert (notes, forums, t1_notes, t1_passages) == (3, 1, 2, 3)
    assert f"Under kvartalet finns anteckningar från {notes} besök och {forums} dialogforum" in text
    assert (f"{seeded['t1']} {t1_notes} av {notes} ({pct(t1_notes, notes)}) {t1_passages} "
            f"{t1_forums} av {forums}") in text
    hinder = between(text, "Hinder Under kvartalet:", "Frågor för nationell nivå")
    assert (f"Under kvartalet: {passages(obstacles[0])} i {obstacles[1]} av {notes} besöksanteckningar och "
            f"{passages(obstacles[2])} från dialogforum.") in hinder
    good = between(text, "Goda exempel Under kvartalet:", "Hinder Under kvartalet:")
    assert (f"Under kvartalet: {passages(examples[0])} i {examples[1]} av {notes} besöksanteckningar och 1 passage "
            "från dialogforum.") in good
    assert "FORUM-EXEMPEL om samverkan." in good and "Från dialogforum: hearing" in good


def test_quotes_name_a_kommun_only_when_cleared(app, seeded, tmp_path):
    text = quarterly_pdf(app, tmp_path)
    dialogue = between(text, "7 Vad dialogerna visade", "8 Iakttagelser")
    name = seeded["anonymous_name"]
    assert "CITAT-ANONYM" in dialogue
    assert not re.search(rf"\b{re.escape(name)}", dialogue), f"{name} leaks into the dialogue section"
    assert "I [kommunen] saknas familjehem" in dialogue
    assert f"En kommun i grupp {seeded['group_of_anonymous']}" in dialogue
    assert f"”CITAT-GODKÄNT: vi har en mentor för varje nyanställd.” {seeded['cleared_label']} · omgång 1" in dialogue
    # Nor is the name anywhere in the figures that are archived and rendered as HTML.
    with app.test_request_context():
        from flask import render_template

        from coordinator.reports import figures
        data = figures.compute("2015Q3")
        archived = json.dumps(data["dialogue"], ensure_ascii=False)
        html = render_template("reports/_body.html", data=data, narratives={}, status={"draft": True})
    assert "CITAT-ANONYM" in archived and not re.search(rf"\b{re.escape(name)}", archived)
    section = html[html.index('id="rapport-dialoger"'):html.index('id="rapport-bedomning"')]
    assert "CITAT-ANONYM" in section and not re.search(rf"\b{re.escape(name)}", section)
    assert seeded["cleared_label"] in section


def test_the_final_basis_compares_the_rounds_and_follows_up_every_plan(app, seeded, tmp_path):
    out = tmp_path / "slut.pdf"
    result = cli(app, "report", "final", "--out", str(out))
    assert result.exit_code == 0, result.output
    text = pdf_text(out.read_bytes())
    sid = seeded["sample_id"]
    with app.app_context():
        end = date(2017, 4, 30)
        groups = {}
        for g in range(1, 6):
            in_group = Site.grupp == g
            n_sites = count(select(func.count(Site.id)).where(Site.sample_id == sid, Site.active, in_group))
            groups[g] = (n_sites, held(sid, None, end, in_group, Visit.round == 1),
                         held(sid, None, end, in_group, Visit.round == 2))
        labels = [db.session.get(Site, s).label for s in
                  db.session.scalars(select(ActionPlan.site_id).order_by(ActionPlan.site_id))]
    assert "Slutrapport" in text and "Hela uppdraget" in text
    comparison = between(text, "Omgång 1 jämfört med omgång 2", "Handlingsplanerna: beslutat och genomfört")
    for g, (n_sites, r1, r2) in groups.items():
        assert f"Grupp {g} {n_sites} {r1} av {n_sites} ({pct(r1, n_sites)}) {r2} av {n_sites} " in comparison
    followup = between(text, "Handlingsplanerna: beslutat och genomfört", "Avstämningar med statsrådet")
    for label in labels:
        assert label in followup
    assert "Besök under nästa kvartal" not in text
