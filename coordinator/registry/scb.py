"""Parse SCB population files (folkmängd per kommun) into ``{year: {kommunkod: folkmängd}}``.

Pure Python (no Flask, no SQLAlchemy) so it can be tested and reused on its own.

Accepted input
--------------
* Encodings: UTF-8 with BOM, UTF-8, UTF-16 with BOM (Excel "Unicode text"), otherwise
  cp1252 (Latin-1 as written by Swedish Windows/Excel).
* Delimiters: ``;``, tab or ``,`` – chosen from the header line, never from data lines, so
  decimal commas in a semicolon file or a title such as "Folkmängd efter region, ålder och
  kön" cannot make a file look comma-delimited.
* Layouts:
    long   ``region;år;Folkmängd``                      (one row per kommun and year)
    wide   ``region;2019;2020`` / ``"region","ålder","kön","2020"`` / ``Folkmängd 2020`` /
           ``2020M12`` / ``kommunkod,kommun,1950,...,2019``   (one column per year)
    single ``kommunkod;folkmängd`` (or no header at all) with the year given by ``year=``.
  Region cells may be ``0114 Upplands Väsby``, ``0114`` or ``114`` (padded to 4 digits), or
  a separate code column (kommunkod/kod/regionkod). If ``known_codes`` is a mapping
  code -> name, plain kommun names are accepted too and missing kommuner are listed by name.
* Riket (``00``/"Riket") and län rows (2-digit codes, "... län") are ignored as aggregates.
* Numbers: digits with thousands separators (space, U+00A0, U+202F, U+2009, apostrophe, or
  ``.`` when every group after it has 3 digits; ``,`` only in comma-delimited files), an
  optional ``,0``/``.00`` decimal part, surrounding quotes.  ``..``, empty, negative or
  fractional values are errors.

All or nothing: any problem raises :class:`PopulationImportError` with *every* problem
found (line numbers are 1-based physical lines of the file).  Lines before the header
(titles) and text lines after the data (``Källa: SCB``, footnotes) are skipped; a text line
between data lines is an error, and a line that looks like data is never skipped.

Messages are Swedish ``%``-format templates in :data:`MESSAGES`, marked with :func:`N_` so
``pybabel extract`` finds them (``N_`` is one of Babel's default keywords).  Use
:func:`describe` with the app's ``gettext`` to translate then format.
"""
from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

__all__ = [
    "MESSAGES",
    "N_",
    "PopulationFile",
    "PopulationImportError",
    "Problem",
    "describe",
    "parse_population_file",
]


def N_(message: str) -> str:
    """No-op marker: the string is translated later (by :func:`describe`)."""
    return message


MESSAGES: dict[str, str] = {
    # File-level problems.
    "empty_file": N_("Filen är tom"),
    "excel_file": N_("Filen verkar vara en Excel-fil. Spara den som CSV (semikolonavgränsad text) och försök igen"),
    "binary_file": N_("Filen verkar inte vara en textfil (CSV)"),
    "no_header": N_("Filen saknar en rubrikrad med kolumner för kommun och folkmängd"),
    "no_year_column": N_("Filen saknar kolumn för år"),
    "no_value_column": N_("Filen saknar kolumn för folkmängd"),
    "year_not_in_file": N_("Filen innehåller inga uppgifter för år %(year)s"),
    "no_data": N_("Filen innehåller inga rader med kommuner"),
    "missing_kommuner": N_("Filen saknar kommuner för år %(year)s: %(kommuner)s (%(count)s st)"),
    # Problems on one line.
    "duplicate_year_column": N_("Rad %(line)s: år %(year)s förekommer i flera kolumner"),
    "unexpected_text": N_("Rad %(line)s: oväntad textrad bland kommunraderna: '%(text)s'"),
    "column_count": N_("Rad %(line)s: raden har %(found)s fält men rubrikraden har %(expected)s"),
    "missing_region": N_("Rad %(line)s: kommunkod saknas"),
    "bad_region": N_("Rad %(line)s: kan inte tolka '%(value)s' som en kommunkod"),
    "unknown_code": N_("Rad %(line)s: okänd kommunkod %(code)s"),
    "bad_year": N_("Rad %(line)s: '%(value)s' är inte ett årtal"),
    "missing_value": N_("Rad %(line)s: folkmängd saknas för kommun %(code)s år %(year)s"),
    "not_integer": N_("Rad %(line)s: folkmängden '%(value)s' är inte ett heltal"),
    "negative": N_("Rad %(line)s: folkmängden '%(value)s' är negativ"),
    "too_large": N_("Rad %(line)s: folkmängden '%(value)s' är för stor för att vara en kommuns"),
    "duplicate": N_("Rad %(line)s: kommunkod %(code)s förekommer två gånger för år %(year)s"),
}

