"""Plain vector drawings: the report's charts described once, drawn as SVG for the page and by reportlab
for the PDF and the Word file.

The shapes take reportlab's names and arguments (Drawing, Group, Line, Rect, Circle, Polygon, Path,
String; x and y in points from the bottom left; colours as "#rrggbb"; reportlab's defaults where a style
is left out: black stroke 1 pt wide, black fill, even-odd fill rule). So a chart is laid out by one piece
of code, and
- ``svg(drawing, ...)`` writes it as inline SVG markup, here, without reportlab (a web worker that shows a
  report draft need not load reportlab's graphics and fonts, some 20 MB);
- ``to_reportlab(drawing)`` builds the same picture as reportlab shapes, for the PDF and the Word file's
  pictures (reportlab is imported there, by the caller that prints).

Plain Python: no Flask.
"""
from __future__ import annotations

from html import escape
from typing import Any

FILL_EVEN_ODD, FILL_NON_ZERO = 0, 1
MOVE, LINE, CURVE, CLOSE = 0, 1, 2, 3   # reportlab's path operators
WEB_FONTS = {  # reportlab font name -> the page's font (family, bold)
    "DejaVuSans": ("'DejaVu Sans', Verdana, sans-serif", False),
    "DejaVuSans-Bold": ("'DejaVu Sans', Verdana, sans-serif", True),
}


class Shape:
    """A shape: its reportlab class name, positional arguments and style keywords."""
    kind = ""

    def __init__(self, *args: Any, **style: Any):
        self.args = args
        self.style = style

    def get(self, key: str, default: Any = None) -> Any:
        return self.style.get(key, default)


class Line(Shape):
    kind = "Line"       # x1, y1, x2, y2


class Rect(Shape):
    kind = "Rect"       # x, y, width, height


class Circle(Shape):
    kind = "Circle"     # cx, cy, r


class Polygon(Shape):
    kind = "Polygon"    # points: [x0, y0, x1, y1, ...]


class String(Shape):
    kind = "String"     # x, y, text; fontName, fontSize, fillColor, textAnchor (start | middle | end)


class Path(Shape):
    """points [x0, y0, ...] and operators (MOVE, LINE, CLOSE), given or added with moveTo/lineTo/closePath."""
    kind = "Path"

    def __init__(self, points: list[float] | None = None, operators: list[int] | None = None, **style: Any):
        super().__init__(**style)
        self.points = list(points or [])
        self.operators = list(operators or [])

    def moveTo(self, x: float, y: float) -> None:  # noqa: N802 (reportlab's name)
        self.points += [x, y]
        self.operators.append(MOVE)

    def lineTo(self, x: float, y: float) -> None:  # noqa: N802
        self.points += [x, y]
        self.operators.append(LINE)

    def closePath(self) -> None:  # noqa: N802
        self.operators.append(CLOSE)


class Group:
    """Shapes drawn together, through a transform (a, b, c, d, e, f) as in PDF: x' = ax + cy + e, y' = bx + dy + f."""

    def __init__(self, *contents: Any, transform: tuple[float, ...] = (1, 0, 0, 1, 0, 0)):
        self.contents = list(contents)
        self.transform = tuple(transform)

    def add(self, shape: Any) -> None:
        self.contents.append(shape)


class Drawing(Group):
    def __init__(self, width: float, height: float):
        super().__init__()
        self.width, self.height = width, height


# --------------------------------------------------------------------------- SVG

