"""How the app keeps its files: SQLite run properly, and instance files readable by their owner only.

SQLite's defaults suit a throwaway file, not an office's records: foreign keys are not enforced,
a writer blocks readers, and a second writer fails at once. Every new SQLite connection gets
foreign keys on, WAL, a busy timeout and synchronous=NORMAL (safe with WAL). The database holds
personal data, so its file (and the WAL and SHM files SQLite derives from it, which take the
main file's mode) is made 0600 before anything is written to it.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the package imports this module, and `coordinator --help` needs no SQLAlchemy
    from sqlalchemy.engine import Engine

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def sqlite_path(engine: Engine) -> Path | None:
    """The file of a file-backed SQLite engine, else None (PostgreSQL, or SQLite in memory)."""
    if engine.dialect.name != "sqlite":
        return None
    name = engine.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name).resolve()


def make_private(path: Path, mode: int = PRIVATE_FILE) -> None:
    """chmod a file or folder we own; one someone else owns is left as it is."""
    try:
        if path.exists() and path.stat().st_uid == os.getuid():
            path.chmod(mode)
    except OSError:
        pass


def write_private(path: Path, data: bytes) -> None:
    """Write a file that only its owner can read, never readable by others even for a moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)  # an existing file keeps its old mode through os.open
        os.write(fd, data)
    finally:
        os.close(fd)


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """Set the PRAGMAs on every new connection of a SQLite engine (does nothing for other databases)."""
    from sqlalchemy import event

    if engine.dialect.name != "sqlite":
        return
    path = sqlite_path(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        if path is not None:
            # sqlite3.connect has just created the (still empty) file with the umask's mode.
            for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                make_private(p)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            if path is not None:  # WAL needs a file; an in-memory database keeps its own journal
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()
