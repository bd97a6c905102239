"""Configuration from the environment, with zero-setup defaults for a laptop."""
from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
# In the source tree templates/ and static/ sit beside the package; a built wheel carries them inside it
# (coordinator/templates, coordinator/static: see setup.py).
INSTALLED = (PACKAGE_DIR / "templates").is_dir()
RESOURCE_ROOT = PACKAGE_DIR if INSTALLED else PROJECT_ROOT
# Local data: instance/ in the checkout; for an installed package, Flask's convention under the environment.
INSTANCE_PATH = Path(os.environ.get("COORDINATOR_INSTANCE")
                     or (Path(sys.prefix) / "var" / "coordinator-instance" if INSTALLED else PROJECT_ROOT / "instance"))

TRUE_WORDS = ("1", "true", "yes", "ja", "on")
FALSE_WORDS = ("0", "false", "no", "nej", "off")


def flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    return default


def allowed_hosts() -> list[str] | None:
    """ALLOWED_HOSTS (comma-separated; ".example.se" also allows its subdomains); unset: any host."""
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    return hosts or None


def content_security_policy() -> str:
    """No inline script anywhere (the pages' JavaScript is in static/); inline style only because the charts'
    SVG carries style attributes."""
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
        "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
    ])


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
        from .database import write_private
        write_private(path, secrets.token_urlsafe(48).encode())
    return path.read_text().strip()


def secret_key_source(instance_path: Path) -> str:
    """Where the key comes from: "environment", the instance's "file", or "new" (a file about to be made)."""
    if os.environ.get("SECRET_KEY"):
        return "environment"
    return "file" if (instance_path / "secret_key").exists() else "new"


def from_environment(instance_path: Path) -> dict:
    public_url = os.environ.get("PUBLIC_URL", "")
    https = urlsplit(public_url).scheme == "https"
    secure_cookies = flag("SECURE_COOKIES", default=https)
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(),
        # The source first: reading the key makes the file. A restore needs to know which it is.
        "SECRET_KEY_SOURCE": secret_key_source(instance_path),
        "SECRET_KEY": secret_key(instance_path),
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
        "LANGUAGES": ("sv", "en"),
        # A CSRF token lives as long as the session: a long form must not expire under the user.
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # "Kom ihåg mig" lasts REMEMBER_DAYS; logout, a new password or deactivation ends it earlier.
        "REMEMBER_COOKIE_DURATION": timedelta(days=int(os.environ.get("REMEMBER_DAYS", "14"))),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Failed logins (Flask-Limiter notation): per client address, and per typed e-mail from anywhere.
        "LOGIN_LIMIT_PER_CLIENT": os.environ.get("LOGIN_LIMIT_PER_CLIENT", "20 per 10 minutes"),
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "30 per hour"),
        # That many failures in a row for one e-mail from one client lock that pair for LOGIN_LOCK_MINUTES.
        "LOGIN_LOCK_AFTER": int(os.environ.get("LOGIN_LOCK_AFTER", "10")),
        "LOGIN_LOCK_MINUTES": int(os.environ.get("LOGIN_LOCK_MINUTES", "15")),
        # A national (weighted) figure resting on fewer answers than this is not shown: "too few answers".
        "ESTIMATE_MIN_BASE": int(os.environ.get("ESTIMATE_MIN_BASE", "5")),
        # Where the counts live: memory (one process) by default; e.g. redis://… shared by several workers.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_HEADERS_ENABLED": True,
        # HTTPS hardening: on by themselves when PUBLIC_URL is https.
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "HSTS_MAX_AGE": int(os.environ.get("HSTS_MAX_AGE", "31536000")) if https else 0,
        "CONTENT_SECURITY_POLICY": content_security_policy(),
        # Behind a reverse proxy: how many proxies to believe in X-Forwarded-For/-Proto/-Host/-Prefix (0: none).
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "TRUSTED_HOSTS": allowed_hosts(),
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Seconds a SQLite connection waits for another's write to finish before giving up.
        "SQLITE_BUSY_TIMEOUT": float(os.environ.get("SQLITE_BUSY_TIMEOUT", "10")),
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
        "PUBLIC_URL": public_url,
        # Fixes the office's "today" (YYYY-MM-DD) for trying the app at another date; unset: the real day.
        "COORDINATOR_TODAY": os.environ.get("COORDINATOR_TODAY", "") or None,
    }
