"""Backup and restore (`coordinator backup` / `coordinator restore`), and SQLite run properly.

The round trip is made with the demo assignment: backed up, restored into an empty database
with a fresh instance folder, and compared table by table; a kommun link issued before the
backup must still open its plan afterwards.
"""
from __future__ import annotations

import html
import json
import stat
import tarfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from coordinator import create_app
from coordinator.backup.archive import row_counts
from coordinator.extensions import db

from .conftest import PG_URL, _pg_admin


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def make_app(url: str, instance: Path):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SERVER_NAME": None}, instance_path=instance)


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return row_counts(connection)
    finally:
        engine.dispose()


def version_tokens(url: str) -> dict[str, str]:
    """The data versions' tokens (dataversion.py), by counter."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return dict(connection.execute(text("SELECT name, token FROM data_version")).all())
    finally:
        engine.dispose()


def dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def cli(app, *args):
    """Run a `coordinator` command in `app`; (exit code, parsed JSON output)."""
    result = app.test_cli_runner().invoke(args=[*args, "--json"])
    try:
        return result.exit_code, json.loads(result.stdout)
    except ValueError:
        raise AssertionError(f"not JSON: {result.stdout!r} {result.stderr!r} {result.exception!r}") from None


@pytest.fixture
def empty_database(backend, tmp_path):
    """A factory of empty databases of the backend's kind (a new SQLite file, or a new PostgreSQL
    database, dropped after the test)."""
    made = []

    def make(name: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / (name + '.sqlite3')}"
        url = f"{PG_URL}_{name}"
        _pg_admin(url, 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', 'CREATE DATABASE "{db}"')
        made.append(url)
        return url

    yield make
    for url in made:
        _pg_admin(url, 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


@pytest.fixture
def file_key(monkeypatch):
    """No SECRET_KEY in the environment: the app makes and uses instance/secret_key, as by default."""
    monkeypatch.delenv("SECRET_KEY", raising=False)


def issue_plan_link(app) -> tuple[str, str]:
    """A kommun link to a demo action plan, valid for a year; its token and the plan's first goal."""
    from coordinator.plans import service
    from coordinator.plans.models import ActionPlan, PlanGoal

    with app.app_context():
        plan = db.session.scalars(select(ActionPlan).where(ActionPlan.goals.any()).order_by(ActionPlan.id)).first()
        link = service.create_link(plan, date.today() + timedelta(days=365))
        db.session.commit()
        goal = db.session.scalars(select(PlanGoal).where(PlanGoal.plan_id == plan.id)
                                  .order_by(PlanGoal.position, PlanGoal.id)).first()
        return service.token_for(link), goal.title


def record_import(app) -> str:
    """An imported population file as the import page leaves it: a row and its archive copy in instance/."""
    import hashlib

    from coordinator.registry.models import PopulationImport
    from coordinator.registry.service import stash_dir

    data = "kommunkod;folkmängd\n0114;46000\n".encode()
    sha = hashlib.sha256(data).hexdigest()
    with app.app_context():
        db.session.add(PopulationImport(filnamn="scb.csv", sha256=sha, years="2020", rows=1, encoding="utf-8",
                                        delimiter=";"))
        db.session.commit()
        (stash_dir(Path(app.instance_path)) / sha).write_bytes(data)
    return sha


