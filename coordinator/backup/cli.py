"""`coordinator backup --out FILE` and `coordinator restore FILE [--force]`."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..clitools import echo_json
from . import archive
from .archive import BackupError

KEEP_SAFE = ("Filen innehåller personuppgifter och den hemliga nyckeln som kommunlänkar och kalenderflöden "
             "bygger på: förvara den lika skyddad som databasen.")


def _fail(message: str, as_json: bool, detail: str = "") -> None:
    if as_json:
        echo_json({"error": message, **({"detail": detail} if detail else {})})
    else:
        click.echo(message, err=True)
        if detail:
            click.echo(f"Tekniska detaljer: {detail}", err=True)
    sys.exit(1)


def _rows(counts: dict[str, int]) -> int:
    return sum(counts.values())


def _describe(found: dict[str, int]) -> str:
    largest = sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{name} {n}" for name, n in largest[:6])
    more = f" och {len(largest) - 6} tabeller till" if len(largest) > 6 else ""
    return f"{_rows(found)} rader i {len(found)} tabeller: {shown}{more}"


@click.command("backup", help="Säkerhetskopiera databasen, den hemliga nyckeln och importerade filer till en fil.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Filen att skriva (en tar-fil; den blir läsbar bara för ägaren).")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
@with_appcontext
def backup(out: Path, as_json: bool) -> None:
    from .. import __version__
    from ..extensions import db

    config = current_app.config
    try:
        manifest = archive.create(out, db.engine, Path(current_app.instance_path), config["SECRET_KEY"],
                                  config.get("SECRET_KEY_SOURCE") == "environment", __version__)
    except BackupError as e:
        _fail(str(e), as_json, e.detail)
    out = out.resolve()
    if as_json:
        echo_json({"file": str(out), "bytes": out.stat().st_size, **manifest})
        return
    key = ("nyckelfilen" if manifest["secret_key"]["source"] == "file"
           else "ett fingeravtryck av SECRET_KEY (själva nyckeln finns i miljön och följer inte med)")
    click.echo(f"Säkerhetskopian är sparad i {out}\n"
               f"  Databas: {manifest['database']}, version {manifest['alembic_revision']}, "
               f"{_rows(manifest['tables'])} rader i {len(manifest['tables'])} tabeller\n"
               f"  Hemlig nyckel: {key}\n"
               f"  Importerade befolkningsfiler: {len(manifest['instance_files'])}\n"
               f"{KEEP_SAFE}")


def _key_problem(backup: archive.Backup, current_key: str, source: str) -> str | None:
    """Why restoring would break links signed with one key or the other; None when the keys agree."""
    if archive.fingerprint(current_key) == backup.manifest.get("secret_key", {}).get("fingerprint"):
        return None
    if backup.secret_key is None:  # the backup's key lived in the environment: only that key will do
        return _ENV_KEY_DIFFERS
    if source == "new":  # a key made just now has signed nothing yet; the backup's replaces it
        return None
    if source == "environment":
        return ("SECRET_KEY i miljön är en annan nyckel än den i säkerhetskopian. Med den skulle alla kommunlänkar "
                "och kalenderflöden som skickats ut sluta fungera. Ta bort SECRET_KEY ur miljön (då används den "
                "återställda nyckelfilen) eller sätt den till säkerhetskopians nyckel.")
    return ("Den här installationen har redan en annan hemlig nyckel (instance/secret_key). Den ersätts av "
            "säkerhetskopians, och länkar och flöden som skapats med den nuvarande slutar då att fungera.")


_ENV_KEY_DIFFERS = ("Säkerhetskopian gjordes med SECRET_KEY från miljön, och den nuvarande SECRET_KEY är en annan. "
                    "Med den skulle alla kommunlänkar och kalenderflöden som skickats ut sluta fungera. Sätt "
                    "SECRET_KEY till samma värde som när säkerhetskopian gjordes och försök igen.")


@click.command("restore", help="Återställ en säkerhetskopia: databasen, den hemliga nyckeln och importerade filer.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Ersätt även befintligt arbetsmaterial och en annan hemlig nyckel.")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
@with_appcontext
def restore(file: Path, force: bool, as_json: bool) -> None:
    from alembic.script import ScriptDirectory
    from flask_migrate import upgrade

    from ..extensions import db

    engine = db.engine
    instance = Path(current_app.instance_path)
    with tempfile.TemporaryDirectory(prefix="coordinator-restore-") as tmp:
        try:
            kind = archive.database_kind(engine)
            backup = archive.read(file, Path(tmp))
            manifest = backup.manifest
            if manifest["database"] != kind:
                names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
                raise BackupError(f"Säkerhetskopian är av en {names.get(manifest['database'], manifest['database'])}"
                                  f"-databas, men appen använder {names[kind]}. Återställ den i en installation med "
                                  f"samma databastyp.")
            rev = manifest.get("alembic_revision")
            if rev:
                try:
                    ScriptDirectory(current_app.extensions["migrate"].directory).get_revision(rev)
                except Exception as e:  # noqa: BLE001  (alembic's errors for an unknown revision vary)
                    raise BackupError("Säkerhetskopian är gjord av en nyare version av programmet än den här. "
                                      "Uppdatera programmet och försök igen.", detail=repr(e)) from e
            problems = []
            found = archive.working_rows(engine)
            if found:
                problems.append(f"Databasen innehåller redan arbetsmaterial ({_describe(found)}). "
                                f"Återställningen skulle ersätta allt det.")
            key_problem = _key_problem(backup, current_app.config["SECRET_KEY"],
                                       current_app.config.get("SECRET_KEY_SOURCE", "file"))
            if key_problem:
                problems.append(key_problem)
            if problems and not force:
                raise BackupError("Återställningen gjordes inte; inget har ändrats.\n- " + "\n- ".join(problems)
                                  + "\nKör med --force för att ändå ersätta det som finns.")
            db.session.remove()
            counts = archive.restore_database(backup, engine)
            written = archive.restore_instance(backup, instance)
        except BackupError as e:
            _fail(str(e), as_json, e.detail)
    db.session.remove()
    engine.dispose()
    upgrade()  # a backup from an older version is brought up to this version's schema
    with engine.connect() as connection:
        now = archive.revision(connection)
    result = {"file": str(file.resolve()), "database": kind, "created_at": manifest.get("created_at"),
              "app_version": manifest.get("app_version"), "alembic_revision_backup": rev,
              "alembic_revision": now, "tables": counts, "instance_files": written,
              "forced": bool(problems), "warnings": problems}
    if as_json:
        echo_json(result)
        return
    lines = [f"Säkerhetskopian från {manifest.get('created_at')} är återställd: {_rows(counts)} rader i "
             f"{len(counts)} tabeller."]
    if now != rev:
        lines.append(f"Databasen är uppdaterad från version {rev} till {now}.")
    if written:
        lines.append(f"Återställda filer i {instance}: {', '.join(written)}.")
    lines.append("Starta om appen så att den läser den återställda databasen och nyckeln.")
    click.echo("\n".join(lines))
