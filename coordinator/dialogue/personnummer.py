"""Swedish personal identity numbers (personnummer) and coordination numbers (samordningsnummer) in text.

Pure functions, no Flask. Notes about visits must not identify children, so a note whose text
contains one is refused before it is saved. To avoid false alarms on phone numbers, order
numbers and the like, only numbers with a valid check digit (Luhn) and a plausible date of
birth are reported.

Accepted forms (Skatteverket's): YYMMDD-NNNN, YYMMDD+NNNN (100 years or older), YYMMDDNNNN,
YYYYMMDD-NNNN, YYYYMMDDNNNN. A samordningsnummer has 60 added to the day (01-31 -> 61-91).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# Not preceded or followed by another digit: a longer number is not a personnummer.
_PATTERN = re.compile(r"(?<!\d)(?P<date>\d{8}|\d{6})(?P<sep>[-+]?)(?P<serial>\d{4})(?!\d)")
EARLIEST_YEAR = 1870


@dataclass(frozen=True)
class Match:
    start: int            # position in the text
    end: int
    text: str             # as written
    born: date            # date of birth (the real day for a samordningsnummer)
    samordningsnummer: bool

    @property
    def masked(self) -> str:
        """The date part as written and the last four digits hidden: "19121212-****"."""
        digits = re.sub(r"[-+]", "", self.text)[:-4]
        sep = "+" if "+" in self.text else "-"
        return f"{digits}{sep}****"


def luhn_valid(digits: str) -> bool:
    """The Luhn check over the ten digits YYMMDDNNNN (weights 2,1,2,1,...)."""
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _birth_date(year: int, month: int, day: int) -> tuple[date, bool] | None:
    samordning = day > 60
    if samordning:
        day -= 60
    try:
        return date(year, month, day), samordning
    except ValueError:
        return None


def _year_for(yy: int, plus: bool, today: date) -> int:
    """The century of a two-digit year: the latest year not in the future; "+" means 100 years older."""
    year = today.year - (today.year - yy) % 100
    return year - 100 if plus else year


def find(text: str, today: date | None = None) -> list[Match]:
    """Every personnummer or samordningsnummer in the text with a valid check digit and plausible date."""
    today = today or date.today()
    found: list[Match] = []
    for m in _PATTERN.finditer(text or ""):
        digits, sep, serial = m.group("date"), m.group("sep"), m.group("serial")
        if len(digits) == 8:
            year = int(digits[:4])
            short = digits[2:]
        else:
            year = _year_for(int(digits[:2]), sep == "+", today)
            short = digits
        if not luhn_valid(short + serial):
            continue
        parsed = _birth_date(year, int(short[2:4]), int(short[4:6]))
        if parsed is None:
            continue
        born, samordning = parsed
        if born.year < EARLIEST_YEAR or born > today:
            continue
        found.append(Match(m.start(), m.end(), m.group(0), born, samordning))
    return found


def contains(text: str, today: date | None = None) -> bool:
    return bool(find(text, today))