def test_round_trip_into_an_empty_database_keeps_every_row_and_the_kommun_links(
        demo, file_key, empty_database, tmp_path):
    """The demo assignment is backed up (the key from instance/secret_key), restored into an empty database
    with a fresh instance folder; every table has the same number of rows, the key and the imported file
    came along (owner-only), and a kommun link issued before the backup opens its plan on the restored app."""
    source_url = demo.config["SQLALCHEMY_DATABASE_URI"]
    source = make_app(source_url, tmp_path / "source")
    token, goal = issue_plan_link(source)
    sha = record_import(source)
    out = tmp_path / "backup.tar.gz"

    code, manifest = cli(source, "backup", "--out", str(out))
    assert code == 0, manifest
    assert mode(out) == 0o600
    before = counts(source_url)
    tokens_before = version_tokens(source_url)
    assert manifest["tables"] == before
    assert manifest["database"] == demo.config["BACKEND"]
    with source.app_context():
        assert manifest["alembic_revision"] == db.session.scalar(text("SELECT version_num FROM alembic_version"))
    assert manifest["secret_key"]["source"] == "file"
    with tarfile.open(out) as tar:
        names = set(tar.getnames())
        assert (tar.extractfile("instance/secret_key").read().decode()
                == (tmp_path / "source" / "secret_key").read_text())
    assert f"instance/population_imports/{sha}" in names

    target_url = empty_database("restored")
    target = make_app(target_url, tmp_path / "fresh")
    code, result = cli(target, "restore", str(out))
    assert code == 0, result
    assert result["forced"] is False and result["alembic_revision"] == manifest["alembic_revision"]
    dispose(target)
    dispose(source)

    after = counts(target_url)
    assert after == before
    # The same counters, under new tokens: a worker that cached the source's data never takes these for it.
    tokens_after = version_tokens(target_url)
    assert tokens_before and set(tokens_after) == set(tokens_before)
    assert all(tokens_after[name] != token for name, token in tokens_before.items())
    assert sum(after.values()) > 5000  # the demo's data, not an empty schema
    fresh = tmp_path / "fresh"
    assert (fresh / "secret_key").read_text() == (tmp_path / "source" / "secret_key").read_text()
    assert (fresh / "population_imports" / sha).read_bytes().startswith(b"kommunkod")
    assert mode(fresh) == 0o700 and mode(fresh / "secret_key") == 0o600
    assert mode(fresh / "population_imports" / sha) == 0o600

    restored = make_app(target_url, fresh)
    page = restored.test_client().get(f"/plan/{token}")
    assert page.status_code == 200
    assert html.escape(goal) in page.get_data(as_text=True)
    dispose(restored)


def test_restore_into_an_app_with_another_key_would_break_links(demo, file_key, empty_database, tmp_path,
                                                                monkeypatch):
    """A link signed with the backup's key is refused by an app with another key (what the restore guards
    against). When SECRET_KEY comes from the environment, the backup holds only its fingerprint: a restore
    where SECRET_KEY is another is refused and writes nothing; with the same SECRET_KEY it goes through."""
    monkeypatch.setenv("SECRET_KEY", "the-office-key-from-the-environment")
    source = make_app(demo.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "source")
    token, _ = issue_plan_link(source)
    out = tmp_path / "backup.tar.gz"
    code, manifest = cli(source, "backup", "--out", str(out))
    assert code == 0, manifest
    assert manifest["secret_key"]["source"] == "environment"
    with tarfile.open(out) as tar:
        assert "instance/secret_key" not in tar.getnames()
    dispose(source)

    target_url = empty_database("restored")
    monkeypatch.setenv("SECRET_KEY", "another-key")
    target = make_app(target_url, tmp_path / "fresh")
    code, result = cli(target, "restore", str(out))
    assert code == 1
    assert "SECRET_KEY" in result["error"] and "inget har ändrats" in result["error"]
    dispose(target)
    assert counts(target_url) == {}

    monkeypatch.setenv("SECRET_KEY", "the-office-key-from-the-environment")
    target = make_app(target_url, tmp_path / "fresh")
    code, result = cli(target, "restore", str(out))
    assert code == 0, result
    dispose(target)
    assert target.test_client().get(f"/plan/{token}").status_code == 200
    dispose(target)
    monkeypatch.setenv("SECRET_KEY", "another-key")
    wrong = make_app(target_url, tmp_path / "fresh")
    assert wrong.test_client().get(f"/plan/{token}").status_code == 404
    dispose(wrong)


