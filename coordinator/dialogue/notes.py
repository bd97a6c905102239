"""Dialogue notes: one per visit or event, passages per section, revisions, drafts, conflicts, personnummer check.

A note belongs to a visit or to an event (a hearing, a round table…: coordinator/events), its
"subject"; everything else about notes is the same for both. Event notes have fewer sections
(EVENT_EXTRA_SECTIONS).

Service functions: they audit (ids, section keys and counts only — never note text) and do not
commit; the views commit or roll back.

The editor's state is a plain "content" dict, the same shape whether it comes from the database
(`snapshot`), from a form (`forms.content_from_form`), from an autosaved draft or from a revision:

    {"version": 3,                      # the note version the content is (or is based on)
     "sections": {"fraga-1": [passage, ...], "fack": [...], ...}}
    passage = {"id": 12 | None, "text": "...", "themes": [3, 7],
               "gott_exempel": bool, "hinder": bool, "nationell_fraga": bool, "citat": bool,
               "quote_reason": "manga" | "unik" | None, "attribution_cleared": bool,
               "remove": bool}         # "remove" only in form content; "theme_names" in snapshots

Saving (`apply`) is refused, with nothing written, when the text holds a personnummer, when a
quote lacks its reason, or when the note has been saved by someone else since the form was
loaded (`NoteConflict`; `merge` then builds the view of both versions and a merged form).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..audit import record
from ..events.service import event_passages
from ..extensions import db
from ..timeutil import utcnow
from . import personnummer
from .models import (EXTRA_SECTIONS, FLAGS, QUOTE_REASONS, DialogueQuestion, Note, NoteDraft, NoteRevision, Passage,
                     Theme)

SECTION_TITLES = {
    "fack": _l("Dialog med fackliga företrädare"),
    "barn": _l("Samtal med barn och vårdnadshavare"),
    "ovrigt": _l("Övriga iakttagelser"),
}
FLAG_LABELS = {
    "gott_exempel": _l("Gott exempel/framgångsfaktor"),
    "hinder": _l("Hinder"),
    "nationell_fraga": _l("Fråga för nationell nivå"),
    "citat": _l("Citat"),
}
QUOTE_REASON_LABELS = {"manga": _l("många sa det"), "unik": _l("unik synpunkt")}
# Event notes use the seven questions and "Övriga iakttagelser": the questions are the frame every
# analysis is made in, so what agencies and organisations say lands under the same sections as what
# the kommuner say. "fack" and "barn" are parts of a visit's programme (the dialogue with the kommun's
# union representatives, talks with children and guardians) that an event does not have.
EVENT_EXTRA_SECTIONS = ("ovrigt",)
assert set(SECTION_TITLES) == set(EXTRA_SECTIONS) and set(FLAG_LABELS) == set(FLAGS)
assert set(EVENT_EXTRA_SECTIONS) <= set(EXTRA_SECTIONS)
assert set(QUOTE_REASON_LABELS) == set(QUOTE_REASONS)

CONTENT_FORMAT = 1


# --------------------------------------------------------------------------- errors

class NoteError(Exception):
    """A request the note cannot take; the message is for the user."""


@dataclass
class Problem:
    section: str
    index: int          # the passage's index in the submitted form (for the link to its field)
    message: str
    field: str = "text"


class ContentRefused(NoteError):
    """The content may not be saved as it is (a personnummer, a quote without its reason)."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class NoteConflict(NoteError):
    """The note was saved by someone else after the form was loaded: nothing was written."""


# --------------------------------------------------------------------------- sections

@dataclass
class Section:
    key: str
    title: str
    question: DialogueQuestion | None = None


def question_key(nr: int) -> str:
    return f"fraga-{nr}"


def sections(*contents: dict | None, extras: tuple[str, ...] = EXTRA_SECTIONS) -> list[Section]:
    """The note's sections in order: active questions (and any inactive one with text), then the others."""
    used = {key for c in contents if c for key, ps in c.get("sections", {}).items() if ps}
    result = []
    for q in db.session.scalars(select(DialogueQuestion).order_by(DialogueQuestion.nr)):
        key = question_key(q.nr)
        if q.active or key in used:
            result.append(Section(key, _("Fråga %(nr)d", nr=q.nr), q))
    result += [Section(key, str(title)) for key, title in SECTION_TITLES.items() if key in extras]
    return result


