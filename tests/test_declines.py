"""Declines: the preview says what a decline will do before anything is saved, and a decline
registered by mistake can be undone while its replacement has not been invited.

Real parts throughout: the adopted sample is drawn by the design, the visits and the outbox are the
real services, and every test runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from coordinator.audit import AuditEvent
from coordinator.contacts.models import Contact
from coordinator.dialogue import notes
from coordinator.extensions import db
from coordinator.measurement import service as measurement
from coordinator.measurement.models import Questionnaire
from coordinator.outbox.models import PENDING, SENT, OutboxMessage
from coordinator.registry.models import Kommun
from coordinator.sampling import service as sampling
from coordinator.sampling.models import Decline, Sample, Site
from coordinator.scheduling import declines, service
from coordinator.scheduling.models import FORSLAG, INBJUDEN, INSTALLD, Visit

from .helpers import adopt_sample
from .test_measurement import make_questionnaire

TODAY = "2015-02-01"


@pytest.fixture
def sample_id(app):
    """An adopted sample (2014, seed 7) with its visits made, and the office's today fixed."""
    saved = app.config.get("COORDINATOR_TODAY")
    app.config["COORDINATOR_TODAY"] = TODAY
    sample_id = adopt_sample(app)
    with app.app_context():
        service.ensure_visits()
        db.session.commit()
    yield sample_id
    app.config["COORDINATOR_TODAY"] = saved


def a_site(sample: Sample) -> Site:
    """A group-1 kommun that shares its län with another sampled kommun: it has a replacement."""
    per_lan: dict[str, int] = {}
    for s in sample.active_sites:
        per_lan[s.kommun.lanskod] = per_lan.get(s.kommun.lanskod, 0) + 1
    return next(s for s in sample.active_sites if s.grupp == 1 and not s.enhet and per_lan[s.kommun.lanskod] > 1)


def visit_of(site_id: int, round_: int) -> Visit:
    return db.session.scalar(select(Visit).where(Visit.site_id == site_id, Visit.round == round_))


def invite(site: Site, round_: int, day: date, people: int = 2) -> Visit:
    """Contacts for the site and an invitation of its visit in `round_` on `day` (queued in the outbox)."""
    for i in range(people):
        db.session.add(Contact(site=site, role="socialchef", name=f"Kontakt {i} {site.kommun.namn}",
                               email=f"k{i}.{site.kommunkod}@kommun.example.se"))
    db.session.flush()
    visit = visit_of(site.id, round_)
    visit.date = day
    service.invite(visit)
    return visit


def counts() -> dict[str, int]:
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Decline, Site, Visit, OutboxMessage, AuditEvent)}


def decline(sample: Sample, site: Site, reason: str = "Fel kommun registrerad") -> Decline:
    d = declines.register(sample, site, date(2015, 1, 20), reason)
    db.session.commit()
    return d


# --------------------------------------------------------------------------- the preview (a dry run)

def test_the_preview_names_the_replacement_the_decline_brings_in_and_saves_nothing(app, sample_id):
    with app.app_context():
        sample = db.session.get(Sample, sample_id)
        site = a_site(sample)
        invite(site, 1, date(2015, 3, 10), people=3)
        db.session.commit()
        before = counts()
        preview = declines.preview(sample, site)
        # What it will do: the reserve that keeps every rule, the two visits cancelled, one with mail to 3.
        assert preview.replacement is not None and preview.replacement[0] != site.kommunkod
        assert preview.replacement_label == db.session.get(Kommun, preview.replacement[0]).namn
        assert [v.round for v in preview.cancelled] == [1, 2]
        assert preview.mailed_to(preview.cancelled[0]) == 3 and preview.mailed_to(preview.cancelled[1]) == 0
        assert preview.recipients == 3 and preview.replacement_visits == 2
        # Nothing written, nothing pending in the session.
        assert not db.session.new and not db.session.dirty and not db.session.deleted
        db.session.commit()
        assert counts() == before and db.session.get(Site, site.id).active
        # The decline itself brings in exactly the reserve the preview named.
        d = decline(sample, site)
        assert (d.replacement.kommunkod, d.replacement.enhet or None) == preview.replacement
        assert visit_of(site.id, 1).status == INSTALLD
        assert [m.kind for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))] == \
            ["request", "cancel"]


