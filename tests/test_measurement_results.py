"""Measurement results: denominators, shares, number summaries, breakdowns per ÖJ group and län,
round 1 against round 2, the CSV exports, the quarterly report's tables and who may see them.

The questionnaires, requests and answers are made with the models directly, as the kommun's
form would store them. Database tests run on SQLite and PostgreSQL (the `app` fixture).

The hand-checked example (round 1, questionnaire "Inför besöket"):
  Q1 one choice (Ja / Ja, i viss mån / Nej / Vet ej), "Nej" jumps to Q3 (Q2 skipped), comment
  Q2 several choices (Rekrytering / Introduktion / Handledning) with "Annat, ange"
  Q3 number; Q4 free text
  site        län  grupp  Q1              Q2                              Q3      Q4
  Stockholm   01   5      Ja (+comment)   Rekrytering, Handledning        "12.5"  Personalomsättning
  U. Väsby    01   2      Nej             (skipped)                       "8"     (blank)
  Malmö       12   5      Ja, i viss mån  Rekrytering + Annat: Mentorskap "20"    Placeringar
  Kiruna      25   1      Nej             (skipped; a stale answer kept)  -       -
  Gotland     09   3      (no answer)     (no answer)                     "3,5"   Samverkan
  Uppsala     03   4      Ja, but never submitted: not counted anywhere
"""
from __future__ import annotations

import csv
import html as htmllib
import io
import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from coordinator.audit import AuditEvent
from coordinator.extensions import db
from coordinator.measurement.models import (OTHER_OPTION, STANDARD_OPTIONS, MeasurementAnswer, MeasurementRequest,
                                            Question, Questionnaire)
from coordinator.measurement.results import TZ, load_responses, report_tables
from coordinator.measurement.tabulate import (OTHER, Answer, Q, Response, breakdown, compare, match_questions,
                                              parse_number, tabulate)
from coordinator.sampling.models import Sample, Site

from .conftest import assert_accessible, browser_login

R1 = datetime(2015, 5, 12, 10, 0, tzinfo=timezone.utc)
R2 = datetime(2016, 5, 10, 10, 0, tzinfo=timezone.utc)
# 23:30 on 30 June in Stockholm (summer time, UTC+2): still the second quarter.
LATE_JUNE = datetime(2015, 6, 30, 21, 30, tzinfo=timezone.utc)
# 00:30 on 1 July in Stockholm: the third quarter, although it is still 30 June in UTC.
EARLY_JULY = datetime(2015, 6, 30, 22, 30, tzinfo=timezone.utc)

SITES = [("0180", 5), ("0114", 2), ("1280", 5), ("2584", 1), ("0980", 3), ("0380", 4)]
Q1_TEXT = "Har nämnden antagit en plan för kompetensförsörjning?"


def text(response) -> str:
    """The page as plain text: tags removed, entities decoded, all whitespace (nbsp too) one space."""
    html = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", htmllib.unescape(html).replace("\u00a0", " "))


def counts(response, question_id: int) -> dict[str, int]:
    """The denominators shown beside one question, read from the page."""
    html = response.get_data(as_text=True)
    block = re.search(rf'id="namnare-{question_id}">(.*?)</dl>', html, re.S).group(1)
    return {k: int(v) for k, v in re.findall(r'data-count="([a-z-]+)">(\d+)<', block)}


# --------------------------------------------------------------------------- the example in the database

def make_questionnaire(name: str = "Inför besöket") -> Questionnaire:
    qn = Questionnaire(name=name, intro="", round=None, locked=True)
    qn.questions = [
        Question(position=1, text=Q1_TEXT, kind="en", options=list(STANDARD_OPTIONS), skip_rules={"Nej": 3},
                 comment=True),
        Question(position=2, text="Vilka delar omfattar planen?", kind="flera",
                 options=["Rekrytering", "Introduktion", "Handledning"], other_option=True),
        Question(position=3, text="Hur många socialsekreterare arbetar med barn och unga?", kind="tal"),
        Question(position=4, text="Vad vill ni ta upp vid besöket?", kind="text"),
    ]
    db.session.add(qn)
    db.session.flush()
    return qn


def answer(req: MeasurementRequest, question: Question, value, other_text: str = "", comment: str = ""):
    db.session.add(MeasurementAnswer(request=req, question=question, value=value, other_text=other_text,
                                     comment=comment))


