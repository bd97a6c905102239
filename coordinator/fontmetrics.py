"""Text widths in the documents' font (DejaVu Sans, coordinator/fonts), without reportlab.

The report's charts are laid out in points (coordinator/reports/charts.py): a theme's name is broken
into lines that fit its column, the legend's entries follow each other. The PDF measures the same text
with reportlab; the web page must not load reportlab for that (it weighs some 20 MB per process with its
fonts), so the widths are read here from the font file's own tables, the way reportlab reads them:

- ``cmap`` maps a character to a glyph (the subtable reportlab picks: the last Windows one),
- ``hmtx`` gives each glyph's advance width in font units (glyphs past the table repeat its last width),
- a width in points is units × 1000 / unitsPerEm, summed over the text, × size / 1000;
- a character the font lacks counts as glyph 0's width, and a no-break space as a space.

So ``string_width(text, font, size)`` equals reportlab's ``stringWidth`` for the registered font, to the
last bit (tests/test_report_charts.py compares them over every character of the font). Only the two small
tables are kept (some 40 kB a font), read on first use. Plain Python: no Flask.
"""
from __future__ import annotations

import struct
import threading
from array import array
from bisect import bisect_left
from pathlib import Path

FONT_DIR = Path(__file__).parent / "fonts"
FILES = {"DejaVuSans": "DejaVuSans.ttf", "DejaVuSans-Bold": "DejaVuSans-Bold.ttf",
         "DejaVuSans-Oblique": "DejaVuSans-Oblique.ttf"}


class Metrics:
    """One font's character widths (in 1/1000 of the font size), read from its cmap and hmtx tables."""

    def __init__(self, data: bytes):
        tables = {}
        (count,) = struct.unpack_from(">H", data, 4)
        for i in range(count):
            tag, _checksum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
            tables[tag.decode("latin-1")] = (offset, length)
        head = tables["head"][0]
        (units_per_em,) = struct.unpack_from(">H", data, head + 18)
        scale = 1000 / units_per_em
        self._scale = (lambda x: x) if units_per_em == 1000 else (lambda x: x * scale)
        (self.num_glyphs,) = struct.unpack_from(">H", data, tables["maxp"][0] + 4)
        (n_metrics,) = struct.unpack_from(">H", data, tables["hhea"][0] + 34)
        hmtx = tables["hmtx"][0]
        self._advance = array("H", struct.unpack_from(f">{2 * n_metrics}H", data, hmtx)[::2])
        self._cmap(data, tables["cmap"][0])
        self.default = self._glyph_width(0)
        self._cache: dict[int, float] = {}
        self._lock = threading.Lock()

    def _cmap(self, data: bytes, base: int) -> None:
        """The subtable reportlab chooses, kept as segments: (starts, ends, deltas, range offsets) for format 4,
        (starts, ends, first glyphs) for format 12."""
        version, n = struct.unpack_from(">HH", data, base)
        if n == 0 and version != 0:
            n = version
        chosen, enc = None, 0
        for i in range(n):
            platform, encoding, offset = struct.unpack_from(">HHI", data, base + 4 + 8 * i)
            if platform == 3:
                enc, chosen = 1, offset
            elif platform == 1 and encoding == 0 and enc != 1:
                enc, chosen = 2, offset
            elif platform == 1 and encoding == 1:
                enc, chosen = 1, offset
            elif platform == 0 and encoding != 5:
                enc, chosen = 1, offset
        if chosen is None:
            raise ValueError("no usable cmap subtable")
        at = base + chosen
        (fmt,) = struct.unpack_from(">H", data, at)
        self.format = fmt
        if fmt == 4:
            length, _lang, seg2 = struct.unpack_from(">HHH", data, at + 2)
            segs = seg2 // 2
            p = at + 14
            self._ends = list(struct.unpack_from(f">{segs}H", data, p))
            p += 2 * segs + 2
            self._starts = list(struct.unpack_from(f">{segs}H", data, p))
            p += 2 * segs
            self._deltas = list(struct.unpack_from(f">{segs}h", data, p))
            p += 2 * segs
            self._range_offsets = list(struct.unpack_from(f">{segs}H", data, p))
            # The glyph index array follows the range offsets; reportlab addresses it from their start.
            self._ro_start = p
            self._limit = at + length
            self._glyph_ids = data[p:self._limit]
        elif fmt == 12:
            (groups,) = struct.unpack_from(">I", data, at + 12)
            rows = [struct.unpack_from(">III", data, at + 16 + 12 * i) for i in range(groups)]
            self._starts = [r[0] for r in rows]
            self._ends = [r[1] for r in rows]
            self._first = [r[2] for r in rows]
        else:  # DejaVu has format 4; any other font would need its own reader
            raise ValueError(f"cmap format {fmt} is not read here")

    def glyph(self, code: int) -> int | None:
        """The glyph of a character, or None when the font does not map it."""
        i = bisect_left(self._ends, code)
        if i == len(self._ends) or self._starts[i] > code:
            return None
        if self.format == 12:
            return self._first[i] + code - self._starts[i]
        if self._range_offsets[i] == 0:
            return (code + self._deltas[i]) & 0xFFFF
        offset = self._ro_start + 2 * i + (code - self._starts[i]) * 2 + self._range_offsets[i]
        if offset >= self._limit:
            return 0
        (g,) = struct.unpack_from(">H", self._glyph_ids, offset - self._ro_start)
        return (g + self._deltas[i]) & 0xFFFF if g else 0

    def _glyph_width(self, g: int) -> float:
        return self._scale(self._advance[min(g, len(self._advance) - 1)])

    def char_width(self, code: int) -> float:
        """The advance of one character in 1/1000 of the size (reportlab's face.charWidths, defaultWidth)."""
        width = self._cache.get(code)
        if width is None:
            g = self.glyph(0x20 if code == 0xA0 and self.glyph(0x20) is not None else code)
            width = self.default if g is None or g >= self.num_glyphs else self._glyph_width(g)
            with self._lock:
                self._cache[code] = width
        return width


_fonts: dict[str, Metrics] = {}
_lock = threading.Lock()


def metrics(font: str) -> Metrics:
    found = _fonts.get(font)
    if found is None:
        with _lock:
            found = _fonts.get(font)
            if found is None:
                found = _fonts[font] = Metrics((FONT_DIR / FILES[font]).read_bytes())
    return found


def string_width(text: str, font: str, size: float) -> float:
    """The width of `text` in points at `size` (reportlab's pdfmetrics.stringWidth for this font)."""
    w = metrics(font).char_width
    return 0.001 * size * sum(w(ord(c)) for c in text)
