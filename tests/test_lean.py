"""A lean process: the web worker and the cron commands start without the heavy libraries.

The planner's solver (ortools, which brings pandas), reportlab's layout and drawing, python-docx and lxml,
alembic, numpy, icalendar and pypdfium2 are imported by the functions that use them. Each check runs in a
fresh Python process, as a gunicorn worker or a cron job starts, and looks at what that process has imported:
a top-level `import ortools` (or any of the others) in a module loaded at start makes it fail.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

import coordinator
from coordinator.extensions import db

from .conftest import PASSWORD, USERS

ROOT = Path(coordinator.__file__).resolve().parent.parent  # the checkout under test, for the child processes

# What a process that serves pages, or sends the outbox, must not have imported.
HEAVY = ("ortools", "pandas", "numpy", "reportlab.graphics", "reportlab.platypus", "reportlab.pdfgen", "docx",
         "lxml", "alembic", "flask_migrate", "icalendar", "pypdfium2", "holidays", "PIL")

# Run in the child process: the app as a web worker makes it, one page, then the modules it has loaded.
WEB_WORKER = """
import json, re, sys
from coordinator import create_app
app = create_app()
client = app.test_client()
token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/logga-in").text).group(1)
login = client.post("/logga-in", data={"csrf_token": token, "email": sys.argv[1], "password": sys.argv[2]})
assert login.status_code == 302, login.status_code
responses = {path: client.get(path) for path in sys.argv[3:]}
pages = {path: r.status_code for path, r in responses.items()}
charts = {path: r.text.count('class="report-chart"') for path, r in responses.items()}
print(json.dumps({"pages": pages, "charts": charts, "modules": sorted(sys.modules)}))
"""

# The console command as cron runs it; the modules are reported when the command has exited.
CLI = """
import atexit, json, sys
atexit.register(lambda: print("MODULES " + json.dumps(sorted(sys.modules))))
sys.argv = ["coordinator", *sys.argv[1:]]
from coordinator.cli import main
main()
"""


def _env(app, tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", "COORDINATOR_TODAY")}
    env.update(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], COORDINATOR_INSTANCE=str(tmp_path),
               SECRET_KEY="lean-test")
    # The checkout under test, not whichever one the environment's editable install points at.
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def heavy_in(modules: list[str]) -> list[str]:
    return sorted({h for h in HEAVY for m in modules if m == h or m.startswith(h + ".")})


# What only the web needs: the extensions of the pages (login, forms, translations, rate limits).
WEB = ("flask_login", "flask_wtf", "wtforms", "flask_babel", "babel", "flask_limiter")


def web_in(modules: list[str]) -> list[str]:
    """The web's libraries, and the app's pages (the modules that define views), among the modules."""
    libraries = {w for w in WEB for m in modules if m == w or m.startswith(w + ".")}
    pages = {m for m in modules if m.startswith("coordinator.") and m.rsplit(".", 1)[-1].endswith("views")}
    return sorted(libraries | pages)


def _run(code: str, args: list[str], env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_a_web_worker_serves_pages_without_the_heavy_libraries(app, tmp_path):
    pages = ["/", "/besok/lista", "/dialog/", "/register/"]
    result = _run(WEB_WORKER, [USERS["staff"], PASSWORD, *pages], _env(app, tmp_path), tmp_path)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["pages"] == {page: 200 for page in pages}
    assert heavy_in(report["modules"]) == []
    assert "coordinator.scheduling.views" in report["modules"]  # the app really was loaded


def test_the_outbox_command_starts_without_the_heavy_libraries(app, tmp_path):
    result = _run(CLI, ["outbox", "send", "--json"], _env(app, tmp_path), tmp_path)
    out, _, modules = result.stdout.partition("MODULES ")
    assert json.loads(out) == {"sent": 0, "failed": 0, "retried": 0}
    modules = json.loads(modules)
    assert heavy_in(modules) == []
    # The light app (create_cli_app): no page, no web extension, no other capability's models.
    assert web_in(modules) == []
    assert "coordinator.outbox.delivery" in modules and "coordinator.invites.views" not in modules
    assert {m.split(".")[1] for m in modules if m.startswith("coordinator.")} <= {
        "outbox", "cli", "clitools", "config", "database", "dataversion", "extensions", "i18n", "server",
        "timeutil"}


def test_the_help_makes_no_app(app, tmp_path):
    """`coordinator --help` lists the commands without importing them or making an app."""
    result = _run(CLI, ["--help"], _env(app, tmp_path), tmp_path)
    out, _, modules = result.stdout.partition("MODULES ")
    assert "outbox" in out and "Utkorgen för e-post." in out
    assert {m for m in json.loads(modules) if m.startswith("coordinator")} == {
        "coordinator", "coordinator.cli", "coordinator.clitools", "coordinator.config", "coordinator.database"}


def test_the_check_sees_the_pages(app, tmp_path):
    """The check of the light app names the pages and the web's libraries when the whole app is made."""
    result = _run(CLI, ["outbox", "list", "--json"], _env(app, tmp_path), tmp_path)
    out, _, modules = result.stdout.partition("MODULES ")
    assert json.loads(out) == {"messages": []}
    found = web_in(json.loads(modules))
    assert {"flask_login", "flask_wtf", "coordinator.invites.views", "coordinator.scheduling.views"} <= set(found)


def test_the_check_sees_a_heavy_import(app, tmp_path):
    """The same child process, told to import the solver at start as a careless module would: the check
    names it. (So the two tests above would fail on a top-level `import ortools`.)"""
    code = "import ortools.sat.python.cp_model\n" + WEB_WORKER
    result = _run(code, [USERS["staff"], PASSWORD, "/"], _env(app, tmp_path), tmp_path)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"ortools", "pandas"} <= set(heavy_in(report["modules"]))


def test_the_migrations_still_load_alembic_when_asked(app, tmp_path):
    """`coordinator db …` (Flask-Migrate's commands, registered without importing it) still works."""
    result = _run(CLI, ["db", "current"], _env(app, tmp_path), tmp_path)
    out, _, modules = result.stdout.partition("MODULES ")
    assert "(head)" in out + result.stderr
    assert "alembic" in heavy_in(json.loads(modules))


def test_the_report_draft_and_the_measurement_results_need_neither_reportlab_nor_numpy(demo, tmp_path):
    """The pages with charts and weighted figures, on the demo's data: the draft's three charts are drawn as
    SVG without reportlab's graphics (or its fonts), and the national estimates and the number answers'
    means and medians are counted without numpy."""
    from coordinator.measurement.models import Questionnaire

    with demo.app_context():
        questionnaire = db.session.scalars(select(Questionnaire.id).order_by(Questionnaire.id)).first()
    draft, results = "/rapporter/2016Q3/", f"/matningar/{questionnaire}/resultat"
    result = _run(WEB_WORKER, [USERS["staff"], PASSWORD, draft, results], _env(demo, tmp_path), tmp_path)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["pages"] == {draft: 200, results: 200}
    assert report["charts"][draft] == 3  # the progress chart, the map and the themes by ÖJ group
    assert heavy_in(report["modules"]) == []
    assert "reportlab" not in {m.split(".")[0] for m in report["modules"]}  # not even its fonts and metrics
    # The code that draws and counts really ran in that process.
    assert {"coordinator.reports.charts", "coordinator.measurement.estimate"} <= set(report["modules"])
