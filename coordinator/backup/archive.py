"""Make and restore a backup file: a gzipped tar holding

    manifest.json                        format, app version, database kind, Alembic revision, time, row counts,
                                         where the secret key came from and its fingerprint
    database.sqlite3 | database.pgdump   SQLite's online backup (consistent while the app runs), or
                                         pg_dump --format=custom
    instance/secret_key                  when the key is the generated file (not SECRET_KEY from the environment)
    instance/population_imports/<sha256> the archive copies of the imported population files

The secret key signs every kommun link and calendar feed that was sent out: a database restored
without it silently breaks them all, so the key travels with the data, or, when it comes from the
environment, its fingerprint does and the restore checks it.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from ..database import PRIVATE_DIR, make_private, sqlite_path, write_private

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
KEY_MEMBER = "instance/secret_key"
IMPORTS_MEMBER = "instance/population_imports/"
IMPORTS_DIR = "population_imports"

# Tables `coordinator setup` fills (shipped reference data, settings, the codebook, organisations).
# Rows anywhere else are the office's working data, which a restore will not overwrite unforced.
REFERENCE_TABLES = frozenset({
    "alembic_version", "lan", "kommun", "stadsdel", "population", "oj_group", "sampling_defaults",
    "assignment", "phase", "blackout", "dialogue_question", "theme_category", "theme", "organisation",
    "data_version",  # the caches' counters (dataversion.py), no data of its own
})
# The first administrator `coordinator setup` makes is not working data; a second account is.
SETUP_ACCOUNTS = 1


class BackupError(Exception):
    """A backup or restore that cannot be done. The message is for the user (Swedish); `detail` is technical."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail


def fingerprint(key: str) -> str:
    """Tells two secret keys apart without revealing either."""
    return hashlib.sha256(b"coordinator secret key\0" + key.encode()).hexdigest()


def database_kind(engine: Engine) -> str:
    name = engine.dialect.name
    if name not in DATABASE_MEMBER:
        raise BackupError(f"Databastypen {name} stöds inte för säkerhetskopiering (bara SQLite och PostgreSQL).")
    return name


# --------------------------------------------------------------------------- reading a database

def _tables(connection) -> list[str]:
    names = inspect(connection).get_table_names()
    return sorted(n for n in names if not n.startswith("sqlite_"))


def _quote(connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def row_counts(connection) -> dict[str, int]:
    """Rows in every table of the database (SQLite's own tables left out)."""
    return {name: connection.execute(text(f"SELECT count(*) FROM {_quote(connection, name)}")).scalar_one()
            for name in _tables(connection)}


def revision(connection) -> str | None:
    if "alembic_version" not in _tables(connection):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def working_rows(engine: Engine) -> dict[str, int]:
    """Rows of working data per table (tables without any left out); empty for a new database."""
    with engine.connect() as connection:
        counts = row_counts(connection)
    # The search index's own tables (passage_fts…) only mirror the notes: not named apart.
    found = {name: n for name, n in counts.items()
             if n and name not in REFERENCE_TABLES and not name.startswith("passage_fts")}
    if found.get("user_account", 0) <= SETUP_ACCOUNTS:
        found.pop("user_account", None)
    return found


def _sqlite_counts(path: Path) -> tuple[dict[str, int], str | None]:
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return row_counts(connection), revision(connection)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- PostgreSQL client programs

def _pg_program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"Programmet {name} finns inte på den här datorn. Det behövs för att säkerhetskopiera och återställa "
            f"en PostgreSQL-databas: installera PostgreSQL:s klientprogram (på Debian och Ubuntu paketet "
            f"postgresql-client) i samma version som databasservern eller nyare, och försök igen.")
    return found


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """A libpq address for the engine's database, and the environment that carries its password
    (never on a command line, where any user on the machine can read it)."""
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    address = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return address, env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(what, detail=f"{Path(args[0]).name}: {result.stderr.strip()[-2000:]}")


# --------------------------------------------------------------------------- backup

@dataclass
class Backup:
    """What a backup file holds, read back from it (files extracted into `folder`)."""
    manifest: dict
    folder: Path
    database: Path
    secret_key: str | None = None
    imports: dict[str, Path] = field(default_factory=dict)