def valid_section_keys(extras: tuple[str, ...] = EXTRA_SECTIONS) -> set[str]:
    return {question_key(nr) for nr in db.session.scalars(select(DialogueQuestion.nr))} | set(extras)


def extras_for(note: Note) -> tuple[str, ...]:
    """The sections besides the questions that the note can have: a visit's three, an event's one."""
    return EVENT_EXTRA_SECTIONS if note.event_id is not None else EXTRA_SECTIONS


def section_title(key: str) -> str:
    if key in SECTION_TITLES:
        return str(SECTION_TITLES[key])
    if key.startswith("fraga-") and key[6:].isdigit():
        return _("Fråga %(nr)d", nr=int(key[6:]))
    return key


def _section_order(key: str) -> tuple[int, int]:
    if key.startswith("fraga-") and key[6:].isdigit():
        return (0, int(key[6:]))
    return (1, EXTRA_SECTIONS.index(key) if key in EXTRA_SECTIONS else 99)


# --------------------------------------------------------------------------- content

def empty_passage() -> dict[str, Any]:
    return {"id": None, "text": "", "themes": [], **{f: False for f in FLAGS}, "quote_reason": None,
            "attribution_cleared": False, "remove": False}


def _clean_text(text: str | None) -> str:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def _passage(raw: dict[str, Any]) -> dict[str, Any]:
    """One passage in canonical form (whatever its source)."""
    p = empty_passage()
    pid = raw.get("id")
    if isinstance(pid, str) and pid.isascii() and pid.isdigit() and len(pid) <= 10:
        pid = int(pid)
    # An id that is no database integer names no passage (and must not reach the driver).
    p["id"] = pid if isinstance(pid, int) and not isinstance(pid, bool) and 0 < pid <= 2**31 - 1 else None
    p["text"] = _clean_text(raw.get("text"))
    themes = []
    for t in raw.get("themes") or []:
        try:
            themes.append(int(t))
        except (TypeError, ValueError):
            continue
    p["themes"] = sorted(set(themes))
    for flag in FLAGS:
        p[flag] = bool(raw.get(flag))
    reason = raw.get("quote_reason")
    p["quote_reason"] = reason if p["citat"] and reason in QUOTE_REASONS else None
    p["attribution_cleared"] = bool(raw.get("attribution_cleared"))
    p["remove"] = bool(raw.get("remove"))
    if raw.get("theme_names"):  # snapshots keep the names the themes had (for history), aligned with "themes"
        named = dict(zip((str(t) for t in raw.get("themes") or []), raw["theme_names"]))
        p["theme_names"] = [str(named.get(str(t), "?")) for t in p["themes"]]
    if raw.get("merge") in ("saved", "conflict"):  # how the merge view came by it (display only)
        p["merge"] = raw["merge"]
    return p


def passages_of(content: dict | None) -> dict[str, list[dict[str, Any]]]:
    """Every section's passages in canonical form, in form order (empty and removed ones kept)."""
    sections_ = (content or {}).get("sections") or {}
    return {key: [_passage(p) for p in ps or []] for key, ps in sections_.items()}


def compact(content: dict | None) -> dict[str, Any]:
    """The content as the editor shows it: canonical passages, empty new slots dropped."""
    kept = {}
    for key, ps in passages_of(content).items():
        ps = [p for p in ps if p["id"] is not None or p["text"]]
        if ps:
            kept[key] = ps
    return {"version": (content or {}).get("version"), "sections": kept}


def normalize(content: dict | None) -> dict[str, Any]:
    """What would be saved: removed passages and passages without text dropped, sections in order."""
    kept = {}
    for key, ps in passages_of(content).items():
        ps = [p for p in ps if p["text"] and not p["remove"]]
        if ps:
            kept[key] = ps
    return {"version": (content or {}).get("version"),
            "sections": {k: kept[k] for k in sorted(kept, key=_section_order)}}


