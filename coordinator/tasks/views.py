"""The tasks' pages: the list (mine, everyone's, done), a task's page with edit, close and reopen, a new task.

Thin views over service.py. Every change is a POST with CSRF and the task's version; a stale
save is refused with what was typed kept. Deleting asks for confirmation first.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from ..auth import staff_required
from ..auth.models import User
from ..extensions import db
from ..forms import abort_if_bad_csrf
from ..paging import page_of
from ..registry.models import Kommun
from ..sampling.models import Site
from ..sampling.service import adopted_sample
from ..scheduling.overview import today
from . import bp, service
from .auto import sync_now
from .forms import DoneForm, TaskForm, VersionForm
from .models import Task

PAGE = 50
VIEWS = ("mina", "alla", "klara")
CONFLICT = _l("Någon annan har ändrat uppgiften sedan du öppnade sidan. Det du skickade har inte sparats; "
             "sidan visar uppgiften som den är sparad nu.")


def _owner_choices(current: User | None = None) -> list[tuple[str, str]]:
    users = list(db.session.scalars(select(User).where(User.role.in_(("admin", "staff")), User.active)
                                    .order_by(User.name)))
    if current is not None and current not in users:
        users.append(current)  # a task keeps its owner even if the account has since been closed
    return [("", _("– ingen ansvarig än –"))] + [(str(u.id), u.name) for u in users]


def _site_choices() -> list[tuple[str, str]]:
    sample = adopted_sample()
    if sample is None:
        return [("", _("– ingen –"))]
    sites = db.session.scalars(select(Site).where(Site.sample_id == sample.id, Site.active)
                               .options(joinedload(Site.kommun)).order_by(Site.position))
    return [("", _("– ingen –"))] + sorted(((str(s.id), s.label) for s in sites), key=lambda c: c[1])


def _form(task: Task | None = None, formdata=None) -> TaskForm:
    if task is None:
        form = TaskForm(formdata=formdata)
        if formdata is None:
            form.owner.data = str(current_user.id)
            form.site.data = request.args.get("plats", "") if request.args.get("plats", "").isdigit() else ""
    else:
        form = TaskForm(formdata=formdata, obj=None, version=task.version, title=task.title,
                        due_date=task.due_date, details=task.details)
        if formdata is None:
            form.owner.data = str(task.owner_id or "")
            form.site.data = str(task.site_id or "")
    form.owner.choices = _owner_choices(task.owner if task else None)
    form.site.choices = _site_choices()
    if task is not None and task.site_id and str(task.site_id) not in {v for v, _l in form.site.choices}:
        form.site.choices.append((str(task.site_id), task.site.label))
    return form


def _values(form: TaskForm) -> dict:
    return {"title": form.title.data, "due_date": form.due_date.data, "details": form.details.data or "",
            "owner_id": form.owner.id_value, "site_id": form.site.id_value}


# --------------------------------------------------------------------------- the list

@bp.route("/")
@staff_required
def index():
    sync_now(today())
    view = request.args.get("visa", "mina")
    if view not in VIEWS:
        view = "mina"
    stmt = select(Task)
    if view == "klara":
        stmt = stmt.where(Task.done_at.isnot(None)).order_by(Task.done_at.desc(), Task.id.desc())
    else:
        stmt = stmt.where(Task.done_at.is_(None)).order_by(Task.due_date, Task.id)
        if view == "mina":
            stmt = stmt.where((Task.owner_id == current_user.id) | Task.owner_id.is_(None))
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page = page_of(request.args, total, PAGE)
    tasks = list(db.session.scalars(
        stmt.options(joinedload(Task.owner), joinedload(Task.done_by),
                     joinedload(Task.site).joinedload(Site.kommun).joinedload(Kommun.lan),
                     joinedload(Task.visit), joinedload(Task.avstamning))
        .offset(page.offset).limit(PAGE)).unique())
    return render_template("tasks/index.html", tasks=tasks, view=view, page=page, on=today())


# --------------------------------------------------------------------------- one task

@bp.route("/ny", methods=["GET", "POST"])
@staff_required
def new():
    form = _form(formdata=request.form if request.method == "POST" else None)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                task = service.create(_values(form), current_user)
                db.session.commit()
            except service.TaskError as e:
                db.session.rollback()
                flash(str(e), "error")
            else:
                flash(_("Uppgiften är sparad."), "success")
                return redirect(url_for("tasks.task", task_id=task.id))
        abort_if_bad_csrf(form)
        return render_template("tasks/form.html", form=form, task=None), 400
    return render_template("tasks/form.html", form=form, task=None)


def _task_page(task: Task, form: TaskForm | None = None, done_form: DoneForm | None = None,
               conflict: bool = False, status: int = 200):
    return render_template("tasks/task.html", task=task, form=form or _form(task),
                           done_form=done_form or DoneForm(formdata=None, version=task.version, outcome=task.outcome),
                           action_form=VersionForm(formdata=None, version=task.version),
                           conflict=str(CONFLICT) if conflict else None, on=today()), status


@bp.route("/<int:task_id>", methods=["GET", "POST"])
@staff_required
def task(task_id: int):
    task = db.get_or_404(Task, task_id)
    if request.method == "GET":
        return _task_page(task)
    form = _form(task, formdata=request.form)
    if task.automatic:
        # The app's own tasks keep their wording and date (they follow the data); owner and notes change.
        form.title.data, form.due_date.data = task.title, task.due_date
        form.title.raw_data, form.due_date.raw_data = [task.title], [task.due_date.isoformat()]
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _task_page(task, form=form, status=400)
    values = _values(form)
    if task.automatic:
        values = {k: values[k] for k in ("owner_id", "details")}
    try:
        changed = service.update(task, form.version.data, values, current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        return _task_page(db.session.get(Task, task_id), form=form, conflict=True, status=409)
    except service.TaskError as e:
        db.session.rollback()
        flash(str(e), "error")
        return _task_page(task, form=form, status=400)
    flash(_("Uppgiften är sparad.") if changed else _("Inget var ändrat."), "success" if changed else "info")
    return redirect(url_for("tasks.task", task_id=task.id))


def _act(task_id: int, form, act, message: str, done_form: bool = False):
    """A POST that changes one task under its version: refused when stale, then back to the task."""
    task = db.get_or_404(Task, task_id)
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        if done_form:
            return _task_page(task, done_form=form, status=400)
        abort(400)
    try:
        act(task, form)
        db.session.commit()
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        return _task_page(db.session.get(Task, task_id), done_form=form if done_form else None, conflict=True,
                          status=409)
    flash(message, "success")
    return redirect(url_for("tasks.task", task_id=task.id))


@bp.route("/<int:task_id>/klar", methods=["POST"])
@staff_required
def done(task_id: int):
    return _act(task_id, DoneForm(), lambda task, form: service.set_done(
        task, form.version.data, True, current_user, outcome=form.outcome.data or ""),
        _("Uppgiften är markerad som klar."), done_form=True)


@bp.route("/<int:task_id>/oppna", methods=["POST"])
@staff_required
def reopen(task_id: int):
    return _act(task_id, VersionForm(), lambda task, form: service.set_done(task, form.version.data, False,
                                                                             current_user),
                _("Uppgiften är öppen igen."))


@bp.route("/<int:task_id>/ta", methods=["POST"])
@staff_required
def take(task_id: int):
    """"Jag tar den": the current user becomes the owner."""
    return _act(task_id, VersionForm(), lambda task, form: service.update(
        task, form.version.data, {"owner_id": current_user.id}, current_user), _("Du är ansvarig för uppgiften."))


@bp.route("/<int:task_id>/ta-bort", methods=["GET", "POST"])
@staff_required
def delete(task_id: int):
    task = db.get_or_404(Task, task_id)
    if task.automatic:
        flash(_("Appens egna uppgifter tas inte bort; markera den som klar i stället."), "error")
        return redirect(url_for("tasks.task", task_id=task.id))
    form = VersionForm(formdata=request.form if request.method == "POST" else None, version=task.version)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort_if_bad_csrf(form)
            abort(400)
        try:
            service.delete(task, form.version.data, current_user)
            db.session.commit()
        except (service.StaleError, StaleDataError):
            db.session.rollback()
            return _task_page(db.session.get(Task, task_id), conflict=True, status=409)
        flash(_("Uppgiften är borttagen."), "success")
        return redirect(url_for("tasks.index"))
    return render_template("tasks/delete.html", task=task, form=form)
