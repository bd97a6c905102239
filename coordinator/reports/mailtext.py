"""The reminder to the office that a report to the minister is due. Pure (no Flask, no database).

Always Swedish (the office's language), plain text, stored in the outbox as the other mails are
(ASCII, CRLF) and delivered by `coordinator outbox send`. One mail per person and period.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage

from ..formatting import swedish_date
from ..outbox import letters


@dataclass(frozen=True)
class Letter:
    name: str                  # the recipient's name
    period: str                # the period's label, "Kvartal 3 2016"
    start: date
    end: date
    due: date
    empty_sections: tuple[str, ...]   # titles of the sections without text
    url: str                   # the period's report page
    overdue: bool
    organizer_name: str
    organizer_email: str


def subject(letter: Letter) -> str:
    if letter.overdue:
        return f"Försenad rapport till statsrådet: {letter.period}"
    return f"Påminnelse: rapporten till statsrådet för {letter.period} ska vara klar {letter.due.isoformat()}"


def plain_body(letter: Letter) -> str:
    span = f"{letter.start.isoformat()}–{letter.end.isoformat()}"
    if letter.overdue:
        first = (f"Rapporten till statsrådet för {letter.period} ({span}) skulle ha varit klar "
                 f"{swedish_date(letter.due)} och är inte utfärdad än.")
    else:
        first = (f"Rapporten till statsrådet för {letter.period} ({span}) ska vara klar senast "
                 f"{swedish_date(letter.due)}. Ingen version är utfärdad än.")
    if letter.empty_sections:
        sections = "Avsnitt som ännu saknar text: " + ", ".join(letter.empty_sections) + "."
    else:
        sections = "Alla avsnitt har text. Läs utkastet och utfärda rapporten när den är klar."
    return "\n".join([
        f"Hej {letter.name},", "", first, "", sections, "",
        "Utkastet, texterna och utfärdandet finns här:", letter.url, "",
        "Med vänliga hälsningar", letter.organizer_name, "",
        "Det här är en automatisk påminnelse till kansliet. Den skickas en gång per rapport.", "",
    ])


def build_message(letter: Letter, recipient: tuple[str, str], now: datetime | None = None) -> EmailMessage:
    """The mail to one person (name, e-mail), from the organizer."""
    return letters.letter(subject(letter), (letter.organizer_name, letter.organizer_email), [recipient],
                       plain_body(letter), now=now)