def test_the_preview_says_when_no_reserve_keeps_the_rules(app, sample_id):
    with app.app_context():
        sample = db.session.get(Sample, sample_id)
        gotland = next(s for s in sample.active_sites if s.kommunkod == "0980")  # its län's only kommun
        preview = declines.preview(sample, gotland)
        assert preview.replacement is None and preview.replacement_label is None
        assert preview.replacement_visits == 0 and preview.replacement_key == ""


def test_a_decline_shown_for_one_reserve_is_refused_if_the_sample_changed_since(app, sample_id):
    with app.app_context():
        sample = db.session.get(Sample, sample_id)
        site = a_site(sample)
        with pytest.raises(declines.DeclineError, match="en annan reserv"):
            declines.register(sample, site, date(2015, 1, 20), "Skäl", expected_replacement="9999:")
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Decline)) == 0


# --------------------------------------------------------------------------- undo

def test_undo_brings_the_site_and_its_visits_back_and_removes_the_uninvited_replacement(app, sample_id):
    with app.app_context():
        sample = db.session.get(Sample, sample_id)
        site = a_site(sample)
        site_id = site.id
        invited = invite(site, 1, date(2015, 3, 10))
        visit_of(site_id, 2).date = date(2015, 1, 5)  # a proposal whose day has passed by "today"
        db.session.commit()
        d = decline(sample, site)
        replacement_id, decline_id = d.replacement_site_id, d.id
        replacement_visits = [v.id for v in db.session.scalars(select(Visit).where(Visit.site_id == replacement_id))]
        assert len(replacement_visits) == 2

        plan = declines.undo_plan(d)
        assert plan.possible, plan.problems
        assert [(v.round, day) for v, day in plan.restored] == [(1, date(2015, 3, 10)), (2, None)]
        assert [v.id for v in plan.removed] == replacement_visits
        assert [m.kind for m in plan.withdrawn] == ["cancel"] and plan.already_told == []
        declines.undo(d)
        db.session.commit()

        d = db.session.get(Decline, decline_id)
        assert d.undone_at is not None and db.session.get(Site, site_id).active
        assert not db.session.get(Site, replacement_id).active  # kept for the protocol, out of the sample
        assert len(sample.active_sites) == 50
        first, second = visit_of(site_id, 1), visit_of(site_id, 2)
        assert (first.status, first.date, first.id) == (FORSLAG, date(2015, 3, 10), invited.id)
        assert (second.status, second.date) == (FORSLAG, None)
        assert not db.session.scalars(select(Visit).where(Visit.site_id == replacement_id)).all()
        # The cancellation that had not left the outbox is withdrawn; the invitation's record stays.
        assert [(m.kind, m.status) for m in db.session.scalars(select(OutboxMessage))] == [("request", PENDING)]
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sample.decline_undone"))
        assert event.site_id == site_id and event.details["site_id"] == site_id
        assert event.details["replacement_site_id"] == replacement_id
        assert (event.details["visits_restored"], event.details["visits_removed"],
                event.details["mails_withdrawn"]) == (2, 2, 1)
        # The protocol keeps the decline, marked as undone, and the replacement as one taken out again.
        ctx = sampling.protocol_context(sample)
        assert [x.id for x in ctx["declines"]] == [decline_id]
        assert {row["site"].id: row["state"] for row in ctx["sites"]}[replacement_id] == sampling.TILLBAKA


def test_a_cancellation_already_sent_is_said_and_the_visit_still_comes_back(app, sample_id):
    with app.app_context():
        sample = db.session.get(Sample, sample_id)
        site = a_site(sample)
        invite(site, 1, date(2015, 3, 10))
        db.session.commit()
        d = decline(sample, site)
        for m in db.session.scalars(select(OutboxMessage)):
            m.status = SENT
        db.session.commit()
        plan = declines.undo_plan(d)
        assert plan.possible and plan.withdrawn == [] and [v.round for v in plan.already_told] == [1]
        declines.undo(d)
        db.session.commit()
        assert visit_of(site.id, 1).status == FORSLAG
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2  # nothing unsent removed