def _comparable(p: dict[str, Any] | None) -> tuple | None:
    if p is None:
        return None
    return (_clean_text(p.get("text")), tuple(sorted(int(t) for t in p.get("themes") or [])),
            *(bool(p.get(f)) for f in FLAGS), p.get("quote_reason") if p.get("citat") else None,
            bool(p.get("attribution_cleared")))


def _section_comparable(ps: Iterable[dict]) -> list:
    return [_comparable(p) for p in ps]


def same_content(a: dict | None, b: dict | None) -> bool:
    """True when two contents would save the same note (ids and removed or empty passages ignored)."""
    na, nb = normalize(a)["sections"], normalize(b)["sections"]
    keys = set(na) | set(nb)
    return all(_section_comparable(na.get(k, [])) == _section_comparable(nb.get(k, [])) for k in keys)


def changed_sections(old: dict | None, new: dict | None) -> list[str]:
    """The section keys whose passages (text, themes or flags) differ between two contents."""
    na, nb = normalize(old)["sections"], normalize(new)["sections"]
    keys = sorted(set(na) | set(nb), key=_section_order)
    return [k for k in keys if _section_comparable(na.get(k, [])) != _section_comparable(nb.get(k, []))]


def passage_count(content: dict | None) -> int:
    return sum(len(ps) for ps in normalize(content)["sections"].values())


# --------------------------------------------------------------------------- notes

def _owner_column(subject):
    """Note.visit_id or Note.event_id: where a note points at `subject` (a Visit or an Event)."""
    return Note.event_id if subject.__tablename__ == "event" else Note.visit_id


def owner_ids(note: Note) -> dict[str, int]:
    """What the audit log names the note's subject by: {"visit_id": …} or {"event_id": …}."""
    return {"event_id": note.event_id} if note.event_id is not None else {"visit_id": note.visit_id}


def note_for(subject) -> Note | None:
    """The note of a visit or an event, with its passages and their themes loaded."""
    return db.session.scalar(select(Note).where(_owner_column(subject) == subject.id).options(
        selectinload(Note.passages).selectinload(Passage.themes)))


def get_or_create_note(subject) -> Note:
    """The note of a visit or an event; an empty one (version 1, no revisions) is made the first time."""
    note = note_for(subject)
    if note is None:
        note = Note(version=1, **{subject.__tablename__: subject})
        db.session.add(note)
        db.session.flush()
        record("note.created", note, **owner_ids(note))
    return note


def _sorted_passages(note: Note) -> list[Passage]:
    return sorted(note.passages, key=lambda p: (_section_order(p.section), p.position, p.id or 0))


def snapshot(note: Note) -> dict[str, Any]:
    """The note as saved: every passage with its themes (ids and names) and flags."""
    result: dict[str, list] = {}
    for p in _sorted_passages(note):
        themes = sorted(p.themes, key=lambda t: t.name)
        result.setdefault(p.section, []).append({
            "id": p.id, "text": p.text, "themes": [t.id for t in themes], "theme_names": [t.name for t in themes],
            **{f: bool(getattr(p, f)) for f in FLAGS},
            "quote_reason": p.quote_reason, "attribution_cleared": bool(p.attribution_cleared),
        })
    return {"format": CONTENT_FORMAT, "version": note.version, "sections": result}


def check(content: dict | None, extras: tuple[str, ...] = EXTRA_SECTIONS) -> list[Problem]:
    """What stops the content from being saved: personnummer in the text, quotes without a reason,
    a section the note cannot have (`extras`: the sections besides the questions)."""
    problems = []
    valid = valid_section_keys(extras)
    for key, ps in sorted(passages_of(content).items(), key=lambda kv: _section_order(kv[0])):
        for i, p in enumerate(ps):
            if p["remove"] or not p["text"]:
                continue
            if key not in valid:
                problems.append(Problem(key, i, _("Avsnittet ”%(key)s” finns inte. Ladda om sidan.", key=key)))
                continue
            for m in personnummer.find(p["text"]):
                problems.append(Problem(key, i, _(
                    "%(section)s, stycke %(n)d: texten innehåller ett personnummer eller samordningsnummer "
                    "(%(masked)s). Anteckningar om besök får inte identifiera barn: ta bort numret innan du sparar.",
                    section=section_title(key), n=i + 1, masked=m.masked)))
            if p["citat"] and not p["quote_reason"]:
                problems.append(Problem(key, i, _(
                    "%(section)s, stycke %(n)d: ange varför citatet valdes (många sa det eller unik synpunkt).",
                    section=section_title(key), n=i + 1), field="quote_reason"))
    return problems


