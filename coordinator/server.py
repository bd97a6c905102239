"""Serving the app: `coordinator serve` (gunicorn), and request logs that never show a secret token.

The kommun's plan and questionnaire links and the calendar feeds carry their secret in the URL
(/plan/<token>, /matning/<token>, /kalender/<token>.ics). Whoever reads an access log must not be able
to open them, so every request line logged, by gunicorn or by the development server behind
`./dev start`, has those tokens (and any `…token=` query value) replaced by "[hemlig]".
"""
from __future__ import annotations

import logging
import os
import re

import click
from flask import Flask, has_request_context, request
from flask.cli import with_appcontext

REDACTED = "[hemlig]"
# A path separator as it appears in a request line, plain or percent-encoded (e.g. inside ?next=…).
_SLASH = r"(?:/|%2[Ff])"
# Query values of any parameter whose name ends in "token".
_QUERY_TOKEN = re.compile(r"(?i)([?&;](?:[\w.-]*token)=)[^&;\s\"#]*")


def token_patterns(app: Flask) -> list[re.Pattern]:
    """One pattern per route that takes a `<token>`, built from the app's own URL rules, so that a new link
    route is covered without a list to keep up to date. Group 1 is what stands before the token."""
    patterns = []
    for rule in app.url_map.iter_rules():
        if "token" not in rule.arguments:
            continue
        before, _, after = rule.rule.partition("<token>")
        segment = before.rstrip("/").rsplit("/", 1)[-1]  # "plan", "matning", "kalender"
        lead = re.escape(segment) if "<" not in segment else r"[^/%]+"
        suffix = re.split(r"[/<]", after, maxsplit=1)[0]  # ".ics", or nothing
        token = r"[\w.-]+?(?=" + re.escape(suffix) + ")" if suffix else r"[\w.-]+"
        patterns.append(re.compile(f"({_SLASH}{lead}{_SLASH}){token}"))
    return patterns


class Redactor:
    """Replaces the secret tokens in a log line."""

    def __init__(self, app: Flask):
        self.patterns = token_patterns(app)

    def __call__(self, text: str) -> str:
        for pattern in self.patterns + [_QUERY_TOKEN]:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        # Inside a request the token is also known by value, as it appears in an error's SQL parameters.
        token = (request.view_args or {}).get("token") if has_request_context() else None
        if isinstance(token, str) and len(token) >= 8:
            text = text.replace(token, REDACTED)
        return text


class RedactingFilter(logging.Filter):
    """The message, and the traceback of an error (which names the path and the SQL parameters), with their
    tokens redacted: for the development server's request log and the app's own error log."""

    def __init__(self, redact: Redactor):
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg, record.args = self.redact(record.getMessage()), ()
            if record.exc_info and not record.exc_text:
                record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        except Exception:  # noqa: BLE001  (a record that cannot be formatted is logged as it is)
            pass
        return True


def install_log_redaction(app: Flask) -> None:
    """Redact tokens in werkzeug's request log (`coordinator run`, the tests' live server) and in the app's
    error log. Called by create_app once the routes exist; one filter per logger, however many apps are made."""
    for logger in (logging.getLogger("werkzeug"), app.logger):
        for existing in logger.filters:
            if isinstance(existing, RedactingFilter):
                existing.redact = Redactor(app)
                break
        else:
            logger.addFilter(RedactingFilter(Redactor(app)))


def default_workers() -> int:
    """gunicorn's advice, (2 × CPUs) + 1, capped: each worker holds the whole app in memory."""
    return min(2 * (os.cpu_count() or 1) + 1, 12)


@click.command("serve", help="Kör appen med en produktionsserver (gunicorn) bakom en proxy med HTTPS.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Adress att lyssna på.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port att lyssna på.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Antal processer (standard: 2 × antalet processorkärnor + 1, högst 12).")
@click.option("--threads", type=click.IntRange(min=1), default=4, show_default=True, help="Trådar per process.")
@click.option("--timeout", type=click.IntRange(min=1), default=120, show_default=True,
              help="Sekunder innan en process som inte svarar startas om (PDF:er och planeringen tar tid).")
@with_appcontext
def serve(host: str, port: int, workers: int | None, threads: int, timeout: int) -> None:
    from gunicorn.app.base import BaseApplication
    from gunicorn.glogging import Logger

    from flask import current_app

    from . import create_app

    class AccessLogger(Logger):
        """gunicorn's logger, with the secret tokens of every access-log field redacted."""

        redact: Redactor | None = None

        def atoms(self, resp, req, environ, request_time):
            atoms = super().atoms(resp, req, environ, request_time)
            if self.redact is not None:
                for key, value in list(atoms.items()):
                    if isinstance(value, str):
                        atoms[key] = self.redact(value)
            return atoms

    # This process's app has made instance/ and its secret key, so the workers all read the same one.
    AccessLogger.redact = Redactor(current_app)

    class Server(BaseApplication):
        def load_config(self):
            settings = {
                "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                "workers": workers or default_workers(),
                "worker_class": "gthread",
                "threads": threads,
                "timeout": timeout,
                "accesslog": "-",
                "errorlog": "-",
                "logger_class": AccessLogger,
                # Scheme and client address come from ProxyFix, as configured by TRUSTED_PROXIES, never from
                # gunicorn's own reading of X-Forwarded-*.
                "secure_scheme_headers": {},
                "forwarded_allow_ips": "",
                "proc_name": "coordinator",
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            return create_app()  # one app per worker, made after the fork

    Server().run()