def request_for(qn, site, rnd, submitted_at, answers):
    req = MeasurementRequest(questionnaire=qn, site=site, round=rnd, nonce=f"n-{site.id}-{rnd}",
                             expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc), submitted_at=submitted_at)
    db.session.add(req)
    q = {question.position: question for question in qn.questions}
    for position, value in answers.items():
        if isinstance(value, tuple):
            answer(req, q[position], *value)
        else:
            answer(req, q[position], value)
    return req


@pytest.fixture
def example(app):
    """The example above in round 1, and round 2 for some of the sites. Returns ids."""
    with app.app_context():
        sample = Sample(name="Test", method="manuellt", reference_year=2014, settings={}, frame_source="test",
                        software={}, diagnostics={}, status="antaget")
        sample.sites = [Site(position=i, kommunkod=kod, enhet="", grupp=g) for i, (kod, g) in enumerate(SITES, 1)]
        db.session.add(sample)
        qn = make_questionnaire()
        sto, upv, mal, kir, got, upp = sample.sites
        request_for(qn, sto, 1, R1, {1: ("Ja", "", "Beslutad 2015"), 2: ["Rekrytering", "Handledning"],
                                     3: "12.5", 4: "Personalomsättning"})  # submitted numbers are canonical
        request_for(qn, upv, 1, R1, {1: "Nej", 3: "8", 4: ""})
        request_for(qn, mal, 1, R1, {1: "Ja, i viss mån", 2: (["Rekrytering", OTHER_OPTION], "Mentorskap"), 3: "20",
                                     4: "Placeringar"})
        request_for(qn, kir, 1, EARLY_JULY, {1: "Nej", 2: ["Introduktion"]})  # Q2 answered, then skipped
        request_for(qn, got, 1, LATE_JUNE, {1: None, 3: "3,5", 4: "Samverkan"})  # as typed: comma
        request_for(qn, upp, 1, None, {1: "Ja", 3: "99"})  # saved, never submitted
        # Round 2: Stockholm keeps Ja, Upplands Väsby goes Nej -> Ja, Gotland answers now (no pair for Q1),
        # Malmö has not submitted, Uppsala has (but never submitted round 1).
        request_for(qn, sto, 2, R2, {1: "Ja", 2: ["Rekrytering"], 3: "14"})
        request_for(qn, upv, 2, R2, {1: "Ja", 2: ["Rekrytering"], 3: "10"})
        request_for(qn, got, 2, R2, {1: "Vet ej"})
        request_for(qn, mal, 2, None, {1: "Nej"})
        request_for(qn, upp, 2, R2, {1: "Ja"})
        db.session.commit()
        return {"questionnaire": qn.id, "questions": [q.id for q in qn.questions],
                "sites": {s.kommunkod: s.id for s in sample.sites}}


def round_one(app, example):
    with app.app_context():
        qn = db.session.get(Questionnaire, example["questionnaire"])
        questions = [Q.of(q) for q in qn.questions]
        responses = [r for r in load_responses(qn.id, submitted_only=False) if r.round == 1]
        return questions, responses


def test_denominators_asked_answered_skipped_and_no_answer_on_the_hand_checked_example(app, example):
    questions, responses = round_one(app, example)
    q1, q2, q3, q4 = tabulate(questions, responses)
    # Five submitted; Uppsala's draft is not among them.
    assert [(t.submitted, t.skipped, t.asked, t.answered, t.no_answer) for t in (q1, q2, q3, q4)] == [
        (5, 0, 5, 4, 1),   # Gotland gave no answer
        (5, 2, 3, 2, 1),   # "Nej" skipped it for Upplands Väsby and Kiruna (Kiruna's stale answer ignored)
        (5, 0, 5, 4, 1),   # Kiruna gave no number
        (5, 0, 5, 3, 2),   # a blank text is no answer
    ]


def test_one_choice_shares_are_of_those_who_answered(app, example):
    q1 = tabulate(*round_one(app, example))[0]
    assert [(r.label, r.count, r.share) for r in q1.rows] == [
        ("Ja", 1, 0.25), ("Ja, i viss mån", 1, 0.25), ("Nej", 2, 0.5), ("Vet ej", 0, 0.0)]
    assert q1.comments == ["Beslutad 2015"]


