"""The report's charts and map, described once (coordinator/vector.py) for the PDF and the HTML.

One drawing per figure, built from the figures dict alone (figures.py), so the PDF and the page
show the same picture:
- progress(): visits planned and held per month, cumulative, per round, against the target;
- themes_by_group(): the most frequent themes, share of visit notes per ÖJ group (small multiples,
  the value printed at every bar);
- sweden(): the kommuner coloured by the visit status of their sites, with a marker of a different
  shape per status, so the legend never depends on colour alone.
svg() writes a drawing as inline SVG with a title, a description and ids of its own (no reportlab: the
web worker that shows a draft stays without reportlab's graphics and fonts); to_reportlab() gives the same
drawing as reportlab shapes for the PDF and the Word file. Text is measured in the PDF's font
(fontmetrics.py) in both, so lines break and legends sit at the same places.

Strings are passed in already translated by the caller (content.py).
"""
from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from .. import fontmetrics, vector
from ..formatting import fmt_int, fmt_pct
from ..registry.mapsvg import load_boundaries, project
from ..registry.reference import DATA_DIR
from ..vector import Circle, Drawing, Group, Line, Path, Polygon, Rect, String

FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"   # pdf.FONT, pdf.FONT_BOLD
# The PDF's colours (pdf.TEXT, pdf.MUTED, pdf.RULE, pdf.ZEBRA) and page width (pdf.CONTENT_WIDTH: A4 less
# 18 mm on each side, computed as reportlab does), here without reportlab; tests/test_report_charts.py
# checks that they are the same.
INK, MUTED, RULE, ZEBRA = "#1a1a1a", "#555555", "#8a8a8a", "#f4f5f7"
WHITE = "#ffffff"
_MM = 72.0 / 2.54 * 0.1
CONTENT_WIDTH = 210 * _MM - 18 * _MM - 18 * _MM
GRID = "#d9d9d9"
ROUND_COLOURS = {1: "#1f5f99", 2: "#b35806"}
BAR = "#1f5f99"

# Map statuses: fill colour, marker shape. Shapes carry the meaning for readers without colour.
MAP_STYLE = {
    "bada": ("#1f5f99", "circle"),
    "forsta": ("#8cbce6", "triangle"),
    "bokat": ("#f2b134", "square"),
    "ej_bokat": ("#f4f4f4", "cross"),
}
OUTSIDE = "#dedede"   # kommuner without a visit site
BOUNDARIES = DATA_DIR / "kommuner.geojson"
SIMPLIFY_M = 2500.0   # drop boundary points closer than this to the last kept one (the map is ~1:7 000 000)
MIN_RING_M = 4000.0   # and islands smaller than this


def _w(text: str, size: float, font: str = FONT) -> float:
    return fontmetrics.string_width(text, font, size)


def _fit(text: str, size: float, room: float, font: str = FONT) -> list[str]:
    """Text broken into at most two lines of `room` points (the second shortened with an ellipsis)."""
    words, lines, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if _w(candidate, size, font) <= room or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    lines.append(line)
    if len(lines) > 2:
        rest = " ".join(lines[1:])
        while rest and _w(rest + "…", size, font) > room:
            rest = rest[:-1]
        lines = [lines[0], rest.rstrip() + "…"]
    return lines


def _dashed(x0: float, y0: float, x1: float, y1: float, dash: list[float] | None, **kw) -> Path:
    """A straight line as an open Path (reportlab's SVG drew a Line as a closed path, which hid its dashes)."""
    return Path(points=[x0, y0, x1, y1], operators=[0, 1], fillColor=None, strokeDashArray=dash, **kw)


