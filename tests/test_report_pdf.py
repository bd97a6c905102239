"""The report's periods, its PDF (command line, draft marking, reproducible bytes) and its HTML body.

The figures themselves are checked against the database in test_report_figures.py. Both backends.
"""
from __future__ import annotations

import io
import json
import re
from datetime import date, datetime, timezone

import pytest
from flask import render_template
from pypdf import PdfReader

from coordinator.extensions import db
from coordinator.reports import figures, pdf
from coordinator.reports.models import Narrative

NBSP = "\u00a0"
ISSUED = {"version": 2, "issued_at": "2015-10-05T10:00:00+00:00", "issued_by": "Anna Andersson",
          "comment": "Rättad siffra om avböjanden."}


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def pages(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    return [re.sub(r"\s+", " ", p.extract_text().replace(NBSP, " ")) for p in reader.pages]


# --------------------------------------------------------------------------- periods

@pytest.mark.parametrize("text", ["2015Q3", "2015 Q3", "2015-Q3", "2015q3", " 2015-q3 "])
def test_a_quarter_is_read_in_its_usual_spellings(app, text):
    with app.app_context():
        period = figures.parse_period(text)
    assert (period.key, period.kind, period.start, period.end, period.label) == (
        "2015Q3", "kvartal", date(2015, 7, 1), date(2015, 9, 30), "Kvartal 3 2015")


def test_quarters_follow_each_other_and_cover_the_assignment(app):
    with app.app_context():
        q4 = figures.parse_period("2015Q4")
        assert q4.next().key == "2016Q1" and q4.next().start == date(2016, 1, 1)
        assert figures.parse_period("2016Q1").end == date(2016, 3, 31)
        quarters = figures.quarters()
        final = figures.parse_period("SLUT")
    assert [q.key for q in quarters] == ["2014Q4", "2015Q1", "2015Q2", "2015Q3", "2015Q4", "2016Q1", "2016Q2",
                                         "2016Q3", "2016Q4", "2017Q1", "2017Q2"]
    assert all(a.next() == b for a, b in zip(quarters, quarters[1:]))
    assert (final.key, final.kind, final.start, final.end, final.label) == (
        "slut", "slut", date(2014, 11, 1), date(2017, 4, 30), "Hela uppdraget")
    assert final.next() is None


@pytest.mark.parametrize("text, message", [
    ("", "Ogiltig period"), ("2015Q5", "Ogiltig period"), ("Q3 2015", "Ogiltig period"), ("2015", "Ogiltig period"),
    ("slutet", "Ogiltig period"), ("2013Q1", "Kvartal 1 2013 ligger utanför uppdraget (2014-11-01–2017-04-30)."),
    ("2017Q3", "ligger utanför uppdraget"),
])
def test_a_bad_period_is_refused_in_swedish(app, text, message):
    with app.app_context(), pytest.raises(ValueError) as refused:
        figures.parse_period(text)
    assert message in str(refused.value)
    if message == "Ogiltig period":
        assert "2015Q3" in str(refused.value) and "”slut”" in str(refused.value)


# --------------------------------------------------------------------------- the command line

def test_the_command_writes_a_draft_pdf_with_the_periods_narratives(app, tmp_path):
    with app.app_context():
        db.session.add(Narrative(period="2015Q3", section="analys", text="Analysen visar ett tydligt mönster.\n\n"
                                                                            "Andra stycket i analysen."))
        db.session.add(Narrative(period="2015Q2", section="iakttagelser", text="Fel kvartal."))
        db.session.commit()
    out = tmp_path / "rapport.pdf"
    result = cli(app, "report", "quarterly", "2015 q3", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Kvartal 3 2015" in result.output
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    text = pages(data)
    assert len(text) >= 2
    assert "Rapport till statsrådet" in text[0] and "Kvartalsrapport" in text[0]
    assert "Kvartal 3 2015 (2015-07-01–2015-09-30)" in text[0]
    whole = " ".join(text)
    assert "Sammanfattning" in whole and "Inget urval av besöksplatser är antaget" in whole
    assert "Analysen visar ett tydligt mönster. Andra stycket i analysen." in whole
    assert "Fel kvartal." not in whole
    assert whole.count("Ingen text är skriven för detta avsnitt.") == 2  # iakttagelser and åtgärder


def test_the_command_writes_the_final_basis_and_prints_the_figures(app, tmp_path):
    out = tmp_path / "slut.pdf"
    result = cli(app, "report", "final", "--out", str(out))
    assert result.exit_code == 0, result.output
    first = pages(out.read_bytes())[0]
    assert "Slutrapport" in first and "Hela uppdraget (2014-11-01–2017-04-30)" in first
    assert "Till Regeringskansliet (Socialdepartementet)" in first
    printed = cli(app, "report", "quarterly", "2016Q2", "--json")
    assert printed.exit_code == 0, printed.output
    data = json.loads(printed.output)
    assert data["period"] == {"key": "2016Q2", "kind": "kvartal", "label": "Kvartal 2 2016", "start": "2016-04-01",
                              "end": "2016-06-30"}
    assert data["next_period"]["key"] == "2016Q3"
    assert datetime.fromisoformat(data["generated_at"]).tzinfo is not None
    assert date.fromisoformat(data["as_of"])
    assert {"summary", "visits", "not_visited", "map", "declines", "upcoming", "plans", "measurement",
            "dialogue"} <= set(data)


@pytest.mark.parametrize("args, message", [
    (["quarterly", "2015Q7", "--out", "x.pdf"], "Ogiltig period ”2015Q7”"),
    (["quarterly", "2012Q1", "--out", "x.pdf"], "ligger utanför uppdraget"),
    (["quarterly", "slut", "--out", "x.pdf"], "coordinator report final"),
    (["quarterly", "2015Q3"], "Ange --out"),
])
def test_the_command_refuses_a_bad_period_in_swedish(app, tmp_path, args, message):
    result = cli(app, "report", *args)
    assert result.exit_code == 1
    assert message in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_a_bad_period_with_json_is_a_json_error(app):
    result = cli(app, "report", "quarterly", "hej", "--json")
    assert result.exit_code == 1
    assert "Ogiltig period" in json.loads(result.output)["error"]


# --------------------------------------------------------------------------- drafts, issued versions, bytes

def test_a_draft_says_utkast_on_every_page_and_an_issued_version_does_not(app):
    with app.app_context():
        data = figures.compute("2015Q3")
        draft = pages(pdf.render(data, {}, {"draft": True}))
        issued = pages(pdf.render(data, {}, ISSUED))
    assert len(draft) >= 2 and all("UTKAST" in page for page in draft)
    assert "UTKAST – inte utfärdat" in draft[0]
    assert not any("UTKAST" in page for page in issued)
    assert "Version 2, utfärdad 2015-10-05 12:00 av Anna Andersson." in issued[0]  # Swedish time
    assert "Ändringar i denna version Rättad siffra om avböjanden." in issued[0]
    assert all("Kvartalsrapport: Kvartal 3 2015 – version 2" in page for page in issued)


def test_the_same_data_gives_the_same_bytes(app):
    with app.app_context():
        data = figures.compute("2015Q3")
        texts = {"analys": "En analys."}
        first = pdf.render(data, texts, ISSUED)
        # As archived: the figures go through JSON and come back.
        again = pdf.render(json.loads(json.dumps(data)), dict(texts), dict(ISSUED))
        draft = pdf.render(data, texts, {"draft": True})
        other = pdf.render(data, {"analys": "En annan analys."}, ISSUED)
    assert first == again
    assert first != draft and first != other
    info = PdfReader(io.BytesIO(first)).metadata
    assert info.creation_date.astimezone(timezone.utc) == datetime(2015, 10, 5, 10, 0, tzinfo=timezone.utc)
    assert info.title == "Kvartalsrapport: Kvartal 3 2015"


def test_measurement_tables_are_printed_with_their_denominators(app):
    with app.app_context():
        data = figures.compute("2016Q2")
        data["measurement"]["tables"] = [{
            "questionnaire": "Förmätning 2016", "round": 2, "position": 3,
            "question": "Har ni en rutin för uppföljning?",
            "kind": "en", "asked": 12, "answered": 10, "skipped": 2,
            "rows": [{"label": "Ja", "count": 6, "share": 0.6}, {"label": "Nej", "count": 4, "share": 0.4}],
            "mean": None, "median": None}]
        text = " ".join(pages(pdf.render(data, {}, {"draft": True})))
    assert ("Förmätning 2016, omgång 2: 3. Har ni en rutin för uppföljning? Svarade: 10 av 12. Hoppade över enligt "
            "regel: 2.") in text
    assert "Ja 6 60 % Nej 4 40 %" in text


# --------------------------------------------------------------------------- the HTML body

def test_the_html_body_is_the_same_report_accessibly(app):
    with app.test_request_context():
        data = figures.compute("2015Q3")
        data["dialogue"]["by_group"] = {"groups": [1, 2], "notes": [4, 0],
                                        "themes": [{"theme": "Brist på familjehem", "counts": [3, 0]}]}
        html = render_template("reports/_body.html", data=data, narratives={"atgarder": "Inför X & Y <nu>."},
                               status={"draft": True})
    assert "<h1" not in html and "{% extends" not in html
    headings = [int(h) for h in re.findall(r"<h([1-6])\b", html)]
    assert headings[0] == 2 and all(b - a <= 1 for a, b in zip(headings, headings[1:]))
    tables = re.findall(r"<table\b.*?</table>", html, re.S)
    assert tables and all(re.search(r"<caption\b", t) for t in tables)
    assert all(re.search(r'<th scope="(col|row)"', t) for t in tables)
    assert "<th>" not in html
    # The chart is inline SVG with its own title and description, and its values are also a table.
    svg = re.search(r"<svg\b[^>]*>", html).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="rapport-figur-' in svg
    assert html.count("<figure") == html.count("<figcaption>")
    assert "Brist på familjehem" in html and f"3 av 4 (75{NBSP}%)" in html and "0 av 0" in html
    assert "UTKAST – inte utfärdat" in html
    assert "Inför X &amp; Y &lt;nu&gt;." in html  # staff text is escaped
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
