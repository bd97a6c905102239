"""Test fixtures: every database test runs on SQLite and on PostgreSQL, with CSRF on.

Backends: `--backends sqlite,postgresql` (default both). PostgreSQL is at TEST_PG_URL
(default the local server, database coordinator_test_<pid>, dropped and created per run).

Parallel runs (pytest-xdist, `./dev test` uses `-n 2 --dist loadfile`): each worker process (gw0,
gw1, …) has its own instance directory, its own PostgreSQL database, its own SQLite file and its
own ports (tests.helpers.free_port); the translation catalogs are compiled once, by the controller,
before any worker starts. Screenshots from all workers go to one folder (SHOTS), so each test
module names its screenshots with its own prefix.

Each backend's app and database is made once per worker and kept for the worker's whole run (backend_apps):
migrated once, emptied after each test (_reset), its config put back as made at the start of each module.

The demo (`coordinator demo`, ~40 s of CPU) is built once per backend and worker and snapshotted; every later
module that asks for it gets the snapshot restored (demo_data; a larger demo passes its own arguments).
"""
from __future__ import annotations

import os
import re
import tempfile
import threading
from pathlib import Path

import pytest

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", … in a pytest-xdist worker; "" otherwise
if WORKER:
    # Workers inherit the controller's environment, so a shared COORDINATOR_INSTANCE would give them one
    # secret key file and one upload folder: each worker takes a folder of its own inside it.
    _base = os.environ.get("COORDINATOR_INSTANCE") or tempfile.mkdtemp(prefix="coordinator-test-")
    os.environ["COORDINATOR_INSTANCE"] = str(Path(_base) / WORKER)
    Path(os.environ["COORDINATOR_INSTANCE"]).mkdir(parents=True, exist_ok=True)
else:
    os.environ.setdefault("COORDINATOR_INSTANCE", tempfile.mkdtemp(prefix="coordinator-test-"))
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")

from sqlalchemy import delete, update  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from coordinator import create_app  # noqa: E402
from coordinator.extensions import db  # noqa: E402
from .helpers import drop_snapshots, has_snapshot, instance_state, restore_snapshot, take_snapshot  # noqa: E402


def _pg_url() -> str:
    """One database per test process (and per worker), so parallel runs never drop each other's data."""
    url = os.environ.get("TEST_PG_URL", f"postgresql+psycopg://postgres@127.0.0.1:5432/coordinator_test_{os.getpid()}")
    if WORKER:
        from sqlalchemy.engine import make_url

        u = make_url(url)
        url = u.set(database=f"{u.database}_{WORKER}").render_as_string(hide_password=False)
    return url


PG_URL = _pg_url()
PASSWORD = "korrekt-häst-batteri"
USERS = {"admin": "admin@test.se", "staff": "staff@test.se", "reader": "reader@test.se"}
# Reference tables keep their shipped rows between tests; everything else is emptied.
REFERENCE_TABLES = {"lan", "kommun", "stadsdel", "population", "oj_group", "sampling_defaults", "user_account",
                    "assignment", "phase", "blackout"}
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def compile_catalogs(translations: Path) -> None:
    """Compile every messages.po under `translations` to its messages.mo, each written to a temporary file
    and renamed over the old one, so a process reading the catalog never sees half a file."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in sorted(translations.glob("*/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as f:
            catalog = read_po(f, locale=po_path.parent.parent.name)
        if catalog.fuzzy:  # as `pybabel compile`: a catalog marked fuzzy as a whole is not compiled
            continue
        fd, tmp = tempfile.mkstemp(dir=po_path.parent, prefix=".messages-", suffix=".mo")
        try:
            with os.fdopen(fd, "wb") as out:
                write_mo(out, catalog)
            os.chmod(tmp, 0o644)  # mkstemp makes it 0600; a catalog is no secret
            os.replace(tmp, po_path.with_suffix(".mo"))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def pytest_configure(config):
    # Compile the translation catalogs so a plain `pytest` sees the same English as `./dev test`; only in
    # the controller (or a run without workers): the workers start after it and read what it wrote.
    if not hasattr(config, "workerinput"):
        compile_catalogs(Path(__file__).parent.parent / "coordinator" / "translations")


def pytest_addoption(parser):
    parser.addoption("--backends", default="sqlite,postgresql",
                     help="comma-separated database backends to run the DB tests on")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        backends = metafunc.config.getoption("backends").split(",")
        metafunc.parametrize("backend", backends, scope="session")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Each module's tests run backend by backend: all its SQLite tests, then all its PostgreSQL tests, each
    group in the order pytest gave it. pytest's own ordering interleaves the backends within a module whose
    tests have parameters of their own, and every switch sets up the module's fixtures again (a demo restored)."""
    modules: dict[str, int] = {}
    backends: dict[str, int] = {}

    def key(item):
        backend = getattr(item, "callspec", None) and item.callspec.params.get("backend")
        return (modules.setdefault(item.nodeid.split("::")[0], len(modules)),
                backends.setdefault(backend, len(backends)) if backend else -1)

    items.sort(key=key)


