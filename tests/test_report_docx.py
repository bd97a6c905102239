"""The report as a Word file (DOCX), issuing it frozen beside the PDF, and the report polish of issue 12.

On the demo's assignment (`coordinator demo`, made once per backend for this module): the quarterly
report opens in python-docx with the section titles as "Heading 1" and the subheadings as
"Heading 2", every table of the report as a Word table, every figure as a picture with its
description as alternative text and the quotes in the "Quote" style; the command line writes PDF or
Word by the file's extension; issuing freezes both files with their SHA-256 and the downloads are
those bytes. The polish: no "?." after a question, header words never broken, headings never left
at the foot of a page, plural agreement. Both backends.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import datetime, timezone

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from pypdf import PdfReader
from sqlalchemy import select

from coordinator import worddoc
from coordinator.extensions import db
from coordinator.reports import content, figures, service
from coordinator.reports import docx as report_docx
from coordinator.reports import pdf as report_pdf
from coordinator.reports.models import IssuedReport
from coordinator.reports.wording import sentence

from .conftest import USERS, Client

PERIOD = "2016Q3"
NBSP = "\u00a0"
ISSUED = {"version": 3, "issued_at": "2016-10-14T12:00:00+00:00", "issued_by": "Demo Andersson",
          "comment": "Rättad tabell."}


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace(NBSP, " ").replace("\u2002", " ")).strip()


def pdf_pages(data: bytes) -> list[str]:
    return [flat(p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages]


def blocks(document: content.Document, kind) -> list:
    return [b for s in document.sections for b in s.blocks if isinstance(b, kind)]


@pytest.fixture(scope="module")
def report(demo):
    """The demo's 2016Q3 report: (the app, its figures, its narratives, its content Document, the DOCX)."""
    with demo.app_context():
        data = figures.compute(PERIOD)
        texts = service.narrative_texts(PERIOD)
        document = content.document(data, texts, {"draft": True})
        file = report_docx.render(data, texts, {"draft": True})
    return demo, data, texts, document, file


# --------------------------------------------------------------------------- the Word file

def test_the_quarterly_report_opens_in_word_with_real_headings(report):
    _app, _data, _texts, document, file = report
    word = docx.Document(io.BytesIO(file))
    styled = [(p.style.name, p.text) for p in word.paragraphs]
    assert styled[0] == ("Title", "Kvartalsrapport")
    assert styled[1] == ("Subtitle", "Kvartal 3 2016 (2016-07-01–2016-09-30)")
    h1 = [text for style, text in styled if style == "Heading 1"]
    assert h1 == ["Sammanfattning"] + [f"{s.number}\u2002{s.title}" for s in document.sections]
    assert "5\u2002Handlingsplaner" in h1 and "8\u2002Iakttagelser, analys och förslag till åtgärder" in h1
    h2 = [text for style, text in styled if style == "Heading 2"]
    assert h2 == [b.text for b in blocks(document, content.Subheading)]
    assert {"Goda exempel", "Citat", "Analys"} <= set(h2)
    # Each subheading sits under its own section's heading.
    order = [text for style, text in styled if style in ("Heading 1", "Heading 2")]
    assert order.index("Goda exempel") > order.index("7\u2002Vad dialogerna visade") > order.index("5\u2002Handlingsplaner")
    assert not any(style.startswith("Heading 3") for style, _text in styled)
    assert [text for style, text in styled if style == "List Bullet"] == document.summary
    # The table of contents is a Word field over the headings; the language is Swedish.
    xml = word.element.xml
    assert 'TOC \\o "1-2"' in xml
    assert word.settings.element.find(qn("w:updateFields")) is not None
    assert word.core_properties.title == "Kvartalsrapport" and word.core_properties.language == "sv-SE"
    assert 'w:val="sv-SE"' in word.styles.element.xml
    # A draft says so on the cover and in the header of every page.
    assert ("Normal", "UTKAST – inte utfärdat") in styled
    header = word.sections[0].header.paragraphs[0].text
    assert "UTKAST" in header and "(demo)" in header


