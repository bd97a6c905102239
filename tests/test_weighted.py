"""Design-weighted national figures (measurement/estimate.py, weighted.py): the results page, the report
figures and the CLI equal a hand computation of the Hájek estimator on a small fixture.

The fixture: a drawn sample with its design π (SampleKommun.pi), answers submitted in round 1.
  site                   group  π     weight  Q1 (one choice)  Q2 (number)  Q3 (one choice)
  Stockholm              5      1     1       Ja               100          Ja
  Stockholm, Kungsholmen 5      -     -       Ja (district: not in the national figure)
  Upplands Väsby         2      0.25  4       Nej              10           Nej
  Malmö                  5      1     1       Ja               80           Ja
  Kiruna                 1      0.5   2       Nej              4            -
  Gotland                3      0.2   5       Ja               20           -
  Uppsala                4      0.5   -       declined, replaced by Enköping (no answers)
  Enköping (replaces U.) 4      0.1   2 (inherited from Uppsala: 1/0.5, not 1/0.1)  Nej  12  -
Sum of weights 15. Q1 "Ja": weighted (1 + 1 + 5) / 15 = 7/15, unweighted 3/6. Q2: weighted mean
(100 + 4·10 + 80 + 2·4 + 5·20 + 2·12) / 15 = 352/15, unweighted 226/6. Q3: 3 answers < 5: suppressed.

The variance by hand: Stockholm and Malmö are take-all (π = 1: no contribution). The four others are each
alone in their group, so each takes its neighbours among all kommuner with π < 1: with 4 per
neighbourhood, all four. V = Σ (1 − π_i) · 4/3 · (t_i − mean t)², t_i = z_i/π_i, z_i = (y_i − r)/15.
"""
from __future__ import annotations

import html as htmllib
import json
import math
import re
from datetime import date, datetime, timezone

import numpy as np
import pytest

from coordinator.extensions import db
from coordinator.measurement import estimate
from coordinator.measurement.models import STANDARD_OPTIONS, MeasurementAnswer, MeasurementRequest, Question, \
    Questionnaire
from coordinator.sampling.models import Sample, SampleKommun, Site

SUBMITTED = datetime(2015, 5, 12, 10, 0, tzinfo=timezone.utc)
Z = 1.959963984540054

# kommunkod, enhet, group, π (SampleKommun), Q1, Q2, Q3
ROWS = [
    ("0180", "", 5, 1.0, "Ja", "100", "Ja"),
    ("0180", "Kungsholmen", 5, None, "Ja", "55", "Ja"),
    ("0114", "", 2, 0.25, "Nej", "10", "Nej"),
    ("1280", "", 5, 1.0, "Ja", "80", "Ja"),
    ("2584", "", 1, 0.5, "Nej", "4", None),
    ("0980", "", 3, 0.2, "Ja", "20", None),
]
UPPSALA, ENKOPING = ("0380", 4, 0.5), ("0381", 4, 0.1)


def page_text(response) -> str:
    html = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", htmllib.unescape(html).replace("\u00a0", " "))


@pytest.fixture
def fixture(app):
    with app.app_context():
        sample = Sample(name="Test", method="kontrollerat", reference_year=2014, seed=1, settings={},
                        frame_source="test", software={}, diagnostics={}, status="antaget")
        db.session.add(sample)
        pis = {kod: pi for kod, enhet, _g, pi, *_ in ROWS if not enhet}
        pis.update({UPPSALA[0]: UPPSALA[2], ENKOPING[0]: ENKOPING[2]})
        groups = {kod: g for kod, _e, g, *_ in ROWS}
        groups.update({UPPSALA[0]: 4, ENKOPING[0]: 4})
        sample.kommuner = [SampleKommun(kommunkod=k, grupp=groups[k], folkmangd=1000, pi=pi, selected=k != "0381")
                           for k, pi in pis.items()]
        sites = [Site(position=i, kommunkod=kod, enhet=enhet, grupp=g) for i, (kod, enhet, g, *_r) in
                 enumerate(ROWS, 1)]
        uppsala = Site(position=7, kommunkod=UPPSALA[0], enhet="", grupp=4, active=False)
        sample.sites = [*sites, uppsala]
        db.session.flush()
        enkoping = Site(position=8, kommunkod=ENKOPING[0], enhet="", grupp=4, replaces_id=uppsala.id)
        sample.sites.append(enkoping)
        qn = Questionnaire(name="Inför besöket", round=None, locked=True)
        qn.questions = [
            Question(position=1, text="Har nämnden en plan?", kind="en", options=list(STANDARD_OPTIONS)),
            Question(position=2, text="Hur många socialsekreterare?", kind="tal"),
            Question(position=3, text="Har ni en rutin?", kind="en", options=["Ja", "Nej"]),
        ]
        db.session.add(qn)
        db.session.flush()
        q1, q2, q3 = qn.questions
        answers = [(site, r[4], r[5], r[6]) for site, r in zip(sites, ROWS)] + [(enkoping, "Nej", "12", None)]
        for site, a1, a2, a3 in answers:
            req = MeasurementRequest(questionnaire=qn, site=site, round=1, nonce=f"w-{site.id}",
                                     expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc), submitted_at=SUBMITTED)
            db.session.add(req)
            db.session.add(MeasurementAnswer(request=req, question=q1, value=a1))
            db.session.add(MeasurementAnswer(request=req, question=q2, value=a2))
            if a3 is not None:
                db.session.add(MeasurementAnswer(request=req, question=q3, value=a3))
        db.session.commit()
        return {"questionnaire": qn.id, "sample": sample.id, "questions": [q.id for q in qn.questions],
                "sites": {(s.kommunkod, s.enhet): s.id for s in sample.sites}}