def _marker(shape: str, x: float, y: float, size: float, fill, stroke=INK, halo: bool = False) -> Group:
    """A legend/map marker centred on (x, y); with a white halo it stands out on any fill."""
    r = size / 2
    g = Group()
    if halo:
        g.add(Circle(x, y, r + 1.4, fillColor=WHITE, strokeColor=None))
    if shape == "circle":
        g.add(Circle(x, y, r, fillColor=fill, strokeColor=stroke, strokeWidth=0.6))
    elif shape == "triangle":
        g.add(Polygon([x - r, y - r * 0.85, x + r, y - r * 0.85, x, y + r], fillColor=fill, strokeColor=stroke,
                      strokeWidth=0.6))
    elif shape == "square":
        g.add(Rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7, fillColor=fill, strokeColor=stroke, strokeWidth=0.6))
    else:  # cross: not booked
        g.add(Line(x - r, y - r, x + r, y + r, strokeColor=stroke, strokeWidth=1.1))
        g.add(Line(x - r, y + r, x + r, y - r, strokeColor=stroke, strokeWidth=1.1))
    return g


# --------------------------------------------------------------------------- progress over time

def progress(data: dict[str, Any], labels: dict[str, str], width: float = CONTENT_WIDTH,
             height: float = 190) -> Drawing:
    """Cumulative visits per month: planned (dashed) and held (solid) per round, the target dotted.

    labels: planned, held (with %(n)s for the round), target, period_end."""
    prog = data["visits"]["progress"]
    months: list[str] = prog["months"]
    d = Drawing(width, height)
    if not months:
        return d
    left, right, bottom, top = 30, 12, 30, 34
    pw, ph = width - left - right, height - bottom - top
    target = max(prog["targets"] or [0])
    peak = max([target, 1] + [max(s["planned"] or [0]) for s in prog["series"]])
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500) if peak / s <= 8)
    ymax = -(-peak // step) * step
    n = len(months)

    def x(i: float) -> float:
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        return bottom + ph * v / ymax

    for v in range(0, ymax + 1, step):
        d.add(Line(left, y(v), left + pw, y(v), strokeColor=GRID, strokeWidth=0.5))
        d.add(String(left - 4, y(v) - 2.5, fmt_int(v), fontName=FONT, fontSize=7, fillColor=INK,
                     textAnchor="end"))
    for i, month in enumerate(months):
        quarter_start = month[5:] in ("01", "04", "07", "10")
        d.add(Line(x(i), bottom, x(i), bottom - (4 if quarter_start else 2), strokeColor=INK, strokeWidth=0.5))
        if quarter_start:
            d.add(String(x(i), bottom - 12, month, fontName=FONT, fontSize=6.5, fillColor=INK, textAnchor="middle"))
    d.add(Line(left, bottom, left + pw, bottom, strokeColor=INK, strokeWidth=0.7))
    if target:
        d.add(_dashed(left, y(target), left + pw, y(target), [1, 2], strokeColor=INK, strokeWidth=0.8))
        d.add(String(left + 3, y(target) + 3, labels["target"], fontName=FONT, fontSize=6.5, fillColor=INK))
    end = prog.get("period_end_index")
    if end is not None and end < n - 1:
        d.add(_dashed(x(end), bottom, x(end), bottom + ph, [3, 2], strokeColor=MUTED, strokeWidth=0.6))
        # Written up along the line, so it never sits on a curve's end.
        d.add(Group(String(4, -2.5, labels["period_end"], fontName=FONT, fontSize=6.5, fillColor=MUTED),
                    transform=(0, 1, -1, 0, x(end) - 3, bottom)))
    shapes = {1: "circle", 2: "square"}
    for s in prog["series"]:
        colour, shape = ROUND_COLOURS.get(s["round"], INK), shapes.get(s["round"], "circle")
        # A round's lines start the month before its first planned visit.
        first = next((i for i, v in enumerate(s["planned"]) if v), len(months))
        begin = max(0, first - 1)
        for key, dash, wide in (("planned", [4, 2], 1.0), ("held", None, 2.0)):
            pts = [(x(i), y(v)) for i, v in enumerate(s[key]) if v is not None and i >= begin]
            if len(pts) > 1:
                d.add(Path(points=[c for p in pts for c in p], operators=[0] + [1] * (len(pts) - 1),
                           strokeColor=colour, strokeWidth=wide, fillColor=None, strokeDashArray=dash))
            if key == "held":  # markers every quarter tell the rounds apart without colour
                last = max((i for i, v in enumerate(s[key]) if v is not None), default=-1)
                for i, v in enumerate(s[key]):
                    if v is not None and i >= begin and (months[i][5:] in ("03", "06", "09", "12") or i == last):
                        d.add(_marker(shape, x(i), y(v), 4.5, colour))
    # Legend across the top.
    lx, ly = left, height - 12
    for s in prog["series"]:
        colour, shape = ROUND_COLOURS.get(s["round"], INK), shapes.get(s["round"], "circle")
        for key, dash, wide in (("held", None, 2.0), ("planned", [4, 2], 1.0)):
            d.add(_dashed(lx, ly + 2.5, lx + 18, ly + 2.5, dash, strokeColor=colour, strokeWidth=wide))
            if key == "held":
                d.add(_marker(shape, lx + 9, ly + 2.5, 4.5, colour))
            text = labels[key] % {"n": s["round"]}
            d.add(String(lx + 22, ly, text, fontName=FONT, fontSize=7, fillColor=INK))
            lx += 22 + _w(text, 7) + 12
    return d


# --------------------------------------------------------------------------- themes by ÖJ group

def themes_by_group(data: dict[str, Any], labels: dict[str, str], width: float = CONTENT_WIDTH) -> Drawing:
    """Small multiples: one column per ÖJ group, one row per theme; a bar for the share of the group's
    visit notes that mention the theme, with the share printed at its end.

    labels: group (with %(g)s), notes (with %(n)s)."""
    bg = data["dialogue"]["by_group"]
    themes, groups, notes = bg["themes"], bg["groups"], bg["notes"]
    label_w, row_h, head_h = 150, 22, 30
    height = head_h + row_h * max(1, len(themes)) + 6
    d = Drawing(width, height)
    if not themes:
        return d
    col_w = (width - label_w) / len(groups)
    shares = [[c / n if n else None for c, n in zip(t["counts"], notes)] for t in themes]
    top = max([s for row in shares for s in row if s is not None] + [0.01])
    bar_room = col_w - 30  # room for the printed share
    for j, g in enumerate(groups):
        x0 = label_w + j * col_w
        d.add(String(x0 + 2, height - 11, labels["group"] % {"g": g}, fontName=BOLD, fontSize=7.5, fillColor=INK))
        d.add(String(x0 + 2, height - 21, labels["notes"] % {"n": fmt_int(notes[j])}, fontName=FONT,
                     fontSize=6.5, fillColor=MUTED))
        d.add(Line(x0, 2, x0, height - head_h + 4, strokeColor=GRID, strokeWidth=0.5))
    for i, t in enumerate(themes):
        yb = height - head_h - (i + 1) * row_h
        if i % 2 == 0:
            d.add(Rect(0, yb, width, row_h, fillColor=ZEBRA, strokeColor=None))
        lines = _fit(t["theme"], 7.5, label_w - 8)
        for k, line in enumerate(lines):
            d.add(String(2, yb + row_h / 2 + (len(lines) - 1) * 4.5 - k * 9 - 2.5, line, fontName=FONT, fontSize=7.5,
                         fillColor=INK))
        for j, value in enumerate(shares[i]):
            x0 = label_w + j * col_w + 3
            if value is None:
                d.add(String(x0, yb + row_h / 2 - 2.5, "–", fontName=FONT, fontSize=7, fillColor=MUTED))
                continue
            length = bar_room * value / top
            d.add(Rect(x0, yb + 6, max(length, 0.5), row_h - 12, fillColor=BAR, strokeColor=None))
            d.add(String(x0 + length + 2.5, yb + row_h / 2 - 2.5, fmt_pct(value), fontName=FONT, fontSize=7,
                         fillColor=INK))
    return d


# --------------------------------------------------------------------------- the map

@lru_cache(maxsize=2)
def _outlines(path: str, mtime_ns: int) -> tuple[dict[str, list[list[tuple[float, float]]]], tuple]:
    """Kommun rings projected to SWEREF 99 TM and thinned for a page-sized map; and the bounding box."""
    b = load_boundaries(path)
    out: dict[str, list[list[tuple[float, float]]]] = {}
    xs, ys = [], []
    for code, rings in b.items():
        kept_rings = []
        for ring in rings:
            pts = [project(lon, lat) for lon, lat in ring]
            kept = [pts[0]]
            for p in pts[1:]:
                if abs(p[0] - kept[-1][0]) + abs(p[1] - kept[-1][1]) >= SIMPLIFY_M:
                    kept.append(p)
            rx, ry = [p[0] for p in pts], [p[1] for p in pts]
            if len(kept) >= 3 and max(max(rx) - min(rx), max(ry) - min(ry)) >= MIN_RING_M:
                kept_rings.append(kept)
                xs += rx
                ys += ry
        out[code] = kept_rings
    return out, (min(xs), min(ys), max(xs), max(ys))


def outlines() -> tuple[dict[str, list[list[tuple[float, float]]]], tuple]:
    path = os.path.realpath(BOUNDARIES)
    return _outlines(path, os.stat(path).st_mtime_ns)


def sweden(data: dict[str, Any], labels: dict[str, str], width: float = CONTENT_WIDTH,
           map_width: float = 200) -> Drawing:
    """Sweden's kommuner, those with visit sites coloured by status and marked at their centre.

    labels: title of the legend, outside (kommuner without a site), and the data's legend entries."""
    rings, (x0, y0, x1, y1) = outlines()
    scale = map_width / (x1 - x0)
    height = (y1 - y0) * scale + 4
    d = Drawing(width, height)
    status = data["map"]["kommuner"]

    def pt(e: float, n: float) -> tuple[float, float]:
        return round((e - x0) * scale + 2, 1), round((n - y0) * scale + 2, 1)

    for code, kommun_rings in sorted(rings.items()):
        key = status.get(code)
        path = Path(fillColor=MAP_STYLE[key][0] if key else OUTSIDE, strokeColor=WHITE,
                    strokeWidth=0.25 if key is None else 0.35, fillMode=0)  # even-odd: holes stay holes
        for ring in kommun_rings:
            px, py = pt(*ring[0])
            path.moveTo(px, py)
            for p in ring[1:]:
                path.lineTo(*pt(*p))
            path.closePath()
        d.add(path)
    placed = set()
    for site in data["map"]["sites"]:
        code = site["kommunkod"]
        if code in placed or code not in status or site.get("lon") is None:
            continue
        placed.add(code)
        fill, shape = MAP_STYLE[status[code]]
        d.add(_marker(shape, *pt(*project(site["lon"], site["lat"])), 5, fill, halo=True))
    # The legend beside the map: marker, colour, words and count.
    lx, ly = map_width + 24, height - 14
    d.add(String(lx, ly, labels["legend"], fontName=BOLD, fontSize=8.5, fillColor=INK))
    ly -= 20
    for entry in data["map"]["legend"]:
        fill, shape = MAP_STYLE[entry["key"]]
        d.add(Rect(lx, ly - 4, 16, 12, fillColor=fill, strokeColor=RULE, strokeWidth=0.5))
        d.add(_marker(shape, lx + 8, ly + 2, 5, fill))
        d.add(String(lx + 24, ly - 1, f"{entry['label']}: {fmt_int(entry['count'])}", fontName=FONT, fontSize=8,
                     fillColor=INK))
        ly -= 19
    d.add(Rect(lx, ly - 4, 16, 12, fillColor=OUTSIDE, strokeColor=RULE, strokeWidth=0.5))
    d.add(String(lx + 24, ly - 1, labels["outside"], fontName=FONT, fontSize=8, fillColor=INK))
    for k, line in enumerate(labels.get("note", "").split("\n") if labels.get("note") else []):
        d.add(String(lx, ly - 26 - 10 * k, line, fontName=FONT, fontSize=7, fillColor=MUTED))
    return d


# --------------------------------------------------------------------------- the page and the PDF

def svg(drawing: Drawing, title: str, desc: str, ident: str) -> Markup:
    """The drawing as inline SVG: role img, labelled by its title and described by its description;
    ids made unique with `ident` so several charts can share a page; the page's font."""
    return Markup(vector.svg(drawing, title, desc, ident, css_class="report-chart"))


def to_reportlab(drawing: Drawing):
    """The drawing as a reportlab Drawing, for the PDF (and the Word file's pictures)."""
    return vector.to_reportlab(drawing)
