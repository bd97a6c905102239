"""Helpers the test modules share (fixtures stay in conftest.py)."""
from __future__ import annotations

import json
import os
import random
import socket
import threading
from pathlib import Path

from sqlalchemy import select

from coordinator.audit import AuditEvent
from coordinator.extensions import db


# Ports below the kernel's ephemeral range (32768–60999 on Linux), so no port-0 bind elsewhere takes one; each
# pytest-xdist worker (gw0, gw1, …) draws from its own slice, so two workers never hand out the same port.
_PORT_BASE, _PORT_SLICE = 20000, 400
_handed_out: set[int] = set()
_ports_lock = threading.Lock()


def worker_number() -> int:
    """This pytest-xdist worker's number (gw3 -> 3); 0 in a run without workers."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now and that no other worker of this run will hand out.

    Plain words: a server started by a test (SMTP, a subprocess `coordinator serve`) needs a port number
    before it binds. Asking the kernel for "any port" and closing it leaves a moment in which another worker
    can be given the same number; here each worker picks from its own range, skips what it has handed out
    already, and checks that the port can be bound (another program on the machine may hold it)."""
    start = _PORT_BASE + (worker_number() % 30) * _PORT_SLICE
    candidates = list(range(start, start + _PORT_SLICE))
    random.shuffle(candidates)
    with _ports_lock:
        for port in candidates:
            if port in _handed_out:
                continue
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port in {start}–{start + _PORT_SLICE - 1}")


def cli_json(app, *args):
    """Run a command of the app's CLI with --json; what it printed, parsed. The command must succeed."""
    result = app.test_cli_runner().invoke(args=[*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def adopt_sample(app) -> int:
    """Draw (2014, seed 7) and adopt a sample through the CLI, as the coordinator does; the sample's id."""
    sample_id = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "7", "--save")["id"]
    cli_json(app, "sample", "adopt", str(sample_id))
    return sample_id


def hold_a_quarter(app) -> list[int]:
    """An adopted sample with its visits, three round-1 visits of which fall in 2015 Q3: two held
    (18 Aug, 2 Sep) and one booked (22 Sep). Returns their ids in that order; the caller commits."""
    from datetime import date

    from sqlalchemy import update

    from coordinator.sampling.models import Sample
    from coordinator.scheduling.models import Visit
    from coordinator.scheduling.service import ensure_visits

    sample_id = adopt_sample(app)
    assert db.session.get(Sample, sample_id).active_sites
    ensure_visits()
    db.session.flush()
    ids = list(db.session.scalars(select(Visit.id).where(Visit.round == 1).order_by(Visit.id).limit(3)))
    for vid, day, status in zip(ids, (date(2015, 8, 18), date(2015, 9, 2), date(2015, 9, 22)),
                                ("genomford", "genomford", "bekraftad")):
        db.session.execute(update(Visit).where(Visit.id == vid).values(date=day, status=status))
    return ids


def audit_events(app, prefix: str) -> list[AuditEvent]:
    """The audit log's entries whose action starts with `prefix`, oldest first (detached, readable after)."""
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith(prefix))
                                  .order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return rows


def form_fields(html: str, action: str) -> dict[str, str]:
    """The fields a browser would send with the page's form that posts to `action` (a path): its hidden
    inputs (CSRF token, version, `confirmed`…) and other inputs' values. Fails if there is no such form."""
    from html.parser import HTMLParser
    from urllib.parse import unquote

    class Forms(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found: dict[str, str] | None = None
            self.inside = False

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "form" and unquote((a.get("action") or "").split("?")[0].split("#")[0]) == unquote(action) \
                    and self.found is None:
                self.inside, self.found = True, {}
            elif tag == "input" and self.inside and a.get("name") and a.get("type") not in ("checkbox", "radio"):
                self.found[a["name"]] = a.get("value") or ""

        def handle_endtag(self, tag):
            if tag == "form":
                self.inside = False

    parser = Forms()
    parser.feed(html)
    assert parser.found is not None, f"no form posting to {action}"
    return parser.found


def confirm_through_page(client, url: str, extra: dict | None = None, **kw):
    """GET a confirmation page and POST its form, as a person pressing its button would; the response."""
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:1000]
    fields = form_fields(page.get_data(as_text=True), url)
    return client.post(url, {**fields, **(extra or {})}, **kw)


