"""Sessions that end and a login that resists guessing (issue 11).

A copied session or remember-me cookie stops working on logout, on a new password and on deactivation;
the remember-me cookie is HttpOnly, SameSite=Lax and lasts REMEMBER_DAYS; failed logins are throttled per
client and per account; a stranger cannot lock the real user out; unknown e-mails answer as slowly as
known ones.
"""
from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from sqlalchemy import select

from coordinator.auth.models import User
from coordinator.extensions import db

from .conftest import PASSWORD, USERS, Client

NEW_PASSWORD = "ett-helt-nytt-lösenord"
LOGIN_PAGE = "/logga-in"


def _client_from(app, ip: str, email: str | None = None) -> Client:
    """A browser at client address `ip` (logged in as `email` if given)."""
    client = Client(app, None)
    client.http.environ_base["REMOTE_ADDR"] = ip
    if email:
        assert client.login(email).status_code == 302
    return client


def _with_only(app, **cookies):
    """A fresh browser that carries nothing but the given cookies, as a thief with a copied cookie would."""
    http = app.test_client()
    for name, value in cookies.items():
        http.set_cookie(name, value)
    return http


def _opens_visits(http) -> bool:
    response = http.get("/besok/")
    if response.status_code == 302:
        assert LOGIN_PAGE in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def _user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def _restore_password(app, email: str) -> None:
    # The test users live through the whole run: give back the password the other tests log in with.
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        user.set_password(PASSWORD)
        db.session.commit()


def _login_with_remember(app) -> str:
    """Log staff in with "Kom ihåg mig"; the remember-me cookie's value."""
    client = Client(app, None)
    response = client.http.post(LOGIN_PAGE, data={"email": USERS["staff"], "password": PASSWORD,
                                                  "remember": "y", "csrf_token": client._token()})
    assert response.status_code == 302
    return client.http.get_cookie("remember_token").value


# --- sessions end ---------------------------------------------------------------------------

def test_a_session_cookie_saved_before_logout_is_refused_afterwards_on_every_device(app, staff):
    saved = staff.http.get_cookie("session").value
    other_device = _client_from(app, "10.1.0.2", USERS["staff"])
    assert _opens_visits(_with_only(app, session=saved))

    assert staff.post("/logga-ut").status_code == 302

    assert not _opens_visits(_with_only(app, session=saved))
    assert not _opens_visits(other_device.http)  # logout ends the other devices' sessions too
    assert not _opens_visits(staff.http)


def test_a_session_cookie_saved_before_a_password_change_is_refused_but_this_browser_stays_in(app, staff):
    saved = staff.http.get_cookie("session").value
    try:
        response = staff.post("/konto/losenord", {"current": PASSWORD, "password": NEW_PASSWORD,
                                                   "confirm": NEW_PASSWORD}, follow_redirects=True)
        assert "Du är utloggad på alla andra enheter." in response.get_data(as_text=True)
        assert not _opens_visits(_with_only(app, session=saved))
        assert _opens_visits(staff.http)  # the browser that changed it is still logged in
    finally:
        _restore_password(app, USERS["staff"])


def test_the_account_page_says_that_a_new_password_logs_out_every_device(staff):
    html = staff.get("/konto/").get_data(as_text=True)
    assert "När du byter lösenord loggas du ut på alla andra enheter" in html
    assert "på alla enheter på en gång" in html


def test_an_admin_resetting_a_password_ends_the_persons_sessions(app, admin, staff):
    saved = staff.http.get_cookie("session").value
    staff_id = _user_id(app, USERS["staff"])
    try:
        response = admin.post(f"/anvandare/{staff_id}", {"email": USERS["staff"], "name": "Test staff",
                                                         "role": "staff", "active": "y",
                                                         "password": NEW_PASSWORD})
        assert response.status_code == 302
        assert not _opens_visits(_with_only(app, session=saved))
        assert _opens_visits(admin.http)  # the admin's own session is untouched
    finally:
        _restore_password(app, USERS["staff"])


