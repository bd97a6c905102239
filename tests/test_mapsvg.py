"""SVG map of the kommuner (coordinator/registry/mapsvg.py) from the shipped GeoJSON.

The module is loaded by file path so these tests need neither Flask nor the app package.
"""
from __future__ import annotations

import importlib.util
import json
import re
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "coordinator" / "registry" / "mapsvg.py"
DATA = ROOT / "coordinator" / "registry" / "data"
if not (DATA / "kommuner.geojson").exists():
    DATA = Path("/work/shared/data")
GEOJSON = DATA / "kommuner.geojson"
SVG = "{http://www.w3.org/2000/svg}"


def _load_module():
    name = "_mapsvg_under_test"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, MODULE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


mapsvg = _load_module()
FEATURES = json.loads(GEOJSON.read_text(encoding="utf-8"))["features"]


def polygons(feature):
    g = feature["geometry"]
    return [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]


@pytest.fixture(scope="module")
def boundaries():
    return mapsvg.load_boundaries(GEOJSON)


@pytest.fixture(scope="module")
def labels(boundaries):
    return {c: f"{c} {boundaries.names[c]}: 1 234 invånare" for c in boundaries}


def paths_of(root):
    return list(root.iter(f"{SVG}path"))


def test_load_boundaries_reads_polygons_multipolygons_and_holes(boundaries):
    assert len(boundaries) == 290
    assert all(re.fullmatch(r"\d{4}", c) for c in boundaries)
    for feature in FEATURES:
        code = feature["properties"]["kommunkod"]
        rings = boundaries[code]
        assert len(rings) == sum(len(p) for p in polygons(feature))
        first = polygons(feature)[0][0]
        assert rings[0][0] == pytest.approx(tuple(first[0]))
    assert boundaries.names["0114"] == "Upplands Väsby"
    # Cached per file: the same object comes back, also for an equivalent path.
    assert mapsvg.load_boundaries(str(GEOJSON)) is boundaries


def test_projection_is_sweref99tm():
    e, n = mapsvg.project(15.0, 60.0)  # on the central meridian: false easting, k0 x meridian arc
    assert e == pytest.approx(500000.0, abs=1e-6)
    assert n == pytest.approx(0.9996 * 6654072.819, abs=1.0)
    e, n = mapsvg.project(18.0686, 59.3293)  # Stockholm; check against the classic TM series
    assert e == pytest.approx(674571.9, abs=1.0)
    assert 6_580_000 < n < 6_581_500


def test_render_svg_has_one_path_per_kommun_with_fills_and_titles(boundaries, labels):
    fills = {c: ("#08306b" if c.startswith("01") else "#c6dbef") for c in boundaries}
    svg = mapsvg.render_svg(boundaries, fills, labels)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    paths = paths_of(root)
    assert len(paths) == 290
    codes = [p.get("data-kommunkod") for p in paths]
    assert sorted(codes) == sorted(boundaries)
    for p in paths:
        code = p.get("data-kommunkod")
        assert code in p.get("id")
        assert p.get("fill") == fills[code]
        assert p.find(f"{SVG}title").text == labels[code]
        assert p.get("d").startswith("M")
    # The whole map is inside one group with evenodd fill and a thin white stroke.
    group = root.find(f"{SVG}g")
    assert group.get("fill-rule") == "evenodd"
    assert group.get("stroke") == "#ffffff"
    assert 0 < float(group.get("stroke-width")) < 1
    assert root.find(f"{SVG}a") is None and group.find(f"{SVG}a") is None


def test_accessible_root(boundaries, labels):
    svg = mapsvg.render_svg(boundaries, {}, labels, title="Befolkning 2019 & grupper", desc="Mörkare är större.")
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    # The short title names the map; the longer description describes it.
    assert root.get("aria-labelledby") == title.get("id")
    assert root.get("aria-describedby") == desc.get("id")
    assert title.text == "Befolkning 2019 & grupper" and desc.text == "Mörkare är större."
    assert list(root)[0] is title  # the title is the svg's first child


def test_viewbox_fitted_and_taller_than_wide(boundaries, labels):
    root = ET.fromstring(mapsvg.render_svg(boundaries, {}, labels, width=420))
    x, y, w, h = map(float, root.get("viewBox").split())
    assert 2.0 < h / w < 2.7  # Sweden: ~1 570 km north-south, ~650 km east-west
    assert float(root.get("width")) == 420
    assert float(root.get("height")) == pytest.approx(420 * h / w, abs=0.1)
    # Every coordinate lies inside the viewBox.
    for p in paths_of(root):
        for ring in p.get("d").split("z"):
            if not ring:
                continue
            for ax, ay in absolute_points(ring):
                assert x <= ax <= x + w and y <= ay <= y + h