def _all_themes() -> dict[int, Theme]:
    return {t.id: t for t in db.session.scalars(select(Theme))}


def _resolve_theme(theme_id: int, themes: dict[int, Theme]) -> Theme | None:
    """A theme by id, following merges to the theme it was merged into; None if it no longer exists."""
    theme, seen = themes.get(theme_id), set()
    while theme is not None and theme.merged_into_id is not None and theme.id not in seen:
        seen.add(theme.id)
        target = themes.get(theme.merged_into_id)
        if target is None:
            break
        theme = target
    return theme


def _next_revision_number(note: Note) -> int:
    return (db.session.scalar(select(func.max(NoteRevision.number)).where(NoteRevision.note_id == note.id)) or 0) + 1


def _write(note: Note, content: dict, user, restored_from: int | None = None) -> NoteRevision:
    """Make the note's passages what `content` says, raise its version, and record a revision."""
    new = normalize(content)
    before = snapshot(note)
    themes = _all_themes()
    existing = {p.id: p for p in note.passages}
    added = 0
    for key, ps in new["sections"].items():
        for position, data in enumerate(ps, start=1):
            passage = existing.pop(data["id"], None) if data["id"] is not None else None
            if passage is None:
                passage = Passage(section=key)
                note.passages.append(passage)
                added += 1
            passage.section, passage.position, passage.text = key, position, data["text"]
            for flag in FLAGS:
                setattr(passage, flag, data[flag])
            passage.quote_reason = data["quote_reason"]
            passage.attribution_cleared = data["attribution_cleared"]
            resolved = {t.id: t for t in (_resolve_theme(i, themes) for i in data["themes"]) if t is not None}
            passage.themes = sorted(resolved.values(), key=lambda t: t.name)
    for passage in existing.values():
        note.passages.remove(passage)
    note.updated_at = utcnow()  # the note row changes too, so its version rises
    note.updated_by_id = getattr(user, "id", None)
    try:
        db.session.flush()
    except StaleDataError as e:
        raise NoteConflict(_("Anteckningen har sparats av någon annan under tiden.")) from e
    after = snapshot(note)
    revision = NoteRevision(note=note, number=_next_revision_number(note), user_id=getattr(user, "id", None),
                            content=after, restored_from=restored_from, created_at=note.updated_at)
    db.session.add(revision)
    if user is not None:
        discard_draft(note, user)
    db.session.flush()
    details = {"restored_from": restored_from} if restored_from else {}
    record("note.restored" if restored_from else "note.saved", note, **owner_ids(note),
           revision=revision.number, version=note.version, passages=passage_count(after), added=added,
           removed=len(existing), sections_changed=changed_sections(before, after), **details)
    return revision


def apply(note: Note, content: dict, user, base_version: int | None) -> NoteRevision | None:
    """Save the edited note. Refused (nothing written) with ContentRefused or NoteConflict.

    Returns the new revision, or None when the content is what is already saved (the user's
    draft is dropped either way).
    """
    problems = check(content, extras_for(note))
    if problems:
        raise ContentRefused(problems)
    if base_version is None or base_version != note.version:
        raise NoteConflict(_("Anteckningen har sparats av någon annan sedan du öppnade den."))
    if same_content(content, snapshot(note)):
        discard_draft(note, user)
        return None
    return _write(note, content, user)


# --------------------------------------------------------------------------- revisions

@dataclass
class HistoryRow:
    revision: NoteRevision
    changed: list[str]            # section keys
    passages: int


def revision(note: Note, number: int) -> NoteRevision | None:
    return db.session.scalar(select(NoteRevision).where(NoteRevision.note_id == note.id,
                                                        NoteRevision.number == number))