def test_the_tables_are_word_tables_with_numbers_right_aligned_and_the_header_repeated(report):
    _app, _data, _texts, document, file = report
    word = docx.Document(io.BytesIO(file))
    expected = blocks(document, content.Table)
    assert len(expected) >= 15
    assert len(word.tables) == len(expected)
    captions = [p.text for p in word.paragraphs if p.style.name == "Caption" and p.text.startswith("Tabell ")]
    assert captions == [t.label for t in expected]
    for table, block in zip(word.tables, expected):
        assert [c.text for c in table.rows[0].cells] == block.head
        assert len(table.rows) == 1 + len(block.rows)
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeated on every page
        assert all(r.cells[0].paragraphs[0].runs[0].bold for r in table.rows[:1])
        for r, row in enumerate(block.rows, start=1):
            assert [c.text for c in table.rows[r].cells] == [str(v) for v in row]
            for c in range(len(block.head)):
                alignment = table.rows[r].cells[c].paragraphs[0].alignment
                assert (alignment == WD_ALIGN_PARAGRAPH.RIGHT) == (c in block.numeric)
    visits = word.tables[0]
    assert visits.rows[-1].cells[0].text == "Båda omgångarna" and visits.rows[-1].cells[0].paragraphs[0].runs[0].bold


def test_the_figures_are_pictures_of_the_pdfs_drawings_with_their_description(report):
    _app, data, _texts, document, file = report
    word = docx.Document(io.BytesIO(file))
    expected = blocks(document, content.Figure)
    assert [f.chart for f in expected] == ["progress", "map", "themes"]
    assert len(word.inline_shapes) == len(expected)
    with zipfile.ZipFile(io.BytesIO(file)) as z:
        media = sorted(n for n in z.namelist() if n.startswith("word/media/"))
        pictures = [z.read(n) for n in media]
    assert len(pictures) == len(expected)
    for shape, figure in zip(word.inline_shapes, expected):
        doc_pr = shape._inline.docPr
        assert doc_pr.get("descr") == figure.desc and doc_pr.get("title") == figure.label
        assert shape.width == worddoc.TEXT_WIDTH
    # The very pixels of the PDF's drawing.
    with report[0].app_context():
        first = worddoc.drawing_png(content.drawing(expected[0], data))
    assert first in pictures and first.startswith(b"\x89PNG")
    captions = [p.text for p in word.paragraphs if p.style.name == "Caption" and p.text.startswith("Figur ")]
    assert captions == [f.label for f in expected]


def test_the_quotes_are_in_the_quote_style(report):
    _app, _data, _texts, document, file = report
    word = docx.Document(io.BytesIO(file))
    quoted = [p.text for p in word.paragraphs if p.style.name == "Quote"]
    items = [(b.quote, item) for b in blocks(document, content.Quotes) for item in b.items]
    assert len(items) >= 10
    for spoken, item in items:
        text = f"”{item['text']}”" if spoken else item["text"]
        assert text in quoted
        assert content.item_meta(item, spoken) in quoted
    assert len(quoted) == 2 * len(items)


def test_the_same_content_gives_the_same_bytes(report):
    app, data, texts, _document, _file = report
    with app.app_context():
        first = report_docx.render(data, texts, ISSUED)
        again = report_docx.render(json.loads(json.dumps(data)), dict(texts), dict(ISSUED))
        other = report_docx.render(data, {**texts, "analys": "En annan analys."}, ISSUED)
    assert first == again
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(again).hexdigest()
    assert first != other
    word = docx.Document(io.BytesIO(first))
    assert word.core_properties.created.replace(tzinfo=None) == datetime(2016, 10, 14, 12, 0)
    assert not any("UTKAST" in p.text for p in word.paragraphs)
    assert "Kvartalsrapport: Kvartal 3 2016 – version 3" in word.sections[0].footer.paragraphs[0].text


# --------------------------------------------------------------------------- the command line