def absolute_points(ring: str) -> list[tuple[float, float]]:
    """Points of one "M x y l dx dy ..." ring."""
    m = re.fullmatch(r"M([^l]+)l(.*)", ring)
    start = [float(v) for v in re.findall(r"-?\d*\.?\d+", m.group(1))]
    deltas = [float(v) for v in re.findall(r"-?\d*\.?\d+", m.group(2))]
    points = [(start[0], start[1])]
    for dx, dy in zip(deltas[::2], deltas[1::2]):
        points.append((points[-1][0] + dx, points[-1][1] + dy))
    return points


def test_coordinates_rounded_to_one_decimal(boundaries, labels):
    svg = mapsvg.render_svg(boundaries, {}, labels)
    numbers = re.findall(r"-?\d*\.\d+", " ".join(p.get("d") for p in paths_of(ET.fromstring(svg))))
    assert numbers and all(len(n.split(".")[1]) == 1 for n in numbers)
    assert len(svg) < 200_000


def test_holes_are_kept(boundaries, labels):
    root = ET.fromstring(mapsvg.render_svg(boundaries, {}, labels))
    d_by_code = {p.get("data-kommunkod"): p.get("d") for p in paths_of(root)}
    with_holes = [f for f in FEATURES if any(len(p) > 1 for p in polygons(f))]
    assert len(with_holes) == 6  # SOURCES.md
    for feature in with_holes:
        code = feature["properties"]["kommunkod"]
        rings = sum(len(p) for p in polygons(feature))
        d = d_by_code[code]
        assert d.count("M") == rings and d.count("z") == rings
    # MultiPolygons (e.g. archipelagos) keep every part too.
    for feature in FEATURES:
        code = feature["properties"]["kommunkod"]
        assert d_by_code[code].count("M") == sum(len(p) for p in polygons(feature))


def test_links_wrap_paths(boundaries, labels):
    links = {c: f"/kommuner/{c}?tab=besok&x=1" for c in boundaries if c != "0180"}
    svg = mapsvg.render_svg(boundaries, {}, labels, links=links)
    root = ET.fromstring(svg)
    anchors = list(root.iter(f"{SVG}a"))
    assert len(anchors) == 289
    for a in anchors:
        (path,) = a.findall(f"{SVG}path")
        code = path.get("data-kommunkod")
        assert a.get("href") == links[code]
        assert a.get("aria-label") == labels[code]
    assert "&amp;x=1" in svg
    # 0180 has no link: its path is not wrapped.
    group = root.find(f"{SVG}g")
    assert [p.get("data-kommunkod") for p in group.findall(f"{SVG}path")] == ["0180"]
    # With links the root is a group so assistive technology still reaches them.
    assert root.get("role") == "group"
    assert mapsvg.render_svg(boundaries, {}, labels, links=links, role="img").count('role="img"') == 1


def test_labels_and_fills_are_escaped_and_defaults_used(boundaries):
    svg = mapsvg.render_svg(boundaries, {"0114": '"><script>'}, {"0114": "A & B <c>"}, default_fill="#eeeeee")
    root = ET.fromstring(svg)
    by_code = {p.get("data-kommunkod"): p for p in paths_of(root)}
    assert by_code["0114"].get("fill") == '"><script>'
    assert by_code["0114"].find(f"{SVG}title").text == "A & B <c>"
    assert by_code["0115"].get("fill") == "#eeeeee"
    assert by_code["0115"].find(f"{SVG}title").text == "0115 Vallentuna"


def test_subset_zooms_viewbox(boundaries, labels):
    full = ET.fromstring(mapsvg.render_svg(boundaries, {}, labels))
    stockholm = [c for c in boundaries if c.startswith("01")]
    part = ET.fromstring(mapsvg.render_svg(boundaries, {}, labels, codes=stockholm))
    assert len(paths_of(part)) == 26
    assert float(part.get("viewBox").split()[2]) < float(full.get("viewBox").split()[2]) / 2


def test_plain_dict_boundaries_are_accepted(boundaries, labels):
    plain = {c: [list(r) for r in boundaries[c]] for c in ("0114", "0115")}
    root = ET.fromstring(mapsvg.render_svg(plain, {"0114": "#000"}, labels))
    assert [p.get("data-kommunkod") for p in paths_of(root)] == ["0114", "0115"]
    assert paths_of(root)[0].get("d") == boundaries.svg_paths["0114"]


def test_render_is_fast_after_first_load(boundaries, labels):
    fills = {c: "#abcdef" for c in boundaries}
    links = {c: f"/k/{c}" for c in boundaries}
    mapsvg.render_svg(boundaries, fills, labels, links=links)
    runs = 20
    start = time.perf_counter()
    for _ in range(runs):
        mapsvg.load_boundaries(GEOJSON)  # a cache hit
        mapsvg.render_svg(boundaries, fills, labels, links=links)
    per_render = (time.perf_counter() - start) / runs
    assert per_render < 0.020, f"{per_render * 1000:.1f} ms"