def test_several_choice_shares_are_of_those_who_answered_and_may_sum_over_one(app, example):
    q2 = tabulate(*round_one(app, example))[1]
    assert q2.several
    assert [(r.label, r.count, r.share) for r in q2.rows] == [
        ("Rekrytering", 2, 1.0), ("Introduktion", 0, 0.0), ("Handledning", 1, 0.5), (OTHER, 1, 0.5)]
    assert sum(r.share for r in q2.rows) == 2.0
    assert q2.other_texts == ["Mentorskap"]


def test_number_summary_reads_decimal_commas(app, example):
    q3 = tabulate(*round_one(app, example))[2]
    s = q3.numbers
    assert (s.n, s.mean, s.median, s.min, s.max) == (4, 11.0, 10.25, 3.5, 20.0)
    assert q3.invalid_numbers == 0


def test_text_answers_are_counted_and_listed(app, example):
    q4 = tabulate(*round_one(app, example))[3]
    assert sorted(q4.texts) == ["Personalomsättning", "Placeringar", "Samverkan"]


def test_unsubmitted_requests_are_not_counted(app, example):
    questions, responses = round_one(app, example)
    assert any(r.submitted_at is None for r in responses)  # Uppsala's draft is there to be left out
    q1, _q2, q3, _q4 = tabulate(questions, responses)
    assert q1.row("Ja").count == 1 and q1.submitted == 5
    assert 99.0 not in (q3.numbers.max, q3.numbers.min)


def test_breakdown_per_oj_group(app, example):
    questions, responses = round_one(app, example)
    q1 = breakdown(questions, responses, lambda r: r.grupp, lambda r: f"Grupp {r.grupp}")[0]
    parts = {key: t for key, _label, t in q1.parts}
    assert sorted(parts) == [1, 2, 3, 5]  # group 4 (Uppsala) never submitted
    g5 = parts[5]
    assert (g5.asked, g5.answered) == (2, 2)
    assert (g5.row("Ja").count, g5.row("Ja").share, g5.row("Ja, i viss mån").share) == (1, 0.5, 0.5)
    assert (parts[3].asked, parts[3].answered, parts[3].row("Ja").share) == (1, 0, None)
    assert q1.total.answered == 4


def test_breakdown_per_lan_counts_skips_per_lan(app, example):
    questions, responses = round_one(app, example)
    per_lan = breakdown(questions, responses, lambda r: r.lanskod, lambda r: r.lan)
    q1, q2 = per_lan[0], per_lan[1]
    assert [(key, label) for key, label, _t in q1.parts] == [
        ("01", "Stockholms län"), ("09", "Gotlands län"), ("12", "Skåne län"), ("25", "Norrbottens län")]
    stockholm_q1, stockholm_q2 = q1.parts[0][2], q2.parts[0][2]
    assert [(r.label, r.count, r.share) for r in stockholm_q1.rows][:3] == [
        ("Ja", 1, 0.5), ("Ja, i viss mån", 0, 0.0), ("Nej", 1, 0.5)]
    assert (stockholm_q2.submitted, stockholm_q2.skipped, stockholm_q2.asked, stockholm_q2.answered) == (2, 1, 1, 1)


def test_round_comparison_counts_only_sites_with_both_rounds_submitted(app, example):
    with app.app_context():
        qn = db.session.get(Questionnaire, example["questionnaire"])
        questions = [Q.of(q) for q in qn.questions]
        everything = load_responses(qn.id, submitted_only=False)
    first = [r for r in everything if r.round == 1]
    second = [r for r in everything if r.round == 2]
    # Stockholm, Upplands Väsby, Gotland. Not Malmö (round 2 unsubmitted), Uppsala (round 1 unsubmitted)
    # nor Kiruna (no round 2).
    sites, (q1, q2, q3, _q4) = compare(questions, first, questions, second)
    assert sites == 3 and q1.sites == 3
    assert (q1.answered_first, q1.answered_second, q1.both, q1.changed, q1.unchanged) == (2, 3, 2, 1, 1)
    assert q1.changes == [("Nej", "Ja", 1)]
    assert [(r.label, r.first, r.second) for r in q1.rows] == [
        ("Ja", 1, 2), ("Ja, i viss mån", 0, 0), ("Nej", 1, 0), ("Vet ej", 0, 1)]
    assert (q1.rows[0].share_first, q1.rows[0].share_second) == (0.5, 2 / 3)
    # Q2: Upplands Väsby skipped it in round 1, so only Stockholm answered both; its choice narrowed.
    assert (q2.answered_first, q2.answered_second, q2.both, q2.changed) == (1, 2, 1, 1)
    assert (q3.both, q3.changed, q3.mean_first, q3.mean_second) == (2, 2, 10.25, 12.0)


