"""Swedish numbers and dates, and text made safe for markup: shared by the PDFs (pdf.py), the Word
documents and the HTML pages, without loading reportlab. Plain Python: no Flask."""
from __future__ import annotations

from datetime import datetime, timezone
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

NBSP = "\u00a0"
MINUS = "\u2212"


def esc(text) -> str:
    """Plain text made safe for Paragraph markup (user input may hold <, > and &)."""
    return escape("" if text is None else str(text))


# --- numbers and dates -------------------------------------------------------------------------

MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
          "oktober", "november", "december")
WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")


def swedish_date(d) -> str:
    """'torsdag 24 mars 2016': the day in the mails and calendars, which are Swedish whatever the reader's language."""
    return f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}"


def _group(digits: str) -> str:
    out = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return NBSP.join(out)


def fmt_int(n, empty: str = "–") -> str:
    """Swedish integer: non-breaking space between thousands, true minus sign (911 989)."""
    if n is None:
        return empty
    n = int(round(n))
    return (MINUS if n < 0 else "") + _group(str(abs(n)))


def fmt_dec(x, digits: int = 2, empty: str = "–") -> str:
    """Swedish decimal: decimal comma, thousands grouped with non-breaking space (0,2812; 1 234,50)."""
    if x is None:
        return empty
    text = f"{abs(x):.{digits}f}"
    whole, _, frac = text.partition(".")
    negative = x < 0 and text.strip("0.") != ""
    return (MINUS if negative else "") + _group(whole) + ("," + frac if frac else "")


def fmt_count(n, locale: str = "sv", empty: str = "–") -> str:
    """A count in the reader's language: Swedish as fmt_int, other languages by babel's rules."""
    if n is None:
        return empty
    if locale.startswith("sv"):
        return fmt_int(n)
    from babel.numbers import format_decimal
    return format_decimal(n, locale=locale)


def fmt_pct(share, locale: str = "sv", empty: str = "–") -> str:
    """A share (0..1) as a whole percentage: "38 %" in Swedish (non-breaking space), babel's format elsewhere."""
    if share is None:
        return empty
    if locale.startswith("sv"):
        return f"{fmt_int(share * 100)}{NBSP}%"
    from babel.numbers import format_percent
    return format_percent(share, locale=locale)


def fmt_dt(dt: datetime | None, tz: str = "Europe/Stockholm", fmt: str = "%Y-%m-%d %H:%M",
           empty: str = "–") -> str:
    """A stored timestamp in the office's time zone. Naive values are taken as UTC (SQLite)."""
    if dt is None:
        return empty
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(ZoneInfo(tz)).strftime(fmt)
