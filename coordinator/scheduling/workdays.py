"""Swedish working days: weekdays that are not public holidays or the three eves (light: no solver import)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache


@lru_cache(maxsize=64)
def swedish_holidays(year: int) -> Mapping[date, str]:
    """Public holidays of ``year`` in Swedish, Sundays left out, plus the three eves."""
    # country_holidays() in holidays 0.84 does not pass include_sundays on, so the
    # class is used directly; with the default the package lists every Sunday.
    import holidays as holidays_lib  # here: the cron commands and most pages never ask for a holiday

    days = dict(holidays_lib.SE(years=year, include_sundays=False, language="sv").items())
    midsummer_eve = next(date(year, 6, d) for d in range(19, 26) if date(year, 6, d).weekday() == 4)
    for d, name in ((midsummer_eve, "Midsommarafton"), (date(year, 12, 24), "Julafton"),
                    (date(year, 12, 31), "Nyårsafton")):
        days.setdefault(d, name)
    return days


def is_working_day(d: date) -> bool:
    return d.weekday() < 5 and d not in swedish_holidays(d.year)
