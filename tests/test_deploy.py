"""Running in production: HTTPS hardening from the configuration, and secret tokens kept out of the logs.

The configuration is read from the environment as on a server (the app is made anew with the variables
set), against the test run's database on SQLite and on PostgreSQL. The servers are real: `coordinator
serve` (gunicorn) and `coordinator run` (the development server behind `./dev start`) run as subprocesses
on a free port.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from flask import url_for

from coordinator import create_app
from coordinator.extensions import db
from coordinator.server import REDACTED, Redactor

from .conftest import USERS, Client
from .helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
# Shaped like the real ones: a signed link (with dots) and a feed's random token.
SIGNED = "eyJsIjoxMiwibiI6Ik5vbmNlTm9uY2UifQ.Z8sQ1w.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
FEED = "q3Rb7vX9kLmN2pQ8sT4wY6zA1cE5gH0jK3nP7rU9xWc"


@pytest.fixture
def configured(app, monkeypatch):
    """Makes the app as a server would, from these environment variables, on the test run's database."""
    made = []

    def make(**env):
        for name in ("PUBLIC_URL", "SECURE_COOKIES", "TRUSTED_PROXIES", "ALLOWED_HOSTS", "HSTS_MAX_AGE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        made.append(create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


def set_cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_every_response_carries_the_content_security_policy_and_the_old_headers(anon, staff):
    """Pages, error pages, static files and redirects all say: no inline script, nothing from elsewhere,
    not in a frame; the headers the app already sent stay."""
    for client, url in ((anon, "/logga-in"), (anon, "/finns-inte"), (anon, "/static/style.css"), (anon, "/"),
                        (staff, "/"), (staff, "/register/")):
        response = client.get(url)
        assert response.headers["Content-Security-Policy"] == CSP, url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "unsafe-eval" not in response.headers["Content-Security-Policy"]


def test_an_https_public_url_makes_cookies_secure_and_sends_hsts(configured):
    """With PUBLIC_URL on https the session and remember-me cookies are Secure and HSTS is sent; on http
    neither (a laptop on http://127.0.0.1 must still be able to log in); SECURE_COOKIES overrides."""
    def login(app):
        client = Client(app, None)
        token = client._token()
        return client.http.post("/logga-in", data={"email": USERS["staff"], "password": "korrekt-häst-batteri",
                                                   "remember": "y", "csrf_token": token})

    response = login(configured(PUBLIC_URL="https://samordnaren.example.se"))
    assert response.status_code == 302
    cookies = set_cookies(response)
    assert "; Secure" in cookies["session"] and "; Secure" in cookies["remember_token"]
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"

    response = login(configured(PUBLIC_URL="http://127.0.0.1:5000"))
    cookies = set_cookies(response)
    assert "Secure" not in cookies["session"] and "Secure" not in cookies["remember_token"]
    assert "Strict-Transport-Security" not in response.headers

    response = login(configured(PUBLIC_URL="https://samordnaren.example.se", SECURE_COOKIES="0"))
    assert "Secure" not in set_cookies(response)["session"]
    response = login(configured(SECURE_COOKIES="1"))
    assert "; Secure" in set_cookies(response)["session"]


def test_links_built_behind_a_tls_proxy_are_https_only_when_the_proxy_is_trusted(configured):
    """A feed's address shown to staff comes out https://<the public host>/… when the app trusts one proxy
    that says so; without TRUSTED_PROXIES the same headers from a client are ignored."""
    # What the proxy adds; a browser on https also sends its same-origin Referer, which CSRF checks on https.
    proxy = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "samordnaren.example.se",
             "HTTP_X_FORWARDED_FOR": "192.0.2.7", "REMOTE_ADDR": "127.0.0.1",
             "HTTP_REFERER": "https://samordnaren.example.se/kalenderflöden"}

    def staff_behind_proxy(app):
        staff = Client(app, None)
        staff.http.environ_base.update(proxy)
        assert staff.login(USERS["staff"]).status_code == 302
        return staff

    staff = staff_behind_proxy(configured(TRUSTED_PROXIES="1"))
    response = staff.post("/kalenderflöden/ny", {"site_id": "kontoret"})
    assert response.status_code == 302, response.get_data(as_text=True)
    html = staff.get("/kalenderflöden").get_data(as_text=True)
    assert re.search(r"https://samordnaren\.example\.se/kalender/[\w-]+\.ics", html), html

    staff = staff_behind_proxy(configured())
    html = staff.get("/kalenderflöden").get_data(as_text=True)
    assert re.search(r"http://localhost/kalender/[\w-]+\.ics", html)
    assert "samordnaren.example.se" not in html


def test_a_host_outside_allowed_hosts_gets_the_apps_own_400_page(configured):
    """ALLOWED_HOSTS lists the names the app answers to; any other Host header gets a 400 in the app's
    layout and language (never a 500), while the listed host, with or without a port, works."""
    app = configured(ALLOWED_HOSTS="samordnaren.example.se, localhost")
    client = app.test_client()
    for host in ("evil.example", "samordnaren.example.se.evil.example", "xn--sdra-5qa.example", "a b"):
        response = client.get("/logga-in", headers={"Host": host})
        assert response.status_code == 400, host
        html = response.get_data(as_text=True)
        assert "Felaktig begäran" in html and "Tjänsten nås inte på den adress som användes" in html
        assert 'class="site-header"' in html and "Content-Security-Policy" in response.headers
    for host in ("samordnaren.example.se", "samordnaren.example.se:8443", "localhost"):
        assert client.get("/logga-in", headers={"Host": host}).status_code == 200, host