def history(note: Note) -> list[HistoryRow]:
    """The revisions, newest first, each with the sections it changed."""
    revisions = db.session.scalars(select(NoteRevision).where(NoteRevision.note_id == note.id)
                                   .options(selectinload(NoteRevision.user)).order_by(NoteRevision.number)).all()
    rows, previous = [], None
    for rev in revisions:
        rows.append(HistoryRow(rev, changed_sections(previous, rev.content), passage_count(rev.content)))
        previous = rev.content
    return rows[::-1]


def previous_revision(note: Note, number: int) -> NoteRevision | None:
    return db.session.scalar(select(NoteRevision).where(NoteRevision.note_id == note.id,
                                                        NoteRevision.number < number)
                             .order_by(NoteRevision.number.desc()).limit(1))


def _revision_version(note: Note, version: int | None) -> dict | None:
    """The content of the revision that left the note at `version` (empty for a new note's version 1)."""
    if version is None:
        return None
    for rev in note.revisions:
        if (rev.content or {}).get("version") == version:
            return rev.content
    if version == 1:
        return {"version": 1, "sections": {}}
    return None


def restore(note: Note, number: int, user, base_version: int | None) -> NoteRevision | None:
    """Make an earlier revision the current note again, as a NEW revision (restored_from set).

    Passages that still exist keep their ids; themes merged since are followed to the theme they
    were merged into; themes that no longer exist are dropped. Returns None if nothing changes.
    """
    old = revision(note, number)
    if old is None:
        raise NoteError(_("Versionen finns inte."))
    if base_version is None or base_version != note.version:
        raise NoteConflict(_("Anteckningen har sparats av någon annan sedan du öppnade sidan."))
    current_ids = {p.id for p in note.passages}
    content = {"sections": {key: [{**p, "id": p.get("id") if p.get("id") in current_ids else None} for p in ps]
                            for key, ps in (old.content.get("sections") or {}).items()}}
    problems = check(content, extras_for(note))
    if problems:
        raise ContentRefused(problems)
    if same_content(content, snapshot(note)):
        return None
    return _write(note, content, user, restored_from=number)


# --------------------------------------------------------------------------- drafts

def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt


def load_draft(note: Note, user) -> NoteDraft | None:
    return db.session.scalar(select(NoteDraft).where(NoteDraft.note_id == note.id, NoteDraft.user_id == user.id))


def save_draft(note: Note, user, content: dict, base_version: int | None) -> NoteDraft:
    """Keep what the user has typed (autosave); one draft per note and user, replaced each time."""
    draft = load_draft(note, user)
    if draft is None:
        draft = NoteDraft(note_id=note.id, user_id=user.id)
        db.session.add(draft)
    draft.base_version = base_version if base_version is not None else note.version
    draft.content = {"sections": compact(content)["sections"]}
    draft.saved_at = utcnow()
    return draft


def discard_draft(note: Note, user) -> int:
    if user is None or getattr(user, "id", None) is None:
        return 0
    return db.session.execute(delete(NoteDraft).where(NoteDraft.note_id == note.id,
                                                      NoteDraft.user_id == user.id)).rowcount or 0


def pending_draft(note: Note, user) -> NoteDraft | None:
    """The user's draft if it holds something the saved note does not.

    A draft lives until the user's own save (or discard) removes it, so one that differs from the
    note is unsaved work: it is offered even when someone else saved the note after it was begun
    (restoring it then opens the merge view).
    """
    draft = load_draft(note, user)
    if draft is None or same_content(draft.content, snapshot(note)):
        return None
    return draft


def draft_is_stale(note: Note, draft: NoteDraft) -> bool:
    """True when the note was saved after the draft was begun (so restoring it means merging)."""
    return draft.base_version != note.version or _aware(draft.saved_at) < _aware(note.updated_at)


# --------------------------------------------------------------------------- conflicts: merge view

@dataclass
class SectionComparison:
    key: str
    title: str
    mine: Markup          # "Din version", words not in the saved version marked
    saved: Markup         # "Sparad version", words not in yours marked
    conflict: bool        # a passage both of you changed (your text is in the form)
    took_saved: bool      # passages only the other changed or added (their text is in the form)


