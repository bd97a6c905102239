"""The application foundation: login, roles, CSRF, audit log, migrations, CLI."""
from sqlalchemy import select

from coordinator.audit import AuditEvent
from coordinator.extensions import db

from .conftest import PASSWORD, USERS, Client


def test_every_page_but_login_requires_a_login(anon):
    for url in ["/", "/register/", "/urval/", "/urval/protokoll", "/anvandare/", "/logg/"]:
        response = anon.get(url)
        assert response.status_code == 302, url
        assert "/logga-in" in response.headers["Location"]
    assert anon.get("/logga-in").status_code == 200


def test_login_with_wrong_password_is_refused_in_swedish_and_logged(app, anon):
    response = anon.login(USERS["staff"], "fel-lösenord-här")
    assert response.status_code == 200
    assert "Fel e-postadress eller lösenord." in response.get_data(as_text=True)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))
        assert event.actor == USERS["staff"]
        assert "fel-lösenord" not in str(event.details)


def test_account_locks_after_ten_failed_logins(app, anon):
    for _ in range(10):
        anon.login(USERS["staff"], "fel-lösenord-här")
    response = anon.login(USERS["staff"], PASSWORD)
    assert "tillfälligt låst" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(staff):
    response = staff.post("/logga-ut", csrf=False)
    assert response.status_code == 400
    assert staff.get("/").status_code == 200  # still logged in


def test_reader_cannot_reach_staff_pages(reader):
    assert reader.get("/register/").status_code == 403
    assert reader.get("/urval/").status_code == 403
    assert reader.get("/anvandare/").status_code == 403
    assert reader.get("/urval/protokoll").status_code == 200


def test_staff_cannot_administer_users(staff):
    assert staff.get("/anvandare/").status_code == 403
    assert staff.post("/anvandare/ny", {"email": "x@y.se", "name": "X", "role": "admin",
                                         "password": "abcdefghijkl"}).status_code == 403


def test_admin_creates_a_user_who_can_log_in_and_it_is_audited(app, admin):
    response = admin.post("/anvandare/ny", {"email": "Ny@Test.se", "name": "Ny Person", "role": "staff",
                                             "active": "y", "password": "ett-långt-lösen"})
    assert response.status_code == 302
    assert Client(app, "ny@test.se").login("ny@test.se", "ett-långt-lösen").status_code == 302
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.user_created"))
        assert event.actor == USERS["admin"]
        assert "ett-långt-lösen" not in str(event.details)


def test_short_password_keeps_what_was_typed_and_names_the_problem(admin):
    response = admin.post("/anvandare/ny", {"email": "ny@test.se", "name": "Ny Person", "role": "staff",
                                             "password": "kort"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Lösenordet ska ha minst 10 tecken." in html
    assert 'value="Ny Person"' in html and 'value="ny@test.se"' in html


def test_english_is_available(staff):
    staff.get("/sprak/en")
    html = staff.get("/").get_data(as_text=True)
    assert 'lang="en"' in html
    assert "Log out" in html


def test_migrations_match_the_models(app):
    """A model change without a migration would break `coordinator db upgrade` users."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def include_object(obj, name, type_, reflected, compare_to):
        # Full-text search objects are written by hand in migration 0003 (as in migrations/env.py).
        return not (name or "").startswith(("passage_fts", "ix_passage_fts"))

    with app.app_context():
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": include_object})
            diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_error_pages_use_the_layout_and_speak_swedish(staff, reader):
    response = staff.get("/urval/999999")
    assert response.status_code == 404
    assert "Sidan finns inte" in response.get_data(as_text=True)
    response = reader.get("/register/")
    assert response.status_code == 403
    assert "Ingen behörighet" in response.get_data(as_text=True)


def test_every_ui_string_has_an_english_translation_with_the_same_placeholders(tmp_path):
    """Swedish is the source language; a string added without its English form fails here."""
    import re as _re
    from pathlib import Path

    from babel.messages.frontend import CommandLineInterface
    from babel.messages.pofile import read_po

    root = Path(__file__).parent.parent
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(root / "babel.cfg"), "-k", "_l", "-k", "N_",
                                "-o", str(pot), str(root)])
    extracted = read_po(pot.open("rb"))
    english = read_po((root / "coordinator/translations/en/LC_MESSAGES/messages.po").open("rb"))
    placeholders = _re.compile(r"%\(\w+\)[sd]|\{\w+\}")
    missing, mismatched = [], []
    for message in extracted:
        if not message.id:
            continue
        translated = english.get(message.id)
        if translated is None or not translated.string or translated.fuzzy:
            missing.append(message.id)
        elif isinstance(message.id, str) and sorted(placeholders.findall(message.id)) != sorted(
                placeholders.findall(translated.string)):
            mismatched.append(message.id)
    assert not missing, f"{len(missing)} strings lack English: {missing[:5]}"
    assert not mismatched, f"placeholders differ: {mismatched[:5]}"
