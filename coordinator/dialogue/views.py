"""The note pages: the list of visits with their notes, the editor, autosave, history and restore.

Thin views: the logic is notes.py. Every change is a POST with CSRF and the note's `version`; a
save based on an older version is refused and shown as a merge of both versions.
Never log or audit note text: ids, section keys and counts only.

The same pages serve a visit's note (/dialog/besok/<visit_id>…) and an event's note
(/dialog/forum/<event_id>…, endpoints prefixed "event_"): each view takes a NoteSubject.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import confirm
from ..auth import staff_required
from ..events.models import Event
from ..extensions import db
from ..registry.models import Kommun
from ..sampling.models import Site
from ..scheduling.models import Visit
from ..scheduling.overview import visit_lans, visits_page
from . import bp, notes
from .forms import NoteForm, VersionForm, content_from_form, field_id, field_name, parse_version
from .models import FLAGS, Note, Passage, ThemeCategory


def _status_label(status: str) -> str:
    from ..scheduling.views import STATUS_LABELS
    return str(STATUS_LABELS.get(status, status))


def _helpers() -> dict:
    return {"visit_status_label": _status_label, "field_name": field_name, "field_id": field_id,
            "section_title": notes.section_title, "flag_labels": notes.FLAG_LABELS,
            "quote_reason_labels": notes.QUOTE_REASON_LABELS, "flags": FLAGS}


@dataclass
class NoteSubject:
    """What a note is about, a visit or an event, and the URLs of its note pages."""
    obj: Visit | Event

    @property
    def is_event(self) -> bool:
        return isinstance(self.obj, Event)

    @property
    def visit(self) -> Visit | None:
        return None if self.is_event else self.obj

    @property
    def event(self) -> Event | None:
        return self.obj if self.is_event else None

    def endpoint(self, page: str) -> str:
        return f"dialogue.event_{page}" if self.is_event else f"dialogue.{page}"

    def url(self, page: str, **kw) -> str:
        key = "event_id" if self.is_event else "visit_id"
        return url_for(self.endpoint(page), **{key: self.obj.id}, **kw)


def _subject(visit_id: int | None = None, event_id: int | None = None) -> NoteSubject:
    obj = db.session.get(Event, event_id) if event_id is not None else db.session.get(Visit, visit_id)
    if obj is None:
        abort(404)
    return NoteSubject(obj)


def _routes(rule: str, page: str, methods: tuple[str, ...] = ("GET",)):
    """Register the view for a visit's note (/besok/<visit_id>…, endpoint `page`) and for an event's
    (/forum/<event_id>…, endpoint "event_" + `page`). The view takes the NoteSubject."""
    def register(view):
        def for_visit(visit_id: int, **kw):
            return view(_subject(visit_id=visit_id), **kw)

        def for_event(event_id: int, **kw):
            return view(_subject(event_id=event_id), **kw)

        bp.add_url_rule(f"/besok/<int:visit_id>{rule}", page, staff_required(for_visit), methods=methods)
        bp.add_url_rule(f"/forum/<int:event_id>{rule}", f"event_{page}", staff_required(for_event), methods=methods)
        return view
    return register


def _note(subject: NoteSubject) -> Note:
    """The subject's note, made (and committed) the first time it is opened."""
    note = notes.note_for(subject.obj)
    if note is not None:
        return note
    try:
        notes.get_or_create_note(subject.obj)
        db.session.commit()
    except IntegrityError:  # opened at the same moment by someone else
        db.session.rollback()
    return notes.note_for(subject.obj)


def _page(template: str, subject: NoteSubject, **context):
    return render_template(template, subject=subject, visit=subject.visit, event=subject.event, **context,
                           **_helpers())


# --------------------------------------------------------------------------- the list

INDEX_PAGE = 100  # visits a page of the list of notes
NOTE_FILTERS = ("med", "utan")  # ?anteckning=: visits whose note has passages, or not


@bp.route("/")
@staff_required
def index():
    """The visits with their notes, a page at a time in round and date order, filtered by round, län and whether
    the note has any passages; then the dialogue forums and theirs."""
    round_ = request.args.get("omgang", type=int) if request.args.get("omgang") in ("1", "2") else None
    lan = request.args.get("lan") or None
    written = request.args.get("anteckning") if request.args.get("anteckning") in NOTE_FILTERS else None
    per_lan = visit_lans()
    lans = [(code, name) for code, name, _n in per_lan]
    total = sum(n for _c, _name, n in per_lan)
    if lan not in {code for code, _name in lans}:
        lan = None
    has_passages = (select(Passage.id).join(Note, Passage.note_id == Note.id)
                    .where(Note.visit_id == Visit.id).correlate(Visit).exists())
    with_notes = db.session.scalar(select(func.count(Visit.id)).where(has_passages)) if total else 0
    where = [c for c in ((Visit.round == round_) if round_ is not None else None,
                         (Kommun.lanskod == lan) if lan is not None else None,
                         has_passages if written == "med" else ~has_passages if written == "utan" else None)
             if c is not None]
    page, visits = visits_page(request.args, where, total, INDEX_PAGE,
                               (Visit.round, Visit.date.is_(None), Visit.date, Site.position, Visit.id))
    by_round: dict[int, list] = {}
    for row in notes.note_statuses(visits):
        by_round.setdefault(row.visit.round, []).append(row)
    events = notes.note_statuses(list(db.session.scalars(select(Event).order_by(Event.date.desc(), Event.id))))
    filters = {k: v for k, v in (("omgang", round_), ("lan", lan), ("anteckning", written)) if v is not None}
    return render_template("dialogue/notes_index.html", by_round=sorted(by_round.items()), page=page,
                           total=total, with_notes=with_notes, filters=filters, round_=round_, lan=lan,
                           lans=lans, written=written,
                           events=[r for r in events if r.passages or r.subject.status != "installt"],
                           **_helpers())