def test_restore_onto_working_data_is_refused_without_force(demo, file_key, tmp_path):
    """Restoring onto a database that holds working data is refused and changes nothing: a task added after
    the backup is still there. With --force the backup replaces it."""
    from coordinator.tasks.models import Task

    url = demo.config["SQLALCHEMY_DATABASE_URI"]
    app = make_app(url, tmp_path / "instance")
    out = tmp_path / "backup.tar.gz"
    code, manifest = cli(app, "backup", "--out", str(out))
    assert code == 0, manifest
    with app.app_context():
        db.session.execute(insert(Task).values(title="Efter säkerhetskopian", due_date=date(2016, 12, 1)))
        db.session.commit()
    before = counts(url)

    code, result = cli(app, "restore", str(out))
    assert code == 1
    assert "arbetsmaterial" in result["error"] and "--force" in result["error"]
    dispose(app)
    assert counts(url) == before

    code, result = cli(app, "restore", str(out), "--force")
    assert code == 0, result
    assert result["forced"] is True
    dispose(app)
    assert counts(url) == manifest["tables"]
    with app.app_context():
        assert db.session.scalar(select(Task).where(Task.title == "Efter säkerhetskopian")) is None
    dispose(app)


def test_an_older_backup_is_migrated_and_migrations_keep_the_rows(demo, file_key, empty_database, tmp_path):
    """Migrating a populated database down one revision and up again keeps the rows of every table the
    revision does not create (on SQLite its batch steps rebuild user_account, which every table refers to:
    foreign keys are off while migrating). A backup made at the older revision is restored into an empty
    database and brought to the current revision."""
    from flask_migrate import downgrade, upgrade

    source = make_app(demo.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "source")
    code, manifest = cli(source, "backup", "--out", str(tmp_path / "now.tar.gz"))
    assert code == 0, manifest
    dispose(source)
    head = manifest["alembic_revision"]

    copy_url = empty_database("copy")
    copy = make_app(copy_url, tmp_path / "copy")
    assert cli(copy, "restore", str(tmp_path / "now.tar.gz"))[0] == 0
    with copy.app_context():
        downgrade(revision="-1")
    code, old = cli(copy, "backup", "--out", str(tmp_path / "old.tar.gz"))
    assert code == 0, old
    assert old["alembic_revision"] != head
    with copy.app_context():
        upgrade()
    dispose(copy)
    new_tables = set(manifest["tables"]) - set(old["tables"])  # made by the last revision: emptied by down and up
    assert new_tables
    kept = {t: n for t, n in manifest["tables"].items() if t not in new_tables}
    assert {t: n for t, n in counts(copy_url).items() if t not in new_tables} == kept
    assert kept["user_account"] > 0 and kept["audit_event"] > 100

    target_url = empty_database("older")
    target = make_app(target_url, tmp_path / "older")
    code, result = cli(target, "restore", str(tmp_path / "old.tar.gz"))
    assert code == 0, result
    assert result["alembic_revision_backup"] == old["alembic_revision"] and result["alembic_revision"] == head
    dispose(target)
    assert {t: n for t, n in counts(target_url).items() if t not in new_tables} == kept


def test_without_the_postgresql_client_programs_the_command_says_so(app, tmp_path, monkeypatch):
    """On PostgreSQL the backup needs pg_dump: without it on PATH the command says so plainly and writes
    no file. SQLite needs no program outside Python: the same command works."""
    monkeypatch.setenv("PATH", str(tmp_path))
    out = tmp_path / "backup.tar.gz"
    code, result = cli(app, "backup", "--out", str(out))
    if app.config["BACKEND"] == "postgresql":
        assert code == 1
        assert "pg_dump finns inte" in result["error"] and "postgresql-client" in result["error"]
        assert not out.exists() and list(tmp_path.iterdir()) == []
    else:
        assert code == 0, result
        assert mode(out) == 0o600


def test_a_file_that_is_not_a_backup_is_refused(app, tmp_path):
    """Any other file is refused with a plain message, and the database is untouched."""
    other = tmp_path / "anteckningar.txt"
    other.write_text("inte en säkerhetskopia")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    before = counts(url)
    code, result = cli(app, "restore", str(other))
    assert code == 1
    assert result["error"] == "Filen anteckningar.txt är ingen säkerhetskopia från coordinator, eller så är den skadad."
    assert counts(url) == before


# --------------------------------------------------------------------------- SQLite run properly

