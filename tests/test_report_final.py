"""The final report (slutrapport): its chapters and appendices, quotes, narratives, issuing and the command line.

The assignment is test_report_figures' seeded one (a drawn and adopted sample, declines, visits, notes with
an uncleared quote naming its kommun and a cleared one, a hearing, action plans). The PDF is read as text,
the Word file with python-docx, the issued rows straight from the database. Both backends.
"""
from __future__ import annotations

import hashlib
import io
import re

from docx import Document as WordDocument
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import undefer

from coordinator.extensions import db
from coordinator.reports import figures
from coordinator.reports.models import FINAL, IssuedReport
from coordinator.sampling.models import Site

from .test_report_figures import cli, pdf_text, seeded  # noqa: F401  (seeded is the fixture)
from .test_report_workflow import issue, issued_rows, revisions, save_text

CHAPTERS = ["1 Uppdraget och arbetet", "2 Iakttagelser", "3 Analys", "4 Slutsatser", "5 Förslag till åtgärder",
            "Bilaga 1 Urvalsprotokollet", "Bilaga 2 De besökta kommunerna och stadsdelarna",
            "Bilaga 3 Organisationerna i dialogen", "Bilaga 4 Formuläret och resultaten"]


def _draft_pdf(app, tmp_path, first_page: bool = False):
    out = tmp_path / "slutrapport.pdf"
    result = cli(app, "report", "final", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Utkast till slutrapporten skrivet till" in result.output
    if first_page:
        reader = PdfReader(io.BytesIO(out.read_bytes()))
        return pdf_text(out.read_bytes()), re.sub(r"\s+", " ", reader.pages[0].extract_text())
    return pdf_text(out.read_bytes())


def test_the_chapters_and_appendices_come_in_order_addressed_to_regeringskansliet(app, seeded, tmp_path):
    text, cover = _draft_pdf(app, tmp_path, first_page=True)
    assert "Till Regeringskansliet (Socialdepartementet)" in cover and "Slutrapport" in cover
    assert "Ska lämnas senast 2017-04-30" in cover
    # The contents list them in order; so does the body, past the contents.
    assert [cover.index(c) for c in CHAPTERS] == sorted(cover.index(c) for c in CHAPTERS)
    body = text[text.index("Sammanfattning", text.index("Bilaga 4 Formuläret")):]
    at = [body.index(c) for c in CHAPTERS]
    assert at == sorted(at)
    for sub in ("1.1 Urvalet och hur det kom till", "1.2 Besöken per omgång", "1.3 Avböjanden och ersättare",
                "1.4 Nationell dialog, hearingar, rundabordssamtal och samråd", "1.5 Mätningen före besöken",
                "2.1 Iakttagelser per dialogfråga", "2.2 Iakttagelser per tema",
                "2.3 Goda exempel, hinder och frågor för nationell nivå", "2.4 Förmätningen: siffror för hela landet",
                "3.1 Omgång 1 jämfört med omgång 2", "3.2 Handlingsplanerna: beslutat och genomfört"):
        assert sub in body, sub
    # The hearing is in the account of the work; every active site in Bilaga 2 and in the protocol.
    work = body[body.index("1.4 Nationell dialog"):body.index("1.5 Mätningen")]
    assert "Hearing om familjehem" in work and "2015-09-10" in work
    with app.app_context():
        labels = [s.label for s in db.session.scalars(select(Site).where(Site.active))]
        declined = [s.label for s in db.session.scalars(select(Site).where(Site.active.is_(False)))]
    appendix2 = body[body.index("Bilaga 2 De besökta"):body.index("Bilaga 3 Organisationerna")]
    appendix2 = appendix2.replace("- ", "-")  # a long name wraps after its hyphen
    assert f"{len(labels)} besöksplatser" in appendix2
    for label in labels:
        assert label in appendix2
    protocol = body[body.index("Bilaga 1 Urvalsprotokollet"):body.index("Bilaga 2 De besökta")]
    assert "Tidsbrist" in protocol and "Omorganisation" in protocol and "ärver vikten" in protocol
    assert len(declined) == 2 and all(d in protocol for d in declined)


def test_quotes_never_name_the_kommun_of_an_uncleared_passage_and_appear_once(app, seeded, tmp_path):
    name = seeded["anonymous_name"]
    with app.app_context():
        data = figures.compute("slut")
    report = data["final"]["report"]
    items = [i for q in report["questions"] for i in q["items"]] + \
        [i for t in report["themes"] for i in t["items"]] + [i for v in report["examples"].values() for i in v]
    passages = [i["passage"] for i in items]
    assert len(passages) == len(set(passages))  # no passage twice
    anonymous = [i for i in items if "CITAT-ANONYM" in i["text"]]
    assert len(anonymous) == 1
    item = anonymous[0]
    assert not item["attributed"] and item["source"].startswith("En kommun i grupp")
    assert not re.search(rf"\b{re.escape(name)}\b", " ".join(str(v) for v in item.values()))
    cleared = [i for i in items if "CITAT-GODKÄNT" in i["text"]]
    assert len(cleared) == 1 and cleared[0]["attributed"] and cleared[0]["source"] == seeded["cleared_label"]

    text = _draft_pdf(app, tmp_path)
    assert text.count("CITAT-ANONYM") == 1 and text.count("CITAT-GODKÄNT") == 1
    observations = text[text.rindex("2.1 Iakttagelser per dialogfråga"):text.rindex("3 Analys")]
    assert "CITAT-ANONYM" in observations and "[kommunen]" in observations
    assert not re.search(rf"\b{re.escape(name)}\b", observations)
    assert seeded["cleared_label"] in observations


def test_staff_write_the_final_sections_with_revisions_and_the_report_prints_them(app, staff, seeded, tmp_path):
    draft = staff.get("/rapporter/slut/")
    assert draft.status_code == 200
    html = draft.get_data(as_text=True)
    for section in ("uppdraget", "iakttagelser", "analys", "slutsatser", "atgarder"):
        assert f'name="{section}-text"' in html
    assert save_text(staff, "slutsatser", "SLUTSATS-ETT.", 0, period="slut").status_code == 302
    assert save_text(staff, "slutsatser", "SLUTSATS-TVÅ.\n\nAndra stycket.", 1, period="slut").status_code == 302
    assert save_text(staff, "atgarder", "FÖRSLAG-ETT.", 0, period="slut").status_code == 302
    stale = save_text(staff, "slutsatser", "Skriver över.", 1, period="slut")
    assert stale.status_code == 409
    assert [(n, t) for n, t, _who in revisions(app, "slutsatser", period="slut")] == [
        (1, "SLUTSATS-ETT."), (2, "SLUTSATS-TVÅ.\n\nAndra stycket.")]
    # A quarterly report has no such section.
    assert staff.get("/rapporter/2015Q3/text/slutsatser").status_code == 404
    text = _draft_pdf(app, tmp_path)
    conclusions = text[text.rindex("4 Slutsatser"):text.rindex("5 Förslag till åtgärder")]
    assert "SLUTSATS-TVÅ. Andra stycket." in conclusions and "SLUTSATS-ETT." not in text
    proposals = text[text.rindex("5 Förslag till åtgärder"):text.rindex("Bilaga 1 Urvalsprotokollet")]
    assert "FÖRSLAG-ETT." in proposals
    assert text.count("Ingen text är skriven för detta avsnitt.") == 3  # uppdraget, iakttagelser, analys


def test_issuing_freezes_the_final_report_with_its_sha256(app, staff, reader, seeded):
    assert save_text(staff, "slutsatser", "Det som gäller vid utfärdandet.", 0, period="slut").status_code == 302
    first = staff.post("/rapporter/slut/utfarda", data={"version": "1", "comment": "Första versionen."})
    assert first.status_code == 200 and 'name="confirmed"' in first.get_data(as_text=True)
    assert "kan inte ändras eller tas tillbaka" in first.get_data(as_text=True)
    assert issued_rows(app, "slut") == []  # the confirmation page issues nothing
    assert issue(staff, 1, period="slut").status_code == 302
    (row,) = issued_rows(app, "slut")
    assert row["kind"] == FINAL and row["title"] == "Slutrapport"
    assert row["sha256"] == hashlib.sha256(row["pdf"]).hexdigest() and row["size"] == len(row["pdf"])
    assert "Bilaga 4" in row["html"] and "Till Regeringskansliet (Socialdepartementet)" in row["html"]
    assert row["figures"]["final"]["report"]["protocol"] is not None
    frozen = pdf_text(row["pdf"])
    assert "Version 1, utfärdad" in frozen and "Det som gäller vid utfärdandet." in frozen
    # Later edits change the draft, never the issued version.
    assert save_text(staff, "slutsatser", "Ändrat efteråt.", 1, period="slut").status_code == 302
    download = reader.get(f"/rapporter/utfardade/{row['id']}.pdf")
    assert download.status_code == 200 and download.data == row["pdf"]
    assert 'filename="slutrapport-v1.pdf"' in download.headers["Content-Disposition"]
    with app.app_context():
        stored = db.session.scalars(select(IssuedReport).options(undefer(IssuedReport.docx))).one()
        assert stored.sha256 == hashlib.sha256(download.data).hexdigest()
        # The Word file is frozen beside it, with its own SHA-256, and is the final report too.
        word = WordDocument(io.BytesIO(stored.docx))
        assert stored.docx_sha256 == hashlib.sha256(stored.docx).hexdigest() and stored.docx_size == len(stored.docx)
        assert any(p.text.startswith("Bilaga 4") for p in word.paragraphs if p.style.name == "Heading 1")


def test_the_command_line_asks_before_it_issues(app, seeded):
    runner = app.test_cli_runner()
    no_answer = runner.invoke(args=["report", "issue", "slut"])
    assert no_answer.exit_code == 1
    assert "Version 1 av Slutrapport utfärdas" in no_answer.output and "kan inte ändras" in no_answer.output
    assert "Ingenting utfärdades" in no_answer.output
    refused = runner.invoke(args=["report", "issue", "slut"], input="n\n")
    assert refused.exit_code == 1 and "Ingenting utfärdades" in refused.output
    assert issued_rows(app, "slut") == []
    accepted = runner.invoke(args=["report", "issue", "slut", "--comment", "Till departementet."], input="y\n")
    assert accepted.exit_code == 0, accepted.output
    scripted = runner.invoke(args=["report", "issue", "slut", "--yes"])
    assert scripted.exit_code == 0 and "Utfärda?" not in scripted.output
    rows = issued_rows(app, "slut")
    assert [(r["version"], r["comment"]) for r in rows] == [(1, "Till departementet."), (2, "")]
    assert rows[1]["sha256"] in scripted.output


def test_the_final_report_as_word_opens_in_python_docx(app, seeded, tmp_path):
    out = tmp_path / "slutrapport.docx"
    result = cli(app, "report", "final", "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = WordDocument(io.BytesIO(out.read_bytes()))
    headings = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith("Heading")]
    level1 = [text.replace("\u2002", " ") for style, text in headings if style == "Heading 1"]
    assert [h for h in level1 if h in CHAPTERS] == CHAPTERS
    # Each chapter and appendix starts a page, as in the PDF.
    starts = {p.text.replace("\u2002", " "): p.paragraph_format.page_break_before
              for p in doc.paragraphs if p.style.name == "Heading 1"}
    assert all(starts[h] for h in CHAPTERS), starts
    assert ("Heading 2", "1.1\u2002Urvalet och hur det kom till") in headings
    assert any(style == "Heading 3" and text.startswith("Fråga 1: ") for style, text in headings)
    assert len(doc.tables) >= 10 and len(doc.inline_shapes) >= 2  # tables as tables; the charts as pictures
    assert any("Regeringskansliet (Socialdepartementet)" in p.text for p in doc.paragraphs[:20])
    bad = cli(app, "report", "final", "--out", str(tmp_path / "slutrapport.odt"))
    assert bad.exit_code == 1 and ".pdf" in bad.output and ".docx" in bad.output
    assert not (tmp_path / "slutrapport.odt").exists()
