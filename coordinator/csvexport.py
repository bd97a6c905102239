"""CSV files the office opens in Excel: semicolons, UTF-8 with BOM, and no cell that runs as a formula.

A cell someone else typed (a kommun's answer through its link, a name) that begins with `=`, `+`, `-`,
`@`, a tab or a carriage return is a formula to Excel and LibreOffice (`=HYPERLINK(…)` leaks data,
`@SUM(…)` runs): such a cell is written with a leading `'`, as OWASP advises, which the spreadsheet shows
as text. A cell that is a plain number (-3, -3,5) stays a number.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


def neutralise(value: Any) -> Any:
    """The cell as it is safe to write: text that a spreadsheet would run gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with BOM and semicolons: what Swedish Excel opens correctly with a double click."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(cell) for cell in header])
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
