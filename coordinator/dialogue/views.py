"""The note pages: the list of visits with their notes, the editor, autosave, history and restore.

Thin views: the logic is notes.py. Every change is a POST with CSRF and the note's `version`; a
save based on an older version is refused and shown as a merge of both versions.
Never log or audit note text: ids, section keys and counts only.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..auth import staff_required
from ..extensions import db
from ..scheduling.models import Visit
from ..scheduling.service import visits as all_visits
from . import bp, notes
from .forms import NoteForm, VersionForm, content_from_form, field_id, field_name, parse_version
from .models import FLAGS, Note, ThemeCategory


def _status_label(status: str) -> str:
    from ..scheduling.views import STATUS_LABELS
    return str(STATUS_LABELS.get(status, status))


def _helpers() -> dict:
    return {"visit_status_label": _status_label, "field_name": field_name, "field_id": field_id,
            "section_title": notes.section_title, "flag_labels": notes.FLAG_LABELS,
            "quote_reason_labels": notes.QUOTE_REASON_LABELS, "flags": FLAGS}


def _visit_or_404(visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        abort(404)
    return visit


def _note(visit: Visit) -> Note:
    """The visit's note, made (and committed) the first time it is opened."""
    note = notes.note_for(visit)
    if note is not None:
        return note
    try:
        notes.get_or_create_note(visit)
        db.session.commit()
    except IntegrityError:  # opened at the same moment by someone else
        db.session.rollback()
    return notes.note_for(visit)


# --------------------------------------------------------------------------- the list

@bp.route("/")
@staff_required
def index():
    rows = notes.note_statuses(all_visits())
    by_round: dict[int, list] = {}
    for row in rows:
        by_round.setdefault(row.visit.round, []).append(row)
    return render_template("dialogue/notes_index.html", by_round=sorted(by_round.items()),
                           total=len(rows), with_notes=sum(1 for r in rows if r.passages), **_helpers())


# --------------------------------------------------------------------------- the editor

def _theme_groups() -> list[ThemeCategory]:
    return list(db.session.scalars(select(ThemeCategory).options(selectinload(ThemeCategory.themes))
                                   .order_by(ThemeCategory.position, ThemeCategory.name)))


def _editor_sections(content: dict, saved: dict, problems: list[notes.Problem]) -> list[dict]:
    """Per section: its passages for the form (each with its index and themes to offer), then one empty slot."""
    categories = _theme_groups()
    by_passage: dict[tuple[str, int], list[notes.Problem]] = {}
    for p in problems:
        by_passage.setdefault((p.section, p.index), []).append(p)
    passages = notes.passages_of(content)
    result = []
    for section in notes.sections(content, saved):
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


def _editor(visit: Visit, note: Note, content: dict, version: int | None, *, problems=None, merge=None,
            draft=None, draft_loaded=None, status: int = 200):
    saved = notes.snapshot(note)
    content = notes.compact(content)
    problems = problems or []
    form = NoteForm(formdata=None, version="" if version is None else str(version))
    return render_template(
        "dialogue/note.html", visit=visit, note=note, form=form, sections=_editor_sections(content, saved, problems),
        problems=problems, merge=merge, draft=draft, draft_loaded=draft_loaded,
        saved=bool(note.revisions), passages=notes.passage_count(saved),
        draft_stale=draft is not None and notes.draft_is_stale(note, draft),
        discard_form=VersionForm(formdata=None, version=note.version), **_helpers()), status


@bp.route("/besok/<int:visit_id>")
@staff_required
def note(visit_id: int):
    visit = _visit_or_404(visit_id)
    note = _note(visit)
    if request.args.get("utkast") == "1":
        draft = notes.load_draft(note, current_user)
        if draft is None:
            flash(_("Det finns inget sparat utkast."), "warning")
            return redirect(url_for("dialogue.note", visit_id=visit.id))
        if draft.base_version != note.version:
            # Saved by someone since the draft began: show both versions to merge.
            merge = notes.merge(note, draft.content, draft.base_version)
            return _editor(visit, note, merge.content, note.version, merge=merge, draft_loaded=draft)
        return _editor(visit, note, draft.content, draft.base_version, draft_loaded=draft)
    return _editor(visit, note, notes.snapshot(note), note.version, draft=notes.pending_draft(note, current_user))