# --------------------------------------------------------------------------- the editor

def _theme_groups() -> list[ThemeCategory]:
    return list(db.session.scalars(select(ThemeCategory).options(selectinload(ThemeCategory.themes))
                                   .order_by(ThemeCategory.position, ThemeCategory.name)))


def _editor_sections(content: dict, saved: dict, problems: list[notes.Problem],
                     extras: tuple[str, ...]) -> list[dict]:
    """Per section: its passages for the form (each with its index and themes to offer), then one empty slot."""
    categories = _theme_groups()
    by_passage: dict[tuple[str, int], list[notes.Problem]] = {}
    for p in problems:
        by_passage.setdefault((p.section, p.index), []).append(p)
    passages = notes.passages_of(content)
    result = []
    for section in notes.sections(content, saved, extras=extras):
        entries = []
        for i, p in enumerate([*passages.get(section.key, []), notes.empty_passage()]):
            attached = set(p["themes"])
            groups = []
            for cat in categories:
                themes = [t for t in cat.themes if (not t.retired and not cat.retired) or t.id in attached]
                if themes:
                    groups.append((cat, themes))
            entries.append({"index": i, "p": p, "groups": groups, "new": i == len(passages.get(section.key, [])),
                            "problems": by_passage.get((section.key, i), []),
                            "theme_names": [t.name for cat in categories for t in cat.themes if t.id in attached]})
        result.append({"section": section, "entries": entries})
    return result


def _editor(subject: NoteSubject, note: Note, content: dict, version: int | None, *, problems=None, merge=None,
            draft=None, draft_loaded=None, status: int = 200):
    saved = notes.snapshot(note)
    content = notes.compact(content)
    problems = problems or []
    form = NoteForm(formdata=None, version="" if version is None else str(version))
    return _page(
        "dialogue/note.html", subject, note=note, form=form,
        sections=_editor_sections(content, saved, problems, notes.extras_for(note)),
        problems=problems, merge=merge, draft=draft, draft_loaded=draft_loaded,
        saved=bool(note.revisions), passages=notes.passage_count(saved),
        draft_stale=draft is not None and notes.draft_is_stale(note, draft)), status


@_routes("", "note")
def note(subject: NoteSubject):
    note = _note(subject)
    if request.args.get("utkast") == "1":
        draft = notes.load_draft(note, current_user)
        if draft is None:
            flash(_("Det finns inget sparat utkast."), "warning")
            return redirect(subject.url("note"))
        if draft.base_version != note.version:
            # Saved by someone since the draft began: show both versions to merge.
            merge = notes.merge(note, draft.content, draft.base_version)
            return _editor(subject, note, merge.content, note.version, merge=merge, draft_loaded=draft)
        return _editor(subject, note, draft.content, draft.base_version, draft_loaded=draft)
    return _editor(subject, note, notes.snapshot(note), note.version, draft=notes.pending_draft(note, current_user))


def _conflict(subject: NoteSubject, content: dict, base: int | None):
    db.session.rollback()
    note = notes.note_for(subject.obj)
    current_app.logger.info("note %s: save on version %s refused, now at version %s", note.id, base, note.version)
    merge = notes.merge(note, content, base)
    merged = notes.compact(merge.content)
    return _editor(subject, note, merged, note.version, merge=merge,
                   problems=notes.check(merged, notes.extras_for(note)), status=409)


@_routes("", "note_save", methods=("POST",))
def note_save(subject: NoteSubject):
    note = _note(subject)
    form = NoteForm()
    if not form.validate_on_submit():
        abort(400)
    content = notes.compact(content_from_form(request.form))
    base = parse_version(form.version.data)
    try:
        revision = notes.apply(note, content, current_user, base)
        db.session.commit()
    except notes.ContentRefused as e:
        db.session.rollback()
        return _editor(subject, notes.note_for(subject.obj), content, base, problems=e.problems, status=422)
    except (notes.NoteConflict, StaleDataError, IntegrityError):
        return _conflict(subject, content, base)
    if revision is None:
        flash(_("Inga ändringar att spara."), "success")
    else:
        flash(_("Anteckningen är sparad (version %(n)d).", n=revision.number), "success")
    return redirect(subject.url("note"))