def test_a_session_cookie_saved_before_deactivation_is_refused_even_after_reactivation(app, admin, staff):
    saved = staff.http.get_cookie("session").value
    staff_id = _user_id(app, USERS["staff"])
    fields = {"email": USERS["staff"], "name": "Test staff", "role": "staff"}
    assert admin.post(f"/anvandare/{staff_id}", fields).status_code == 302  # "active" unticked
    assert not _opens_visits(_with_only(app, session=saved))
    assert not _opens_visits(staff.http)

    assert admin.post(f"/anvandare/{staff_id}", {**fields, "active": "y"}).status_code == 302
    assert not _opens_visits(_with_only(app, session=saved))  # an old cookie does not come back to life
    assert _client_from(app, "10.1.0.3", USERS["staff"])  # logging in again works


def test_an_admin_changing_their_own_password_stays_logged_in(app, admin):
    admin_id = _user_id(app, USERS["admin"])
    try:
        response = admin.post(f"/anvandare/{admin_id}", {"email": USERS["admin"], "name": "Test admin",
                                                         "role": "admin", "active": "y",
                                                         "password": NEW_PASSWORD})
        assert response.status_code == 302
        assert _opens_visits(admin.http)
    finally:
        _restore_password(app, USERS["admin"])


def test_the_remember_me_cookie_alone_logs_in_until_logout(app, staff):
    remembered = _login_with_remember(app)
    assert _opens_visits(_with_only(app, remember_token=remembered))  # no session cookie needed

    staff.post("/logga-ut")  # logging out anywhere ends every device, remember-me included

    assert not _opens_visits(_with_only(app, remember_token=remembered))