def demo_ids(app) -> dict:
    """An id for every kind of URL argument, from `coordinator demo`'s data (a booked visit and its site, a
    held visit with a note, the first plan and its goal, and so on), for walking every page of the app."""
    from sqlalchemy import text

    with app.app_context():
        def one(sql: str):
            return db.session.execute(text(sql)).scalar()

        visit_id = one("SELECT id FROM visit WHERE status = 'bekraftad' ORDER BY id")
        site_id = one(f"SELECT site_id FROM visit WHERE id = {visit_id}")
        plan_site = one("SELECT site_id FROM action_plan ORDER BY id")
        goal_id = one(f"SELECT g.id FROM plan_goal g JOIN action_plan p ON p.id = g.plan_id "
                      f"WHERE p.site_id = {plan_site} ORDER BY g.id")
        questionnaire_id = one("SELECT id FROM questionnaire ORDER BY id")
        return {
            "visit_id": visit_id, "site_id": site_id, "plan_site": plan_site, "goal_id": goal_id,
            "activity_id": one(f"SELECT id FROM plan_activity WHERE goal_id = {goal_id} ORDER BY id"),
            "sample_id": one("SELECT id FROM sample ORDER BY id"),
            "event_id": one("SELECT e.id FROM event e JOIN note n ON n.event_id = e.id ORDER BY e.id"),
            "questionnaire_id": questionnaire_id,
            "question_id": one(f"SELECT id FROM question WHERE questionnaire_id = {questionnaire_id} ORDER BY id"),
            "request_id": one("SELECT id FROM measurement_request ORDER BY id"),
            "contact_id": one(f"SELECT id FROM contact WHERE site_id = {site_id} ORDER BY id"),
            "dialogue_question_id": one("SELECT id FROM dialogue_question ORDER BY id"),
            "theme_id": one("SELECT id FROM theme ORDER BY id"),
            "category_id": one("SELECT id FROM theme_category ORDER BY id"),
            "user_id": one("SELECT id FROM user_account ORDER BY id"),
            "phase_id": one("SELECT id FROM phase ORDER BY id"),
            "blackout_id": one("SELECT id FROM blackout ORDER BY id"),
            "staff_id": one("SELECT id FROM staff_member ORDER BY id"),
            "absence_id": one("SELECT a.id FROM staff_absence a JOIN staff_member m ON m.id = a.staff_id "
                              "WHERE m.id = (SELECT MIN(id) FROM staff_member) ORDER BY a.id"),
            "organisation_id": one("SELECT id FROM organisation ORDER BY id"),
            "kommunkod": one(f"SELECT kommunkod FROM site WHERE id = {site_id}"),
            "round_": 1, "number": 1, "period": "2016Q3",
            "section": one("SELECT section FROM report_narrative WHERE period = '2016Q3' ORDER BY id"),
            "held_visit": one("SELECT v.id FROM visit v JOIN note n ON n.visit_id = v.id ORDER BY v.id"),
        }


# --- snapshots of a backend's database (and of what a command wrote to the instance folder) ------------
#
# Building the demo costs ~40 s of CPU per backend; the test modules that read it would each pay that. The
# first build in a worker process is snapshotted and each later module gets the snapshot restored: the same
# rows, the same ids and sequences, the same audit log and timestamps (those of the first build), and the same
# files in the instance folder. A snapshot is named by a key (the command's arguments), kept in the app's
# config, and dropped with the backend (conftest.py's backend_app).

