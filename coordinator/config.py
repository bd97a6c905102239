"""Configuration from the environment, with zero-setup defaults for a laptop."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = Path(os.environ.get("COORDINATOR_INSTANCE", PROJECT_ROOT / "instance"))


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{INSTANCE_PATH / 'coordinator.sqlite3'}"
    # Accept the common short forms and use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "SECRET_KEY": secret_key(instance_path),
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
        "LANGUAGES": ("sv", "en"),
        # A CSRF token lives as long as the session: a long form must not expire under the user.
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Mail (invitations through the outbox; `coordinator outbox send` delivers). The password
        # is only ever handed to the SMTP server: never logged, never shown.
        "SMTP_HOST": os.environ.get("SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "25")),
        "SMTP_STARTTLS": os.environ.get("SMTP_STARTTLS", "").strip().lower() in ("1", "true", "yes", "ja", "on"),
        "SMTP_SSL": os.environ.get("SMTP_SSL", "").strip().lower() in ("1", "true", "yes", "ja", "on"),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_TIMEOUT": float(os.environ.get("SMTP_TIMEOUT", "30")),
        # The server takes addresses with å/ä/ö before the @ (SMTPUTF8): only then are they accepted at entry.
        "SMTP_UTF8": os.environ.get("SMTP_UTF8", "").strip().lower() in ("1", "true", "yes", "ja", "on"),
        # Envelope sender (MAIL FROM, where bounces go); the From header is always the organizer.
        "MAIL_FROM": os.environ.get("MAIL_FROM", ""),
        "OUTBOX_MAX_ATTEMPTS": int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "8")),
        "OUTBOX_BACKOFF_SECONDS": int(os.environ.get("OUTBOX_BACKOFF_SECONDS", "60")),  # doubles per attempt
        # The app's address as kommuner reach it, for links in mail sent outside a web request (CLI, cron).
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", ""),
        # Fixes the office's "today" (YYYY-MM-DD) for trying the app at another date; unset: the real day.
        "COORDINATOR_TODAY": os.environ.get("COORDINATOR_TODAY", "") or None,
    }