def _dump_sqlite(engine: Engine, target: Path) -> tuple[dict[str, int], str | None]:
    path = sqlite_path(engine)
    if path is None or not path.exists():
        raise BackupError("Databasfilen finns inte; det finns inget att säkerhetskopiera.")
    source = sqlite3.connect(path, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # SQLite's online backup: one consistent snapshot, while the app runs
        copy.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file, no -wal beside it
    finally:
        copy.close()
        source.close()
    return _sqlite_counts(target)


def _dump_postgresql(engine: Engine, target: Path) -> tuple[dict[str, int], str | None]:
    pg_dump = _pg_program("pg_dump")
    address, env = _libpq(engine)
    # The counts and pg_dump read the same snapshot, so the manifest describes exactly what was dumped.
    with engine.connect().execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True) \
            as connection:
        snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        counts, rev = row_counts(connection), revision(connection)
        _run([pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
              f"--file={target}", f"--dbname={address}"], env,
             "Databasen kunde inte säkerhetskopieras med pg_dump.")
        connection.rollback()
    return counts, rev


def create(out: Path, engine: Engine, instance_path: Path, secret_key: str, key_from_environment: bool,
           app_version: str) -> dict:
    """Write a backup of the database and instance files to `out` (mode 0600); its manifest."""
    kind = database_kind(engine)
    out = out.resolve()
    if not out.parent.is_dir():
        raise BackupError(f"Mappen {out.parent} finns inte.")
    with tempfile.TemporaryDirectory(prefix="coordinator-backup-") as tmp:
        database = Path(tmp) / DATABASE_MEMBER[kind]
        counts, rev = (_dump_sqlite if kind == "sqlite" else _dump_postgresql)(engine, database)
        make_private(database)
        with engine.connect() as connection:
            imported = set()
            if "population_import" in _tables(connection):
                imported = set(connection.execute(text("SELECT sha256 FROM population_import")).scalars())
        imports = sorted(p for p in (instance_path / IMPORTS_DIR).glob("*") if p.is_file() and p.name in imported)
        manifest = {
            "format": FORMAT,
            "app": "coordinator",
            "app_version": app_version,
            "database": kind,
            "alembic_revision": rev,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "tables": counts,
            "secret_key": {"source": "environment" if key_from_environment else "file",
                           "fingerprint": fingerprint(secret_key)},
            "instance_files": [IMPORTS_MEMBER + p.name for p in imports],
        }
        partial = out.with_name(f".{out.name}.part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode())
                tar.add(database, arcname=database.name, filter=_owner_only)
                if not key_from_environment:
                    _add_bytes(tar, KEY_MEMBER, secret_key.encode())
                for p in imports:
                    tar.add(p, arcname=IMPORTS_MEMBER + p.name, filter=_owner_only)
            os.chmod(partial, 0o600)
            os.replace(partial, out)  # never a half-written backup under the real name
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return manifest


def _owner_only(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Members carry no user names of this machine, and say owner-only if ever unpacked with tar."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o600
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    info.mtime = int(datetime.now(timezone.utc).timestamp())
    tar.addfile(info, io.BytesIO(data))


# --------------------------------------------------------------------------- reading a backup file

NOT_A_BACKUP = "Filen {name} är ingen säkerhetskopia från coordinator, eller så är den skadad."


def read(path: Path, folder: Path) -> Backup:
    """Read a backup file, extracting its parts into `folder` (only the names it may hold: a
    crafted file cannot write anywhere else)."""
    if not path.is_file():
        raise BackupError(f"Filen {path} finns inte.")
    try:
        with tarfile.open(path, mode="r:*") as tar:
            members = {m.name: m for m in tar.getmembers() if m.isfile()}
            if MANIFEST not in members:
                raise BackupError(NOT_A_BACKUP.format(name=path.name))
            manifest = json.loads(tar.extractfile(members[MANIFEST]).read())
            if not isinstance(manifest, dict) or manifest.get("app") != "coordinator":
                raise BackupError(NOT_A_BACKUP.format(name=path.name))
            if not isinstance(manifest.get("format"), int) or manifest["format"] > FORMAT:
                raise BackupError("Säkerhetskopian är gjord av en nyare version av programmet och kan inte läsas "
                                  "av den här. Uppdatera programmet först.")
            kind = manifest.get("database")
            member = DATABASE_MEMBER.get(kind)
            if member not in members:
                raise BackupError(NOT_A_BACKUP.format(name=path.name))
            database = folder / member
            _extract(tar, members[member], database)
            backup = Backup(manifest=manifest, folder=folder, database=database)
            if KEY_MEMBER in members:
                backup.secret_key = tar.extractfile(members[KEY_MEMBER]).read().decode().strip()
            for name, info in members.items():
                sha = name[len(IMPORTS_MEMBER):] if name.startswith(IMPORTS_MEMBER) else ""
                if len(sha) == 64 and all(c in "0123456789abcdef" for c in sha):
                    target = folder / IMPORTS_DIR / sha
                    _extract(tar, info, target)
                    backup.imports[sha] = target
    except (tarfile.TarError, OSError, EOFError, ValueError, UnicodeDecodeError) as e:
        raise BackupError(NOT_A_BACKUP.format(name=path.name), detail=repr(e)) from e
    return backup


def _extract(tar: tarfile.TarFile, info: tarfile.TarInfo, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    source = tar.extractfile(info)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(source, out)


# --------------------------------------------------------------------------- restore

def restore_database(backup: Backup, engine: Engine) -> dict[str, int]:
    """Replace the database's contents with the backup's, all or nothing; the restored row counts."""
    engine.dispose()  # no pooled connection of ours stays open on what is replaced
    if backup.manifest["database"] == "sqlite":
        counts = _restore_sqlite(backup.database, engine)
    else:
        counts = _restore_postgresql(backup.database, engine)
    if counts != backup.manifest.get("tables"):
        raise BackupError("Den återställda databasen stämmer inte med säkerhetskopians innehållsförteckning.",
                          detail=f"expected {backup.manifest.get('tables')}, found {counts}")
    from ..dataversion import renew

    with engine.begin() as connection:
        renew(connection)  # the running workers' caches must not serve what they cached before the restore
    return counts


def _restore_sqlite(source_path: Path, engine: Engine) -> dict[str, int]:
    path = sqlite_path(engine)
    if path is None:
        raise BackupError("Databasen är inte en fil; det finns ingenstans att återställa den.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        write_private(path, b"")
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(path, timeout=30)
    try:
        # The backup API writes the whole database in one go under SQLite's own locks: the app may run.
        source.backup(target)
    finally:
        target.close()
        source.close()
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        make_private(p)
    return _sqlite_counts(path)[0]


def _restore_postgresql(dump: Path, engine: Engine) -> dict[str, int]:
    pg_restore, psql = _pg_program("pg_restore"), _pg_program("psql")
    address, env = _libpq(engine)
    folder = dump.parent
    script = folder / "restore.sql"
    # pg_restore writes the dump as SQL; psql runs it after dropping what is there, in ONE transaction:
    # a restore that fails half-way leaves the database as it was.
    _run([pg_restore, "--no-owner", "--no-privileges", f"--file={script}", str(dump)], env,
         "Säkerhetskopians databas kunde inte läsas med pg_restore.")
    with engine.connect() as connection:
        names = inspect(connection).get_table_names(schema="public")
        drops = "".join(f"DROP TABLE IF EXISTS public.{_quote(connection, n)} CASCADE;\n" for n in names)
    (folder / "drop.sql").write_text(drops + "SET search_path = public;\n")
    _run([psql, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction",
          f"--file={folder / 'drop.sql'}", f"--file={script}", f"--dbname={address}"], env,
         "Databasen kunde inte återställas; den är oförändrad.")
    engine.dispose()
    with engine.connect() as connection:
        return row_counts(connection)


def restore_instance(backup: Backup, instance_path: Path) -> list[str]:
    """Write the backup's instance files (owner only); their names, relative to the instance folder."""
    instance_path.mkdir(parents=True, exist_ok=True)
    make_private(instance_path, PRIVATE_DIR)
    written = []
    if backup.secret_key is not None:
        write_private(instance_path / "secret_key", backup.secret_key.encode())
        written.append("secret_key")
    if backup.imports:
        folder = instance_path / IMPORTS_DIR
        folder.mkdir(exist_ok=True)
        make_private(folder, PRIVATE_DIR)
        for sha, source in sorted(backup.imports.items()):
            write_private(folder / sha, source.read_bytes())
            written.append(f"{IMPORTS_DIR}/{sha}")
    return written