def test_the_file_type_follows_the_extension(demo, tmp_path):
    result = cli(demo, "report", "quarterly", PERIOD, "--out", str(tmp_path / "rapport.docx"))
    assert result.exit_code == 0, result.output
    assert "skrivet till" in result.output and "(Word)" in result.output
    data = (tmp_path / "rapport.docx").read_bytes()
    assert data.startswith(b"PK") and zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
    assert docx.Document(io.BytesIO(data)).paragraphs[0].text == "Kvartalsrapport"

    result = cli(demo, "report", "quarterly", PERIOD, "--out", str(tmp_path / "rapport.PDF"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "rapport.PDF").read_bytes().startswith(b"%PDF-")

    for name, first in (("slut.docx", b"PK"), ("slut.pdf", b"%PDF-")):
        result = cli(demo, "report", "final", "--out", str(tmp_path / name))
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).read_bytes().startswith(first)
    assert docx.Document(str(tmp_path / "slut.docx")).paragraphs[0].text == "Slutrapport"


@pytest.mark.parametrize("command", [["quarterly", PERIOD], ["final"]])
@pytest.mark.parametrize("name", ["rapport.txt", "rapport.doc", "rapport", "rapport.pdf.zip"])
def test_another_extension_is_refused_in_plain_swedish(demo, tmp_path, command, name):
    result = cli(demo, "report", *command, "--out", str(tmp_path / name))
    assert result.exit_code == 1
    assert f"Filen {name} har en filändelse som inte stöds" in result.output
    assert ".pdf (PDF) eller .docx (Word)" in result.output
    assert not (tmp_path / name).exists()


def test_a_bad_extension_with_json_is_a_json_error(demo, tmp_path):
    result = cli(demo, "report", "quarterly", PERIOD, "--out", str(tmp_path / "x.odt"), "--json")
    assert result.exit_code == 1
    assert "filändelse som inte stöds" in json.loads(result.output)["error"]


# --------------------------------------------------------------------------- issuing freezes both files

def test_issuing_freezes_the_pdf_and_the_word_file_with_their_sha256(demo):
    with demo.app_context():
        period = figures.parse_period(PERIOD)
        before = service.latest_version(period.kind, period.key)
        row = service.issue(period, "Med Word-fil.", None, actor="test")
        report_id, version = row.id, row.version_number
        stored = db.session.get(IssuedReport, report_id)
        pdf_bytes, docx_bytes = bytes(stored.pdf), bytes(stored.docx)
        assert version == before + 1
        assert stored.sha256 == hashlib.sha256(pdf_bytes).hexdigest() and stored.size == len(pdf_bytes)
        assert stored.docx_sha256 == hashlib.sha256(docx_bytes).hexdigest() and stored.docx_size == len(docx_bytes)
        docx_sha, pdf_sha = stored.docx_sha256, stored.sha256
        # The frozen Word file is the version as issued: its number, its date, no UTKAST.
        word = docx.Document(io.BytesIO(docx_bytes))
        assert any(p.text.startswith(f"Status: Version {version}, utfärdad") for p in word.paragraphs)
        assert not any("UTKAST" in p.text for p in word.paragraphs)
        issued_at = stored.issued_at
        issued_at = issued_at.astimezone(timezone.utc).replace(tzinfo=None) if issued_at.tzinfo else issued_at
        assert word.core_properties.created.replace(tzinfo=None) == issued_at

    for role in ("staff", "reader"):
        client = Client(demo, USERS[role])
        got = client.get(f"/rapporter/utfardade/{report_id}.docx")
        assert got.status_code == 200
        assert got.data == docx_bytes
        assert got.headers["Content-Type"] == report_docx_type()
        assert f'filename="kvartalsrapport-{PERIOD}-v{version}.docx"' in got.headers["Content-Disposition"]
        assert client.get(f"/rapporter/utfardade/{report_id}.pdf").data == pdf_bytes
        page = client.get(f"/rapporter/utfardade/{report_id}/").get_data(as_text=True)
        assert pdf_sha in page and docx_sha in page
        assert "Kontrollsumma (SHA-256) för Word-filen" in page and "Ladda ned som Word" in page
        assert f"/rapporter/utfardade/{report_id}.docx" in page
        archive = client.get("/rapporter/").get_data(as_text=True)
        assert f"/rapporter/utfardade/{report_id}.docx" in archive
    anon = Client(demo, None).get(f"/rapporter/utfardade/{report_id}.docx")
    assert anon.status_code in (302, 401) and docx_bytes not in anon.data


