"""coordinator: the national coordinator's tool for choosing, visiting and following up kommuner."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, has_request_context, redirect, render_template, request, session, url_for
from werkzeug.routing import IntegerConverter, UnicodeConverter

from . import config
from .database import PRIVATE_DIR, configure_sqlite, make_private

# What the web needs (the extensions, the forms, the blueprints) is imported in create_app, not here: the package
# is imported by every command, and the cron command `coordinator outbox send` runs on create_cli_app.

__version__ = "0.1.0"


def select_locale() -> str:
    # The command line and background work speak Swedish, the office's language.
    if has_request_context() and "lang" in session:
        return session["lang"]
    return "sv"


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: an id the database's integer columns can hold, else no match (404)
    instead of an overflow error from the database (500)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


class TextConverter(UnicodeConverter):
    """`<…>` and `<string:…>` in every route: a segment with a control character (NUL…) matches nothing (404);
    no link of the app has one, and PostgreSQL refuses NUL in text."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f]")


def _database_app(test_config: dict | None, instance_path: str | Path | None) -> Flask:
    """What every app has: the instance folder, the settings, and the database with its SQLite PRAGMAs and
    the data versions' listeners."""
    from .extensions import db

    app = Flask(
        __name__,
        instance_path=str(instance_path or config.INSTANCE_PATH),
        template_folder=str(config.RESOURCE_ROOT / "templates"),
        static_folder=str(config.RESOURCE_ROOT / "static"),
    )
    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.url_map.converters["default"] = app.url_map.converters["string"] = TextConverter
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    make_private(Path(app.instance_path), PRIVATE_DIR)  # the secret key and uploads with personal data
    app.config.from_mapping(config.from_environment(Path(app.instance_path)))
    if test_config:
        app.config.update(test_config)

    db.init_app(app)
    from . import dataversion  # noqa: F401  (its model, and the listeners that count every committed change)
    with app.app_context():
        configure_sqlite(db.engine, busy_timeout_ms=int(app.config["SQLITE_BUSY_TIMEOUT"] * 1000))
    return app


def create_cli_app(test_config: dict | None = None, instance_path: str | Path | None = None) -> Flask:
    """The app of a command that only works on the database with already written data (`coordinator outbox
    send`, which sends the stored messages as they are): the settings and the database as in create_app, no
    pages, no login, no forms, no translations. The models are those the command imports; a command run on it
    must not use the ORM on a model whose relationships name models it has not imported (the mappers could not
    be configured), so it works through the tables (coordinator/outbox/delivery.py)."""
    app = _database_app(test_config, instance_path)
    from .server import install_log_redaction
    install_log_redaction(app)
    return app


