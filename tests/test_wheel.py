"""The installable package: a wheel built from a clean checkout of the committed code (`git clone` of HEAD),
installed with its dependencies into a fresh virtual environment outside the checkout, sets up a
database and serves every kind of file: pages (templates), CSS (static), English (compiled catalogs), PDFs
(fonts) and the kommun registry (reference data, migrations).

Slow (a minute or two; pip's cache makes the dependencies quick after the first run): marked `wheel`.
"""
from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest

from .helpers import free_port
from .test_deploy import stop, wait_until_up

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parent.parent


def run(*command, **kw) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, **kw)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_a_wheel_from_a_clean_checkout_installs_and_serves_pages_and_a_pdf(tmp_path):
    """Build → fresh venv → `coordinator setup` → `coordinator serve`, all outside the checkout: the login
    page in Swedish with its stylesheet, the admin printed by setup logs in, the English page comes from
    the compiled catalog, and the quarterly report's draft is a PDF."""
    checkout = tmp_path / "checkout"
    run("git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(checkout))
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path / "dist"),
        str(checkout))
    wheel = next((tmp_path / "dist").glob("coordinator-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for expected in ("coordinator/templates/base.html", "coordinator/templates/auth/login.html",
                     "coordinator/static/style.css", "coordinator/static/notes.js",
                     "coordinator/translations/en/LC_MESSAGES/messages.mo", "coordinator/fonts/DejaVuSans.ttf",
                     "coordinator/registry/data/kommuner.csv", "coordinator/migrations/env.py",
                     "coordinator/migrations/versions/0001_initial.py"):
        assert expected in names, expected
    shutil.rmtree(checkout)  # nothing of the source tree is left to lean on

    # A fresh environment from the interpreter the project venv was made from (not the venv itself, whose
    # editable install it must not see), with the wheel's dependencies installed by pip.
    venv = tmp_path / "venv"
    run(getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv))
    run(str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "PYTHONPATH", "FLASK_APP")}
    env.update(COORDINATOR_INSTANCE=str(tmp_path / "instance"), PYTHONUNBUFFERED="1")
    where = run(str(venv / "bin" / "python"), "-c", "import coordinator; print(coordinator.__file__)",
                cwd=elsewhere, env=env)
    assert where.startswith(str(venv)), where

    coordinator = str(venv / "bin" / "coordinator")
    output = run(coordinator, "setup", cwd=elsewhere, env=env)
    assert "290 kommuner" in output, output
    email = re.search(r"e-post:\s+(\S+)", output).group(1)
    password = re.search(r"lösenord:\s+(\S+)", output).group(1)

    port = free_port()
    server = subprocess.Popen([coordinator, "serve", "--port", str(port), "--workers", "1"], cwd=elsewhere,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(server, base + "/logga-in")
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

        login = browser.open(base + "/logga-in").read().decode()
        assert "<title>Logga in – Samordnaren</title>" in login
        css = browser.open(base + "/static/style.css")
        assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
        form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token}).encode()
        start = browser.open(base + "/logga-in", data=form)
        assert start.url == base + "/", start.url  # logged in: the start page, not the form again

        registry = browser.open(base + "/register/").read().decode()
        assert "Stockholm" in registry and "Kiruna" in registry
        browser.open(base + "/sprak/en?next=/rapporter/")
        reports = browser.open(base + "/rapporter/").read().decode()
        assert "<title>Reports – Coordinator</title>" in reports
        period = re.search(r'href="/rapporter/(\d{4}Q\d)/"', reports).group(1)
        pdf = browser.open(f"{base}/rapporter/{period}/utkast.pdf")
        assert pdf.headers["Content-Type"] == "application/pdf"
        assert pdf.read().startswith(b"%PDF-")
    finally:
        log = stop(server)
    assert "Using worker: gthread" in log, log