# --------------------------------------------------------------------------- the hand computation

WEIGHTS = [1, 4, 1, 2, 5, 2]     # Stockholm, U. Väsby, Malmö, Kiruna, Gotland, Enköping
PIS = [1, 0.25, 1, 0.5, 0.2, 0.5]


def hand(ys: list[float]) -> tuple[float, float, float]:
    """Hájek estimate and its 95 % interval, written out from the formulas in the module docstring."""
    total = sum(WEIGHTS)
    r = sum(w * y for w, y in zip(WEIGHTS, ys)) / total
    t = [(y - r) / total / p for y, p in zip(ys, PIS)]
    uncertain = [i for i, p in enumerate(PIS) if p < 1]   # all four in every neighbourhood
    mean_t = sum(t[i] for i in uncertain) / 4
    v = sum((1 - PIS[i]) * 4 / 3 * (t[i] - mean_t) ** 2 for i in uncertain)
    return r, r - Z * math.sqrt(v), r + Z * math.sqrt(v)


Q1_JA = [1, 0, 1, 0, 1, 0]
Q2 = [100, 10, 80, 4, 20, 12]


def test_site_weights_inherit_the_replaced_sites_weight_and_leave_districts_out(app, fixture):
    from coordinator.measurement.weighted import site_weights
    with app.app_context():
        weights = site_weights()
    s = fixture["sites"]
    assert weights == {s[("0180", "")]: 1.0, s[("0114", "")]: 4.0, s[("1280", "")]: 1.0, s[("2584", "")]: 2.0,
                       s[("0980", "")]: 5.0, s[("0380", "")]: 2.0, s[("0381", "")]: 2.0}
    assert s[("0180", "Kungsholmen")] not in weights


def test_national_estimates_equal_the_hand_computation(app, fixture):
    from coordinator.measurement.weighted import national_estimates
    with app.app_context():
        result = national_estimates(fixture["questionnaire"], 1)
    assert result["sites"] == 6  # the district is not counted; the declined site never answered
    q1, q2, q3 = result["questions"]
    ja = q1["options"][0]
    r, lo, hi = hand(Q1_JA)
    assert r == pytest.approx(7 / 15)
    assert (ja["label"], ja["answered"], ja["count"]) == ("Ja", 6, 3)
    assert ja["unweighted_share"] == pytest.approx(0.5)
    assert ja["weighted_share"] == pytest.approx(r)
    assert ja["ci95"] == pytest.approx([lo, hi])
    assert not ja["suppressed"] and 0 < lo < r < hi < 1
    nej = q1["options"][2]
    assert nej["weighted_share"] == pytest.approx(8 / 15)
    r2, lo2, hi2 = hand(Q2)
    assert r2 == pytest.approx(352 / 15)
    assert q2["weighted_mean"] == pytest.approx(r2)
    assert q2["unweighted_mean"] == pytest.approx(226 / 6)
    assert q2["ci95"] == pytest.approx([lo2, hi2])
    assert q3["answered"] == 3