def _conflict(visit: Visit, content: dict, base: int | None):
    db.session.rollback()
    note = notes.note_for(visit)
    current_app.logger.info("note %s: save on version %s refused, now at version %s", note.id, base, note.version)
    merge = notes.merge(note, content, base)
    merged = notes.compact(merge.content)
    return _editor(visit, note, merged, note.version, merge=merge, problems=notes.check(merged), status=409)


@bp.route("/besok/<int:visit_id>", methods=["POST"])
@staff_required
def note_save(visit_id: int):
    visit = _visit_or_404(visit_id)
    note = _note(visit)
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
        return _editor(visit, notes.note_for(visit), content, base, problems=e.problems, status=422)
    except (notes.NoteConflict, StaleDataError, IntegrityError):
        return _conflict(visit, content, base)
    if revision is None:
        flash(_("Inga ändringar att spara."), "success")
    else:
        flash(_("Anteckningen är sparad (version %(n)d).", n=revision.number), "success")
    return redirect(url_for("dialogue.note", visit_id=visit.id))


# --------------------------------------------------------------------------- drafts (autosave)

@bp.route("/besok/<int:visit_id>/utkast", methods=["POST"])
@staff_required
def note_autosave(visit_id: int):
    """What the user has typed, kept as their draft (from static/notes.js). 204, no content."""
    visit = _visit_or_404(visit_id)
    note = _note(visit)
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


@bp.route("/besok/<int:visit_id>/utkast/kasta", methods=["POST"])
@staff_required
def note_discard_draft(visit_id: int):
    visit = _visit_or_404(visit_id)
    note = _note(visit)
    if not VersionForm().validate_on_submit():
        abort(400)
    notes.discard_draft(note, current_user)
    db.session.commit()
    flash(_("Utkastet är kastat."), "success")
    return redirect(url_for("dialogue.note", visit_id=visit.id))


# --------------------------------------------------------------------------- history

@bp.route("/besok/<int:visit_id>/historik")
@staff_required
def note_history(visit_id: int):
    visit = _visit_or_404(visit_id)
    note = _note(visit)
    return render_template("dialogue/note_history.html", visit=visit, note=note, rows=notes.history(note),
                           **_helpers())


@bp.route("/besok/<int:visit_id>/historik/<int:number>")
@staff_required
def note_revision(visit_id: int, number: int):
    visit = _visit_or_404(visit_id)
    note = _note(visit)
    rev = notes.revision(note, number)
    if rev is None:
        abort(404)
    previous = notes.previous_revision(note, number)
    content = notes.normalize(rev.content)
    current = note.revisions[-1].number if note.revisions else None
    return render_template(
        "dialogue/note_revision.html", visit=visit, note=note, rev=rev, content=content,
        sections=notes.sections(rev.content), changed=set(notes.changed_sections(
            previous.content if previous else None, rev.content)),
        is_current=number == current, restore_form=VersionForm(formdata=None, version=note.version),
        passage_labels=notes.passage_labels, theme_names=notes.theme_names(), **_helpers())


@bp.route("/besok/<int:visit_id>/historik/<int:number>/aterstall", methods=["POST"])
@staff_required
def note_restore(visit_id: int, number: int):
    visit = _visit_or_404(visit_id)
    note = _note(visit)
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
        return redirect(url_for("dialogue.note_revision", visit_id=visit.id, number=number))
    except (notes.NoteConflict, StaleDataError, IntegrityError):
        db.session.rollback()
        flash(_("Anteckningen har sparats av någon annan sedan du öppnade sidan. Ingenting återställdes; "
                "jämför med historiken och försök igen."), "error")
        return redirect(url_for("dialogue.note_history", visit_id=visit.id))
    except notes.NoteError:
        db.session.rollback()
        abort(404)
    if revision is None:
        flash(_("Version %(n)d har samma innehåll som anteckningen nu. Ingenting ändrades.", n=number), "success")
    else:
        flash(_("Version %(old)d är återställd som ny version %(n)d.", old=number, n=revision.number), "success")
    return redirect(url_for("dialogue.note", visit_id=visit.id))
