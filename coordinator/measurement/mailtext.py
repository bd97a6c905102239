"""The measurement's mails to the kommun: the link, and one reminder. Pure (no Flask, no database).

Always Swedish (the recipients are Swedish kommuner), plain text and HTML, stored in the outbox
as the invitations are (ASCII, CRLF) and delivered by `coordinator outbox send`.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage

from ..formatting import swedish_date
from ..outbox import letters


@dataclass(frozen=True)
class Letter:
    site: str                 # the visit site's label
    url: str                  # the kommun's link
    last_day: date            # the link works through this day
    visit_day: date | None    # the visit's date, when there is one
    organizer_name: str
    organizer_email: str
    reminder: bool = False


def subject(letter: Letter) -> str:
    prefix = "Påminnelse: " if letter.reminder else ""
    return f"{prefix}Mätning inför besöket – {letter.site}"


def invitation_text(last_day: date) -> str:
    """The paragraph added to a visit invitation when the site's questionnaire is not yet answered."""
    return (f"Inför besöket ber vi er fylla i en kort mätning, senast {swedish_date(last_day)}. "
            "Ni kan spara och fortsätta senare. Länken är personlig för er kommun:")


def _paragraphs(letter: Letter) -> list[str]:
    when = f" den {swedish_date(letter.visit_day)}" if letter.visit_day else ""
    if letter.reminder:
        first = (f"Det är snart dags för den nationella samordnarens besök i {letter.site}{when}. Vi har ännu inte "
                 "fått era svar på mätningen inför besöket och vore tacksamma om ni fyllde i den.")
    else:
        first = (f"Inför den nationella samordnarens besök i {letter.site}{when} ber vi er fylla i en kort "
                 "mätning, så att dialogen kan utgå från jämförbara uppgifter.")
    return [
        first,
        "Öppna mätningen med länken nedan. Ni kan spara och fortsätta senare; när ni är klara väljer ni "
        "Skicka in. Svaren kan bara skickas in en gång.",
        f"Sista dag att svara: {swedish_date(letter.last_day)}.",
        "Länken är personlig för er kommun: dela den bara med dem som hjälper till med svaren.",
    ]


def plain_body(letter: Letter) -> str:
    paragraphs = _paragraphs(letter)
    lines = ["Hej,", "", paragraphs[0], "", paragraphs[1], "", letter.url, ""]
    for p in paragraphs[2:]:
        lines += [p, ""]
    lines += ["Med vänliga hälsningar", letter.organizer_name, letter.organizer_email, ""]
    return "\n".join(lines)


def html_body(letter: Letter) -> str:
    e = html.escape
    paragraphs = _paragraphs(letter)
    parts = ['<!doctype html>\n<html lang="sv">\n<head><meta charset="utf-8">'
             f"<title>{e(subject(letter))}</title></head>\n<body>", "<p>Hej,</p>",
             f"<p>{e(paragraphs[0])}</p>", f"<p>{e(paragraphs[1])}</p>",
             f'<p><a href="{e(letter.url)}">{e(letter.url)}</a></p>']
    parts += [f"<p>{e(p)}</p>" for p in paragraphs[2:]]
    parts.append(f"<p>Med vänliga hälsningar<br>\n{e(letter.organizer_name)}<br>\n{e(letter.organizer_email)}</p>")
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


def build_message(letter: Letter, recipients: list[tuple[str, str]], now: datetime | None = None) -> EmailMessage:
    """The mail to `recipients` [(name, e-mail)], from the organizer."""
    return letters.letter(subject(letter), (letter.organizer_name, letter.organizer_email), recipients,
                       plain_body(letter), html_body(letter), now)