@dataclass
class Merge:
    content: dict                     # the form: your text, plus what only the other changed
    comparisons: list[SectionComparison] = field(default_factory=list)
    saved_by: str | None = None
    saved_at: datetime | None = None
    version: int = 0


def passage_labels(p: dict, theme_names: dict[int, str], event: bool = False) -> tuple[list[str], list[str]]:
    """A passage's theme names (current names; the stored ones for themes gone since) and its flags.
    `event`: the passage is from an event's note (cleared for attribution to who said it, not a kommun)."""
    ids, stored = p.get("themes") or [], p.get("theme_names") or []
    names = [theme_names.get(t) or (stored[i] if i < len(stored) else "?") for i, t in enumerate(ids)]
    flags = []
    for f in FLAGS:
        if p.get(f):
            label = str(FLAG_LABELS[f])
            if f == "citat" and p.get("quote_reason") in QUOTE_REASON_LABELS:
                label += f" ({QUOTE_REASON_LABELS[p['quote_reason']]})"
            flags.append(label)
    if p.get("attribution_cleared"):
        flags.append(_("Får tillskrivas den som sa det") if event else _("Får tillskrivas kommunen"))
    return names, flags


def theme_names() -> dict[int, str]:
    return {t.id: t.name for t in _all_themes().values()}


def _passage_block(p: dict, names_by_id: dict[int, str], event: bool = False) -> str:
    """A passage as text for the comparison: the text, then its themes and flags on a line."""
    names, flags = passage_labels(p, names_by_id, event)
    tags = []
    if names:
        tags.append(_("Teman: %(names)s", names=", ".join(names)))
    if flags:
        tags.append(_("Markeringar: %(flags)s", flags=", ".join(flags)))
    text = _clean_text(p.get("text"))
    return text + ("\n[" + " · ".join(tags) + "]" if tags else "")


_TOKENS = re.compile(r"\s+|[^\s]+")


def _diff_html(a: str, b: str) -> tuple[Markup, Markup]:
    """Word-level difference: (a with what is not in b marked <ins>, b with what is not in a marked <del>)."""
    ta, tb = _TOKENS.findall(a), _TOKENS.findall(b)
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes():
        chunk_a, chunk_b = "".join(ta[i1:i2]), "".join(tb[j1:j2])
        if op == "equal":
            left.append(escape(chunk_a))
            right.append(escape(chunk_b))
            continue
        if chunk_a:
            left.append(Markup('<ins class="diff">{}</ins>').format(chunk_a))
        if chunk_b:
            right.append(Markup('<del class="diff">{}</del>').format(chunk_b))
    return Markup("").join(left), Markup("").join(right)


def _section_text(ps: list[dict], theme_names: dict[int, str], event: bool = False) -> str:
    return "\n\n".join(_passage_block(p, theme_names, event) for p in ps)


