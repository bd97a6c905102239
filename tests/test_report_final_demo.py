"""The final report on the demo assignment: the weighted national figures, their method, the demo's texts.

The demo (`coordinator demo`) is built once for the module. The report's weighted figures are checked
against coordinator.measurement.weighted.national_estimates for the same questionnaire and round, and
the PDF and the HTML are read as text. Both backends.
"""
from __future__ import annotations

import io
import re

from flask import render_template
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.measurement import weighted
from coordinator.measurement.models import Questionnaire
from coordinator.reports import figures, pdf
from coordinator.reports.service import narrative_texts


def _fmt_pct(share) -> str:
    return f"{round(100 * share)} %"


def test_the_final_report_gives_weighted_national_figures_and_states_the_method(demo):
    app = demo
    with app.test_request_context(), force_locale("sv"):
        data = figures.compute("slut")
        estimates = data["national"]["estimates"]
        assert estimates
        first = estimates[0]
        qid = db.session.scalar(select(Questionnaire.id).where(Questionnaire.name == first["questionnaire"]))
        expected = weighted.national_estimates(qid, first["round"], until=figures.parse_period("slut").end)
        assert first["questions"] == expected["questions"]
        texts = narrative_texts("slut")
        body = pdf.render(data, texts, {"draft": True})
        html = render_template("reports/_body.html", data=data, narratives=texts, status={"draft": True})
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
                  .replace("\u00a0", " "))
    national = text[text.rindex("2.4 Förmätningen: siffror för hela landet"):text.rindex("3 Analys")]
    assert "Ovägd andel Vägd andel 95 % KI" in national and "beskrivs i bilaga 4" in national
    option = next(o for q in first["questions"] for o in q["options"] if not o["suppressed"])
    lo, hi = option["ci95"]
    row = (f"{option['label']} {_fmt_pct(option['unweighted_share'])} {_fmt_pct(option['weighted_share'])} "
           f"{_fmt_pct(lo)}–{_fmt_pct(hi)}")
    assert row in national
    assert "Hájeks skattare" not in national  # the method is stated once, in Bilaga 4
    method = text[text.rindex("Så har siffrorna för hela landet räknats fram"):]
    assert "Hájeks skattare" in method and "1/π" in method and "ärver vikten" in method
    # The staff's texts of the demo, in their chapters; the same report as HTML.
    conclusions = text[text.rindex("4 Slutsatser"):text.rindex("5 Förslag till åtgärder")]
    assert "långsiktigt och samlat stöd" in conclusions
    assert "Ingen text är skriven för detta avsnitt." not in text
    assert 'id="slut-nationella-siffror"' in html and "Vägd andel" in html
    assert html.count("<h2 id=") >= 10  # the summary, five chapters, four appendices
