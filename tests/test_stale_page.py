"""One app error handler for a stale save that a view does not catch: roll back, say so in words, 409 (never a 500).

The views that catch their service's StaleError themselves (to show the form again beside what is saved now) keep
doing so; this is the net under the others. The routes below are added to a second app on the same database, so
the app the other tests use is left as it is.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from coordinator import create_app
from coordinator.audit import AuditEvent, record
from coordinator.extensions import db
from coordinator.scheduling.models import Assignment
from coordinator.tasks import service as tasks
from coordinator.versions import Stale, check_version


@pytest.fixture
def stale_app(app):
    second = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                         "SERVER_NAME": None})

    @second.route("/prov/gammal-version")
    def refused_by_the_service():
        record("prov.before_refusal")  # in the transaction that the refusal must roll back
        check_version("1", 2, tasks.StaleError)
        return "saved"

    @second.route("/prov/rad-andrad")
    def refused_by_the_database():
        assignment = db.session.scalar(select(Assignment))
        db.session.execute(text("UPDATE assignment SET version = version + 1 WHERE id = :id"), {"id": assignment.id})
        assignment.offer_count = assignment.offer_count + 1
        db.session.flush()  # UPDATE … WHERE version = the old one matches no row: SQLAlchemy's StaleDataError
        return "saved"

    yield second
    with second.app_context():
        db.engine.dispose()


def test_every_service_stale_error_is_a_stale():
    from coordinator.events import service as events
    from coordinator.feedback import service as feedback
    from coordinator.measurement import service as measurement
    from coordinator.plans import service as plans
    from coordinator.reports import avstamningar
    from coordinator.reports import service as reports
    from coordinator.scheduling import offers

    for module in (events, feedback, measurement, plans, avstamningar, reports, offers, tasks):
        assert issubclass(module.StaleError, Stale), module.__name__


def the_409_page(response) -> str:
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Någon annan hann före" in html and "Det du skickade har inte sparats." in html
    return html


def test_a_stale_error_from_a_service_gives_the_409_page_and_changes_nothing(stale_app):
    html = the_409_page(stale_app.test_client().get("/prov/gammal-version"))
    assert "Någon annan har sparat en ändring sedan du öppnade sidan. Det du skickade har inte sparats." in html
    with stale_app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "prov.before_refusal")) is None


def test_a_stale_row_in_the_database_gives_the_409_page_and_changes_nothing(stale_app):
    with stale_app.app_context():
        before = db.session.scalar(select(Assignment))
        version, offers = before.version, before.offer_count
    the_409_page(stale_app.test_client().get("/prov/rad-andrad"))
    with stale_app.app_context():
        after = db.session.scalar(select(Assignment))
        assert (after.version, after.offer_count) == (version, offers)


def test_the_409_page_in_english(stale_app):
    client = stale_app.test_client()
    client.get("/sprak/en")
    response = client.get("/prov/gammal-version")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else got there first" in html
    assert "Someone else has saved a change since you opened the page." in html