# --------------------------------------------------------------------------- drafts (autosave)

@_routes("/utkast", "note_autosave", methods=("POST",))
def note_autosave(subject: NoteSubject):
    """What the user has typed, kept as their draft (from static/notes.js). 204, no content."""
    note = _note(subject)
    form = NoteForm()
    if not form.validate_on_submit():
        abort(400)
    content = content_from_form(request.form)
    for attempt in (1, 2):
        try:
            notes.save_draft(note, current_user, content, parse_version(form.version.data))
            db.session.commit()
            break
        except IntegrityError:  # two autosaves at once (a timer and the page being hidden)
            db.session.rollback()
            if attempt == 2:
                return "", 409
    return "", 204


def _discard_confirmation(subject: NoteSubject, note: Note, draft) -> confirm.Confirmation:
    what = (_("Anteckningen för %(site)s, omgång %(n)s", site=subject.visit.site.label, n=subject.visit.round)
            if subject.visit else _("Anteckningen för %(event)s", event=subject.event.title))
    saved = note.revisions[-1].number if note.revisions else None
    return confirm.Confirmation(
        heading=_("Kasta ditt osparade utkast?"), action=subject.url("note_discard_draft"),
        button=_("Kasta utkastet"), back=subject.url("note", _anchor="utkast"),
        facts=[(_("Gäller"), what)] + ([(_("Utkastet sparades"), format_datetime(draft.saved_at, "yyyy-MM-dd HH:mm"))]
                                      if draft is not None else []),
        errors=[] if draft is not None else [_("Du har inget osparat utkast av anteckningen.")],
        happens=[_("Det du har skrivit i anteckningen men aldrig sparat (utkastet) tas bort."),
                 _("Den sparade anteckningen (version %(n)s) ändras inte.", n=saved) if saved else
                 _("Anteckningen har inte sparats än, så den förblir tom.")],
        cannot_undo=_("Utkastet går inte att få tillbaka."),
        hidden={"version": note.version})


@_routes("/utkast/kasta", "note_discard_draft", methods=("GET", "POST"))
def note_discard_draft(subject: NoteSubject):
    note = _note(subject)
    draft = notes.load_draft(note, current_user)
    if draft is None or not confirm.confirmed():  # no draft: the step says so, without a button
        return confirm.page(_discard_confirmation(subject, note, draft))
    if not VersionForm().validate_on_submit():
        abort(400)
    notes.discard_draft(note, current_user)
    db.session.commit()
    flash(_("Utkastet är kastat."), "success")
    return redirect(subject.url("note"))


# --------------------------------------------------------------------------- history

@_routes("/historik", "note_history")
def note_history(subject: NoteSubject):
    note = _note(subject)
    return _page("dialogue/note_history.html", subject, note=note, rows=notes.history(note))


@_routes("/historik/<int:number>", "note_revision")
def note_revision(subject: NoteSubject, number: int):
    note = _note(subject)
    rev = notes.revision(note, number)
    if rev is None:
        abort(404)
    previous = notes.previous_revision(note, number)
    content = notes.normalize(rev.content)
    current = note.revisions[-1].number if note.revisions else None
    return _page(
        "dialogue/note_revision.html", subject, note=note, rev=rev, content=content,
        sections=notes.sections(rev.content, extras=notes.extras_for(note)), changed=set(notes.changed_sections(
            previous.content if previous else None, rev.content)),
        is_current=number == current, restore_form=VersionForm(formdata=None, version=note.version),
        passage_labels=partial(notes.passage_labels, event=subject.is_event), theme_names=notes.theme_names())


@_routes("/historik/<int:number>/aterstall", "note_restore", methods=("POST",))
def note_restore(subject: NoteSubject, number: int):
    note = _note(subject)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        revision = notes.restore(note, number, current_user, parse_version(form.version.data))
        db.session.commit()
    except notes.ContentRefused as e:
        db.session.rollback()
        for problem in e.problems:
            flash(problem.message, "error")
        return redirect(subject.url("note_revision", number=number))
    except (notes.NoteConflict, StaleDataError, IntegrityError):
        db.session.rollback()
        flash(_("Anteckningen har sparats av någon annan sedan du öppnade sidan. Ingenting återställdes; "
                "jämför med historiken och försök igen."), "error")
        return redirect(subject.url("note_history"))
    except notes.NoteError:
        db.session.rollback()
        abort(404)
    if revision is None:
        flash(_("Version %(n)d har samma innehåll som anteckningen nu. Ingenting ändrades.", n=number), "success")
    else:
        flash(_("Version %(old)d är återställd som ny version %(n)d.", old=number, n=revision.number), "success")
    return redirect(subject.url("note"))