def test_small_bases_are_suppressed(app, fixture):
    from coordinator.measurement.weighted import national_estimates
    with app.app_context():
        q3 = national_estimates(fixture["questionnaire"], 1)["questions"][2]
        assert all(o["suppressed"] and o["weighted_share"] is None and o["ci95"] == [None, None]
                   and o["unweighted_share"] is None for o in q3["options"])
        app.config["ESTIMATE_MIN_BASE"] = 3
        try:
            q3 = national_estimates(fixture["questionnaire"], 1)["questions"][2]
        finally:
            app.config["ESTIMATE_MIN_BASE"] = 5
    assert not q3["options"][0]["suppressed"]
    assert q3["options"][0]["weighted_share"] == pytest.approx(2 / 6)  # Stockholm + Malmö of 1 + 4 + 1


def test_estimator_pieces():
    # Two kommuner of one group, π = 0.5 each: V = Σ 0.5 · 2 · (t_i − t̄)² = (t_1 − t_2)² / 2.
    units = [estimate.Unit(0.5, 1, 0, 0), estimate.Unit(0.5, 1, 10, 0)]
    z = np.array([1.0, -1.0])
    hoods = estimate.neighbourhoods(np.array([1, 1]), np.array([[0, 0], [10, 0]], dtype=float), 4, np.array([.5, .5]))
    assert [list(h) for h in hoods] == [[0, 1], [1, 0]]
    assert estimate.local_variance(z, np.array([0.5, 0.5]), hoods) == pytest.approx((2 - -2) ** 2 / 2)
    # Take-all kommuner add no uncertainty.
    assert estimate.local_variance(z, np.array([1.0, 1.0]), hoods) == 0
    # The nearest neighbours are chosen by distance within the group.
    xy = np.array([[0, 0], [1, 0], [50, 0], [2, 0], [3, 0]], dtype=float)
    hoods = estimate.neighbourhoods(np.array([1, 1, 1, 1, 2]), xy, 3, np.full(5, 0.5))
    assert list(hoods[0]) == [0, 1, 3]
    assert list(hoods[2]) == [2, 3, 1]
    assert sorted(hoods[4][1:]) == [1, 3]  # alone in group 2: its nearest among all with π < 1
    # A share of nobody: the exact binomial bound, not a zero-width interval.
    e = estimate.hajek([0.0] * 10, [estimate.Unit(0.5, 1, i, 0) for i in range(10)], share=True)
    assert (e.value, e.lo) == (0.0, 0.0) and e.hi == pytest.approx(1 - 0.025 ** 0.1)
    assert estimate.hajek([1.0] * 4, units * 2, share=True).suppressed
    with pytest.raises(ValueError):
        estimate.hajek([1.0] * 5, [estimate.Unit(0.0, 1)] * 5)


def test_cli_json_contract_and_unknown_ids(app, fixture):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["measurement", "estimate", str(fixture["questionnaire"]), "--round", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)  # one object
    assert set(data) >= {"questions", "method"}
    assert "Hájek" in data["method"] and "1/π" in data["method"]
    q1, q2, _q3 = data["questions"]
    assert set(q1) >= {"question_id", "text", "options"}
    assert set(q1["options"][0]) >= {"label", "answered", "unweighted_share", "weighted_share", "ci95", "suppressed"}
    assert q1["options"][0]["weighted_share"] == pytest.approx(7 / 15)
    assert q2["weighted_mean"] == pytest.approx(352 / 15) and len(q2["ci95"]) == 2
    plain = runner.invoke(args=["measurement", "estimate", str(fixture["questionnaire"]), "--round", "1"])
    assert plain.exit_code == 0 and "vägd 46,7 %" in plain.output and "För få svar" not in plain.output
    assert "för få svar (n < 5)" in plain.output
    for bad in ("999999", "abc", str(2 ** 70), "0", "1e3", "7\x00"):
        result = runner.invoke(args=["measurement", "estimate", bad, "--json"])
        assert result.exit_code == 1
        assert "Det finns inget formulär med nummer" in json.loads(result.output)["error"]
    result = runner.invoke(args=["measurement", "estimate", "999999"])
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_results_page_shows_weighted_beside_unweighted_and_the_method(app, fixture, staff):
    qid, q1, q2, _ = fixture["questionnaire"], *fixture["questions"]
    html = staff.get(f"/matningar/{qid}/resultat?omgang=1").get_data(as_text=True)
    table = re.search(rf'id="riks-tabell-{q1}">(.*?)</table>', html, re.S).group(1)
    ja = re.search(r'data-option="Ja">(.*?)</tr>', table, re.S).group(1)
    r, lo, hi = hand(Q1_JA)

    def pct(x):
        return f"{100 * x:.1f}".replace(".", ",") + "\u00a0%"
    assert f'data-value="unweighted">{pct(0.5)}<' in ja
    assert f'data-value="weighted">{pct(r)}<' in ja
    assert f'data-value="ci">{pct(lo)}–{pct(hi)}<' in ja
    numbers = re.search(rf'id="riks-tabell-{q2}">(.*?)</table>', html, re.S).group(1)
    assert "23,47" in numbers and "37,67" in numbers
    small = page_text(staff.get(f"/matningar/{qid}/resultat?omgang=1"))
    assert small.count("För få svar (n < 5) för en riksskattning") == 2  # both options of question 3
    assert "Så räknar vi" in small and "Hájeks skattare" in small and "1/π" in small
    # A group's cell stays unweighted, and says so.
    group = page_text(staff.get(f"/matningar/{qid}/resultat?omgang=1&grupp=5"))
    assert "Siffrorna är ovägda" in group and "riks-tabell" not in staff.get(
        f"/matningar/{qid}/resultat?omgang=1&grupp=5").get_data(as_text=True)
    assert "ovägd" in page_text(staff.get(f"/matningar/{qid}/resultat?omgang=1&fordelning=lan"))


