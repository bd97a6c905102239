"""The sample protocol as a PDF: content, access, a hand-picked sample, and the shared PDF basics."""
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from coordinator import pdf
from coordinator.extensions import db
from coordinator.sampling.models import Decline, Sample

from .helpers import cli_json, confirm_through_page, form_fields


def read_pdf(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.data))
    pages = [p.extract_text() for p in reader.pages]
    return reader, pages


def flat(text: str) -> str:
    """Extracted text with line breaks (and non-breaking spaces) as single spaces."""
    return " ".join(text.replace("-\n", "-").split())


def _adopt_in_ui(staff, sample_id):
    assert confirm_through_page(staff, f"/urval/{sample_id}/anta").status_code == 302


def test_adopted_protocol_pdf_carries_the_protocol(app, staff, reader):
    sample_id = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "4711", "--save")["id"]
    _adopt_in_ui(staff, sample_id)
    with app.app_context():
        sample = db.session.get(Sample, sample_id)
        site_id = next(s.id for s in sample.active_sites if s.grupp == 1)
        districts = [s.enhet for s in sample.active_sites if s.enhet]
    preview = staff.post(f"/urval/{sample_id}/avboj",
                         {"site_id": str(site_id), "declined_on": "2015-02-03", "reason": "Hög arbetsbelastning"})
    response = staff.post(f"/urval/{sample_id}/avboj",
                          form_fields(preview.get_data(as_text=True), f"/urval/{sample_id}/avboj"))
    assert response.status_code == 302
    with app.app_context():
        decline = db.session.scalar(select(Decline))
        declined, replacement = decline.site.kommun.namn, decline.replacement.kommun.namn

    response = staff.get(f"/urval/{sample_id}/protokoll.pdf")
    reader_pdf, pages = read_pdf(response)
    assert 'filename="urvalsprotokoll-' in response.headers["Content-Disposition"]
    text = flat("\n".join(pages))

    assert "Urvalsprotokoll" in text and "Dragning år 2014, frö 4711" in text
    assert "Slumpfrö 4711" in text
    for name in ("Gotland", "Stockholm", "Göteborg", "Malmö", "Uppsala", *districts):
        assert name in text, name
    assert "1,0000" in text                     # π of the units that are always taken, decimal comma
    assert "π" in text and "1/π" in text          # Greek renders with the embedded font
    assert "Kommunerna delas in i grupper efter folkmängden" in text   # the method text
    assert "Goodman, R. & Kish, L. (1950)" in text                      # and its references
    assert "Grupper och fördelning" in text and "Diagnostik" in text and "Reserver" in text
    assert "Som jämförelse ger stratifierat" in text                    # sb against stratified SRS
    assert "911 989" in text                    # Stockholm's population, Swedish thousands
    assert "Antaget" in text and "av Test staff" in text
    # The decline: reason, who declined, who replaced them; statuses in the site table.
    assert "Avböjanden och ersättare" in text and "Hög arbetsbelastning" in text and "2015-02-03" in text
    assert declined in text and replacement in text
    assert "avböjt" in text and "ersättare" in text
    # The sections come in the order of the HTML protocol.
    order = ["Urvalet i korthet Metod Kontrollerat", "Metod Kommunerna delas", "Grupper och fördelning Öppna",
             "Besöksplatser π är kommunens", "Diagnostik Rumslig balans", "Reserver Om en kommun avböjer",
             "Avböjanden och ersättare I den ordning"]
    positions = [text.index(h) for h in order]
    assert positions == sorted(positions)

    n = len(pages)
    assert n > 1
    assert f"Sida 1 av {n}" in flat(pages[0]) and f"Sida {n} av {n}" in flat(pages[-1])
    info = reader_pdf.metadata
    assert info.title == "Urvalsprotokoll: Dragning år 2014, frö 4711"
    assert info.author and "samordnaren" in info.author.lower()
    assert reader_pdf.trailer["/Root"]["/Lang"] == "sv-SE"
    fonts = {str(f.get_object()["/BaseFont"]) for page in reader_pdf.pages
             for f in page["/Resources"]["/Font"].values()}
    assert all("DejaVuSans" in f for f in fonts), fonts

    # The ministry reads the adopted sample's protocol, on paper too.
    _, reader_pages = read_pdf(reader.get(f"/urval/{sample_id}/protokoll.pdf"))
    assert "Hög arbetsbelastning" in flat("\n".join(reader_pages))


def test_reader_cannot_fetch_a_drafts_pdf_but_staff_sees_it_marked(app, staff, reader):
    draft = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "5", "--save")["id"]
    assert reader.get(f"/urval/{draft}/protokoll.pdf").status_code == 403
    _, pages = read_pdf(staff.get(f"/urval/{draft}/protokoll.pdf"))
    text = flat("\n".join(pages))
    assert "Utkast, inte antaget" in text and "UTKAST – inte antaget" in text
    assert "Inga avböjanden." in text
    assert staff.get("/urval/999999/protokoll.pdf").status_code == 404