def _snapshots(app) -> dict:
    return app.config.setdefault("SNAPSHOTS", {})


def _snapshot_name(app, key: tuple[str, ...]) -> str:
    import hashlib

    return "s" + hashlib.sha1("\0".join(key).encode()).hexdigest()[:10]


def _release_connections(app) -> None:
    """No connection of the app's engine stays open: a PostgreSQL database with a session on it can be neither
    a template nor dropped, and a SQLite file must not be written under an open connection's feet."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _pg_admin(url, *statements: str) -> None:
    import psycopg

    admin = url.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _sqlite_copy(source: str, target: str) -> None:
    """The whole database `source` into `target` with SQLite's backup API: consistent whatever sits in the
    write-ahead log, and the target's pages replaced in one step (its -wal and -shm stay valid)."""
    import sqlite3

    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _instance_state(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file()}


def take_snapshot(app, key: tuple[str, ...], instance_before: dict | None = None, output: str = "") -> None:
    """Snapshot the app's database under `key`, with the instance files that changed since `instance_before`
    (an earlier instance_state(app)) and the command's `output`."""
    import shutil

    name = _snapshot_name(app, key)
    folder = Path(app.config["SNAPSHOT_DIR"]) / name
    folder.mkdir(parents=True, exist_ok=True)
    _release_connections(app)
    url = db_url(app)
    if url.get_backend_name() == "postgresql":
        template = f"{url.database}_{name}"
        _pg_admin(url, f'DROP DATABASE IF EXISTS "{template}"', f'CREATE DATABASE "{template}" TEMPLATE "{url.database}"')
        stored = template
    else:
        stored = str(folder / "database.sqlite3")
        _sqlite_copy(url.database, stored)
    instance = Path(app.instance_path)
    files = []
    if instance_before is not None:
        now = _instance_state(instance)
        files = sorted(f for f, state in now.items() if instance_before.get(f) != state)
        for f in files:
            (folder / "instance" / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(instance / f, folder / "instance" / f)
    _snapshots(app)[key] = {"database": stored, "files": files, "folder": folder, "output": output}


def instance_state(app) -> dict:
    return _instance_state(Path(app.instance_path))


def has_snapshot(app, key: tuple[str, ...]) -> bool:
    return key in _snapshots(app)


def restore_snapshot(app, key: tuple[str, ...]) -> str:
    """Put the snapshot `key` back: the database as it was taken (PostgreSQL: dropped and made again from its
    template; SQLite: its pages copied back) and the instance files it holds. The command's output."""
    import shutil

    from coordinator.extensions import limiter

    snap = _snapshots(app)[key]
    _release_connections(app)
    url = db_url(app)
    if url.get_backend_name() == "postgresql":
        _pg_admin(url, f'DROP DATABASE "{url.database}" WITH (FORCE)',
                  f'CREATE DATABASE "{url.database}" TEMPLATE "{snap["database"]}"')
    else:
        _sqlite_copy(snap["database"], url.database)
    instance = Path(app.instance_path)
    for f in snap["files"]:
        (instance / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(snap["folder"] / "instance" / f, instance / f)
    limiter.reset()  # held in memory, not in the database: no failed logins counted, as after _reset
    from coordinator.dataversion import renew

    with app.app_context(), db.engine.begin() as connection:
        renew(connection)  # the counters are back where the snapshot had them: no cache may take them for new
    return snap["output"]


def drop_snapshots(app) -> None:
    """Drop the PostgreSQL template databases of the app's snapshots (the files go with pytest's tmp folder)."""
    url = db_url(app)
    for snap in _snapshots(app).values():
        if url.get_backend_name() == "postgresql":
            _pg_admin(url, f'DROP DATABASE IF EXISTS "{snap["database"]}" WITH (FORCE)')
    _snapshots(app).clear()


def db_url(app):
    from sqlalchemy.engine import make_url

    return make_url(app.config["SQLALCHEMY_DATABASE_URI"])