def report_docx_type() -> str:
    return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_a_version_issued_before_word_files_keeps_working(demo):
    with demo.app_context():
        template = db.session.scalars(select(IssuedReport).order_by(IssuedReport.id)).first()
        old = IssuedReport(kind=template.kind, period=template.period, version_number=99, title=template.title,
                           issued_at=template.issued_at, comment="Utan Word-fil.", sha256=template.sha256,
                           size=template.size, figures=template.figures, pdf=template.pdf, html=template.html)
        db.session.add(old)
        db.session.commit()
        old_id = old.id
    try:
        client = Client(demo, USERS["reader"])
        page = client.get(f"/rapporter/utfardade/{old_id}/")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "finns bara som PDF" in text and f"/rapporter/utfardade/{old_id}.docx" not in text
        assert client.get(f"/rapporter/utfardade/{old_id}.pdf").status_code == 200
        assert client.get(f"/rapporter/utfardade/{old_id}.docx").status_code == 404
        archive = client.get("/rapporter/").get_data(as_text=True)
        assert f"/rapporter/utfardade/{old_id}.pdf" in archive
        assert f"/rapporter/utfardade/{old_id}.docx" not in archive
    finally:
        with demo.app_context():
            db.session.delete(db.session.get(IssuedReport, old_id))
            db.session.commit()


def test_the_draft_page_offers_the_word_file(demo):
    client = Client(demo, USERS["staff"])
    page = client.get(f"/rapporter/{PERIOD}/").get_data(as_text=True)
    assert f'href="/rapporter/{PERIOD}/utkast.docx"' in page and "Ladda ned som Word" in page
    got = client.get(f"/rapporter/{PERIOD}/utkast.docx")
    assert got.status_code == 200 and got.headers["Content-Type"] == report_docx_type()
    assert 'filename="kvartalsrapport-2016Q3-utkast.docx"' in got.headers["Content-Disposition"]
    word = docx.Document(io.BytesIO(got.data))
    assert any(p.text == "UTKAST – inte utfärdat" for p in word.paragraphs)
    # The ministry never sees a draft.
    assert Client(demo, USERS["reader"]).get(f"/rapporter/{PERIOD}/utkast.docx").status_code in (302, 403)


# --------------------------------------------------------------------------- worddoc's parts

def test_worddoc_cleans_control_characters_and_keeps_line_breaks():
    doc = worddoc.new_document("Titel\x00", subtitle="Under\x07titel")
    worddoc.para(doc, "Rad ett\nrad\x00 två")
    worddoc.table(doc, ["A\x01", "B"], [["1\n2", None]], caption="Tabell 1. Test", numeric_cols=(1,))
    worddoc.quote(doc, "”Sagt\x0b”", "en kommun")
    word = docx.Document(io.BytesIO(worddoc.to_bytes(doc)))
    assert [p.text for p in word.paragraphs[:3]] == ["Titel", "Undertitel", "Rad ett\nrad två"]
    assert [c.text for c in word.tables[0].rows[0].cells] == ["A", "B"]
    assert word.tables[0].rows[1].cells[0].text == "1\n2" and word.tables[0].rows[1].cells[1].text == ""
    assert word.paragraphs[-2].style.name == "Quote" and word.paragraphs[-2].text == "”Sagt”"
    with pytest.raises(ValueError):
        worddoc.heading(doc, "Fel nivå", 4)


# --------------------------------------------------------------------------- polish

@pytest.mark.parametrize("text, expected", [
    ("Har ni en rutin?", "Har ni en rutin?"), ("Antal placeringar", "Antal placeringar."),
    ("Så här!", "Så här!"), ("Slut.", "Slut."), ("Följande:", "Följande:"), ("A; ", "A;"), ("", ""),
    ("Vänta…", "Vänta…"),
])
def test_a_sentence_gets_a_full_stop_only_when_it_lacks_one(text, expected):
    assert sentence(text) == expected