def test_results_page_in_english(app, fixture, staff):
    staff.get("/sprak/en")
    response = staff.get(f"/matningar/{fixture['questionnaire']}/resultat?omgang=1")
    assert response.status_code == 200
    text = page_text(response)
    assert "How we calculate" in text and "Weighted national estimate" in text
    assert "95 % confidence interval" in text and "Too few answers (n < 5) for a national estimate" in text
    assert "46.7 %" in text


def test_report_figures_use_the_weighted_estimates_and_state_the_method(app, fixture):
    from coordinator.reports import content, figures
    with app.app_context():
        data = figures.compute("2015Q2")
        doc = content.report_document(data)
    national = data["national"]
    (e,) = national["estimates"]
    assert e["round"] == 1 and e["until"] == "2015-06-30"
    ja = e["questions"][0]["options"][0]
    r, lo, hi = hand(Q1_JA)
    assert ja["weighted_share"] == pytest.approx(r) and ja["ci95"] == pytest.approx([lo, hi])
    assert e["questions"][1]["weighted_mean"] == pytest.approx(352 / 15)
    section = next(s for s in doc.sections if s.anchor == "rapport-matning")
    tables = [b for b in section.blocks if b.kind == "table"]
    first = tables[0]
    assert first.head[1:] == ["Ovägd andel", "Vägd andel", "95 % KI"]
    assert [c.replace("\xa0", " ") for c in first.rows[0]] == ["Ja", "50 %", "47 %", f"{round(100 * lo)} %–{round(100 * hi)} %"]
    assert first.number == min(t.number for t in tables)  # the weighted tables come first
    small = next(t for t in tables if "Har ni en rutin?" in t.caption and "Vägd andel" in t.head)
    assert "För få svar (n < 5) för en riksskattning" in small.caption
    assert all(row[2] == "n < 5" for row in small.rows)
    words = " ".join(b.text for b in section.blocks if b.kind in ("para", "subheading"))
    assert "Så räknas riksskattningarna" in words and "Hájeks skattare" in words
    assert "lokala grannskapsskattaren" in words and "ärver vikten" in words