MAX_LISTED_MISSING = 5


@dataclass
class Problem:
    """One problem: a key into :data:`MESSAGES`, the 1-based line (None = whole file), params."""

    key: str
    line: int | None = None
    params: dict[str, object] = field(default_factory=dict)

    @property
    def template(self) -> str:
        return MESSAGES[self.key]

    def format_params(self) -> dict[str, object]:
        params = dict(self.params)
        if self.line is not None:
            params["line"] = self.line
        return params

    def __str__(self) -> str:
        return describe(self)


def describe(problem: Problem, gettext: Callable[[str], str] = lambda s: s) -> str:
    """Translate the problem's template with ``gettext`` and fill in its parameters."""
    return gettext(MESSAGES[problem.key]) % problem.format_params()


class PopulationImportError(ValueError):
    """The file was rejected; ``problems`` lists every problem found (nothing was imported)."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        shown = "; ".join(describe(p) for p in self.problems[:10])
        more = len(self.problems) - 10
        super().__init__(shown + (f" (+{more})" if more > 0 else ""))

    def messages(self, gettext: Callable[[str], str] = lambda s: s) -> list[str]:
        return [describe(p, gettext) for p in self.problems]


@dataclass
class PopulationFile:
    """A successfully parsed file."""

    rows: dict[int, dict[str, int]]  # year -> kommunkod -> folkmängd
    encoding: str  # "utf-8-sig", "utf-8", "utf-16", "cp1252", "latin-1" or "str"
    delimiter: str  # ";", "," or "\t"
    years: list[int]
    layout: str = ""  # "long", "wide" or "single"
    header_line: int | None = None  # 1-based; None for a file without a header
    skipped_lines: list[int] = field(default_factory=list)  # titles, footnotes, blank lines
    aggregate_lines: list[int] = field(default_factory=list)  # Riket / län rows


# --------------------------------------------------------------------------- decoding

def _decode(data: bytes | bytearray | memoryview | str) -> tuple[str, str]:
    if isinstance(data, str):
        return data.lstrip("\ufeff"), "str"
    data = bytes(data)
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise PopulationImportError([Problem("excel_file")])
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            data = data[3:]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").lstrip("\ufeff"), "utf-16"
        except UnicodeDecodeError:
            raise PopulationImportError([Problem("binary_file")]) from None
    if b"\x00" in data:
        raise PopulationImportError([Problem("binary_file")])
    try:
        return data.decode("utf-8").lstrip("\ufeff"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _split(line: str, delimiter: str) -> list[str]:
    try:
        row = next(csv.reader([line], delimiter=delimiter, quotechar='"', skipinitialspace=True, strict=False))
    except (csv.Error, StopIteration):
        row = line.split(delimiter)
    return [cell.strip().strip('"').strip() for cell in row]


def _rstrip_empty(fields: list[str], keep: int = 0) -> list[str]:
    end = len(fields)
    while end > keep and not fields[end - 1]:
        end -= 1
    return fields[:end]


# --------------------------------------------------------------------------- header

DELIMITERS = (";", "\t", ",")

_FOLD = str.maketrans("åäöéü", "aaoeu")


def _norm(header: str) -> str:
    return " ".join(header.casefold().translate(_FOLD).replace("_", " ").split())


_CODE_HEADERS = {
    "kommunkod", "kod", "regionkod", "kommunnummer", "kommunnr", "kommun nr", "kommun kod", "kommun-kod",
    "kn", "knkod", "kkod", "region kod", "code", "municipality code", "region code", "kommunkod (kn)",
}
_NAME_HEADERS = {
    "region", "kommun", "kommuner", "kommunnamn", "kommun namn", "namn", "omrade", "kommun/region",
    "region/kommun", "lan/kommun", "kommun/lan", "municipality", "kommuner och lan", "geografi",
}
_YEAR_HEADERS = {"ar", "year", "tid", "period", "manad", "arsmanad", "time", "artal"}
_POPULATION_PREFIXES = ("folkmangd", "befolkning", "invanare", "population", "antal invanare", "antal personer")
_VALUE_PREFIXES = ("antal", "varde", "value", "personer", "total", "summa", "count")
_CHANGE_WORDS = ("okning", "forandring", "andring", "tillvaxt", "minskning", "procent", "%", "per ", "andel",
                 "medel", "tathet", "kvadratkilometer", "km2")


def _value_rank(name: str) -> int | None:
    """0 for a population column, 1 for a generic count/value column, None otherwise."""
    if any(word in name for word in _CHANGE_WORDS):
        return None
    if name.startswith(_POPULATION_PREFIXES):
        return 0
    if name.startswith(_VALUE_PREFIXES):
        return 1
    return None
# Known dimension columns of SCB exports; never taken as the population column.
_DIMENSIONS = {
    "alder", "kon", "civilstand", "tabellinnehall", "innehall", "lan", "lanskod", "lansnamn", "lan namn",
    "lanskod och namn", "kommungrupp", "fodelseregion", "bakgrund", "hushallstyp",
}

_YEAR_CELL = re.compile(r"((?:19|20)\d\d)(?:M(?:0[1-9]|1[0-2])|K[1-4]|-\d\d(?:-\d\d)?)?", re.I)
_YEAR_HEADER = re.compile(
    r"(?P<pre>[^\d]*?)\s*(?:\d{1,2}\.?\s+[^\d\s]+\.?\s+)?"
    r"(?P<year>(?:19|20)\d\d)(?:M(?:0[1-9]|1[0-2])|K[1-4]|-\d\d(?:-\d\d)?)?(?P<post>[^\d]*)",
    re.I,
)


@dataclass
class _Layout:
    delimiter: str
    ncols: int
    header_line: int | None = None
    code_col: int | None = None
    name_col: int | None = None
    year_col: int | None = None
    value_col: int | None = None
    year_cols: dict[int, int] = field(default_factory=dict)  # column -> year
    duplicate_years: list[int] = field(default_factory=list)
    others: list[int] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)

    @property
    def region_cols(self) -> list[int]:
        return [c for c in (self.code_col, self.name_col) if c is not None]

    @property
    def has_region(self) -> bool:
        return bool(self.region_cols)

    def value_cols(self) -> list[int]:
        cols = list(self.year_cols) if self.year_col is None else []
        if self.value_col is not None:
            cols.append(self.value_col)
        return cols

    def score(self) -> int:
        return (len(self.region_cols) + (self.year_col is not None) + (self.value_col is not None)
                + len(self.year_cols))


def _classify_header(fields: list[str], delimiter: str, line_no: int) -> _Layout | None:
    fields = _rstrip_empty(fields)
    filled = sum(1 for f in fields if f)
    if len(fields) < 2 or filled < (1 if not fields[0] else 2):  # ";2019" is a pivot header
        return None
    lay = _Layout(delimiter=delimiter, ncols=len(fields), header_line=line_no, headers=fields)
    value_rank = 99
    for col, raw in enumerate(fields):
        name = _norm(raw)
        if not name:
            continue
        if name in _CODE_HEADERS:
            if lay.code_col is None:
                lay.code_col = col
            continue
        if name in _NAME_HEADERS:
            if lay.name_col is None:
                lay.name_col = col
            continue
        if name in _YEAR_HEADERS:
            if lay.year_col is None:
                lay.year_col = col
            continue
        m = _YEAR_HEADER.fullmatch(name)
        if m:
            measure = " ".join((m.group("pre") + " " + m.group("post")).split())
            if measure and measure not in _YEAR_HEADERS and _value_rank(measure) is None:
                lay.others.append(col)  # another measure for that year, e.g. "Medelålder 2019"
                continue
            year = int(m.group("year"))
            if year in lay.year_cols.values():
                lay.duplicate_years.append(year)
            lay.year_cols[col] = year
            continue
        rank = _value_rank(name)
        if rank is not None:
            if lay.value_col is None or rank < value_rank:
                lay.value_col, value_rank = col, rank
            continue
        lay.others.append(col)
    # A pivot-style export may leave the region header cell empty: ";2019;2020".
    if not lay.has_region and not fields[0] and (lay.year_cols or lay.value_col is not None):
        lay.name_col = 0
    if not lay.has_region or not (lay.year_col is not None or lay.year_cols or lay.value_col is not None):
        return None
    return lay


def _find_header(lines: list[str]) -> tuple[int, _Layout] | None:
    """First line that is a recognisable header; stops at the first line that looks like data."""
    for idx, line in enumerate(lines):
        best: _Layout | None = None
        for delimiter in DELIMITERS:
            if delimiter not in line:
                continue
            lay = _classify_header(_split(line, delimiter), delimiter, idx + 1)
            if lay and (best is None or (lay.score(), lay.ncols) > (best.score(), best.ncols)):
                best = lay
        if best:
            return idx, best
        if _headerless_row(line):
            return None
    return None


# --------------------------------------------------------------------------- cells

_NUMBERISH = re.compile(r"[-−]?[\d \u00a0\u202f\u2009\u2007'’.,]*\d[\d \u00a0\u202f\u2009\u2007'’.,]*")
_CODE_PREFIX = re.compile(r"(\d+)(?:\s*[-–:.]?\s+(.*)|\s*)", re.S)
_AGGREGATE_NAMES = {"riket", "hela riket", "sverige", "totalt", "summa", "samtliga kommuner", "alla kommuner"}
_MISSING_MARKERS = {"", "..", ".", "…", "...", "-", "–", "—"}


def _headerless_row(line: str) -> tuple[str, list[str]] | None:
    """(delimiter, fields) if the line looks like ``0114[ name];[name;]46786`` under some delimiter."""
    for delimiter in DELIMITERS:
        if delimiter not in line:
            continue
        fields = _rstrip_empty(_split(line, delimiter))
        if not 2 <= len(fields) <= 3:
            continue
        if not re.fullmatch(r"\d{1,4}(?:\s.*)?", fields[0]):
            continue
        if not (_NUMBERISH.fullmatch(fields[-1]) or fields[-1] in _MISSING_MARKERS):
            continue
        if len(fields) == 3 and _NUMBERISH.fullmatch(fields[1]):
            continue
        return delimiter, fields
    return None


class _Regions:
    def __init__(self, known_codes: Collection[str] | Mapping[str, str]):
        self.known = {str(c).strip().zfill(4) for c in known_codes}
        self.names: dict[str, str] = {}
        if isinstance(known_codes, Mapping):
            self.names = {str(c).strip().zfill(4): str(n) for c, n in known_codes.items() if n}
        self.by_name = {}
        for code, name in self.names.items():
            self.by_name[name.casefold().strip()] = code

    def label(self, code: str) -> str:
        return f"{code} {self.names[code]}" if code in self.names else code

    def parse(self, code_cell: str | None, name_cell: str | None) -> tuple[str, str | None]:
        """("kommun", code) | ("aggregate", None) | ("bad", cell) | ("missing", None)."""
        cell = code_cell if code_cell else name_cell
        if not cell:
            return "missing", None
        m = _CODE_PREFIX.fullmatch(cell)
        if m:
            digits = m.group(1)
            if len(digits) <= 2:
                return "aggregate", None
            if len(digits) <= 4:
                return "kommun", digits.zfill(4)
            return "bad", cell
        folded = " ".join(cell.casefold().split())
        if folded in _AGGREGATE_NAMES or folded.endswith(" län") or folded.endswith(" lan"):
            return "aggregate", None
        for candidate in (folded, folded.removesuffix(" kommun"), folded.removesuffix(" stad")):
            if candidate in self.by_name:
                return "kommun", self.by_name[candidate]
        return "bad", cell

    def looks_like_region(self, cell: str) -> bool:
        if not cell:
            return False
        if cell[0].isdigit():
            return True
        folded = " ".join(cell.casefold().split())
        return (folded in _AGGREGATE_NAMES or folded.endswith(" län")
                or folded in self.by_name or folded.removesuffix(" kommun") in self.by_name)


_SEPARATED = re.compile(r"\d{1,3}(?P<sep>[ \u00a0\u202f\u2009\u2007'’])\d{3}(?:(?P=sep)\d{3})*")
_DOT_SEPARATED = re.compile(r"\d{1,3}(?:\.\d{3})+")
_COMMA_SEPARATED = re.compile(r"\d{1,3}(?:,\d{3})+")
_ZERO_DECIMALS = re.compile(r"(\d+)[.,]0{1,2}")


# What the population column holds (PostgreSQL's integer); far above any kommun, and Sweden, anyway.
MAX_POPULATION = 2**31 - 1


def _parse_count(raw: str, delimiter: str) -> tuple[int | None, str | None]:
    """(value, None) or (None, problem key)."""
    s = raw.strip().strip("\"'’").strip()
    if s in _MISSING_MARKERS:
        return None, "missing_value"
    negative = s[0] in "-−"
    body = s[1:].strip() if negative else s
    if body.isascii() and body.isdigit():
        digits = body
    elif _SEPARATED.fullmatch(body) or _DOT_SEPARATED.fullmatch(body):
        digits = re.sub(r"\D", "", body)
    elif delimiter == "," and _COMMA_SEPARATED.fullmatch(body):
        digits = body.replace(",", "")
    elif m := _ZERO_DECIMALS.fullmatch(body):
        digits = m.group(1)
    else:
        return None, "not_integer"
    value = int(digits)
    if negative and value:
        return None, "negative"
    if value > MAX_POPULATION:
        return None, "too_large"
    return value, None


def _parse_year(raw: str) -> int | None:
    m = _YEAR_CELL.fullmatch(raw.strip())
    return int(m.group(1)) if m else None


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- main entry

def parse_population_file(
    data: bytes | str,
    known_codes: Collection[str] | Mapping[str, str],
    year: int | None = None,
) -> PopulationFile:
    """Parse an SCB population file; raise :class:`PopulationImportError` on any problem.

    ``known_codes`` is the set of valid 4-digit kommunkoder (every one must be present for
    every year in the file); a mapping code -> name also enables names in messages and
    name-only region cells.  ``year`` gives the year for a file without a year column, and
    for a file with several years selects that year only.
    """
    year = int(year) if year is not None else None
    text, encoding = _decode(data)
    lines = _LINE_BREAK.split(text)
    if not any(line.strip(" \t;,\"'\u00a0") for line in lines):
        raise PopulationImportError([Problem("empty_file")])
    regions = _Regions(known_codes)

    found = _find_header(lines)
    if found:
        start, lay = found
        start += 1  # first line after the header
    else:
        start = next((i for i, line in enumerate(lines) if _headerless_row(line)), None)
        if start is None:
            raise PopulationImportError([Problem("no_header")])
        delimiter, fields = _headerless_row(lines[start])
        lay = _Layout(delimiter=delimiter, ncols=len(fields), code_col=0, value_col=len(fields) - 1)

    problems: list[Problem] = []
    for dup in sorted(set(lay.duplicate_years)):
        problems.append(Problem("duplicate_year_column", lay.header_line, {"year": dup}))

    if lay.year_col is not None:
        layout = "long"
        if lay.value_col is None:
            candidates = [c for c in lay.others if _norm(lay.headers[c]) not in _DIMENSIONS]
            if len(candidates) != 1:
                raise PopulationImportError(problems + [Problem("no_value_column")])
            lay.value_col = candidates[0]
    elif lay.year_cols:
        layout = "wide"
        if year is not None:
            lay.year_cols = {c: y for c, y in lay.year_cols.items() if y == year}
            if not lay.year_cols:
                raise PopulationImportError(problems + [Problem("year_not_in_file", None, {"year": year})])
    else:
        layout = "single"
        if year is None:
            raise PopulationImportError(problems + [Problem("no_year_column")])
    if problems:
        raise PopulationImportError(problems)

    # Title lines before the header (or before the first row of a file without header).
    skipped = list(range(1, lay.header_line if lay.header_line is not None else start + 1))
    aggregates: list[int] = []
    seen: dict[int, dict[str, int]] = {}  # year -> code -> first line
    rows: dict[int, dict[str, int]] = {}
    pending_text: list[tuple[int, str]] = []
    data_lines = 0
    years_in_file: set[int] = set()
    unplaced: set[str] = set()

    for idx in range(start, len(lines)):
        line_no = idx + 1
        raw_fields = _split(lines[idx], lay.delimiter)
        fields = _rstrip_empty(raw_fields, keep=lay.ncols)
        if not any(fields):
            skipped.append(line_no)
            continue
        if not _looks_like_data(fields, lay, regions):
            pending_text.append((line_no, lines[idx]))
            continue
        # A data line: text lines between data lines are errors, never skipped silently.
        if data_lines:
            for text_no, text_line in pending_text:
                problems.append(Problem("unexpected_text", text_no, {"text": _shorten(text_line)}))
        else:
            skipped.extend(no for no, _ in pending_text)
        pending_text = []
        data_lines += 1

        if len(fields) != lay.ncols:
            problems.append(Problem("column_count", line_no, {"found": len(fields), "expected": lay.ncols}))
            continue
        kind, code = regions.parse(
            fields[lay.code_col] if lay.code_col is not None else None,
            fields[lay.name_col] if lay.name_col is not None else None,
        )
        if kind == "aggregate":
            aggregates.append(line_no)
            continue
        if kind == "missing":
            problems.append(Problem("missing_region", line_no))
            continue
        if kind == "bad":
            problems.append(Problem("bad_region", line_no, {"value": _shorten(code or "", 40)}))
            continue
        if code not in regions.known:
            problems.append(Problem("unknown_code", line_no, {"code": code}))
            continue

        if layout == "long":
            row_year = _parse_year(fields[lay.year_col])
            if row_year is None:
                problems.append(Problem("bad_year", line_no, {"value": _shorten(fields[lay.year_col], 20)}))
                unplaced.add(code)  # not also reported as missing from some year
                continue
            years_in_file.add(row_year)
            if year is not None and row_year != year:
                continue
            cells = [(row_year, fields[lay.value_col])]
        elif layout == "wide":
            cells = [(y, fields[c]) for c, y in lay.year_cols.items()]
        else:
            cells = [(year, fields[lay.value_col])]

        for cell_year, cell in cells:
            first = seen.setdefault(cell_year, {}).get(code)
            if first is not None:
                problems.append(Problem("duplicate", line_no, {"code": code, "year": cell_year, "first_line": first}))
                continue
            seen[cell_year][code] = line_no
            value, error = _parse_count(cell, lay.delimiter)
            if error == "missing_value":
                problems.append(Problem(error, line_no, {"code": code, "year": cell_year, "value": cell}))
            elif error:
                problems.append(Problem(error, line_no, {"value": _shorten(cell, 20), "code": code, "year": cell_year}))
            else:
                rows.setdefault(cell_year, {})[code] = value

    skipped.extend(no for no, _ in pending_text)  # footnotes after the data

    if layout == "long" and year is not None and year not in years_in_file and data_lines:
        problems.append(Problem("year_not_in_file", None, {"year": year}))
    if not data_lines or (not seen and not problems):
        problems.append(Problem("no_data"))
    for cell_year in sorted(seen):
        missing = sorted(regions.known - seen[cell_year].keys() - unplaced)
        if missing:
            listed = ", ".join(regions.label(c) for c in missing[:MAX_LISTED_MISSING])
            if len(missing) > MAX_LISTED_MISSING:
                listed += ", …"
            problems.append(Problem("missing_kommuner", None,
                                    {"year": cell_year, "kommuner": listed, "count": len(missing),
                                     "codes": missing}))
    if problems:
        problems.sort(key=lambda p: (p.line is None, p.line or 0))
        raise PopulationImportError(problems)

    rows = {y: dict(sorted(rows[y].items())) for y in sorted(rows)}
    return PopulationFile(
        rows=rows,
        encoding=encoding,
        delimiter=lay.delimiter,
        years=list(rows),
        layout=layout,
        header_line=lay.header_line,
        skipped_lines=sorted(skipped),
        aggregate_lines=aggregates,
    )


def _looks_like_data(fields: list[str], lay: _Layout, regions: _Regions) -> bool:
    """False only for plain text lines (a title or a footnote such as "Källa: SCB")."""
    for col in lay.region_cols:
        if col < len(fields) and regions.looks_like_region(fields[col]):
            return True
    value_cols = lay.value_cols() + ([lay.year_col] if lay.year_col is not None else [])
    for col in value_cols:
        cell = fields[col] if col < len(fields) else ""
        if cell and (_NUMBERISH.fullmatch(cell) or cell in _MISSING_MARKERS):
            return True
    # Several filled cells in a ';' or tab file look like a (broken) data row; in a comma file
    # a footnote written as prose may contain commas, so there the signals above must decide.
    return lay.delimiter != "," and sum(1 for c in fields if c) >= 2