@pytest.fixture
def sqlite_app(tmp_path, file_key):
    """A migrated app on a new SQLite file, its instance folder made by the app."""
    from flask_migrate import upgrade

    app = make_app(f"sqlite:///{tmp_path / 'instance' / 'coordinator.sqlite3'}", tmp_path / "instance")
    with app.app_context():
        upgrade()
    yield app
    dispose(app)


def test_sqlite_connections_run_with_foreign_keys_wal_and_a_busy_timeout(sqlite_app, tmp_path):
    """Every connection reads back foreign_keys=ON, journal_mode=WAL, a 10 s busy timeout and
    synchronous=NORMAL; the database, its WAL and SHM files and the key are readable by their owner only,
    and the instance folder is the owner's alone."""
    with sqlite_app.app_context():
        pragmas = {name: db.session.execute(text(f"PRAGMA {name}")).scalar()
                   for name in ("foreign_keys", "journal_mode", "busy_timeout", "synchronous")}
        assert pragmas == {"foreign_keys": 1, "journal_mode": "wal", "busy_timeout": 10000, "synchronous": 1}
        db.session.execute(text("CREATE TABLE scratch (x INTEGER)"))
        db.session.commit()
        instance = tmp_path / "instance"
        files = {p.name: mode(p) for p in instance.iterdir() if p.is_file()}
        assert files == {"coordinator.sqlite3": 0o600, "coordinator.sqlite3-wal": 0o600,
                         "coordinator.sqlite3-shm": 0o600, "secret_key": 0o600}
        assert mode(instance) == 0o700


def test_sqlite_enforces_the_foreign_keys_the_schema_declares(sqlite_app):
    """Deleting an avstämning deletes its actions (ON DELETE CASCADE); deleting an import that population
    figures still come from is refused (a plain foreign key), and nothing is deleted."""
    from coordinator.registry.models import Population, PopulationImport
    from coordinator.reports.models import Avstamning
    from coordinator.registry.reference import load_reference_data
    from coordinator.tasks.models import Task

    with sqlite_app.app_context():
        load_reference_data()
        avstamning = db.session.execute(insert(Avstamning).values(held_on=date(2016, 5, 1))).inserted_primary_key[0]
        db.session.execute(insert(Task).values(title="Åtgärd", due_date=date(2016, 6, 1), avstamning_id=avstamning))
        db.session.commit()
        db.session.execute(delete(Avstamning))
        db.session.commit()
        assert db.session.scalar(select(Task)) is None

        imp = db.session.execute(insert(PopulationImport).values(
            filnamn="scb.csv", sha256="0" * 64, years="2014", rows=1, encoding="utf-8", delimiter=";")
        ).inserted_primary_key[0]
        db.session.execute(update(Population).where(Population.kommunkod == "0114", Population.year == 2014)
                           .values(import_id=imp))
        db.session.commit()
        with pytest.raises(IntegrityError):
            db.session.execute(delete(PopulationImport))
            db.session.commit()
        db.session.rollback()
        assert db.session.get(PopulationImport, imp) is not None


def test_unconfirmed_population_previews_are_pruned(sqlite_app, tmp_path):
    """At `coordinator setup` (and by the import page before each new preview), a previewed upload never
    confirmed is deleted after a day; a newer preview and the archive copy of a confirmed import stay."""
    import os
    import time

    from coordinator.registry.models import PopulationImport
    from coordinator.registry.service import stash_dir

    folder = stash_dir(tmp_path / "instance")
    old, recent, confirmed = folder / ("a" * 64), folder / ("b" * 64), folder / ("c" * 64)
    for p in (old, recent, confirmed):
        p.write_bytes(b"kommunkod;folkmangd\n")
    two_days_ago = time.time() - 2 * 86400
    for p in (old, confirmed):
        os.utime(p, (two_days_ago, two_days_ago))
    with sqlite_app.app_context():
        db.session.add(PopulationImport(filnamn="scb.csv", sha256="c" * 64, years="2020", rows=1,
                                        encoding="utf-8", delimiter=";"))
        db.session.commit()
    result = sqlite_app.test_cli_runner().invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["b" * 64, "c" * 64]
    assert mode(folder) == 0o700
