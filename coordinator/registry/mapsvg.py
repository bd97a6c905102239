"""An SVG map of Sweden's kommuner drawn from the shipped GeoJSON (no internet, no pyproj).

``load_boundaries(path)`` reads the GeoJSON (Polygon and MultiPolygon, holes kept) and
projects it once to SWEREF 99 TM (EPSG:3006, Sweden's national transverse Mercator), with
Lantmäteriet's Gauss–Krüger series.  Projected path strings are cached per file (module
level ``lru_cache`` keyed by path, size and mtime), so :func:`render_svg` only joins
strings: one ``<path>`` per kommun, fill-rule evenodd (holes stay holes), a ``<title>``
tooltip, an optional ``<a href>`` per kommun, ``role``, ``aria-labelledby`` (title) and ``aria-describedby`` (description) on the root.

Coordinates are in map units of :data:`UNIT_METRES` (2 km), rounded to 1 decimal, written
as one absolute ``M`` per ring followed by relative ``l`` steps between rounded points, so
the whole country is roughly 130 kB of SVG.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from functools import lru_cache
from html import escape

__all__ = ["Boundaries", "load_boundaries", "project", "render_svg", "UNIT_METRES"]

UNIT_METRES = 2000.0  # one SVG user unit = 2 km; 1 decimal = 200 m
PADDING = 2.0  # user units around the fitted viewBox

# SWEREF 99 TM: GRS80 ellipsoid, central meridian 15°E, scale 0.9996, false easting 500 km.
_A = 6378137.0
_F = 1 / 298.257222101
_LON0 = math.radians(15.0)
_K0 = 0.9996
_FE = 500000.0
_E2 = _F * (2 - _F)
_N = _F / (2 - _F)
_AR = _A / (1 + _N) * (1 + _N**2 / 4 + _N**4 / 64)
_CA = _E2
_CB = (5 * _E2**2 - _E2**3) / 6
_CC = (104 * _E2**3 - 45 * _E2**4) / 120
_CD = 1237 * _E2**4 / 1260
_B1 = _N / 2 - 2 * _N**2 / 3 + 5 * _N**3 / 16 + 41 * _N**4 / 180
_B2 = 13 * _N**2 / 48 - 3 * _N**3 / 5 + 557 * _N**4 / 1440
_B3 = 61 * _N**3 / 240 - 103 * _N**4 / 140
_B4 = 49561 * _N**4 / 161280


def project(lon: float, lat: float) -> tuple[float, float]:
    """WGS84/SWEREF 99 lon, lat in degrees -> (easting, northing) in metres, SWEREF 99 TM."""
    phi = math.radians(lat)
    s = math.sin(phi)
    s2 = s * s
    phi_c = phi - s * math.cos(phi) * (_CA + s2 * (_CB + s2 * (_CC + s2 * _CD)))
    dlon = math.radians(lon) - _LON0
    xi = math.atan(math.tan(phi_c) / math.cos(dlon))
    eta = math.atanh(math.cos(phi_c) * math.sin(dlon))
    x = xi + (_B1 * math.sin(2 * xi) * math.cosh(2 * eta) + _B2 * math.sin(4 * xi) * math.cosh(4 * eta)
              + _B3 * math.sin(6 * xi) * math.cosh(6 * eta) + _B4 * math.sin(8 * xi) * math.cosh(8 * eta))
    y = eta + (_B1 * math.cos(2 * xi) * math.sinh(2 * eta) + _B2 * math.cos(4 * xi) * math.sinh(4 * eta)
               + _B3 * math.cos(6 * xi) * math.sinh(6 * eta) + _B4 * math.cos(8 * xi) * math.sinh(8 * eta))
    return _K0 * _AR * y + _FE, _K0 * _AR * x


class Boundaries(dict):
    """``{kommunkod: [ring, ...]}``, each ring a tuple of (lon, lat) tuples; outer rings and
    holes alike (fill-rule evenodd tells them apart).  Returned from a cache: do not mutate.

    Extra attributes: ``names`` (kommunkod -> kommun from the file), ``path`` (source file),
    ``svg_paths`` (kommunkod -> SVG path data) and ``bboxes`` (kommunkod -> (x0, y0, x1, y1)
    in SVG user units).
    """

    names: dict[str, str]
    path: str | None
    svg_paths: dict[str, str]
    bboxes: dict[str, tuple[float, float, float, float]]


def _rings_of(geometry: Mapping) -> list[tuple[tuple[float, float], ...]]:
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon":
        polygons = coords
    else:
        raise ValueError(f"unsupported geometry type {kind!r}")
    return [tuple((float(p[0]), float(p[1])) for p in ring) for polygon in polygons for ring in polygon]


def _tenths(lon: float, lat: float) -> tuple[int, int]:
    """Projected point in integer tenths of a user unit, y pointing down (north up)."""
    e, n = project(lon, lat)
    return round(e / UNIT_METRES * 10), round(-n / UNIT_METRES * 10)


def _fmt(tenths: int) -> str:
    sign = "-" if tenths < 0 else ""
    q, r = divmod(abs(tenths), 10)
    if not r:
        return f"{sign}{q}"
    return f"{sign}{q}.{r}" if q else f"{sign}.{r}"  # "-.5", not "-0.5": smaller files


def _path_data(rings) -> tuple[str, tuple[int, int, int, int] | None]:
    """SVG path data for the rings and their bbox in tenths (None if every ring collapsed)."""
    parts: list[str] = []
    x0 = y0 = math.inf
    x1 = y1 = -math.inf
    for ring in rings:
        pts: list[tuple[int, int]] = []
        for lon, lat in ring:
            p = _tenths(lon, lat)
            if not pts or p != pts[-1]:
                pts.append(p)
        if len(pts) > 1 and pts[0] == pts[-1]:
            pts.pop()  # the ring is closed by "z"
        if len(pts) < 3:
            continue  # collapsed to a point or a line at this resolution
        out = [f"M{_fmt(pts[0][0])} {_fmt(pts[0][1])}l"]
        steps = []
        px, py = pts[0]
        for x, y in pts[1:]:
            dx, dy = x - px, y - py
            steps.append(f"{_fmt(dx)}{' ' if dy >= 0 else ''}{_fmt(dy)}")
            px, py = x, y
        # Separate pairs by a space unless the next number starts with "-".
        joined = steps[0]
        for step in steps[1:]:
            joined += step if step.startswith("-") else " " + step
        out.append(joined)
        out.append("z")
        parts.append("".join(out))
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        x0, y0, x1, y1 = min(x0, *xs), min(y0, *ys), max(x1, *xs), max(y1, *ys)
    if not parts:
        return "", None
    return "".join(parts), (x0, y0, x1, y1)


def _build(features: list[Mapping], source: str | None) -> Boundaries:
    b = Boundaries()
    b.names, b.path, b.svg_paths, b.bboxes = {}, source, {}, {}
    for feature in features:
        props = feature.get("properties") or {}
        code = str(props.get("kommunkod") or props.get("id") or "").strip()
        if not code or feature.get("geometry") is None:
            continue
        code = code.zfill(4)
        rings = _rings_of(feature["geometry"])
        b.setdefault(code, []).extend(rings)
        if props.get("kommun"):
            b.names[code] = str(props["kommun"])
    for code, rings in b.items():
        d, box = _path_data(rings)
        if box is not None:
            b.svg_paths[code] = d
            b.bboxes[code] = tuple(v / 10 for v in box)
    return b


@lru_cache(maxsize=8)
def _load_cached(path: str, size: int, mtime_ns: int) -> Boundaries:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    features = data.get("features", []) if data.get("type") == "FeatureCollection" else [data]
    return _build(features, path)


def load_boundaries(path: str | os.PathLike) -> Boundaries:
    """Kommun boundaries from a GeoJSON file, projected and cached per file."""
    path = os.path.realpath(os.fspath(path))
    st = os.stat(path)
    return _load_cached(path, st.st_size, st.st_mtime_ns)


def _prepared(boundaries: Mapping) -> Boundaries:
    if isinstance(boundaries, Boundaries) and hasattr(boundaries, "svg_paths"):
        return boundaries
    # A plain {kommunkod: rings} mapping: project it now (not cached).
    return _build([{"properties": {"kommunkod": code}, "geometry": {"type": "Polygon", "coordinates": list(rings)}}
                   for code, rings in boundaries.items()], None)


def render_svg(
    boundaries: Mapping[str, list],
    fills: Mapping[str, str],
    labels: Mapping[str, str],
    links: Mapping[str, str] | None = None,
    width: int | float = 420,
    title: str = "Karta över Sveriges kommuner",
    desc: str = "Varje kommun är färgad enligt teckenförklaringen.",
    *,
    default_fill: str = "#d9d9d9",
    stroke: str = "#ffffff",
    stroke_width: float | None = None,
    id_prefix: str = "karta",
    css_class: str | None = None,
    role: str | None = None,
    codes: list[str] | None = None,
) -> str:
    """The map as an ``<svg>`` string (no XML declaration, ready to inline in HTML).

    ``fills``/``labels``/``links`` are keyed by kommunkod; a kommun without a fill gets
    ``default_fill``, without a label "kod namn".  ``codes`` limits (and orders) the kommuner
    drawn; the viewBox is fitted to the kommuner drawn.  ``stroke_width`` (user units) defaults
    to 1/1100 of the viewBox width, about 0.4 px whatever the zoom.  The root has ``role="img"`` unless
    links are given: then ``role="group"`` so assistive technology still exposes the links
    (a ``role="img"`` subtree is presentational); pass ``role`` to override.
    """
    b = _prepared(boundaries)
    drawn = [c for c in (codes if codes is not None else b.svg_paths) if c in b.svg_paths]
    if drawn:
        x0 = min(b.bboxes[c][0] for c in drawn) - PADDING
        y0 = min(b.bboxes[c][1] for c in drawn) - PADDING
        x1 = max(b.bboxes[c][2] for c in drawn) + PADDING
        y1 = max(b.bboxes[c][3] for c in drawn) + PADDING
    else:
        x0, y0, x1, y1 = 0.0, 0.0, 1.0, 1.0
    vw, vh = x1 - x0, y1 - y0
    height = width * vh / vw
    if stroke_width is None:
        stroke_width = round(vw / 1100, 3)
    role = role or ("group" if links else "img")
    tid, did = f"{id_prefix}-title", f"{id_prefix}-desc"
    cls = f' class="{escape(css_class)}"' if css_class else ""

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{x0:.1f} {y0:.1f} {vw:.1f} {vh:.1f}" '
        f'width="{_num(width)}" height="{_num(height)}" role="{escape(role)}" '
        f'aria-labelledby="{tid}" aria-describedby="{did}"{cls}>',
        f'<title id="{tid}">{escape(title)}</title>',
        f'<desc id="{did}">{escape(desc)}</desc>',
        f'<g fill-rule="evenodd" stroke="{escape(stroke)}" stroke-width="{stroke_width}" stroke-linejoin="round">',
    ]
    append = out.append
    for code in drawn:
        label = escape(labels.get(code) or f"{code} {b.names.get(code, '')}".strip())
        fill = escape(fills.get(code) or default_fill)
        path = (f'<path id="{id_prefix}-{code}" data-kommunkod="{code}" fill="{fill}" '
                f'd="{b.svg_paths[code]}"><title>{label}</title></path>')
        href = links.get(code) if links else None
        if href:
            append(f'<a href="{escape(href)}" aria-label="{label}">{path}</a>')
        else:
            append(path)
    append("</g></svg>")
    return "".join(out)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")
