"""Quotes shown outside the notes: once each, and anonymised the same way wherever they appear.

Plain words: a passage of a dialogue note can carry several flags (good example, obstacle,
question for the national level, quote), and the same words can stand in more than one note (a
passage copied into a second visit's note, or said again at a hearing). Every page and document
that quotes passages (the report's lists, /dialog/citat, the search, the regional summaries and
the good-examples digest) passes them through ``present(passages)``, which

- shows a passage once: passages with the same text (spaces and case aside) are one quote, shown
  where its first use in the given order stands, with the flags of all its uses;
- names the kommun only if *every* use of that text, in the whole database, is cleared for
  attribution. If a single use is not cleared, no use of it names the kommun: the source reads
  "En kommun i grupp N" (or "Från dialogforum: <kind>" for an event), and the names of the kommuner
  and districts of all its uses are blanked out of the text ("[kommunen]", "[stadsdelen]").

So the same passage can no longer appear once attributed and once anonymised right beside it.

Copies are found in the database by their exact text (and by the text with its spaces tidied), in a
fixed number of statements whatever the number of passages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from sqlalchemy import select

from ..extensions import db
from ..i18n import _
from ..registry.models import Kommun
from ..sampling.models import Site
from ..scheduling.models import Visit
from .models import FLAGS, Note, Passage

CHUNK = 400  # texts per IN (...) list


def redact(text: str, names: Iterable[tuple[str, str]]) -> str:
    """Blank out names (case-sensitive whole words, genitive too): [(name, replacement), ...]."""
    for name, replacement in names:
        if name:
            text = re.sub(rf"(?<!\w){re.escape(name)}s?(?!\w)", replacement, text)
    return text


def key(text: str | None) -> str:
    """What makes two passages the same quote: the words, with spaces tidied and case folded."""
    return " ".join((text or "").split()).casefold()


@dataclass
class Quote:
    """One quote as it may be shown: `passage` is the use shown (its note, visit or event, themes)."""
    passage: Passage
    text: str                     # the text to show: names blanked out unless attributed
    attributed: bool              # every use is cleared: the source may name the kommun (or the event)
    flags: list[str]              # the flags of all its uses (in FLAGS order)
    uses: list[Passage] = field(default_factory=list)  # the passages given that share its text
    names: list[tuple[str, str]] = field(default_factory=list)  # (kommun, district) of all uses
    quoted: bool = False          # some use, here or elsewhere in the database, is marked as a quote (citat)

    @property
    def site(self) -> Site | None:
        visit = self.passage.note.visit
        return visit.site if visit is not None else None

    @property
    def event(self):
        return self.passage.note.event

    @property
    def group(self) -> int | None:
        site = self.site
        return site.grupp if site is not None else None

    def blank(self, text: str) -> str:
        """`text` as this quote may show it: unless attributed, the names of the kommuner and districts
        of all its uses blanked out ("[kommunen]", "[stadsdelen]")."""
        if self.attributed:
            return text
        # Each name once (a text copied into many notes of one kommun names it as often), the words translated once.
        kommun_word, district_word = _("[kommunen]"), _("[stadsdelen]")
        pairs = {(kommun, kommun_word) for kommun, _e in self.names}
        pairs |= {(enhet, district_word) for _k, enhet in self.names if enhet}
        # Longer names first, so "Upplands Väsby" goes before a shorter name inside it.
        return redact(text, sorted(pairs, key=lambda pair: (-len(pair[0]), pair)))

    def source(self, event_kind: str | None = None) -> str:
        """Where it was said, in words: the site (attributed) or "En kommun i grupp N"; for an event its
        title and kind (attributed) or only its kind."""
        if self.event is not None:
            kind = event_kind or self.event.kind
            if self.attributed:
                return _("Från dialogforum: %(title)s (%(kind)s, %(date)s)", title=self.event.title, kind=kind,
                         date=self.event.date.isoformat())
            return _("Från dialogforum: %(kind)s", kind=kind)
        site = self.site
        return site.label if self.attributed else _("En kommun i grupp %(n)s", n=site.grupp)


def _names(p: Passage) -> tuple[str, str] | None:
    visit = p.note.visit
    if visit is None:
        return None
    return (visit.site.kommun.namn, visit.site.enhet or "")


def uses_of(texts: Sequence[str]) -> dict[str, list[tuple[bool, str | None, str, bool]]]:
    """Every passage in the database whose text is one of `texts` (exactly, or with its spaces tidied):
    key -> [(cleared, kommun name or None for an event, district, marked as a quote)]."""
    wanted = set()
    for t in texts:
        wanted.add(t)
        wanted.add(" ".join(t.split()))
    wanted = sorted(wanted)
    found: dict[str, list[tuple[bool, str | None, str, bool]]] = {}
    for i in range(0, len(wanted), CHUNK):
        rows = db.session.execute(
            select(Passage.text, Passage.attribution_cleared, Kommun.namn, Site.enhet, Passage.citat)
            .select_from(Passage).join(Note, Note.id == Passage.note_id)
            .outerjoin(Visit, Visit.id == Note.visit_id).outerjoin(Site, Site.id == Visit.site_id)
            .outerjoin(Kommun, Kommun.kommunkod == Site.kommunkod)
            .where(Passage.text.in_(wanted[i:i + CHUNK])))
        for text, cleared, kommun, enhet, citat in rows:
            found.setdefault(key(text), []).append((bool(cleared), kommun, enhet or "", bool(citat)))
    return found


def present(passages: Iterable[Passage], *, look_up: bool = True) -> list[Quote]:
    """The passages as quotes, each text once (in the order given), anonymised consistently.

    The passages must come with their note, visit, site and kommun, or event, loaded (as
    search.passage_loads() does) for a page not to read them one by one. `look_up`: also consult the
    other uses of the same text in the database (always, except where the caller has them all)."""
    groups: dict[str, list[Passage]] = {}
    for p in passages:
        groups.setdefault(key(p.text), []).append(p)
    others = uses_of([p.text for ps in groups.values() for p in ps]) if look_up and groups else {}
    quotes = []
    for k, uses in groups.items():
        first = uses[0]
        cleared = all(p.attribution_cleared for p in uses)
        names = [n for n in (_names(p) for p in uses) if n is not None]
        quoted = any(p.citat for p in uses)
        for other_cleared, kommun, enhet, citat in others.get(k, ()):
            cleared = cleared and other_cleared
            quoted = quoted or citat
            if kommun is not None:
                names.append((kommun, enhet))
        names = list(dict.fromkeys(names))
        flags = [f for f in FLAGS if any(getattr(p, f) for p in uses)]
        q = Quote(passage=first, text=first.text, attributed=cleared, flags=flags, uses=uses, names=names,
                  quoted=quoted)
        q.text = q.blank(first.text)
        quotes.append(q)
    return quotes


def first_flag(flags: Iterable[str]) -> str | None:
    """The list a quote with these flags belongs to when it may appear in only one: the first in FLAGS
    order (gott_exempel, hinder, nationell_fraga, citat)."""
    flags = set(flags)
    return next((f for f in FLAGS if f in flags), None)
