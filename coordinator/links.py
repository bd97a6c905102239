"""Signed, expiring, revocable links that open one record without a login (the kommun's links).

A link is a database row with an id, a random `nonce`, `created_at`, `expires_at` and
`revoked_at` (an action plan's PlanLink, a MeasurementRequest). Its token is {"l": id, "n": nonce}
signed with the app's key, timestamped with the row's creation so the URL never changes. Opening
a token checks the signature, the nonce against the row, revocation, the signature's age and
the row's expiry. Each kind of link signs with its own salt: a plan's token never opens a
questionnaire, nor the other way round. Tokens are secrets: never put them in the audit log.
"""
from __future__ import annotations

import hmac
import os
import secrets
from datetime import date, datetime, time, timedelta, timezone
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, url_for
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from .extensions import db
from .timeutil import aware, utcnow  # noqa: F401 (aware: the links' API names it too)

TZ = ZoneInfo("Europe/Stockholm")
ACTIVE, EXPIRED, REVOKED = "aktiv", "utgangen", "aterkallad"
# Where links in mail point when there is no request to take the host from (CLI, cron).
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"


class LinkRow(Protocol):
    id: int
    nonce: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


Row = TypeVar("Row")


def today() -> date:
    return datetime.now(TZ).date()


def new_nonce() -> str:
    return secrets.token_urlsafe(32)


def expires_at_for(last_day: date) -> datetime:
    """A link chosen "valid through" a date works until midnight after it, Swedish time (stored in UTC)."""
    return datetime.combine(last_day + timedelta(days=1), time(0), TZ).astimezone(timezone.utc)


def last_valid_day(link: LinkRow) -> date:
    return (aware(link.expires_at).astimezone(TZ) - timedelta(microseconds=1)).date()


def link_state(link: LinkRow, now: datetime | None = None) -> str:
    if link.revoked_at is not None:
        return REVOKED
    return ACTIVE if aware(link.expires_at) > (now or utcnow()) else EXPIRED


class _FixedTimeSigner(TimestampSigner):
    """Signs with a given timestamp (the link's creation), so a link's URL never changes."""

    def __init__(self, *args, timestamp: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._fixed = timestamp

    def get_timestamp(self) -> int:
        return self._fixed if self._fixed is not None else super().get_timestamp()


def serializer(salt: str, timestamp: int | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt, signer=_FixedTimeSigner,
                                  signer_kwargs={"timestamp": timestamp})


def token_for(link: LinkRow, salt: str) -> str:
    return serializer(salt, int(aware(link.created_at).timestamp())).dumps({"l": link.id, "n": link.nonce})


class LinkRefused(Exception):
    """The token opens nothing: `reason` is "invalid" (tampered or unknown; 404), "expired" or "revoked" (403)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    @property
    def status(self) -> int:
        return 404 if self.reason == "invalid" else 403


def resolve(token: str, salt: str, model: type[Row]) -> Row:
    """The row a token stands for, after checking the signature, its age, the nonce and the row."""
    s = serializer(salt)
    try:
        payload = s.loads(token)
    except BadSignature:
        raise LinkRefused("invalid") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("l"), int) or not isinstance(payload.get("n"), str):
        raise LinkRefused("invalid")
    link = db.session.get(model, payload["l"])
    if link is None or not hmac.compare_digest(link.nonce.encode(), payload["n"].encode()):
        raise LinkRefused("invalid")
    if link.revoked_at is not None:
        raise LinkRefused("revoked")
    max_age = (aware(link.expires_at) - aware(link.created_at)).total_seconds()
    try:
        s.loads(token, max_age=max(0, int(max_age)))
    except SignatureExpired:
        raise LinkRefused("expired") from None
    except BadSignature:
        raise LinkRefused("invalid") from None
    if aware(link.expires_at) <= utcnow():
        raise LinkRefused("expired")
    return link


def private_page(response):
    """Headers for a page opened by a token: it must not leak through Referer, nor stay in a shared cache."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def public_context():
    """A request context at the app's public address (PUBLIC_URL), so code outside a request (CLI, cron) can
    build the links a page or a mail would."""
    base = current_app.config.get("PUBLIC_URL") or os.environ.get("PUBLIC_URL") or DEFAULT_PUBLIC_URL
    return current_app.test_request_context("/", base_url=base)


def external_url(endpoint: str, **values) -> str:
    """An absolute URL for a mail: from the current request's host, else from PUBLIC_URL (CLI, cron)."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with public_context():
        return url_for(endpoint, _external=True, **values)