def test_the_remember_me_cookie_dies_with_a_password_change(app, staff):
    remembered = _login_with_remember(app)
    try:
        staff.post("/konto/losenord", {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert not _opens_visits(_with_only(app, remember_token=remembered))
    finally:
        _restore_password(app, USERS["staff"])


def test_the_remember_me_cookie_dies_with_deactivation(app, admin):
    remembered = _login_with_remember(app)
    staff_id = _user_id(app, USERS["staff"])
    admin.post(f"/anvandare/{staff_id}", {"email": USERS["staff"], "name": "Test staff", "role": "staff"})
    assert not _opens_visits(_with_only(app, remember_token=remembered))


def test_the_remember_me_cookie_is_httponly_samesite_lax_and_lasts_fourteen_days(app):
    client = Client(app, None)
    response = client.http.post(LOGIN_PAGE, data={"email": USERS["staff"], "password": PASSWORD,
                                                  "remember": "y", "csrf_token": client._token()})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    attributes = {part.split("=", 1)[0].strip().lower(): part.split("=", 1)[-1].strip()
                  for part in cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"
    expires = parsedate_to_datetime(attributes["expires"])
    assert abs(expires - (datetime.now(timezone.utc) + timedelta(days=14))) < timedelta(minutes=5)


def test_the_remember_me_lifetime_is_a_setting(monkeypatch, tmp_path):
    from coordinator.config import from_environment

    monkeypatch.setenv("REMEMBER_DAYS", "3")
    assert from_environment(tmp_path)["REMEMBER_COOKIE_DURATION"] == timedelta(days=3)


# --- throttle and lock ----------------------------------------------------------------------

def _fail(client: Client, email: str):
    return client.login(email, "fel-lösenord-här")


def test_failed_logins_from_one_client_are_throttled_with_a_swedish_message(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_CLIENT", "3 per minute")
    guesser = _client_from(app, "10.2.0.1")
    for email in ("a@test.se", "b@test.se", "c@test.se"):
        assert _fail(guesser, email).status_code == 200

    response = guesser.login(USERS["staff"])  # even the right password waits now
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "För många misslyckade inloggningsförsök. Vänta en minut och försök sedan igen." in html
    assert 'name="password"' in html and "<footer" in html  # the login page, in the app's layout
    assert int(response.headers["Retry-After"]) <= 60

    assert _client_from(app, "10.2.0.2").login(USERS["staff"]).status_code == 302  # another client is free


def test_failed_logins_on_one_account_are_throttled_whichever_client_tries(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per minute")
    for n in range(3):
        assert _fail(_client_from(app, f"10.3.0.{n}"), USERS["staff"]).status_code == 200
    assert _fail(_client_from(app, "10.3.0.9"), USERS["staff"]).status_code == 429
    assert _client_from(app, "10.3.0.9").login(USERS["admin"]).status_code == 302  # other accounts are free


def test_successful_logins_cost_nothing_against_the_throttle(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_CLIENT", "2 per minute")
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "2 per minute")
    for _ in range(4):
        assert _client_from(app, "10.4.0.1").login(USERS["reader"]).status_code == 302


def test_a_strangers_failures_lock_only_the_stranger_not_the_real_user(app):
    stranger = _client_from(app, "10.5.0.66")
    for _ in range(10):
        assert _fail(stranger, USERS["staff"]).status_code == 200
    locked = stranger.login(USERS["staff"])  # the right password, from the stranger's address
    assert locked.status_code == 200
    assert "Kontot är tillfälligt låst" in locked.get_data(as_text=True)

    assert _client_from(app, "10.5.0.7").login(USERS["staff"]).status_code == 302  # the real user, elsewhere


def test_an_unknown_email_locks_exactly_like_a_known_one(app):
    stranger = _client_from(app, "10.6.0.66")
    for _ in range(10):
        _fail(stranger, "finns-inte@test.se")
    assert "Kontot är tillfälligt låst" in _fail(stranger, "finns-inte@test.se").get_data(as_text=True)


# --- equal time -----------------------------------------------------------------------------

def _median_seconds(app, emails: dict[str, str], rounds: int = 7) -> dict[str, float]:
    """The median time of a failed login per e-mail, from its own address ({ip: email}). The e-mails take turns
    round by round, so a moment when the machine is busy slows them all alike, not just the one measured then."""
    clients = {ip: _client_from(app, ip) for ip in emails}
    tokens = {ip: client._token() for ip, client in clients.items()}
    times: dict[str, list[float]] = {email: [] for email in emails.values()}
    for _ in range(rounds):
        for ip, email in emails.items():
            start = time.perf_counter()
            response = clients[ip].http.post(LOGIN_PAGE, data={"email": email, "password": "fel-lösenord-här",
                                                                "csrf_token": tokens[ip]})
            times[email].append(time.perf_counter() - start)
            assert response.status_code == 200
    return {email: statistics.median(t) for email, t in times.items()}


def test_unknown_and_inactive_accounts_answer_as_slowly_as_known_ones(app):
    """Before: 427 ms for a known e-mail and 25 ms for an unknown one, so accounts could be listed."""
    with app.app_context():
        user = User(email="slutat@test.se", name="Slutat", role="staff", active=False)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    _median_seconds(app, {"10.7.0.9": "varm@test.se"}, rounds=1)  # warm up
    median = _median_seconds(app, {"10.7.0.1": USERS["staff"], "10.7.0.2": "finns-inte@test.se",
                                   "10.7.0.3": "slutat@test.se"})
    known, unknown, inactive = median[USERS["staff"]], median["finns-inte@test.se"], median["slutat@test.se"]
    assert unknown >= 0.5 * known, (known, unknown)
    assert inactive >= 0.5 * known, (known, inactive)


def test_an_admin_cannot_take_away_their_own_admin_role_or_deactivate_themselves(app, admin):
    """The guard compares the account, not the object: an admin's own form that drops the role or the
    active tick is refused with a message, and the account stays an active admin."""
    with app.app_context():
        own_id = db.session.scalar(select(User.id).where(User.email == USERS["admin"]))
    for change in ({"role": "staff", "active": "y"}, {"role": "admin"}):
        response = admin.post(f"/anvandare/{own_id}", data={"email": USERS["admin"], "name": "Test admin", **change})
        assert response.status_code == 200
        assert "Du kan inte ta bort din egen administratörsbehörighet." in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, own_id)
        assert (user.role, user.active) == ("admin", True)