def test_round_comparison_matches_a_copied_questionnaire_by_question_text():
    first = [Q(1, 1, Q1_TEXT, "en", ("Ja", "Nej")), Q(2, 2, "Antal?", "tal"), Q(3, 3, "Borttagen?", "text")]
    second = [Q(11, 1, "Ny fråga?", "text"), Q(12, 2, " har  nämnden antagit en plan för kompetensförsörjning? ",
                                                  "en", ("Ja", "Nej")), Q(13, 3, "Antal?", "text")]
    # Same text and kind: whitespace and case aside. "Antal?" changed kind, so it is not the same question.
    assert [(a.id, b.id) for a, b in match_questions(first, second)] == [(1, 12)]
    site = dict(site="Kommun", kommun="Kommun", kommunkod="0000", lanskod="01", lan="Län", grupp=1)
    r1 = Response(1, 7, round=1, submitted_at=R1, answers={1: Answer("Nej")}, **site)
    r2 = Response(2, 7, round=2, submitted_at=R2, answers={12: Answer("Ja")}, **site)
    sites, [c] = compare(first, [r1], second, [r2])
    assert (sites, c.both, c.changes) == (1, 1, [("Nej", "Ja", 1)])


def test_annat_ange_counts_as_an_answer_and_keeps_its_text():
    question = Q(1, 1, "Vem samverkar ni med?", "en", ("Skolan", "Polisen"), other_option=True)
    several = Q(2, 2, "Vilka stöd finns?", "flera", ("Handledning",), other_option=True)
    site = dict(site="K", kommun="K", kommunkod="0000", lanskod="01", lan="L", grupp=1, round=1, submitted_at=R1)
    responses = [Response(1, 1, answers={1: Answer(OTHER_OPTION, "Regionen"), 2: Answer([OTHER_OPTION], "Mentor")},
                          **site),
                 Response(2, 2, answers={1: Answer("Skolan"), 2: Answer(["Handledning", OTHER_OPTION], "Nätverk")},
                          **site),
                 Response(3, 3, answers={1: Answer(None), 2: Answer([])}, **site)]
    one, many = tabulate([question, several], responses)
    assert (one.answered, one.row(OTHER).count, one.row(OTHER).share, one.other_texts) == (2, 1, 0.5, ["Regionen"])
    assert (many.answered, many.row(OTHER).count, many.row("Handledning").share) == (2, 2, 0.5)
    assert many.other_texts == ["Mentor", "Nätverk"] and many.no_answer == 1


def test_numbers_read_the_way_swedes_type_them():
    assert [parse_number(v) for v in ("3,5", "1 200", "1\u00a0200,25", "\u22122", "7", "", "tre", None)] == [
        3.5, 1200.0, 1200.25, -2.0, 7.0, None, None, None]
    question = Q(1, 1, "Antal?", "tal")
    site = dict(site="K", kommun="K", kommunkod="0000", lanskod="01", lan="L", grupp=1, round=1, submitted_at=R1)
    [t] = tabulate([question], [Response(i, i, answers={1: Answer(v)}, **site) for i, v in
                                enumerate(["2,5", "tre", "4"])])
    assert (t.answered, t.invalid_numbers, t.numbers.n, t.numbers.mean) == (3, 1, 2, 3.25)


# --------------------------------------------------------------------------- the quarterly report's tables

