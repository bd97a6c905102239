"""The theme codebook (categories and themes, with counts of use) and the dialogue questions.

Staff add, rename, move, retire and merge themes and categories; an admin edits the
questions. A retired (inactive) theme is not offered for new tagging but stays on the
passages that have it. Merging theme A into B re-tags every passage of A with B (a passage
that already had both keeps one tag), points plan goals and earlier merges at B, and marks
A retired with ``merged_into`` = B; the page asks for confirmation first and shows what will
happen. Every change is audited in the same transaction (names of themes and questions are
codebook data, never note text).
"""
from __future__ import annotations

import hashlib

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import delete, distinct, exists, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, selectinload

from ..audit import record
from ..auth import admin_required, staff_required
from ..extensions import db
from . import bp
from .codebook_forms import CategoryForm, MergeForm, QuestionForm, RetireForm, ThemeForm
from .models import DialogueQuestion, Note, Passage, PassageTheme, Theme, ThemeCategory
from .signals import theme_counted, theme_merged  # the plans' goals that name a theme


class CodebookError(ValueError):
    """A change the codebook refuses; the message is for the user (Swedish source text)."""


# --------------------------------------------------------------------------- reading

def categories() -> list[ThemeCategory]:
    return list(db.session.scalars(
        select(ThemeCategory).order_by(ThemeCategory.position, ThemeCategory.name)
        .options(selectinload(ThemeCategory.themes).selectinload(Theme.merged_into))))


def usage() -> dict[int, tuple[int, int]]:
    """Per theme id: (passages tagged, from visit and event notes; distinct visits whose notes have them).
    The events they come from are counted by event_usage()."""
    rows = db.session.execute(
        select(PassageTheme.theme_id, func.count(distinct(PassageTheme.passage_id)),
               func.count(distinct(Note.visit_id)))
        .join(Passage, Passage.id == PassageTheme.passage_id).join(Note, Note.id == Passage.note_id)
        .group_by(PassageTheme.theme_id))
    return {theme_id: (passages, visits) for theme_id, passages, visits in rows}


def event_usage() -> dict[int, int]:
    """Per theme id: distinct events (dialogforum) whose notes have passages tagged with it."""
    rows = db.session.execute(
        select(PassageTheme.theme_id, func.count(distinct(Note.event_id)))
        .join(Passage, Passage.id == PassageTheme.passage_id).join(Note, Note.id == Passage.note_id)
        .where(Note.event_id.isnot(None)).group_by(PassageTheme.theme_id))
    return dict(rows.all())


def events_of(theme_ids: list[int]) -> int:
    """Distinct events whose notes have passages tagged with any of the themes."""
    if not theme_ids:
        return 0
    return db.session.scalar(
        select(func.count(distinct(Note.event_id))).select_from(PassageTheme)
        .join(Passage, Passage.id == PassageTheme.passage_id).join(Note, Note.id == Passage.note_id)
        .where(PassageTheme.theme_id.in_(theme_ids))) or 0


def theme_usage(theme_id: int) -> tuple[int, int]:
    return usage_of([theme_id])


def usage_of(theme_ids: list[int]) -> tuple[int, int]:
    """(passages, visits) tagged with any of the themes."""
    row = db.session.execute(
        select(func.count(distinct(PassageTheme.passage_id)), func.count(distinct(Note.visit_id)))
        .join(Passage, Passage.id == PassageTheme.passage_id).join(Note, Note.id == Passage.note_id)
        .where(PassageTheme.theme_id.in_(theme_ids))).one()
    return row[0], row[1]


def active_themes() -> list[Theme]:
    """Themes that can be chosen for new tagging: active, in an active category."""
    return list(db.session.scalars(
        select(Theme).join(ThemeCategory).where(Theme.retired.is_(False), ThemeCategory.retired.is_(False))
        .order_by(ThemeCategory.position, ThemeCategory.name, Theme.name)))


def resolve_theme_ids(theme_ids) -> list[int]:
    """Theme ids with every merged theme replaced by the theme it was merged into (for restoring an
    older revision or draft that still names a merged theme); order kept, duplicates dropped."""
    merged = {theme: into for theme, into in db.session.execute(
        select(Theme.id, Theme.merged_into_id).where(Theme.merged_into_id.isnot(None)))}
    out: list[int] = []
    for theme_id in theme_ids:
        seen = set()
        while theme_id in merged and theme_id not in seen:
            seen.add(theme_id)
            theme_id = merged[theme_id]
        if theme_id not in out:
            out.append(theme_id)
    return out


