import math
import time

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..audit import record
from ..extensions import db, limiter, login_manager
from ..timeutil import utcnow
from . import admin_required, bp, guard
from .forms import AccountForm, LoginForm, PasswordForm, UserForm
from .models import User, find_by_email

login_manager.login_view = "auth.login"
login_manager.login_message = None


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("index")


def _typed_email() -> str:
    return (request.form.get("email") or "").strip().lower()[:200]


def _login_failed(response) -> bool:
    # Only failed attempts count towards the throttles: the office logging in all day costs nothing.
    return bool(g.get("login_failed"))


@bp.route("/logga-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_CLIENT"], methods=["POST"],
               key_func=lambda: f"client:{request.remote_addr or '-'}", deduct_when=_login_failed)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=lambda: f"account:{_typed_email()}", deduct_when=_login_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    form = LoginForm()
    if form.validate_on_submit():
        email, client, now = _typed_email(), request.remote_addr or "-", utcnow()
        user = find_by_email(email)
        locked = guard.locked_until(email, client, now) is not None
        # The password is checked whatever else is true (unknown, inactive, locked): the same work, the same time.
        matches = guard.password_matches(user, form.password.data)
        if matches and user.active and not locked:
            guard.clear_failures(email, client)
            user.last_login_at = now
            login_user(user, remember=form.remember.data)
            record("auth.login", user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        g.login_failed = True
        if not locked:
            guard.record_failure(email, client, now, lock_after=current_app.config["LOGIN_LOCK_AFTER"],
                                 lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"])
        record("auth.login_failed", actor=email)
        db.session.commit()
        if locked:
            flash(_("Kontot är tillfälligt låst efter för många felaktiga försök. Försök igen om en stund."), "error")
        else:
            flash(_("Fel e-postadress eller lösenord."), "error")
    return render_template("auth/login.html", form=form)


@bp.app_errorhandler(429)
def too_many_attempts(e):
    """The login throttle answered: the login page again, with how long to wait, in the app's layout."""
    limit = limiter.current_limit
    seconds = limit.reset_at - time.time() if limit is not None else 60
    minutes = max(1, math.ceil((seconds - 5) / 60))  # reset_at is rounded up to a whole second or so
    flash(ngettext("För många misslyckade inloggningsförsök. Vänta en minut och försök sedan igen.",
                   "För många misslyckade inloggningsförsök. Vänta %(num)d minuter och försök sedan igen.",
                   minutes), "error")
    return render_template("auth/login.html", form=LoginForm()), 429


@bp.route("/logga-ut", methods=["POST"])
@login_required
def logout():
    user = current_user._get_current_object()
    user.end_sessions()  # every device: a copied session or remember-me cookie is refused from now on
    record("auth.logout", user)
    db.session.commit()
    logout_user()
    flash(_("Du är utloggad."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/konto/losenord", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("Nuvarande lösenord stämmer inte."))
        else:
            user = current_user._get_current_object()
            user.set_password(form.password.data)
            user.end_sessions()
            record("auth.password_changed", user)
            db.session.commit()
            _stay_logged_in_here(user)
            flash(_("Lösenordet är bytt. Du är utloggad på alla andra enheter."), "success")
            return redirect(url_for("index"))
    return render_template("auth/password.html", form=form)


def _stay_logged_in_here(user: User) -> None:
    """After the session secret changed: keep this browser logged in (with its remember-me, if it had one)."""
    login_user(user, remember=current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies)


@bp.route("/anvandare/")
@admin_required
def users():
    users = db.session.scalars(select(User).order_by(User.name)).all()
    return render_template("auth/users.html", users=users)


@bp.route("/anvandare/ny", methods=["GET", "POST"])
@bp.route("/anvandare/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit_user(user_id: int | None = None):
    user = db.session.get(User, user_id) if user_id else None
    if user_id and user is None:
        abort(404)
    form = UserForm(obj=user)
    if user is None:
        form.password.flags.required = True  # a new account needs one (checked below); the label says so
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        other = find_by_email(email)
        if other is not None and other is not user:
            form.email.errors.append(_("Det finns redan ett konto med den e-postadressen."))
        elif user is None and not form.password.data:
            form.password.errors.append(_("Ett nytt konto behöver ett lösenord."))
        elif user is not None and user.id == current_user.id and (form.role.data != "admin" or not form.active.data):
            form.role.errors.append(_("Du kan inte ta bort din egen administratörsbehörighet."))
        else:
            created = user is None
            if created:
                user = User(email=email, name=form.name.data, role=form.role.data)
                db.session.add(user)
            changes = {k: getattr(form, k).data for k in ("role", "active")
                       if created or getattr(user, k) != getattr(form, k).data}
            user.email, user.name = email, form.name.data.strip()
            user.role, user.active = form.role.data, form.active.data
            if form.password.data:
                user.set_password(form.password.data)
            if not created and (form.password.data or "active" in changes):
                user.end_sessions()  # a reset password or a deactivation logs the person out everywhere
            db.session.flush()
            record("auth.user_created" if created else "auth.user_changed", user,
                   password_set=bool(form.password.data), **changes)
            db.session.commit()
            if user.id == current_user.id:
                _stay_logged_in_here(user)
            flash(_("Kontot för %(name)s är sparat.", name=user.name), "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=user)


@bp.route("/konto/", methods=["GET", "POST"])
@login_required
def account():
    """The user's own account: name, role, the weekly digest (staff), and the way to change the password."""
    user = current_user._get_current_object()
    form = AccountForm(obj=user)
    if form.validate_on_submit():
        if user.role == "reader":
            abort(403)  # the digest is the office's working list
        if user.weekly_digest != form.weekly_digest.data:
            user.weekly_digest = form.weekly_digest.data
            record("auth.digest_changed", user, weekly_digest=user.weekly_digest)
            db.session.commit()
        flash(_("Veckobrevet är påslaget.") if user.weekly_digest else _("Du får inget veckobrev."), "success")
        return redirect(url_for("auth.account"))
    if form.errors and "csrf_token" in form.errors:
        abort(400)
    from .forms import ROLE_CHOICES
    return render_template("auth/account.html", form=form, user=user, role_text=dict(ROLE_CHOICES).get(user.role))
