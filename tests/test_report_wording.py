"""The report's words follow the reporting rhythm: a calendar quarter is a "kvartal", any other period
a "period", in the PDF, the HTML, the report pages, the reminder mail and the command line, in
Swedish and in English. An issued report renders from what its figures dict records, so a change of
rhythm afterwards changes nothing in it.

The seeded assignment (test_report_figures.py) has visits held, declines, notes with every flag and
visits planned after July–October 2015, so every sentence that names the period is printed.
Every test runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timezone

import pytest
from flask import render_template
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.reports import pdf, rhythm, service, wording
from coordinator.reports.models import IssuedReport, Narrative
from coordinator.scheduling.models import Assignment

from .test_invites import deliver, smtp  # noqa: F401  (fixture)
from .test_report_figures import cli, pdf_text, seeded  # noqa: F401  (fixture)
from .test_report_workflow import issue, page_text

QUARTER = re.compile(r"kvartal", re.IGNORECASE)
ENGLISH_QUARTER = re.compile(r"quarter", re.IGNORECASE)
# (months, period key, its label, the next period's label)
FOUR_MONTHS = (4, "2015-07", "juli–oktober 2015", "november 2015–februari 2016")
MONTHLY = (1, "2015-07", "juli 2015", "augusti 2015")


def set_rhythm(app, months: int, start: date = date(2014, 11, 1)) -> None:
    with app.app_context():
        a = db.session.get(Assignment, 1)
        a.report_interval_months, a.report_start = months, start
        db.session.commit()


def write_texts(app, period: str) -> None:
    with app.app_context():
        db.session.add(Narrative(period=period, section="analys", text="Analysen för perioden."))
        db.session.commit()


# --------------------------------------------------------------------------- the words themselves

def test_the_words_are_chosen_by_the_periods_key(app):
    with app.app_context():
        q = wording.words("2015Q3")
        p = wording.words("2015-07")
        final = wording.words("slut")
        by_dict = wording.words({"key": "2015-07", "label": "juli–oktober 2015"})
    assert (q.quarter, q.the_period, q.period_end, q.next_period, q.title, q.file_stem) == (
        True, "kvartalet", "kvartalets slut", "nästa kvartal", "Kvartalsrapport", "kvartalsrapport")
    assert (p.quarter, p.the_period, p.period_end, p.next_period, p.title, p.file_stem) == (
        False, "perioden", "periodens slut", "nästa period", "Rapport till statsrådet", "rapport")
    assert by_dict == p and final.final and final.title == "Slutrapport"
    assert wording.filename("2015Q3", 2) == "kvartalsrapport-2015Q3-v2.pdf"
    assert wording.filename("2015-07", 1) == "rapport-2015-07-v1.pdf"
    assert wording.filename("2015-07", None) == "rapport-2015-07-utkast.pdf"
    assert wording.filename("slut", 1) == "slutrapport-v1.pdf"


def test_whether_the_rhythm_makes_calendar_quarters(app):
    with app.app_context():
        assert rhythm.calendar_quarters()
    set_rhythm(app, 3, date(2014, 11, 1))  # three months, but not calendar quarters
    with app.app_context():
        assert not rhythm.calendar_quarters()
        assert not wording.is_quarter(rhythm.periods()[0])
    set_rhythm(app, 4)
    with app.app_context():
        assert not rhythm.calendar_quarters()


# --------------------------------------------------------------------------- the PDF

@pytest.mark.parametrize("months, key, label, next_label", [FOUR_MONTHS, MONTHLY])
def test_a_report_on_another_rhythm_says_period_and_never_quarter(app, seeded, tmp_path, months, key, label,
                                                                  next_label):
    set_rhythm(app, months)
    write_texts(app, key)
    out = tmp_path / "rapport.pdf"
    result = cli(app, "report", "quarterly", key, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"Utkast till rapporten för perioden {label} skrivet till" in result.output
    assert not QUARTER.search(result.output)
    data = out.read_bytes()
    text = pdf_text(data)
    assert not QUARTER.search(text), text[QUARTER.search(text).start() - 80:][:160]
    # The cover: the title is the recipient, said once.
    cover = text.split("Innehåll", 1)[0]
    assert f"Rapport till statsrådet {label} (" in cover and "statsrådet Rapport till statsrådet" not in cover
    assert re.search(r"Under perioden genomfördes \d+ av \d+ besök som var planerade för perioden\.", text)
    assert f"Under nästa period ({next_label}) är" in text
    assert "Planerade under perioden" in text and "Genomförda till och med perioden" in text
    assert "Avböjanden under perioden:" in text
    assert "Besök under nästa period" in text
    assert "Under perioden finns anteckningar från" in text and "till och med periodens slut från" in text
    assert "De vanligaste temana till och med periodens slut." in text
    assert "Hinder Under perioden:" in text and "Till och med periodens slut:" in text
    assert f"Rapport till statsrådet: {label} – UTKAST" in text
    assert "Analysen för perioden." in text
    info = PdfReader(io.BytesIO(data)).metadata
    assert info.title == f"Rapport till statsrådet: {label}" and not QUARTER.search(str(info.get("/Keywords")))


def test_the_calendar_quarter_still_says_kvartal(app, seeded, tmp_path):
    out = tmp_path / "rapport.pdf"
    result = cli(app, "report", "quarterly", "2015Q3", "--out", str(out))
    assert result.exit_code == 0 and "Utkast till Kvartal 3 2015 skrivet till" in result.output
    text = pdf_text(out.read_bytes())
    cover = text.split("Sammanfattning", 1)[0]
    assert "Rapport till statsrådet Kvartalsrapport Kvartal 3 2015 (2015-07-01–2015-09-30)" in cover
    assert re.search(r"Under kvartalet genomfördes \d+ av \d+ besök som var planerade för kvartalet\.", text)
    assert "Under nästa kvartal (Kvartal 4 2015) är" in text and "Besök under nästa kvartal" in text
    assert "Hinder Under kvartalet:" in text and "Till och med kvartalets slut:" in text
    assert "Under perioden" not in text and "nästa period" not in text


# --------------------------------------------------------------------------- the pages

def test_the_report_pages_of_another_rhythm_never_say_quarter(app, seeded, staff, reader):
    set_rhythm(app, 4)
    index = page_text(staff.get("/rapporter/"))
    assert "Rapporterna till ministern för varje rapportperiod" in index
    assert "Rapport till statsrådet: juli–oktober 2015" in index
    assert not QUARTER.search(index)
    draft = page_text(staff.get("/rapporter/2015-07/"))
    assert "Rapport till statsrådet: juli–oktober 2015 UTKAST" in draft
    assert "Under perioden finns anteckningar från" in draft and "Besök under nästa period" in draft
    assert not QUARTER.search(draft), draft[QUARTER.search(draft).start() - 80:][:160]
    html = staff.get("/rapporter/2015-07/").get_data(as_text=True)
    assert html.count('class="report-recipient"') == 0  # the title is the recipient line
    draft_pdf = staff.get("/rapporter/2015-07/utkast.pdf")
    assert 'filename="rapport-2015-07-utkast.pdf"' in draft_pdf.headers["Content-Disposition"]
    assert not QUARTER.search(pdf_text(draft_pdf.data))

    # Issued through the two steps: the stored title, the file name and the archive say period too.
    done = issue(staff, 1, period="2015-07")
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    with app.app_context():
        row = db.session.scalar(select(IssuedReport))
        report_id, title = row.id, row.title
    assert title == "Rapport till statsrådet: juli–oktober 2015"
    issued = page_text(staff.get(f"/rapporter/utfardade/{report_id}/"))
    assert "Ladda ner rapport-2015-07-v1.pdf" in issued and not QUARTER.search(issued)
    downloaded = reader.get(f"/rapporter/utfardade/{report_id}.pdf")
    assert 'filename="rapport-2015-07-v1.pdf"' in downloaded.headers["Content-Disposition"]
    assert not QUARTER.search(pdf_text(downloaded.data))
    archive = page_text(reader.get("/rapporter/"))
    assert "Rapport till statsrådet: juli–oktober 2015" in archive and not QUARTER.search(archive)


def test_the_report_pages_in_english_say_period_or_quarter(app, seeded, staff):
    staff.get("/sprak/en")
    quarter = page_text(staff.get("/rapporter/2015Q3/"))
    assert "Quarterly report: Quarter 3 2015" in quarter and "Visits in the next quarter" in quarter
    assert "In the quarter:" in quarter and "Held in the quarter" in quarter
    assert "The quarterly reports to the minister" in page_text(staff.get("/rapporter/"))
    set_rhythm(app, 4)
    period = page_text(staff.get("/rapporter/2015-07/"))
    assert "Report to the Minister: July–October 2015" in period and "Visits in the next period" in period
    assert "In the period:" in period and "Held in the period" in period
    assert "up to the end of the period from" in period
    assert not ENGLISH_QUARTER.search(period), period[ENGLISH_QUARTER.search(period).start() - 80:][:160]
    index = page_text(staff.get("/rapporter/"))
    assert "The reports to the minister for each report period" in index and not ENGLISH_QUARTER.search(index)


def test_the_default_pages_still_say_kvartal(app, seeded, staff):
    index = page_text(staff.get("/rapporter/"))
    assert "Kvartalsrapporterna till ministern" in index and "Kvartalsrapport: Kvartal 3 2015" in index
    draft = page_text(staff.get("/rapporter/2015Q3/"))
    assert "Kvartalsrapport: Kvartal 3 2015 UTKAST" in draft
    assert "Rapport till statsrådet Kvartalsrapport: Kvartal 3 2015" in draft
    assert "Under kvartalet finns anteckningar från" in draft and "Besök under nästa kvartal" in draft
    assert 'filename="kvartalsrapport-2015Q3-utkast.pdf"' in \
        staff.get("/rapporter/2015Q3/utkast.pdf").headers["Content-Disposition"]


# --------------------------------------------------------------------------- issued reports stay as they were

ISSUED_AT = datetime(2015, 11, 2, 9, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("issued_on, then", [((3, date(2014, 10, 1)), (4, date(2014, 11, 1))),
                                             ((4, date(2014, 11, 1)), (3, date(2014, 10, 1)))])
def test_an_issued_report_renders_the_same_from_its_figures_after_the_rhythm_changes(app, seeded, issued_on, then):
    set_rhythm(app, *issued_on)
    key = "2015Q3" if issued_on[0] == 3 else "2015-07"
    write_texts(app, key)
    with app.app_context():
        period = rhythm.parse_period(key)
        row = service.freeze(period, "Första versionen.", None, 1, ISSUED_AT)
        db.session.commit()
        report_id = row.id
    set_rhythm(app, *then)
    with app.test_request_context(), force_locale("sv"):
        row = db.session.get(IssuedReport, report_id)
        assert row.period not in {p.key for p in rhythm.periods()}  # the period is not one of today's
        texts = service.narrative_texts(row.period)
        status = {"version": 1, "issued_at": ISSUED_AT.isoformat(), "issued_by": "Samordnarens kansli",
                  "comment": "Första versionen."}
        again = pdf.render(row.figures, texts, status)
        html = render_template("reports/_body.html", data=row.figures, narratives=texts, status=status)
        assert again == bytes(row.pdf) and html == row.html
        words = "kvartalet" if key == "2015Q3" else "perioden"
        assert f"Under {words}:" in pdf_text(again)
        assert service.filename(row.kind, row.period, 1) == (
            "kvartalsrapport-2015Q3-v1.pdf" if key == "2015Q3" else "rapport-2015-07-v1.pdf")


# --------------------------------------------------------------------------- the reminder

@pytest.mark.parametrize("months, as_of, subject_has_quarter", [(4, "2015-03-10", False), (3, "2015-10-07", True)])
def test_the_reminder_mail_says_kvartal_only_for_a_quarter(app, smtp, months, as_of, subject_has_quarter):
    set_rhythm(app, months, date(2014, 11, 1) if months == 4 else date(2014, 10, 1))
    result = cli(app, "report", "remind", "--as-of", as_of)
    assert result.exit_code == 0 and bool(QUARTER.search(result.output)) == subject_has_quarter
    assert deliver(app).sent >= 2
    mails = smtp.handler.messages()
    assert mails
    for mail in mails:
        whole = mail["Subject"] + "\n" + mail.get_content()
        assert bool(QUARTER.search(whole)) == subject_has_quarter, whole