def create_app(test_config: dict | None = None, instance_path: str | Path | None = None) -> Flask:
    from flask_babel import get_locale

    from .extensions import babel, csrf, db, limiter, login_manager, migrate
    from .forms import CleanRequest

    app = _database_app(test_config, instance_path)
    app.request_class = CleanRequest  # no control characters in any query-string or form value
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)

    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    login_manager.init_app(app)
    limiter.init_app(app)

    from .audit import bp as audit_bp
    from .auth import bp as auth_bp
    from .registry import bp as registry_bp
    from .dialogue import bp as dialogue_bp
    from .events import bp as events_bp
    from .measurement import bp as measurement_bp
    from .reports import bp as reports_bp
    from .invites import blueprint as invites_blueprint
    from .plans import bp as plans_bp
    from .sampling import bp as sampling_bp
    from .scheduling import bp as scheduling_bp
    from .feedback import bp as feedback_bp
    from .sites import bp as sites_bp
    from .tasks import bp as tasks_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(registry_bp)
    app.register_blueprint(sampling_bp)
    app.register_blueprint(scheduling_bp)
    app.register_blueprint(invites_blueprint())
    app.register_blueprint(dialogue_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(measurement_bp)
    app.register_blueprint(events_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(sites_bp)
    app.register_blueprint(tasks_bp)
    app.register_blueprint(feedback_bp)

    from .cli import register_commands
    register_commands(app)
    from .server import install_log_redaction
    install_log_redaction(app)

    from flask_babel import format_date, format_datetime, format_decimal, gettext

    from .sampling.design import describe

    app.jinja_env.filters["format_dt"] = lambda dt, fmt="yyyy-MM-dd HH:mm": format_datetime(dt, fmt)
    app.jinja_env.filters["num"] = lambda n: "–" if n is None else format_decimal(n)
    from functools import lru_cache

    from babel.numbers import parse_pattern

    # The pattern parsed once per number of digits, not per number (two thirds of the filter's cost; a
    # sample's protocol shows a thousand of them at ten times the demo).
    decimal_pattern = lru_cache(maxsize=None)(lambda digits: parse_pattern("0." + "0" * digits))
    app.jinja_env.filters["dec"] = lambda x, digits=3: "–" if x is None else format_decimal(
        x, format=decimal_pattern(digits))
    app.jinja_env.globals["describe"] = lambda problem: describe(problem, gettext)
    app.jinja_env.filters["date_long"] = lambda d: format_date(d, "d MMMM y") if d else "–"
    app.jinja_env.filters["date_short"] = lambda d: d.isoformat() if d else "–"

    from .reports.service import SECTION_TITLES
    from .scheduling.views import STATUS_LABELS
    from .tasks.service import kind_label, title_of
    app.jinja_env.globals["visit_status_label"] = lambda s: str(STATUS_LABELS.get(s, s))
    app.jinja_env.globals["section_title"] = lambda s: str(SECTION_TITLES.get(s, s))
    app.jinja_env.globals["task_title"] = title_of
    app.jinja_env.globals["task_kind_label"] = kind_label
    from .overview.due import missing_word
    app.jinja_env.globals["missing_word"] = missing_word

    @app.context_processor
    def inject_globals():
        from .navigation import section
        return {"current_locale": str(get_locale()), "app_version": __version__,
                "nav_here": section(request.endpoint) if has_request_context() else None,
                "demo_day": demo_day}

    def demo_day():
        """The demo's day while demo data is loaded (and no COORDINATOR_TODAY), for the banner; else None."""
        if app.config.get("COORDINATOR_TODAY"):
            return None
        from .scheduling.defaults import assignment
        try:
            a = assignment()
        except Exception:  # noqa: BLE001  (an unmigrated database shows its pages without the banner)
            db.session.rollback()
            return None
        return a.demo_as_of if a is not None else None

    from .overview.views import index
    app.add_url_rule("/", "index", index)

    @app.route("/sprak/<code>")
    def set_language(code: str):
        if code in app.config["LANGUAGES"]:
            session["lang"] = code
        target = request.args.get("next") or url_for("index")
        # Only local redirects.
        if not target.startswith("/") or target.startswith("//"):
            target = url_for("index")
        return redirect(target)

    from flask_babel import gettext as _

    errors = {
        400: (lambda: _("Felaktig begäran"),
              lambda: _("Begäran kunde inte behandlas. Om du skickade ett formulär: ladda om sidan och försök igen.")),
        403: (lambda: _("Ingen behörighet"), lambda: _("Din roll ger inte tillgång till den här sidan.")),
        404: (lambda: _("Sidan finns inte"), lambda: _("Adressen är fel, eller så har det du söker tagits bort.")),
        413: (lambda: _("Filen är för stor"), lambda: _("Filen får vara högst 20 MB.")),
        500: (lambda: _("Något gick fel"),
              lambda: _("Det blev ett fel hos oss, och det du skickade har inte sparats. Försök igen om en "
                        "stund. Kvarstår felet: kontakta den som sköter systemet och berätta vad du gjorde.")),
    }

    def error_page(e):
        if e.code == 500:
            # The failed request's transaction may be broken; the page itself reads the database.
            db.session.rollback()
        heading, message = errors[e.code]
        return render_template("error.html", heading=heading(), message=message()), e.code

    for code in errors:
        app.register_error_handler(code, error_page)

    from sqlalchemy.orm.exc import StaleDataError

    from .versions import Stale

    def stale_page(e):
        """A save based on a version the record no longer has, where the view did not catch it (those that do
        show the form again beside what is saved now): roll back and say so with 409, never a 500."""
        db.session.rollback()
        message = str(e) if isinstance(e, Stale) and str(e) else \
            _("Någon annan har sparat en ändring sedan du öppnade sidan. Det du skickade har inte sparats.")
        return render_template("error.html", heading=_("Någon annan hann före"), message=message), 409

    app.register_error_handler(Stale, stale_page)
    app.register_error_handler(StaleDataError, stale_page)

    from flask.globals import request_ctx
    from werkzeug.exceptions import SecurityError

    @app.errorhandler(SecurityError)
    def untrusted_host(e):
        """A Host outside ALLOWED_HOSTS: the 400 page. Flask had no host to build the page's links with, so
        they are built for the first allowed host (the links on the page are relative anyway)."""
        if request_ctx.url_adapter is None:
            request_ctx.url_adapter = app.url_map.bind(
                app.config["TRUSTED_HOSTS"][0].lstrip("."), script_name=request.script_root or "/",
                url_scheme=request.scheme)
        return render_template("error.html", heading=_("Felaktig begäran"), message=_(
            "Tjänsten nås inte på den adress som användes. Använd organisationens vanliga adress till tjänsten.")), 400

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", app.config["CONTENT_SECURITY_POLICY"])
        if app.config.get("HSTS_MAX_AGE"):
            response.headers.setdefault("Strict-Transport-Security", f"max-age={app.config['HSTS_MAX_AGE']}")
        return response

    return app