def test_report_tables_respect_the_date_range_in_swedish_time(app, example):
    with app.app_context():
        q2_2015 = report_tables(date(2015, 4, 1), date(2015, 6, 30))
        q3_2015 = report_tables(date(2015, 7, 1), date(2015, 9, 30))
        until_2015 = report_tables(None, date(2015, 12, 31))
        q2_2016 = report_tables(date(2016, 4, 1), date(2016, 6, 30))
        everything = report_tables(None, date(2016, 12, 31))
        before = report_tables(date(2014, 1, 1), date(2014, 12, 31))
    # Gotland at 23:30 on 30 June is in the second quarter; Kiruna at 00:30 on 1 July in the third.
    first = q2_2015[0]
    assert (first["questionnaire"], first["round"], first["position"], first["question"], first["kind"]) == (
        "Inför besöket", 1, 1, Q1_TEXT, "en")
    assert (first["asked"], first["answered"], first["skipped"]) == (4, 3, 0)
    assert first["rows"][2] == {"label": "Nej", "count": 1, "share": 1 / 3}
    assert [(t["position"], t["asked"], t["answered"], t["skipped"]) for t in q3_2015] == [
        (1, 1, 1, 0), (2, 0, 0, 1), (3, 1, 0, 0), (4, 1, 0, 0)]
    assert [t["asked"] + t["skipped"] for t in until_2015] == [5, 5, 5, 5]
    number = until_2015[2]
    assert (number["mean"], number["median"], number["rows"]) == (11.0, 10.25, [])
    # Round 2 comes as its own tables; Malmö's unsubmitted round 2 is not counted.
    assert {t["round"] for t in q2_2016} == {2} and q2_2016[0]["asked"] == 4
    assert [(t["round"], t["position"]) for t in everything] == [(1, 1), (1, 2), (1, 3), (1, 4),
                                                                 (2, 1), (2, 2), (2, 3), (2, 4)]
    assert before == []


# --------------------------------------------------------------------------- pages

def test_results_page_states_denominators_and_swedish_shares(staff, example):
    qid, (q1, q2, q3, _q4) = example["questionnaire"], example["questions"]
    response = staff.get(f"/matningar/{qid}/resultat?omgang=1")
    assert response.status_code == 200
    assert counts(response, q2) == {"submitted": 5, "skipped": 2, "asked": 3, "answered": 2, "no-answer": 1}
    assert counts(response, q1)["answered"] == 4
    page = text(response)
    assert "5 av 6 utskick är inskickade" in page  # round 1: Uppsala's is not
    assert "Nej 2 50,0 %" in page
    assert "Andelarna är av de 2 som besvarade frågan. Flera svar möjliga" in page
    assert "Annat, ange 1 50,0 %" in page and "Mentorskap" in page
    assert "Medelvärde 11" in page and "Median 10,25" in page and "Minsta 3,5" in page
    assert "Beslutad 2015" in page and "Personalomsättning" in page
    html = response.get_data(as_text=True)
    assert html.count("<caption") >= 3 and 'scope="row"' in html and 'scope="col"' in html


def test_results_page_breaks_down_per_lan_and_filters_per_group(staff, example):
    qid, q1 = example["questionnaire"], example["questions"][0]
    per_lan = text(staff.get(f"/matningar/{qid}/resultat?omgang=1&fordelning=lan"))
    assert "Fråga 1 per län." in per_lan
    assert "Stockholms län 0 2 2 1 (50,0 %) 0 (0,0 %) 1 (50,0 %) 0 (0,0 %)" in per_lan
    assert "Samtliga 0 5 4 1 (25,0 %) 1 (25,0 %) 2 (50,0 %) 0 (0,0 %)" in per_lan
    group5 = staff.get(f"/matningar/{qid}/resultat?omgang=1&grupp=5")
    assert counts(group5, q1) == {"submitted": 2, "skipped": 0, "asked": 2, "answered": 2, "no-answer": 0}
    per_group = text(staff.get(f"/matningar/{qid}/resultat?omgang=1&fordelning=grupp"))
    assert "Grupp 5 0 2 2 1 (50,0 %) 1 (50,0 %) 0 (0,0 %) 0 (0,0 %)" in per_group


def test_results_page_is_computed_once_per_data_version_and_shows_the_next_committed_change(app, staff, example):
    from sqlalchemy import event

    from coordinator.measurement import results_cache

    results_cache.clear()
    qid, (q1, q2, _q3, _q4) = example["questionnaire"], example["questions"]
    url = f"/matningar/{qid}/resultat?omgang=1"
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def get(path):
        statements.clear()
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", count)
        try:
            return staff.get(path), len(statements)
        finally:
            with app.app_context():
                event.remove(db.engine, "before_cursor_execute", count)

    before = dict(results_cache.stats)
    first, cold = get(url)
    assert results_cache.stats["computed"] == before["computed"] + 1
    second, warm = get(url)
    assert results_cache.stats["computed"] == before["computed"] + 1
    assert results_cache.stats["hits"] == before["hits"] + 1
    assert text(second) == text(first)
    assert warm < cold  # neither the answers nor the design's weights are read again
    # Another filter is another entry; the first one stays.
    assert counts(staff.get(f"{url}&fordelning=lan"), q1)["answered"] == 4
    assert results_cache.stats["computed"] == before["computed"] + 2

    # Upplands Väsby's round-1 answer to question 1 goes from Nej to Ja, committed as the form would.
    with app.app_context():
        req = db.session.scalar(select(MeasurementRequest).where(
            MeasurementRequest.site_id == example["sites"]["0114"], MeasurementRequest.round == 1))
        row = db.session.scalar(select(MeasurementAnswer).where(MeasurementAnswer.request_id == req.id,
                                                                MeasurementAnswer.question_id == q1))
        row.value = "Ja"
        db.session.commit()
    third = staff.get(url)
    assert results_cache.stats["computed"] == before["computed"] + 3
    assert "Nej 1 25,0 %" in text(third) and "Nej 2 50,0 %" in text(first)
    assert counts(third, q2) == {"submitted": 5, "skipped": 1, "asked": 4, "answered": 2, "no-answer": 2}