def test_hand_picked_sample_pdf_has_no_probabilities_and_no_method(app, staff):
    sites = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "3")["sites"]
    good = "\n".join(f"{s['kommunkod']},{s['enhet']}" for s in sites)
    assert staff.post("/urval/handplockat", {"year": "2014", "text": good, "action": "save"}).status_code == 302
    with app.app_context():
        sample_id = db.session.scalar(select(Sample.id))
    _, pages = read_pdf(staff.get(f"/urval/{sample_id}/protokoll.pdf"))
    text = flat("\n".join(pages))
    assert "Handplockat urval, prövat mot reglerna" in text
    assert "Handplockat urval: inga urvalssannolikheter." in text
    assert "Kommunerna delas in i grupper" not in text and "Slumpfrö" not in text
    assert "π" not in text and "Vikt" not in text
    assert "Gotland" in text and "Stockholm" in text


def test_english_user_gets_the_english_pdf(app, staff):
    sample_id = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "8", "--save")["id"]
    staff.get("/sprak/en")
    _, pages = read_pdf(staff.get(f"/urval/{sample_id}/protokoll.pdf"))
    text = flat("\n".join(pages))
    assert "Sampling record" in text and "The sample in brief" in text
    assert "1.0000" in text and "911,989" in text     # English number format
    assert f"Page 1 of {len(pages)}" in text


# --- the shared PDF basics (no Flask) ----------------------------------------------------------

def test_swedish_number_formatting():
    assert pdf.fmt_int(911989) == "911\u00a0989"
    assert pdf.fmt_int(1234567) == "1\u00a0234\u00a0567"
    assert pdf.fmt_int(999) == "999" and pdf.fmt_int(0) == "0"
    assert pdf.fmt_int(-15000) == "\u221215\u00a0000"
    assert pdf.fmt_int(None) == "–"
    assert pdf.fmt_dec(0.28123, 4) == "0,2812"
    assert pdf.fmt_dec(1.0, 4) == "1,0000"
    assert pdf.fmt_dec(13.9583, 2) == "13,96"
    assert pdf.fmt_dec(1234.5, 2) == "1\u00a0234,50"
    assert pdf.fmt_dec(-0.0001, 2) == "0,00"   # no negative zero
    assert pdf.fmt_dec(-2.5, 1) == "\u22122,5"
    assert pdf.fmt_dec(7, 0) == "7"


def test_timestamps_in_the_offices_time_zone():
    from datetime import datetime, timezone
    assert pdf.fmt_dt(datetime(2015, 1, 15, 12, 0, tzinfo=timezone.utc)) == "2015-01-15 13:00"
    assert pdf.fmt_dt(datetime(2015, 7, 15, 12, 0)) == "2015-07-15 14:00"  # naive = UTC (SQLite)


def test_build_lays_out_long_tables_and_column_lists_across_pages():
    from reportlab.platypus import Paragraph

    st = pdf.styles()
    rows = [["Nr", "Namn <&> text", "Värde"]] + [[str(i), f"Rad {i} åäö π", pdf.fmt_dec(i / 7, 4)]
                                               for i in range(1, 151)]
    items = [Paragraph(f"{i}. Post {i}", st["list"]) for i in range(1, 401)]
    data = pdf.build([Paragraph("Rubrik", st["title"]), Paragraph("Tabell", st["h1"]),
                      pdf.table(rows, pdf.widths(1, 4, 2), align_right_cols=(0, 2)),
                      Paragraph("Lista", st["h1"]), pdf.ColumnList(items, n_cols=3)],
                     title="Prov", author="Testare", subject="Ämne",
                     page_label=lambda p, n: f"Page {p} of {n}")
    reader = PdfReader(io.BytesIO(data))
    pages = [p.extract_text() for p in reader.pages]
    n = len(pages)
    assert n > 2 and all(f"Page {i} of {n}" in t for i, t in enumerate(pages, start=1))
    text = flat("\n".join(pages))
    assert "Namn <&> text" in text and "Rad 150 åäö π" in text and "21,4286" in text
    assert text.count("Namn <&> text") > 1                 # the header row repeats on the next page
    # Every list item once, and page by page in order (columns never jump back across a page).
    found = [int(m) for m in re.findall(r"Post (\d+)", text)]
    assert sorted(found) == list(range(1, 401))
    per_page = [sorted(int(m) for m in re.findall(r"Post (\d+)", flat(t))) for t in pages]
    flat_order = [x for page in per_page for x in page]
    assert flat_order == list(range(1, 401))
    assert reader.metadata.title == "Prov" and reader.metadata.author == "Testare"


@pytest.mark.parametrize("bad", ["a < b & c > d", "<b>not bold</b>", "x &amp; y"])
def test_table_cells_are_plain_text(bad):
    data = pdf.build([pdf.table([["Skäl"], [bad], [bad * 8]], pdf.widths(1))], title="t", author="a")
    text = flat(PdfReader(io.BytesIO(data)).pages[0].extract_text())
    assert bad in text