def test_no_question_gets_an_extra_full_stop(report):
    app, data, texts, document, file = report
    numeric = [t for t in data["measurement"]["tables"] if not t["rows"]]
    assert numeric and any(t["question"].endswith("?") for t in numeric)  # the case that went wrong
    with app.app_context():
        pdf_text = " ".join(pdf_pages(report_pdf.render(data, texts, {"draft": True})))
    word_text = "\n".join(p.text for p in docx.Document(io.BytesIO(file)).paragraphs)
    asked = next(t for t in numeric if t["question"].endswith("?"))
    assert f"{asked['question']} Svarade:" in flat(word_text)
    for text in (pdf_text, word_text):
        assert "?." not in text


def test_a_header_word_is_never_broken():
    from coordinator import pdf

    head = ["Besöksanteckningar från dialogforum", "Aktiviteter", "Genomförda av beslutade"]
    table = pdf.table([head, ["1", "2", "3"]], [46, 40, 44])
    data = pdf.build([table], title="Test", author="Test", created=datetime(2016, 1, 1, tzinfo=timezone.utc))
    text = pdf_pages(data)[0]
    for word in " ".join(head).split():
        assert re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text), (word, text)
    # The words that do not fit get a smaller type, not a break; never below 6.5 pt.
    style = pdf.styles()["cell_head"]
    shrunk = pdf.header_style("Aktiviteter", style, 40 - 2 * pdf.PAD_H)
    assert pdf.HEADER_MIN_SIZE <= shrunk.fontSize < style.fontSize and shrunk.splitLongWords == 0
    assert pdf.header_style("Mål", style, 40).fontSize == style.fontSize


def test_the_reports_header_words_are_whole_in_the_pdf(report):
    app, data, texts, document, _file = report
    with app.app_context():
        text = " ".join(pdf_pages(report_pdf.render(data, texts, {"draft": True})))
    words = {w for t in blocks(document, content.Table) for h in t.head for w in h.split()}
    assert {"Aktiviteter", "Besöksanteckningar", "Genomförda"} <= words
    broken = [w for w in words if not re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)]
    assert broken == []


def _opening(block) -> str:
    """Text that marks the start of a block on a page."""
    if isinstance(block, (content.Table, content.Figure)):
        return block.label.split(" ")[0] + " " + block.label.split(" ")[1]  # "Tabell 7."
    if isinstance(block, content.Quotes):
        return flat(block.items[0]["text"])[:25]
    if isinstance(block, content.Text):
        return flat(block.paragraphs[0] if block.paragraphs else block.empty)[:25]
    return flat(block.text)[:25]


def test_no_heading_is_left_at_the_foot_of_a_page(report):
    """Each heading stands on the page where the block it introduces (past its intro paragraph) begins."""
    app, data, texts, document, _file = report
    with app.app_context():
        pages = pdf_pages(report_pdf.render(data, texts, {"draft": True}))
    assert len(pages) >= 8

    def page_of(text: str) -> int:
        found = [i for i, page in enumerate(pages) if text in page and i > 0]  # the cover lists the sections
        assert found, text
        return found[0]

    checked = 0
    for section in document.sections:
        items = [(flat(f"{section.number} {section.title}"), section.blocks)]
        items += [(flat(b.text), section.blocks[i + 1:]) for i, b in enumerate(section.blocks)
                  if isinstance(b, content.Subheading)]
        for heading, rest in items:
            following = rest[1:] if rest and isinstance(rest[0], content.Para) and len(rest) > 1 else rest
            if not following or isinstance(following[0], content.Subheading):
                continue
            assert page_of(heading) == page_of(_opening(following[0])), heading
            checked += 1
    assert checked >= 12


def test_plural_agreement(backend_app):
    from flask_babel import force_locale

    from coordinator.i18n import ngettext
    from coordinator.plans.pdf import in_brief

    assert in_brief(1, 1, 0, 1) == "1 mål, 1 aktivitet: 0 genomförda, 1 beslutad."
    assert in_brief(2, 3, 1, 2) == "2 mål, 3 aktiviteter: 1 genomförd, 2 beslutade."
    assert ngettext("%(num)d aktivitet", "%(num)d aktiviteter", 1) == "1 aktivitet"
    with backend_app.test_request_context(), force_locale("en"):
        assert in_brief(1, 1, 0, 1) == "1 goal, 1 activity: 0 done, 1 decided."
        assert in_brief(2, 3, 1, 2) == "2 goals, 3 activities: 1 done, 2 decided."