def _pg_admin(url: str, *statements: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.format(db=u.database))


def _make_app(backend: str, tmp_path_factory):
    """A new app on a new, empty database of `backend`: migrated, reference data loaded, three users."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    elif backend == "postgresql":
        _pg_admin(PG_URL, 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', 'CREATE DATABASE "{db}"')
        url = PG_URL
    else:
        raise pytest.UsageError(f"unknown backend {backend}")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SERVER_NAME": None})
    with app.app_context():
        from flask_migrate import upgrade

        from coordinator.auth.models import User
        from coordinator.registry.reference import load_reference_data
        from coordinator.dialogue.defaults import load_dialogue_defaults
        from coordinator.scheduling.defaults import load_assignment_defaults

        upgrade()  # the real migrations, not create_all: they are what production runs
        load_reference_data()
        load_assignment_defaults()
        load_dialogue_defaults()
        from coordinator.events.defaults import load_organisation_defaults
        load_organisation_defaults()
        for role, email in USERS.items():
            user = User(email=email, name=f"Test {role}", role=role)
            user.set_password(PASSWORD)
            db.session.add(user)
        db.session.commit()
    app.config["BACKEND"] = backend
    app.config["SNAPSHOT_DIR"] = tmp_path_factory.mktemp(f"snapshots-{backend}")
    app.config["CONFIG_AS_MADE"] = dict(app.config)
    return app


def _drop_app(app) -> None:
    with app.app_context():
        db.engine.dispose()
    drop_snapshots(app)
    if app.config["BACKEND"] == "postgresql":
        _pg_admin(PG_URL, 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


@pytest.fixture(scope="session")
def backend_apps():
    """The app of each backend, made the first time a test asks for it and kept for the whole session (of this
    process or worker): pytest keeps one value of a parametrized fixture at a time, and with `--dist loadfile`
    a worker runs each module's SQLite tests, then its PostgreSQL tests, then the next module's SQLite tests…
    Without this, every switch would make the app again (migrations, reference data) and lose its snapshots."""
    apps: dict[str, object] = {}
    yield apps
    for app in apps.values():
        _drop_app(app)


@pytest.fixture(scope="session")
def backend_app(backend, backend_apps, tmp_path_factory):
    if backend not in backend_apps:
        backend_apps[backend] = _make_app(backend, tmp_path_factory)
    return backend_apps[backend]


@pytest.fixture(scope="module", autouse=True)
def _config_as_made(backend_apps):
    """Each module starts with the apps' config as they were made (what a test module changed and left, say the
    day COORDINATOR_TODAY, stays in that module, as it did when each module had apps of its own)."""
    for app in backend_apps.values():
        made = app.config["CONFIG_AS_MADE"]
        for key in set(app.config) - set(made) - {"SNAPSHOTS", "CONFIG_AS_MADE"}:
            del app.config[key]
        app.config.update(made)


def _reset(app) -> None:
    from coordinator.auth.models import User
    from coordinator.registry.models import Population, Stadsdel
    from coordinator.registry.reference import load_reference_data, reset_groups

    with app.app_context():
        db.session.rollback()
        # Imported figures first: they reference population_import, which is emptied below.
        db.session.execute(delete(Population).where(Population.import_id.isnot(None)))
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in REFERENCE_TABLES:
                db.session.execute(table.delete())
        db.session.execute(update(Stadsdel).values(aktiv=True))
        db.session.execute(delete(User).where(User.email.notin_(USERS.values())))
        for role, email in USERS.items():
            db.session.execute(update(User).where(User.email == email).values(
                name=f"Test {role}", role=role, active=True))
        reset_groups()
        from coordinator.registry.models import SamplingDefaults
        db.session.execute(delete(SamplingDefaults))
        db.session.commit()
        from coordinator.extensions import limiter
        limiter.reset()  # each test starts with no failed logins counted (login_lock is emptied above)
        load_reference_data()  # restores shipped rows an import replaced, and the defaults
        from coordinator.scheduling.defaults import load_assignment_defaults
        from coordinator.scheduling.models import Assignment, Blackout, Phase
        for model in (Assignment, Phase, Blackout):
            db.session.execute(delete(model))
        db.session.commit()
        load_assignment_defaults()
        from coordinator.dialogue.defaults import load_dialogue_defaults
        load_dialogue_defaults()  # the codebook and questions are emptied above with the notes
        from coordinator.events.defaults import load_organisation_defaults
        load_organisation_defaults()  # the shipped organisations, emptied above with the events


@pytest.fixture
def app(backend_app):
    """The app on one backend, with a clean database (reference data loaded, three users)."""
    yield backend_app
    _reset(backend_app)


class Client:
    """A logged-in test client that sends the real CSRF token with every POST."""

    def __init__(self, app, email: str | None):
        self.app = app
        self.http = app.test_client()
        self.token = None
        if email:
            self.login(email)

    def _token(self) -> str:
        url = "/" if self._logged_in else "/logga-in"
        html = self.http.get(url, follow_redirects=True).get_data(as_text=True)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
            re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
        assert match, "no CSRF token on the page"
        return match.group(1)

    _logged_in = False

    def login(self, email: str, password: str = PASSWORD):
        token = self._token()
        response = self.http.post("/logga-in", data={"email": email, "password": password, "csrf_token": token})
        self._logged_in = response.status_code == 302
        self.token = self._token() if self._logged_in else None
        return response

    def get(self, url, **kw):
        return self.http.get(url, **kw)

    def post(self, url, data=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token or self._token())
        return self.http.post(url, data=data, **kw)


@pytest.fixture
def anon(app):
    return Client(app, None)


@pytest.fixture
def admin(app):
    return Client(app, USERS["admin"])


@pytest.fixture
def staff(app):
    return Client(app, USERS["staff"])


@pytest.fixture
def reader(app):
    return Client(app, USERS["reader"])


# --- a real server and a real browser -------------------------------------------------------

@pytest.fixture(scope="session")
def live_servers():
    """A server per backend's app, kept for the session as the apps are (backend_apps)."""
    servers: dict[str, object] = {}
    yield servers
    for server in servers.values():
        server.shutdown()