def test_an_undone_replacement_is_not_a_declined_site_and_is_brought_in_again(app, sample_id):
    with app.app_context():
        sample = db.session.get(Sample, sample_id)
        site = a_site(sample)
        first = decline(sample, site)
        replacement = first.replacement
        declines.undo(first)
        db.session.commit()
        assert replacement not in sampling.declined_sites(sample) and site not in sampling.declined_sites(sample)
        # The same site declines for real: the same reserve comes in, in its old row, with new visits.
        again = decline(sample, db.session.get(Site, site.id), "Kommunen avböjer")
        assert again.replacement_site_id == replacement.id and replacement.active
        assert replacement.replaces_id == site.id
        assert sorted(v.status for v in db.session.scalars(select(Visit).where(Visit.site_id == replacement.id))) \
            == [FORSLAG, FORSLAG]
        assert db.session.scalar(select(func.count()).select_from(Decline)) == 2
        assert [x.undone_at is None for x in sampling.declines(sample)] == [False, True]


def test_undo_is_refused_in_words_once_the_replacement_is_invited(app, sample_id):
    with app.app_context():
        sample = db.session.get(Sample, sample_id)
        site = a_site(sample)
        d = decline(sample, site)
        invite(d.replacement, 1, date(2015, 4, 14))
        db.session.commit()
        before = counts()
        plan = declines.undo_plan(d)
        assert not plan.possible
        assert f"{d.replacement.label} är redan inbjuden (besöket i omgång 1)." in plan.problems
        with pytest.raises(declines.DeclineError, match="redan inbjuden"):
            declines.undo(d)
        db.session.rollback()
        assert counts() == before
        assert db.session.get(Decline, d.id).undone_at is None and not db.session.get(Site, site.id).active
        assert visit_of(d.replacement_site_id, 1).status == INBJUDEN


def test_undo_is_refused_once_the_replacement_got_its_questionnaire(app, sample_id):
    questionnaire_id = make_questionnaire(app)["id"]
    with app.app_context(), app.test_request_context():
        sample = db.session.get(Sample, sample_id)
        d = decline(sample, a_site(sample))
        replacement = d.replacement
        db.session.add(Contact(site=replacement, role="socialchef", name="Kontakt", email="k@kommun.example.se"))
        req = measurement.ensure_request(replacement, 1, db.session.get(Questionnaire, questionnaire_id),
                                         measurement.today() + timedelta(days=30))
        measurement.send(req)
        db.session.commit()
        problems = declines.undo_plan(d).problems
        assert any(f"Ett utskick till {replacement.label} ligger redan i utkorgen" in p for p in problems), problems


def test_undo_is_refused_once_the_replacements_visit_has_a_note(app, sample_id):
    with app.app_context():
        sample = db.session.get(Sample, sample_id)
        d = decline(sample, a_site(sample))
        notes.get_or_create_note(visit_of(d.replacement_site_id, 1))
        db.session.commit()
        assert any("redan en dialoganteckning" in p for p in declines.undo_plan(d).problems)


def test_undo_is_refused_when_the_replacement_declined_too_and_allowed_after_that_is_undone(app, sample_id):
    with app.app_context():
        sample = db.session.get(Sample, sample_id)
        site = a_site(sample)
        first = decline(sample, site)
        second = decline(sample, first.replacement, "Avböjer också")
        assert any("har själv avböjt" in p for p in declines.undo_plan(first).problems)
        declines.undo(second)
        db.session.commit()
        assert declines.undo_plan(first).possible
        declines.undo(first)
        db.session.commit()
        assert db.session.get(Site, site.id).active and len(sample.active_sites) == 50


def test_a_reason_with_a_nul_byte_reaches_the_preview_without_it(app, sample_id, staff):
    """Control characters are taken out of every request (coordinator/forms.py); nothing is saved before the
    confirmation."""
    with app.app_context():
        site_id = a_site(db.session.get(Sample, sample_id)).id
    response = staff.post(f"/urval/{sample_id}/avboj", {"site_id": str(site_id), "declined_on": "2015-01-20",
                                                        "reason": "Omorganisation\x00 pågår"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Omorganisation pågår" in html and "\x00" not in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Decline)) == 0
