"""Flask extensions, created once and bound to the app in create_app().

`db` is made at import. The web's extensions (login_manager, csrf, babel, limiter) are made when first asked
for (`from .extensions import limiter`): a cron command that only reads and writes the database
(`coordinator outbox send`) does not import Flask-Login, Flask-WTF, Flask-Babel or Flask-Limiter.
"""
from functools import cached_property

import click
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations behave the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class _MigrateConfig:
    """What Flask-Migrate keeps in app.extensions["migrate"], made without importing it: flask_migrate imports
    alembic (a third of a second and megabytes in every web worker and cron command), which only the
    migrations need. `migrate` builds flask_migrate's own object when a migration first asks for it."""

    def __init__(self, db, directory: str, **configure_args):
        self.db, self.directory = db, directory
        # Flask-Migrate's defaults (compare_type, render_as_batch) with ours on top; env.py reads them.
        self.configure_args = {"compare_type": True, "render_as_batch": True, **configure_args}

    @property
    def metadata(self):
        return self.db.metadata

    @cached_property
    def migrate(self):
        from flask_migrate import Migrate

        return Migrate(db=self.db, directory=self.directory, **self.configure_args)


class _LazyDbCommands(click.Group):
    """`coordinator db …`: Flask-Migrate's command group, imported only when it is run."""

    def __init__(self):
        super().__init__("db", help="Perform database migrations.")

    def make_context(self, info_name, args, parent=None, **extra):
        from flask_migrate.cli import db as real

        return real.make_context(info_name, args, parent=parent, **extra)


class Migrate:
    """Flask-Migrate's `Migrate().init_app(app, db, directory=…)`, without importing alembic at start."""

    def init_app(self, app, db, directory: str, **configure_args) -> None:
        app.extensions["migrate"] = _MigrateConfig(db, str(directory), **configure_args)
        app.cli.add_command(_LazyDbCommands())


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


def _login_manager():
    from flask_login import LoginManager

    return LoginManager()


def _csrf():
    from flask_wtf.csrf import CSRFProtect

    return CSRFProtect()


def _babel():
    from flask_babel import Babel

    return Babel()


def _limiter():
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    # No default limits: only the login is throttled (auth/views.py); storage and limits are settings.
    return Limiter(key_func=get_remote_address)


_MADE_ON_FIRST_USE = {"login_manager": _login_manager, "csrf": _csrf, "babel": _babel, "limiter": _limiter}


def __getattr__(name: str):
    """login_manager, csrf, babel, limiter: made once, on first use (PEP 562)."""
    make = _MADE_ON_FIRST_USE.get(name)
    if make is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = make()
    return value