def test_every_route_with_a_token_is_redacted_in_a_log_line(app):
    """Built from the app's own routes: each URL that carries a token (plan, plan PDF, plan activity,
    questionnaire, calendar feed), plain or percent-encoded inside ?next=, loses its token in a log line,
    and so does any …token= query value; other paths are left as they are."""
    redact = Redactor(app)
    token_rules = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
    assert {rule.endpoint for rule in token_rules} >= {"plans.kommun_plan", "measurement.kommun_form",
                                                       "invites.feed"}
    with app.test_request_context():
        for rule in token_rules:
            for token in (SIGNED, FEED):
                path = url_for(rule.endpoint, token=token, **{a: 7 for a in rule.arguments if a != "token"})
                line = f'127.0.0.1 - - "GET {path}?x=1 HTTP/1.1" 200 "https://x.se{path}"'
                logged = redact(line)
                assert token not in logged and REDACTED in logged, logged
                assert logged.count(REDACTED) == 2
                encoded = redact("GET /logga-in?next=" + path.replace("/", "%2F"))
                assert token not in encoded, encoded
    assert redact("GET /kalender/abc123def456.ics") == f"GET /kalender/{REDACTED}.ics"
    assert redact("GET /x?csrf_token=abcdef&y=2") == f"GET /x?csrf_token={REDACTED}&y=2"
    assert redact("GET /handlingsplaner/plats/12/plan.pdf") == "GET /handlingsplaner/plats/12/plan.pdf"
    assert redact("GET /matningar/3/resultat") == "GET /matningar/3/resultat"


# --- real servers ---------------------------------------------------------------------------------------

def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_until_up(process: subprocess.Popen, url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"the server did not answer within {seconds} s")


def start(app, tmp_path, *command: str) -> subprocess.Popen:
    """`coordinator COMMAND…` from this checkout, on the test run's database; output (stdout and stderr)
    in one pipe."""
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "COORDINATOR_INSTANCE": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    env.pop("FLASK_APP", None)
    return subprocess.Popen([sys.executable, "-m", "coordinator", *command], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(process: subprocess.Popen) -> str:
    process.terminate()
    try:
        return process.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()[0]


@pytest.mark.parametrize("command", [("serve", "--workers", "2", "--threads", "2"), ("run",)],
                         ids=["serve (gunicorn)", "run (development server)"])
def test_the_servers_serve_the_login_page_and_log_no_secret_token(app, tmp_path, command):
    """`coordinator serve` and `coordinator run` serve the login page; their request log shows the requests
    to a kommun plan, a questionnaire and a calendar feed without the tokens in the URLs."""
    port = free_port()
    process = start(app, tmp_path, *command, "--host", "127.0.0.1", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, base + "/logga-in")
        status, html = fetch(base + "/logga-in")
        assert status == 200 and "Logga in" in html
        for path in (f"/plan/{SIGNED}", f"/plan/{SIGNED}/plan.pdf", f"/matning/{SIGNED}?sida=2",
                     f"/kalender/{FEED}.ics", f"/logga-in?next=%2Fplan%2F{SIGNED}"):
            status, _ = fetch(base + path)
            assert status < 500, path
    finally:
        log = stop(process)
    assert "GET /logga-in HTTP/1.1" in log
    assert f"/kalender/{REDACTED}.ics" in log and f"/matning/{REDACTED}?sida=2" in log, log
    assert SIGNED not in log and FEED not in log, log
    if command[0] == "serve":
        assert "Using worker: gthread" in log and re.search(r'"GET /logga-in HTTP/1.1" 200 \d+', log)


@pytest.fixture
def empty_database(app, tmp_path):
    """A database of the run's kind without the app's tables (as before `coordinator setup`)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        yield str(url.set(database=str(tmp_path / "empty.db")))
        return
    name = f"{url.database}_empty"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.mark.parametrize("command", [("report", "final", "--out", "slutrapport.pdf"),
                                     ("feedback", "examples", "--out", "exempel.pdf"),
                                     ("measurement", "estimate", "1", "--json"),
                                     ("outbox", "send", "--json")],  # on the light app of create_cli_app
                         ids=["report final", "feedback examples", "measurement estimate", "outbox send"])
def test_a_command_on_a_database_not_set_up_says_so_in_words(empty_database, tmp_path, command):
    """Before `coordinator setup` a command says what to do, not a traceback from the database."""
    env = {**os.environ, "DATABASE_URL": empty_database, "COORDINATOR_INSTANCE": str(tmp_path / "instance"),
           "PYTHONPATH": str(ROOT)}
    env.pop("FLASK_APP", None)
    done = subprocess.run([sys.executable, "-m", "coordinator", *command], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == "Databasen är inte förberedd. Kör först: coordinator setup", done.stderr
    assert "Traceback" not in done.stdout + done.stderr and not list(tmp_path.glob("*.pdf"))