def merge(note: Note, mine: dict, base_version: int | None) -> Merge:
    """Both versions side by side, and a merged form whose base is the note's current version.

    Per passage (three-way, against the version the user started from): a passage only you changed
    keeps your text; one only the other changed takes theirs; one both changed keeps YOUR text and
    is marked, with theirs shown beside it; passages the other added are added to the form. Nothing
    is saved here, and nothing of what you typed is dropped.
    """
    saved = snapshot(note)
    base = _revision_version(note, base_version)
    base_by_id = {p["id"]: p for ps in passages_of(base).values() for p in ps if p["id"] is not None} if base else {}
    saved_by_id = {p["id"]: (key, p) for key, ps in passages_of(saved).items() for p in ps}
    mine_ps = passages_of(mine)
    mine_ids = {p["id"] for ps in mine_ps.values() for p in ps if p["id"] is not None}
    merged: dict[str, list[dict]] = {}
    conflict_sections, saved_sections = set(), set()

    for key, ps in mine_ps.items():
        out = merged.setdefault(key, [])
        for p in ps:
            if p["id"] is None:
                if p["text"]:
                    out.append(p)
                continue
            b = base_by_id.get(p["id"]) if base is not None else None
            mine_changed = base is None or p["remove"] or _comparable(p) != _comparable(b)
            if p["id"] not in saved_by_id:
                # The other removed it. Keep it if you changed it (as a new passage), else follow them.
                if mine_changed and not p["remove"] and p["text"]:
                    out.append({**p, "id": None, "merge": "conflict"})
                    conflict_sections.add(key)
                continue
            s = saved_by_id[p["id"]][1]
            saved_changed = base is None or _comparable(s) != _comparable(b)
            if not mine_changed:
                if saved_changed:
                    out.append({**s, "remove": False, "merge": "saved"})
                    saved_sections.add(key)
                else:
                    out.append(p)
            elif not saved_changed:
                out.append(p)
            elif p["remove"]:
                # You removed it, the other changed it: keep their text; you can still remove it.
                out.append({**s, "remove": False, "merge": "conflict"})
                conflict_sections.add(key)
            elif _comparable(p) == _comparable(s):
                out.append(p)
            else:
                out.append({**p, "merge": "conflict"})
                conflict_sections.add(key)
    # Passages the other added (or that the form did not carry): added, never dropped.
    for key, ps in passages_of(saved).items():
        for s in ps:
            if s["id"] not in mine_ids:
                merged.setdefault(key, []).append({**s, "merge": "saved"})
                saved_sections.add(key)

    names_by_id = theme_names()
    comparisons = []
    mine_norm, saved_norm = normalize(mine)["sections"], saved["sections"]
    for key in sorted(set(mine_norm) | set(saved_norm), key=_section_order):
        a = _section_text(mine_norm.get(key, []), names_by_id, note.event_id is not None)
        b = _section_text(saved_norm.get(key, []), names_by_id, note.event_id is not None)
        if a == b:
            continue
        left, right = _diff_html(a, b)
        comparisons.append(SectionComparison(key, section_title(key), left, right, key in conflict_sections,
                                             key in saved_sections))
    return Merge(content={"version": note.version, "sections": merged}, comparisons=comparisons,
                 saved_by=note.updated_by.name if note.updated_by else None, saved_at=note.updated_at,
                 version=note.version)


# --------------------------------------------------------------------------- the list of notes

@dataclass
class NoteStatus:
    subject: Any                  # the visit or the event
    note_id: int | None
    passages: int
    saved_at: datetime | None
    saved_by: str | None

    @property
    def visit(self):
        return self.subject


def note_statuses(subjects: list) -> list[NoteStatus]:
    """Per visit (or per event): whether it has a note, how many passages, and who saved it last and when.

    One statement for the subjects given (a page of them): their notes with the passages counted, whether the note
    has a saved revision, and the name of who saved it last."""
    from ..auth.models import User

    if not subjects:
        return []
    column = _owner_column(subjects[0])
    passages = (select(func.count(Passage.id)).where(Passage.note_id == Note.id)
                .correlate(Note).scalar_subquery())
    revised = select(NoteRevision.id).where(NoteRevision.note_id == Note.id).correlate(Note).exists()
    found = {owner: (note_id, count, updated_at, name, saved) for owner, note_id, count, updated_at, name, saved
             in db.session.execute(
                 select(column, Note.id, passages, Note.updated_at, User.name, revised)
                 .outerjoin(User, User.id == Note.updated_by_id)
                 .where(column.in_([v.id for v in subjects])))}
    rows = []
    for v in subjects:
        if v.id not in found:
            rows.append(NoteStatus(v, None, 0, None, None))
            continue
        note_id, count, updated_at, name, saved = found[v.id]
        rows.append(NoteStatus(v, note_id, count or 0, updated_at if saved else None, name if saved else None))
    return rows


@event_passages.connect
def _passages_by_event(event_ids: list[int] | None, **_kwargs) -> dict[int, int]:
    """Event id -> passages in its note, for the events whose note has any (the events' pages ask)."""
    query = select(Note.event_id, func.count(Passage.id)).join(Passage).where(Note.event_id.isnot(None))
    if event_ids is not None:
        query = query.where(Note.event_id.in_(event_ids))
    return dict(db.session.execute(query.group_by(Note.event_id)).all())