def test_answers_per_site_page_shows_each_answer_and_the_skips(staff, example):
    page = text(staff.get(f"/matningar/{example['questionnaire']}/resultat/besoksplatser?omgang=1"))
    assert "Upplands Väsby Stockholms län 2 1 Nej överhoppad enligt regel 8 inget svar" in page
    assert "Rekrytering; Annat, ange Annat, ange: Mentorskap" in page
    html = staff.get(f"/matningar/{example['questionnaire']}/resultat/besoksplatser?omgang=1").get_data(as_text=True)
    assert re.findall(r'<th scope="row">([^<]+)</th>', html) == [
        "Stockholm", "Upplands Väsby", "Gotland", "Malmö", "Kiruna"]  # by län; Uppsala's draft not shown


def test_comparison_page_counts_changed_answers_over_sites_with_both_rounds(staff, example):
    qid, q1 = example["questionnaire"], example["questions"][0]
    response = staff.get(f"/matningar/{qid}/jamforelse")
    assert response.status_code == 200
    page = text(response)
    assert "3 besöksplatser har skickat in både omgång 1" in page
    assert "Ändrade svar 1 av 2" in page
    assert "Nej Ja 1" in page
    assert "Ja 1 (50,0 %) 2 (66,7 %)" in page


def test_comparison_page_can_pair_round_one_with_a_copied_questionnaire(app, staff, example):
    with app.app_context():
        copy = Questionnaire(name="Inför besöket, omgång 2", intro="", round=2, locked=True)
        copy.questions = [Question(position=1, text="Finns det något nytt sedan förra besöket?", kind="text"),
                          Question(position=2, text=Q1_TEXT, kind="en", options=list(STANDARD_OPTIONS))]
        db.session.add(copy)
        kiruna = db.session.get(Site, example["sites"]["2584"])
        request_for(copy, kiruna, 2, R2, {1: "Ja, mycket", 2: "Ja"})
        db.session.commit()
        copy_id = copy.id
    qid = example["questionnaire"]
    same = text(staff.get(f"/matningar/{qid}/jamforelse"))  # round 2 of the same questionnaire is preferred
    assert "3 besöksplatser har skickat in både omgång 1" in same
    page = text(staff.get(f"/matningar/{qid}/jamforelse?med={copy_id}"))
    assert "1 besöksplats har skickat in både omgång 1 (av 5 inskickade) och omgång 2 (av 1 inskickade)" in page
    assert "Frågor i omgång 2 utan motsvarighet i omgång 1 (jämförs inte): fråga 1." in page
    assert "I omgång 2 är det fråga 2." in page and "Ändrade svar 1 av 1" in page and "Nej Ja 1" in page


def test_reader_and_anonymous_cannot_see_results_or_export(reader, anon, example):
    qid = example["questionnaire"]
    urls = [f"/matningar/{qid}/resultat", f"/matningar/{qid}/resultat/besoksplatser", f"/matningar/{qid}/jamforelse",
            f"/matningar/{qid}/resultat/svar.csv", f"/matningar/{qid}/resultat/tabell.csv"]
    for url in urls:
        assert reader.get(url).status_code == 403, url
        assert anon.get(url).status_code == 302, url
    assert "Mentorskap" not in reader.get(urls[0]).get_data(as_text=True)


def test_unknown_questionnaire_is_404(staff, example):
    assert staff.get("/matningar/999999/resultat").status_code == 404


# --------------------------------------------------------------------------- CSV