def test_report_pdf_states_the_method(app, fixture, tmp_path):
    from pypdf import PdfReader
    out = tmp_path / "r.pdf"
    result = app.test_cli_runner().invoke(args=["report", "quarterly", "2015Q2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(out).pages))
    assert "Vägda riksskattningar" in text and "Så räknas riksskattningarna" in text
    assert "Hájeks skattare" in text


def test_until_leaves_out_later_answers(app, fixture):
    from coordinator.measurement.weighted import national_estimates
    with app.app_context():
        assert national_estimates(fixture["questionnaire"], 1, until=date(2015, 5, 11))["sites"] == 0
        assert national_estimates(fixture["questionnaire"], until=date(2015, 5, 12))["sites"] == 6
        assert national_estimates(fixture["questionnaire"], 2)["questions"][0]["answered"] == 0


def test_sample_protocol_says_replacements_inherit_the_weight(app, staff):
    from pypdf import PdfReader
    import io

    from .helpers import adopt_sample
    sample_id = adopt_sample(app)
    page = page_text(staff.get("/urval/protokoll"))
    assert "En ersättare ärver vikten 1/π från den besöksplats den ersatte" in page
    assert "Resultat som ska gälla hela landet vägs med 1/π" in page
    pdf = staff.get(f"/urval/{sample_id}/protokoll.pdf").get_data()
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert "En ersättare ärver vikten 1/π från den besöksplats den ersatte" in text


def test_results_page_statements_do_not_grow_with_the_answers(app, fixture, staff):
    """The weighted figures read the sites, weights and positions in a fixed number of statements (computed
    anew each time: the page is kept per data version, results_cache.py)."""
    from sqlalchemy import event

    from coordinator.measurement import results_cache

    qid = fixture["questionnaire"]

    def statements() -> int:
        results_cache.clear()
        seen = []
        with app.app_context():
            engine = db.engine
        listener = lambda conn, cursor, statement, *a, **kw: seen.append(statement)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert staff.get(f"/matningar/{qid}/resultat?omgang=1").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    before = statements()
    with app.app_context():
        sample = db.session.get(Sample, fixture["sample"])
        qn = db.session.get(Questionnaire, qid)
        for i, kod in enumerate(("0127", "0128", "0136", "0138"), start=20):
            sample.kommuner.append(SampleKommun(kommunkod=kod, grupp=2, folkmangd=1000, pi=0.25, selected=True))
            site = Site(position=i, kommunkod=kod, enhet="", grupp=2)
            sample.sites.append(site)
            req = MeasurementRequest(questionnaire=qn, site=site, round=1, nonce=f"x-{kod}",
                                     expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc), submitted_at=SUBMITTED)
            db.session.add(req)
            db.session.add(MeasurementAnswer(request=req, question=qn.questions[0], value="Ja"))
        db.session.commit()
    assert "10 besökta kommuner" in page_text(staff.get(f"/matningar/{qid}/resultat?omgang=1"))
    assert statements() == before


def test_extreme_numbers_give_no_interval_and_no_error(app, fixture, staff):
    from coordinator.measurement.weighted import national_estimates
    from coordinator.reports import content, figures
    qid, _q1, q2, _q3 = fixture["questionnaire"], *fixture["questions"]
    with app.app_context():
        answer = db.session.scalar(db.select(MeasurementAnswer).join(MeasurementRequest)
                                   .where(MeasurementAnswer.question_id == q2,
                                          MeasurementRequest.site_id == fixture["sites"][("2584", "")]))
        answer.value = "9" * 305  # 1e305: the mean is finite, its variance is not
        db.session.commit()
        n2 = national_estimates(qid, 1)["questions"][1]
        assert n2["weighted_mean"] > 1e304 and n2["ci95"] == [None, None]
        doc = content.report_document(figures.compute("2015Q2"))
    table = next(b for s in doc.sections for b in s.blocks if b.kind == "table" and "socialsekreterare" in b.caption
                 and "Vägt" in b.head)
    assert table.rows[0][3] == "–––"
    response = staff.get(f"/matningar/{qid}/resultat?omgang=1")
    assert response.status_code == 200
    assert json.loads(app.test_cli_runner().invoke(args=["measurement", "estimate", str(qid), "--json"]).output)


def test_results_page_in_a_browser_is_accessible_and_the_method_opens_by_keyboard(app, fixture, page):
    from .conftest import assert_accessible, browser_login
    browser_login(page, "staff")
    page.goto(f"/matningar/{fixture['questionnaire']}/resultat?omgang=1")
    table = page.locator(f"#riks-tabell-{fixture['questions'][0]}")
    assert table.locator("tr[data-option='Ja'] td[data-value='weighted']").inner_text().replace("\u00a0", " ") \
        == "46,7 %"
    summary = page.locator("#sa-raknar-vi summary")
    assert not page.get_by_text("Hájeks skattare", exact=False).is_visible()
    summary.focus()
    page.keyboard.press("Enter")
    assert page.get_by_text("Hájeks skattare", exact=False).is_visible()
    assert_accessible(page, "resultat med riksskattningar")
    page.set_viewport_size({"width": 390, "height": 800})
    assert_accessible(page, "resultat med riksskattningar, 390 px")


def test_a_hand_picked_sample_has_no_weighted_figures_and_says_so(app, fixture, staff):
    from coordinator.measurement.weighted import national_estimates
    with app.app_context():
        for sk in db.session.scalars(db.select(SampleKommun)):
            sk.pi = None
        db.session.commit()
        assert national_estimates(fixture["questionnaire"], 1)["sites"] == 0
    response = staff.get(f"/matningar/{fixture['questionnaire']}/resultat?omgang=1")
    assert "inga vägda riksskattningar" in page_text(response)
    assert "riks-tabell" not in response.get_data(as_text=True)


# --------------------------------------------------------------------------- the same figures as numpy gave

def _numpy_hajek(values, units, share, k=estimate.NEIGHBOURS):
    """The estimator as it was written in numpy before estimate.py became plain Python (the reference)."""
    y = np.asarray(values, dtype=float)
    pi = np.array([u.pi for u in units], dtype=float)
    group = np.array([u.group for u in units])
    xy = np.array([[u.x, u.y] for u in units], dtype=float).reshape(len(units), 2)
    uncertain = np.flatnonzero(pi < 1)
    hoods = [np.empty(0, dtype=int)] * len(y)
    for g in np.unique(group):
        members = np.flatnonzero(group == g)
        for i in members:
            pool = members if len(members) > 1 else np.union1d(uncertain, [i])
            d2 = ((xy[pool] - xy[i]) ** 2).sum(axis=1)
            order = pool[np.lexsort((pool, d2))]
            order = order[order != i]
            hoods[i] = np.concatenate(([i], order[: k - 1])).astype(int)
    w = 1.0 / pi
    r = float((w * y).sum() / w.sum())
    t = (y - r) / w.sum() / pi
    v = sum((1.0 - pi[i]) * len(h) / (len(h) - 1) * (t[i] - t[h].mean()) ** 2 for i, h in enumerate(hoods)
            if len(h) >= 2)
    se = math.sqrt(max(float(v), 0.0))
    lo, hi = r - Z * se, r + Z * se
    if share:
        lo, hi = max(0.0, lo), min(1.0, hi)
        if r <= 0.0:
            hi = 1.0 - 0.025 ** (1.0 / len(y))
        elif r >= 1.0:
            lo = 0.025 ** (1.0 / len(y))
    return r, lo, hi, [list(h) for h in hoods]


def test_plain_python_gives_numpys_figures_on_the_real_frame():
    """estimate.py without numpy, against the numpy code it replaced: 300 draws of the real design over the
    2014 frame (simulation.py's data: the shipped SCB series), a share and a mean each; the same neighbourhoods,
    and the same figures to the last printed digit (within 1e-12 of each other). And the number answers' mean,
    median, min and max (tabulate.number_stats) against numpy's on every year's kommun populations."""
    from coordinator.measurement import simulation
    from coordinator.measurement.tabulate import number_stats
    from coordinator.sampling import design

    pop = simulation.load()
    xy = {u.kommunkod: (u.lon * design.KM_PER_DEG_LON, u.lat * design.KM_PER_DEG_LAT) for u in pop.frame.units}
    compared = 0
    for seed in range(1, 301):
        sites = [s for s in design.draw(pop.frame, design.Settings(), seed).sites if s.enhet is None]
        units = [estimate.Unit(pi=s.pi, group=s.group, x=xy[s.kommunkod][0], y=xy[s.kommunkod][1]) for s in sites]
        for name, kind in pop.kinds.items():
            ys = [pop.variables[name][s.kommunkod] for s in sites]
            ours = estimate.hajek(ys, units, share=kind == "share", min_base=1)
            r, lo, hi, hoods = _numpy_hajek(ys, units, kind == "share")
            assert [ours.value, ours.lo, ours.hi] == pytest.approx([r, lo, hi], rel=1e-12, abs=1e-15)
            assert estimate.unweighted(ys) == pytest.approx(float(np.mean(ys)), rel=1e-12)
            compared += 1
        pis = [u.pi for u in units]
        groups = [u.group for u in units]
        assert estimate.neighbourhoods(groups, [(u.x, u.y) for u in units], estimate.NEIGHBOURS, pis) == hoods
    assert compared == 600
    import csv
    with open(simulation.DATA_DIR / "population_1950_2019.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for year in ("1950", "1985", "2014", "2019"):
        for values in ([float(r[year]) for r in rows], [float(r[year]) / 7 for r in rows[:51]]):
            s = number_stats(values)
            arr = np.asarray(values)
            assert (s.n, s.min, s.max) == (len(values), arr.min(), arr.max())
            assert s.median == np.median(arr)
            assert s.mean == pytest.approx(float(arr.mean()), rel=1e-13)
