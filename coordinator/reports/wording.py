"""How a report names its period: "kvartal" for a calendar quarter, "period" for any other rhythm.

Plain words: a report on a calendar quarter (the shipped rhythm) says "under kvartalet", "till och
med kvartalets slut", "nästa kvartal" and is a "Kvartalsrapport"; a report on a period of any other
rhythm (every 4 months, monthly, ...) says "under perioden", "periodens slut", "nästa period" and is
a "Rapport till statsrådet". The report's sentences take these words as placeholders, so this is
the one place that chooses them.

The choice rests on the period's key alone: rhythm.py keys a calendar quarter "2015Q3" and any
other period by its first month ("2015-02"). Every figures dict records its period's key, so a
report issued long ago reads the same when it is rendered again, whatever the rhythm is today.
No Flask and no database here; the words are gettext'd when asked for, in the language in force.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..i18n import _
from .models import FINAL_PERIOD

QUARTER_KEY = re.compile(r"^\d{4}Q[1-4]$")  # rhythm.py's canonical key of a calendar quarter


@dataclass(frozen=True)
class Words:
    quarter: bool        # a calendar quarter
    final: bool          # the final-report basis (the whole assignment)
    the_period: str      # "kvartalet" / "perioden"
    period_end: str      # "kvartalets slut" / "periodens slut"
    next_period: str     # "nästa kvartal" / "nästa period"
    title: str           # "Kvartalsrapport" / "Rapport till statsrådet" / "Slutrapport"
    file_stem: str       # "kvartalsrapport" / "rapport" / "slutrapport" (file names stay Swedish)


def sentence(text: str) -> str:
    """The text as a sentence: a full stop is added only if it does not already end in . ? ! : or ;
    ("Har ni en rutin?" stays as it is; "Antal placeringar" becomes "Antal placeringar.")."""
    text = (text or "").rstrip()
    return text if not text or text[-1] in ".?!:;…" else text + "."


def key_of(period: Any) -> str:
    """The key of a Period, of a period as the figures dict records it, or the key itself."""
    if isinstance(period, str):
        return period
    if isinstance(period, dict):
        return period["key"]
    return period.key


def is_quarter(period: Any) -> bool:
    return bool(QUARTER_KEY.match(key_of(period)))


def words(period: Any) -> Words:
    """The words for a period (a Period, the figures dict's "period", or a key)."""
    key = key_of(period)
    if key == FINAL_PERIOD:
        # The final report has sentences of its own (final.py); only its title and file name come from here.
        return Words(False, True, "", "", "", _("Slutrapport"), "slutrapport")
    if is_quarter(key):
        return Words(True, False, _("kvartalet"), _("kvartalets slut"), _("nästa kvartal"), _("Kvartalsrapport"),
                     "kvartalsrapport")
    return Words(False, False, _("perioden"), _("periodens slut"), _("nästa period"), _("Rapport till statsrådet"),
                 "rapport")


def title(period: Any, label: str | None = None) -> str:
    """The report's heading: "Kvartalsrapport: Kvartal 3 2015", "Rapport till statsrådet: mars–juni 2015",
    "Slutrapport". `label` is the period's label when `period` is only a key."""
    w = words(period)
    if w.final:
        return w.title
    label = label if label is not None else (period["label"] if isinstance(period, dict) else period.label)
    if w.quarter:
        return _("Kvartalsrapport: %(period)s", period=label)
    return _("Rapport till statsrådet: %(period)s", period=label)


def filename(period_key: str, version: int | None, ext: str = "pdf") -> str:
    """kvartalsrapport-2015Q3-v2.pdf, rapport-2015-03-v1.pdf, slutrapport-v1.pdf; a draft ends in -utkast.
    ext="docx" names the Word file."""
    w = words(period_key)
    stem = w.file_stem if w.final else f"{w.file_stem}-{period_key}"
    return f"{stem}-{'utkast' if version is None else f'v{version}'}.{ext}"