def read_csv(response) -> list[list[str]]:
    data = response.data
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Swedish Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_answers_csv_one_row_per_submitted_request_and_question(app, staff, example):
    qid = example["questionnaire"]
    response = staff.get(f"/matningar/{qid}/resultat/svar.csv?omgang=1")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    today = datetime.now(TZ).date().isoformat()
    assert f'filename=matning-{qid}-infor-besoket-svar-{today}.csv' in response.headers["Content-Disposition"]
    assert b";" in response.data.splitlines()[0]
    header, *rows = read_csv(response)
    assert header == ["Besöksplats", "Kommun", "Kommunkod", "Län", "ÖJ-grupp", "Omgång", "Frågenummer", "Fråga",
                      "Svar", "Annat, ange (text)", "Kommentar", "Överhoppad enligt regel", "Inskickad"]
    assert len(rows) == 5 * 4  # five submitted requests × four questions; Uppsala's draft not there
    by = {(r[2], r[6]): r for r in rows}
    assert by[("0180", "1")] == ["Stockholm", "Stockholm", "0180", "Stockholms län", "5", "1", "1", Q1_TEXT,
                                 "Ja", "", "Beslutad 2015", "nej", "2015-05-12 12:00"]
    assert by[("0114", "2")][8:12] == ["", "", "", "ja"]
    assert by[("2584", "2")][8:12] == ["", "", "", "ja"]  # the stale answer is not exported as given
    assert by[("1280", "2")][8:10] == ["Rekrytering; Annat, ange", "Mentorskap"]
    assert (by[("0980", "3")][8], by[("0180", "3")][8]) == ("3,5", "12,5")  # decimal comma for Swedish Excel
    assert by[("0980", "1")][8:12] == ["", "", "", "nej"]
    assert "0380" not in {r[2] for r in rows}
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "measurement.exported")).one()
        assert (event.actor, event.object_id, event.details["export"], event.details["rows"]) == (
            "staff@test.se", str(qid), "svar", 20)
        assert event.details["filters"] == {"omgang": 1}


def test_table_csv_has_counts_shares_and_denominators(app, staff, example):
    qid = example["questionnaire"]
    header, *rows = read_csv(staff.get(f"/matningar/{qid}/resultat/tabell.csv?omgang=1"))
    assert header == ["Omfattning", "Frågenummer", "Fråga", "Svarsalternativ", "Antal", "Andel av besvarade (%)",
                      "Värde", "Besvarade", "Tillfrågade", "Utan svar", "Överhoppade enligt regel"]
    by = {(r[1], r[3]): r for r in rows}
    assert by[("1", "Nej")] == ["Samtliga", "1", Q1_TEXT, "Nej", "2", "50,0", "", "4", "5", "1", "0"]
    assert by[("2", "Annat, ange")][4:] == ["1", "50,0", "", "2", "3", "1", "2"]
    assert by[("3", "Medelvärde")][6] == "11" and by[("3", "Median")][6] == "10,25"
    assert by[("4", "Fritextsvar")][4] == "3"
    per_lan = read_csv(staff.get(f"/matningar/{qid}/resultat/tabell.csv?omgang=1&fordelning=lan"))
    assert per_lan[0][0] == "Län"
    lan_rows = {(r[0], r[1], r[3]): r for r in per_lan[1:]}
    assert lan_rows[("Stockholms län", "1", "Ja")][4:6] == ["1", "50,0"]
    assert lan_rows[("Samtliga", "1", "Ja")][4:6] == ["1", "25,0"]
    with app.app_context():
        exports = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "measurement.exported")).all()
        assert [e.details["export"] for e in exports] == ["tabell", "tabell"]


# --------------------------------------------------------------------------- in a browser

def test_results_pages_are_accessible(page, example):
    browser_login(page, "staff")
    qid = example["questionnaire"]
    for url in (f"/matningar/{qid}/resultat?fordelning=lan", f"/matningar/{qid}/resultat/besoksplatser",
                f"/matningar/{qid}/jamforelse"):
        page.goto(url)
        assert_accessible(page, url)
    page.goto(f"/matningar/{qid}/resultat")
    page.get_by_label("Fördelning").select_option("grupp")
    page.get_by_role("button", name="Visa").click()
    page.wait_for_url(re.compile(r".*fordelning=grupp"))
    assert page.get_by_role("table", name=re.compile("Fråga 1 per ÖJ-grupp")).is_visible()