@pytest.fixture(scope="session")
def live_server(backend, backend_app, live_servers):
    if backend not in live_servers:
        server = make_server("127.0.0.1", 0, backend_app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        live_servers[backend] = server
    return f"http://127.0.0.1:{live_servers[backend].server_port}"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    chromium = pw.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"])
    yield chromium
    chromium.close()
    pw.stop()


def browser_page(browser, live_server):
    """A fresh browser context on the live server (Swedish, 1280 px wide) and its page, closed after."""
    context = browser.new_context(base_url=live_server, locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def page(browser, live_server, app):
    yield from browser_page(browser, live_server)


# --- the demo assignment, built once per backend and worker, restored for each test module ------------

def demo_data(app, args: list[str]) -> str:
    """Put in the app's database what the command `args` makes (`["demo", "--json"]`; a larger demo takes other
    arguments) and return what it printed. The first time in this worker process, for this backend and these
    arguments, the command builds it from a clean database (_reset) and the result is snapshotted, and so is the
    clean database it started from (key "before", *args); every later time the snapshot is restored: the state a
    fresh build gives, with its ids, sequences, audit log and instance files, whatever earlier tests changed."""
    key = tuple(args)
    if has_snapshot(app, key):
        return restore_snapshot(app, key)
    _reset(app)
    take_snapshot(app, ("before", *key))
    files = instance_state(app)
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    take_snapshot(app, key, instance_before=files, output=result.output)
    return result.output


@pytest.fixture(scope="session")
def make_demo():
    """demo_data, for a test that puts the demo (or a snapshot) in place itself."""
    return demo_data


@pytest.fixture(scope="module")
def demo(backend_app):
    """The app on this backend with `coordinator demo`'s data, put in place for the module (and emptied after):
    built by the command the first time, restored from its snapshot after that (see snapshots.demo_data)."""
    app = backend_app
    demo_data(app, ["demo", "--json"])
    yield app
    _reset(app)


@pytest.fixture
def demo_page(browser, live_server, demo):
    """A browser page on the demo's data (the `page` fixture would empty the database after each test)."""
    yield from browser_page(browser, live_server)


def browser_login(page, role: str = "staff") -> None:
    page.goto("/logga-in")
    page.get_by_label("E-postadress").fill(USERS[role])
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(r".*/(?!logga-in).*"))


def _axe_violations(page, impacts: tuple[str, ...] | None) -> tuple[list, str]:
    """axe-core's violations on the page (bundled with axe-playwright-python), of the given impacts (None: all)."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    bad = [v for v in found if impacts is None or v.get("impact") in impacts]
    return bad, "; ".join(f"{v['id']} ({v['impact']}): {v['help']} → {[n['target'] for n in v['nodes']][:3]}"
                          for v in bad)


def assert_accessible(page, label: str = "") -> None:
    """axe-core: no serious or critical violation."""
    bad, described = _axe_violations(page, ("serious", "critical"))
    assert not bad, f"{label or page.url}: {described}"


def assert_no_axe_violations(page, label: str = "") -> None:
    """axe-core: no violation at all, whatever its impact (minor and moderate too)."""
    bad, described = _axe_violations(page, None)
    assert not bad, f"{label or page.url}: {described}"


SHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).parent.parent / "test-artifacts"))
