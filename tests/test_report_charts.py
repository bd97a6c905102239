"""The report's charts drawn once (reports/charts.py, vector.py): the page's SVG, made without reportlab, is the
PDF's picture.

- Text is measured as reportlab measures it (fontmetrics.py against pdfmetrics.stringWidth, every character of
  both fonts), so theme names break into the same lines and the legend's entries sit at the same places.
- The charts' colours and width are the PDF's.
- On the demo's 2016Q3 report, each figure's SVG as Chromium paints it and the same drawing as the PDF prints it
  (reportlab, rendered by pdfium as the Word file's pictures are) are the same picture, pixel for pixel up to the
  edges of letters and lines: every shape in the same place, the same colour.
- The SVG is labelled for assistive technology (role img, its title and description by id).
"""
from __future__ import annotations

import io
import re

import pytest

from coordinator import fontmetrics, pdf, worddoc
from coordinator.reports import charts, content, figures

PERIOD = "2016Q3"


def test_text_widths_are_reportlabs_for_every_character_of_both_fonts():
    from reportlab.pdfbase import pdfmetrics

    pdf.register_fonts()
    for font in (pdf.FONT, pdf.FONT_BOLD):
        face = pdfmetrics.getFont(font).face
        # Every character the font has, the Latin, Greek and punctuation blocks whether it has them or not, the
        # no-break space (measured as a space) and characters it lacks (glyph 0's width).
        codes = set(face.charWidths) | set(range(0x3000)) | {0x1F600, 0x10FFFF}
        ours = fontmetrics.metrics(font)
        wrong = [hex(c) for c in sorted(codes) if ours.char_width(c) != face.charWidths.get(c, face.defaultWidth)]
        assert wrong == [], f"{font}: {wrong[:20]}"
        for text in ("Omgång 1 genomförda", "Mål: 50 per omgång", "Grupp 5 · 12\u00a0345 anteckningar",
                     "π ≤ 1 – ”citat” …", "Barns och ungas delaktighet 😀", ""):
            for size in (6.5, 7, 7.5, 8.5):
                assert fontmetrics.string_width(text, font, size) == pdfmetrics.stringWidth(text, font, size)


def test_the_charts_use_the_pdfs_colours_and_text_width():
    assert charts.CONTENT_WIDTH == pdf.CONTENT_WIDTH
    for ours, theirs in ((charts.INK, pdf.TEXT), (charts.MUTED, pdf.MUTED), (charts.RULE, pdf.RULE),
                         (charts.ZEBRA, pdf.ZEBRA)):
        assert ours == "#" + theirs.hexval()[2:].lower()
    assert (charts.FONT, charts.BOLD) == (pdf.FONT, pdf.FONT_BOLD)


@pytest.fixture(scope="module")
def report_figures(demo):
    """The demo's 2016Q3 figures dict and its three Figure blocks (progress, map, themes by ÖJ group)."""
    with demo.app_context():
        data = figures.compute(PERIOD)
        document = content.document(data, {}, {"draft": True})
    blocks = [b for s in document.sections for b in s.blocks if isinstance(b, content.Figure)]
    assert [b.chart for b in blocks] == ["progress", "map", "themes"]
    return demo, data, blocks


def _pixels(png: bytes):
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("L")


def test_the_pages_svg_is_the_pdfs_picture(report_figures, browser):
    from PIL import ImageChops

    app, data, blocks = report_figures
    page = browser.new_page(viewport={"width": 1000, "height": 800}, device_scale_factor=2)
    try:
        for figure in blocks:
            with app.app_context():
                drawing = content.chart(figure, data)
                svg = str(charts.svg(drawing, figure.label, figure.desc, f"rapport-figur-{figure.number}"))
                printed = _pixels(worddoc.drawing_png(content.drawing(figure, data), dpi=144))
            # The SVG at its own size (1 pt = 1 CSS px), at twice the pixels: 144 dpi, as the PDF's picture.
            page.set_content(f'<body style="margin:0;background:#fff">{svg}</body>')
            shown = _pixels(page.locator("svg").screenshot())
            # The same size, up to the rounding of a fraction of a point to whole pixels.
            assert all(abs(a - b) <= 1 for a, b in zip(shown.size, printed.size)), (shown.size, printed.size)
            size = (0, 0, min(shown.width, printed.width), min(shown.height, printed.height))
            shown, printed = shown.crop(size), printed.crop(size)
            diff = ImageChops.difference(shown, printed)
            histogram = diff.histogram()
            total = shown.size[0] * shown.size[1]
            # Anti-aliasing and hinting make the edges of letters and thin lines differ a little; a shape in another
            # place, of another colour, or missing, differs by far more than these bounds.
            far = sum(histogram[96:]) / total       # pixels that differ by more than a third of black to white
            mean = sum(i * n for i, n in enumerate(histogram)) / total
            assert far < 0.012 and mean < 4, (figure.chart, far, mean)
            # Every shape and every word is there: blank the SVG's text and the difference grows well past that.
            blank = re.sub(r"(<text[^>]*>)[^<]*(</text>)", r"\1\2", svg)
            page.set_content(f'<body style="margin:0;background:#fff">{blank}</body>')
            without_text = ImageChops.difference(_pixels(page.locator("svg").screenshot()).crop(size),
                                                 printed).histogram()
            assert sum(without_text[96:]) / total > far + 0.002, figure.chart
    finally:
        page.close()


def test_the_svg_is_labelled_for_assistive_technology(report_figures):
    app, data, blocks = report_figures
    for figure in blocks:
        ident = f"rapport-figur-{figure.number}"
        with app.app_context():
            svg = str(charts.svg(content.chart(figure, data), figure.label, figure.desc, ident))
        root = re.match(r"<svg\b[^>]*>", svg).group(0)
        assert 'role="img"' in root and f'aria-labelledby="{ident}-title"' in root
        assert f'aria-describedby="{ident}-desc"' in root and 'class="report-chart"' in root
        title = re.search(rf'<title id="{ident}-title">([^<]*)</title>', svg).group(1)
        desc = re.search(rf'<desc id="{ident}-desc">([^<]*)</desc>', svg).group(1)
        assert title and desc
        assert figure.chart != "progress" or "2016-04" in svg  # the months along the axis are text, not pictures