def _n(v: float) -> str:
    """A coordinate with at most two decimals, without trailing zeros."""
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class _Svg:
    def __init__(self, height: float):
        self.h = height
        self.out: list[str] = []

    def y(self, v: float) -> float:
        return self.h - v

    def stroke(self, s: Shape) -> str:
        colour = s.get("strokeColor", "#000000")
        if colour is None:
            return ""
        attrs = f' stroke="{colour}" stroke-width="{_n(s.get("strokeWidth", 1))}"'
        if s.get("strokeDashArray"):
            attrs += f' stroke-dasharray="{" ".join(_n(v) for v in s.get("strokeDashArray"))}"'
        return attrs

    def fill(self, s: Shape) -> str:
        colour = s.get("fillColor", "#000000")
        return ' fill="none"' if colour is None else f' fill="{colour}"'

    def group(self, g: Group) -> None:
        for shape in g.contents:
            if isinstance(shape, Group):
                a, b, c, d, e, f = shape.transform
                h = self.h
                # The same transform seen through the page's y axis (y' = h - y) on both sides.
                matrix = " ".join(_n(v) for v in (a, -b, -c, d, c * h + e, h - d * h - f))
                self.out.append(f'<g transform="matrix({matrix})">')
                self.group(shape)
                self.out.append("</g>")
            else:
                getattr(self, shape.kind.lower())(shape)

    def line(self, s: Shape) -> None:
        x1, y1, x2, y2 = s.args
        self.out.append(f'<line x1="{_n(x1)}" y1="{_n(self.y(y1))}" x2="{_n(x2)}" y2="{_n(self.y(y2))}"'
                        f'{self.stroke(s)}/>')

    def rect(self, s: Shape) -> None:
        x, y, w, h = s.args
        self.out.append(f'<rect x="{_n(x)}" y="{_n(self.y(y + h))}" width="{_n(w)}" height="{_n(h)}"'
                        f'{self.fill(s)}{self.stroke(s)}/>')

    def circle(self, s: Shape) -> None:
        cx, cy, r = s.args
        self.out.append(f'<circle cx="{_n(cx)}" cy="{_n(self.y(cy))}" r="{_n(r)}"{self.fill(s)}{self.stroke(s)}/>')

    def polygon(self, s: Shape) -> None:
        pts = s.args[0]
        text = " ".join(f"{_n(pts[i])},{_n(self.y(pts[i + 1]))}" for i in range(0, len(pts), 2))
        self.out.append(f'<polygon points="{text}"{self.fill(s)}{self.stroke(s)}/>')

    def path(self, s: Path) -> None:
        d, i = [], 0
        for op in s.operators:
            if op == CLOSE:
                d.append("Z")
                continue
            if op == CURVE:
                raise ValueError("curves are not drawn here")
            x, y = s.points[i], s.points[i + 1]
            i += 2
            d.append(f"{'M' if op == MOVE else 'L'}{_n(x)} {_n(self.y(y))}")
        rule = "evenodd" if s.get("fillMode", FILL_EVEN_ODD) == FILL_EVEN_ODD else "nonzero"
        self.out.append(f'<path d="{"".join(d)}"{self.fill(s)} fill-rule="{rule}"{self.stroke(s)}/>')

    def string(self, s: Shape) -> None:
        x, y, text = s.args
        _family, bold = WEB_FONTS.get(s.get("fontName"), WEB_FONTS["DejaVuSans"])
        anchor = s.get("textAnchor", "start")
        attrs = f'x="{_n(x)}" y="{_n(self.y(y))}" font-size="{_n(s.get("fontSize", 10))}"'
        if bold:
            attrs += ' font-weight="bold"'
        attrs += f' fill="{s.get("fillColor", "#000000")}"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        self.out.append(f"<text {attrs}>{escape(text, quote=False)}</text>")


def svg(drawing: Drawing, title: str, desc: str, ident: str, css_class: str = "") -> str:
    """The drawing as inline SVG markup: role img, labelled by its title and described by its description
    (ids made unique with `ident`, so several drawings can share a page), in the page's font."""
    pen = _Svg(drawing.height)
    pen.group(drawing)
    w, h = _n(drawing.width), _n(drawing.height)
    css = f' class="{escape(css_class)}"' if css_class else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{ident}-title" '
            f'aria-describedby="{ident}-desc"{css} focusable="false" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
            f'preserveAspectRatio="xMinYMin meet" stroke-miterlimit="10" font-family="{WEB_FONTS["DejaVuSans"][0]}">'
            f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>'
            + "".join(pen.out) + "</svg>")


# --------------------------------------------------------------------------- reportlab

def to_reportlab(drawing: Drawing):
    """The same drawing as a reportlab Drawing (for the PDF; the Word file's pictures are made from it)."""
    from reportlab.graphics import shapes
    from reportlab.lib import colors

    def style(s: Shape) -> dict[str, Any]:
        return {k: (colors.HexColor(v) if k.endswith("Color") and v is not None else v) for k, v in s.style.items()}

    def build(shape):
        if isinstance(shape, Group):
            return shapes.Group(*[build(c) for c in shape.contents], transform=shape.transform)
        if isinstance(shape, Path):
            return shapes.Path(points=list(shape.points), operators=list(shape.operators), **style(shape))
        return getattr(shapes, shape.kind)(*shape.args, **style(shape))

    out = shapes.Drawing(drawing.width, drawing.height)
    for shape in drawing.contents:
        out.add(build(shape))
    return out