# --------------------------------------------------------------------------- changing

def _same(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()  # in Python: SQLite's lower() folds ASCII only


def _check_category_name(name: str, category: ThemeCategory | None = None) -> None:
    for other in db.session.scalars(select(ThemeCategory)):
        if other is not category and _same(other.name, name):
            raise CodebookError(_("Det finns redan en kategori som heter %(name)s.", name=other.name))


def _check_theme_name(name: str, category: ThemeCategory, theme: Theme | None = None) -> None:
    for other in db.session.scalars(select(Theme).where(Theme.category_id == category.id)):
        if other is not theme and _same(other.name, name):
            raise CodebookError(_("Kategorin %(category)s har redan ett tema som heter %(name)s.",
                                  category=category.name, name=other.name))


def add_category(name: str) -> ThemeCategory:
    _check_category_name(name)
    position = (db.session.scalar(select(func.max(ThemeCategory.position))) or 0) + 1
    category = ThemeCategory(name=name, position=position, retired=False)
    db.session.add(category)
    db.session.flush()
    record("theme_category.created", category, name=name)
    return category


def rename_category(category: ThemeCategory, name: str) -> None:
    if category.name == name:
        return
    _check_category_name(name, category)
    record("theme_category.renamed", category, old=category.name, new=name)
    category.name = name


def set_category_retired(category: ThemeCategory, retired: bool) -> None:
    if category.retired == retired:
        return
    category.retired = retired
    record("theme_category.retired" if retired else "theme_category.reactivated", category, name=category.name)


def add_theme(category: ThemeCategory, name: str) -> Theme:
    if category.retired:
        raise CodebookError(_("Kategorin %(name)s är inaktiv. Gör den aktiv igen innan du lägger till teman i den.",
                              name=category.name))
    _check_theme_name(name, category)
    theme = Theme(category=category, name=name, retired=False)
    db.session.add(theme)
    db.session.flush()
    record("theme.created", theme, name=name, category=category.id)
    return theme


def update_theme(theme: Theme, name: str, category: ThemeCategory) -> None:
    """Rename a theme and/or move it to another category."""
    if theme.name == name and theme.category_id == category.id:
        return
    if category.id != theme.category_id and category.retired:
        raise CodebookError(_("Kategorin %(name)s är inaktiv. Välj en aktiv kategori.", name=category.name))
    _check_theme_name(name, category, theme)
    details = {}
    if theme.name != name:
        details.update(old=theme.name, new=name)
    if theme.category_id != category.id:
        details.update(old_category=theme.category_id, new_category=category.id)
    theme.name, theme.category = name, category
    record("theme.updated", theme, **details)


def set_theme_retired(theme: Theme, retired: bool) -> None:
    if theme.merged_into_id is not None and not retired:
        raise CodebookError(_("Temat är sammanslaget med %(name)s och kan inte göras aktivt igen. "
                              "Lägg till ett nytt tema om det behövs.", name=theme.merged_into.name))
    if theme.retired == retired:
        return
    theme.retired = retired
    record("theme.retired" if retired else "theme.reactivated", theme, name=theme.name)


def merge_targets(theme: Theme) -> list[Theme]:
    return [t for t in active_themes() if t.id != theme.id]


def _check_merge(source: Theme, target: Theme) -> None:
    if source.id == target.id:
        raise CodebookError(_("Ett tema kan inte slås ihop med sig självt."))
    if source.merged_into_id is not None:
        raise CodebookError(_("Temat %(name)s är redan sammanslaget med ett annat tema.", name=source.name))
    if target.retired or target.merged_into_id is not None or target.category.retired:
        raise CodebookError(_("Temat %(name)s är inaktivt. Välj ett aktivt tema att slå ihop med.", name=target.name))


def merge_preview(source: Theme, target: Theme) -> dict[str, int]:
    """What a merge would do: passages and visits of the source, how many already have the target too."""
    _check_merge(source, target)
    passages, visits = theme_usage(source.id)
    target_alias = aliased(PassageTheme)
    both = db.session.scalar(
        select(func.count()).select_from(PassageTheme).where(
            PassageTheme.theme_id == source.id,
            exists().where(target_alias.passage_id == PassageTheme.passage_id, target_alias.theme_id == target.id)))
    return {"passages": passages, "visits": visits, "both": both or 0, "goals": _plan_goal_count(source.id)}


def _plan_goal_count(theme_id: int) -> int:
    return sum(n for _receiver, n in theme_counted.send(theme_id))


def merge(source: Theme, target: Theme) -> dict[str, int]:
    """Merge ``source`` into ``target`` (in the caller's transaction): see the module docstring."""
    # Lock both rows (PostgreSQL) and re-read them, so two merges at once cannot cross or chain.
    db.session.execute(select(Theme).where(Theme.id.in_(sorted({source.id, target.id})))
                       .with_for_update().execution_options(populate_existing=True))
    _check_merge(source, target)
    target_alias = aliased(PassageTheme)
    def tags(theme: Theme) -> int:
        return db.session.scalar(select(func.count()).select_from(PassageTheme)
                                 .where(PassageTheme.theme_id == theme.id)) or 0

    total, before = tags(source), tags(target)
    db.session.execute(insert(PassageTheme).from_select(
        ["passage_id", "theme_id"],
        select(PassageTheme.passage_id, literal(target.id)).where(
            PassageTheme.theme_id == source.id,
            ~exists().where(target_alias.passage_id == PassageTheme.passage_id, target_alias.theme_id == target.id))))
    moved = tags(target) - before  # (rowcount of INSERT … SELECT is not reliable across drivers)
    db.session.execute(delete(PassageTheme).where(PassageTheme.theme_id == source.id))
    goals = sum(n for _receiver, n in theme_merged.send(source.id, target_id=target.id))
    earlier = db.session.execute(update(Theme).where(Theme.merged_into_id == source.id)
                                 .values(merged_into_id=target.id)).rowcount
    source.retired, source.merged_into_id = True, target.id
    db.session.flush()
    db.session.expire_all()  # passages' theme lists in the session are stale after the bulk statements
    outcome = {"passages": total, "retagged": moved, "already_tagged": total - moved, "plan_goals": goals,
               "earlier_merges": earlier}
    record("theme.merged", object_type="theme", object_id=source.id, into=target.id, **outcome)
    return outcome


def question_fingerprint(q: DialogueQuestion) -> str:
    raw = "\x1f".join([q.lagrum, q.kravtext, q.fraga, "1" if q.active else "0"])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


QUESTION_FIELDS = ("lagrum", "kravtext", "fraga", "active")


def update_question(q: DialogueQuestion, values: dict) -> list[str]:
    changed = [f for f in QUESTION_FIELDS if getattr(q, f) != values[f]]
    for f in changed:
        setattr(q, f, values[f])
    if changed:
        record("dialogue_question.updated", q, nr=q.nr, fields=changed)
    return changed


def add_question(values: dict) -> DialogueQuestion:
    nr = (db.session.scalar(select(func.max(DialogueQuestion.nr))) or 0) + 1
    q = DialogueQuestion(nr=nr, **values)
    db.session.add(q)
    db.session.flush()
    record("dialogue_question.created", q, nr=nr)
    return q


# --------------------------------------------------------------------------- pages: the codebook

def _category_choices(include: ThemeCategory | None = None) -> list[tuple[int, str]]:
    return [(c.id, c.name) for c in categories() if not c.retired or c is include]


def _merge_choices(theme: Theme) -> list:
    groups: dict[str, list[tuple[int, str]]] = {}
    for t in merge_targets(theme):
        groups.setdefault(t.category.name, []).append((t.id, t.name))
    return groups


def _codebook_page(category_form=None, theme_form=None, status=200):
    category_form = category_form or CategoryForm(formdata=None)
    if theme_form is None:
        theme_form = ThemeForm(formdata=None)
        theme_form.category.choices = _category_choices()
    return render_template("dialogue/codebook.html", categories=categories(), usage=usage(),
                           event_usage=event_usage(), category_form=category_form, theme_form=theme_form), status


@bp.route("/teman")
@staff_required
def codebook():
    return _codebook_page()


@bp.route("/teman/kategori", methods=["POST"])
@staff_required
def codebook_add_category():
    form = CategoryForm()
    if not form.validate_on_submit():
        return _codebook_page(category_form=form, status=400)
    try:
        category = add_category(form.category_name.data)
        db.session.commit()
    except (CodebookError, IntegrityError) as e:
        db.session.rollback()
        form.category_name.errors.append(str(e) if isinstance(e, CodebookError) else _("Namnet är upptaget."))
        return _codebook_page(category_form=form, status=409)
    flash(_("Kategorin %(name)s är tillagd.", name=category.name), "success")
    return redirect(url_for("dialogue.codebook", _anchor=f"kategori-{category.id}"))


@bp.route("/teman/nytt", methods=["POST"])
@staff_required
def codebook_add_theme():
    form = ThemeForm()
    form.category.choices = _category_choices()
    if not form.validate_on_submit():
        return _codebook_page(theme_form=form, status=400)
    try:
        theme = add_theme(db.get_or_404(ThemeCategory, form.category.data), form.theme_name.data)
        db.session.commit()
    except (CodebookError, IntegrityError) as e:
        db.session.rollback()
        form.theme_name.errors.append(str(e) if isinstance(e, CodebookError) else _("Namnet är upptaget."))
        return _codebook_page(theme_form=form, status=409)
    flash(_("Temat %(name)s är tillagt.", name=theme.name), "success")
    return redirect(url_for("dialogue.codebook", _anchor=f"kategori-{theme.category_id}"))


def _theme_page(theme: Theme, form: ThemeForm | None = None, merge_form: MergeForm | None = None, status=200):
    if form is None:
        form = ThemeForm(formdata=None, category=theme.category_id, theme_name=theme.name)
    form.category.choices = _category_choices(theme.category)
    if merge_form is None:
        merge_form = MergeForm(formdata=None)
    merge_form.target.choices = _merge_choices(theme)
    passages, visits = theme_usage(theme.id)
    merged_from = list(db.session.scalars(select(Theme).where(Theme.merged_into_id == theme.id).order_by(Theme.name)))
    return render_template("dialogue/codebook_theme.html", theme=theme, form=form, merge_form=merge_form,
                           retire_form=RetireForm(formdata=None), passages=passages, visits=visits,
                           events=events_of([theme.id]), merged_from=merged_from), status


@bp.route("/teman/<int:theme_id>", methods=["GET", "POST"])
@staff_required
def codebook_theme(theme_id: int):
    theme = db.get_or_404(Theme, theme_id)
    if request.method == "GET":
        return _theme_page(theme)
    form = ThemeForm()
    form.category.choices = _category_choices(theme.category)
    if not form.validate_on_submit():
        return _theme_page(theme, form=form, status=400)
    try:
        update_theme(theme, form.theme_name.data, db.get_or_404(ThemeCategory, form.category.data))
        db.session.commit()
    except (CodebookError, IntegrityError) as e:
        db.session.rollback()
        theme = db.get_or_404(Theme, theme_id)
        form.theme_name.errors.append(str(e) if isinstance(e, CodebookError) else _("Namnet är upptaget."))
        return _theme_page(theme, form=form, status=409)
    flash(_("Temat är sparat."), "success")
    return redirect(url_for("dialogue.codebook_theme", theme_id=theme.id))


@bp.route("/teman/<int:theme_id>/status", methods=["POST"])
@staff_required
def codebook_theme_status(theme_id: int):
    theme = db.get_or_404(Theme, theme_id)
    form = RetireForm()
    if not form.validate_on_submit() or form.retired.data not in ("0", "1"):
        abort(400)
    try:
        set_theme_retired(theme, form.retired.data == "1")
        db.session.commit()
    except CodebookError as e:
        db.session.rollback()
        flash(str(e), "error")
        return redirect(url_for("dialogue.codebook_theme", theme_id=theme_id))
    flash(_("Temat %(name)s är nu inaktivt.", name=theme.name) if theme.retired
          else _("Temat %(name)s är aktivt igen.", name=theme.name), "success")
    return redirect(url_for("dialogue.codebook_theme", theme_id=theme.id))


@bp.route("/teman/<int:theme_id>/sla-ihop", methods=["POST"])
@staff_required
def codebook_merge(theme_id: int):
    theme = db.get_or_404(Theme, theme_id)
    form = MergeForm()
    form.target.choices = _merge_choices(theme)
    if not form.validate_on_submit():
        return _theme_page(theme, merge_form=form, status=400)
    target = db.get_or_404(Theme, form.target.data)
    try:
        if form.confirmed.data != "1":
            preview = merge_preview(theme, target)
            return render_template("dialogue/codebook_merge.html", theme=theme, target=target, preview=preview,
                                   form=form)
        outcome = merge(theme, target)
        db.session.commit()
    except CodebookError as e:
        db.session.rollback()
        flash(str(e), "error")
        return redirect(url_for("dialogue.codebook_theme", theme_id=theme_id))
    flash(ngettext("%(source)s är sammanslaget med %(target)s: %(num)d passage har nu temat %(target)s.",
                   "%(source)s är sammanslaget med %(target)s: %(num)d passager har nu temat %(target)s.",
                   outcome["passages"], source=theme.name, target=target.name), "success")
    return redirect(url_for("dialogue.codebook_theme", theme_id=target.id))


def _category_page(category: ThemeCategory, form: CategoryForm | None = None, status=200):
    form = form or CategoryForm(formdata=None, category_name=category.name)
    theme_ids = [t.id for t in category.themes]
    passages, visits = usage_of(theme_ids) if theme_ids else (0, 0)
    return render_template("dialogue/codebook_category.html", category=category, form=form,
                           retire_form=RetireForm(formdata=None), passages=passages, visits=visits,
                           events=events_of(theme_ids), usage=usage()), status


@bp.route("/teman/kategori/<int:category_id>", methods=["GET", "POST"])
@staff_required
def codebook_category(category_id: int):
    category = db.get_or_404(ThemeCategory, category_id)
    if request.method == "GET":
        return _category_page(category)
    form = CategoryForm()
    if not form.validate_on_submit():
        return _category_page(category, form, status=400)
    try:
        rename_category(category, form.category_name.data)
        db.session.commit()
    except (CodebookError, IntegrityError) as e:
        db.session.rollback()
        category = db.get_or_404(ThemeCategory, category_id)
        form.category_name.errors.append(str(e) if isinstance(e, CodebookError) else _("Namnet är upptaget."))
        return _category_page(category, form, status=409)
    flash(_("Kategorin är sparad."), "success")
    return redirect(url_for("dialogue.codebook_category", category_id=category.id))


@bp.route("/teman/kategori/<int:category_id>/status", methods=["POST"])
@staff_required
def codebook_category_status(category_id: int):
    category = db.get_or_404(ThemeCategory, category_id)
    form = RetireForm()
    if not form.validate_on_submit() or form.retired.data not in ("0", "1"):
        abort(400)
    set_category_retired(category, form.retired.data == "1")
    db.session.commit()
    flash(_("Kategorin %(name)s är nu inaktiv.", name=category.name) if category.retired
          else _("Kategorin %(name)s är aktiv igen.", name=category.name), "success")
    return redirect(url_for("dialogue.codebook_category", category_id=category.id))


# --------------------------------------------------------------------------- pages: the questions

@bp.route("/fragor")
@staff_required
def questions():
    rows = db.session.scalars(select(DialogueQuestion).order_by(DialogueQuestion.nr)).all()
    return render_template("dialogue/questions.html", questions=rows, can_edit=current_user.role == "admin")


def _question_values(form: QuestionForm) -> dict:
    return {"lagrum": form.lagrum.data, "kravtext": form.kravtext.data, "fraga": form.fraga.data,
            "active": bool(form.active.data)}


@bp.route("/fragor/<int:question_id>", methods=["GET", "POST"])
@admin_required
def question_edit(question_id: int):
    q = db.session.get(DialogueQuestion, question_id) or abort(404)
    if request.method == "GET":
        form = QuestionForm(formdata=None, obj=q, fingerprint=question_fingerprint(q))
        return render_template("dialogue/questions_form.html", form=form, question=q, conflict=False)
    form = QuestionForm()
    if not form.validate_on_submit():
        return render_template("dialogue/questions_form.html", form=form, question=q, conflict=False), 400
    if form.fingerprint.data != question_fingerprint(q):
        # Someone saved the question after this form was loaded: show the stored text, keep nothing.
        fresh = QuestionForm(formdata=None, obj=q, fingerprint=question_fingerprint(q))
        return render_template("dialogue/questions_form.html", form=fresh, question=q, conflict=True,
                               typed=_question_values(form)), 409
    changed = update_question(q, _question_values(form))
    db.session.commit()
    flash(_("Fråga %(nr)s är sparad.", nr=q.nr) if changed else _("Inget ändrades."), "success")
    return redirect(url_for("dialogue.questions", _anchor=f"fraga-{q.nr}"))


@bp.route("/fragor/ny", methods=["GET", "POST"])
@admin_required
def question_new():
    form = QuestionForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            q = add_question(_question_values(form))
            db.session.commit()
        except IntegrityError:  # two admins adding at once got the same number
            db.session.rollback()
            flash(_("Någon lade till en fråga samtidigt. Försök igen."), "error")
            return render_template("dialogue/questions_form.html", form=form, question=None, conflict=False), 409
        flash(_("Fråga %(nr)s är tillagd.", nr=q.nr), "success")
        return redirect(url_for("dialogue.questions", _anchor=f"fraga-{q.nr}"))
    status = 400 if request.method == "POST" else 200
    return render_template("dialogue/questions_form.html", form=form, question=None, conflict=False), status
