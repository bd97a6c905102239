"""Dialogue forums (events) and the organisation register: shipped organisations, forms with their
messages, stale edits refused, invitations over a real SMTP server (iTIP REQUEST with a stable UID,
SEQUENCE raised by a change of time, CANCEL), answers and attendance, and roles.

Every test runs on SQLite and PostgreSQL (the `app` fixture); the pages are posted to as a browser
would, with the real CSRF token. Calendars are read back with the two parsers of test_invites.py.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from coordinator.audit import AuditEvent
from coordinator.contacts.models import Attendee
from coordinator.events import service
from coordinator.events.defaults import load_organisation_defaults
from coordinator.events.models import GENOMFORT, INSTALLT, Event, EventOrganisation, Organisation
from coordinator.extensions import db
from coordinator.outbox.models import SENT, OutboxMessage
from tests.test_invites import assert_imip_structure, calendar_of, deliver, method_of, read_back, smtp  # noqa: F401
from tests.helpers import confirm_through_page, form_fields

# Named in the assignment's plan (DOMAIN.md, issue 6), with the type the register gives them.
PLAN_ORGANISATIONS = {
    "Socialstyrelsen": "myndighet",
    "Inspektionen för vård och omsorg": "myndighet",
    "Barnombudsmannen": "myndighet",
    "Folkhälsomyndigheten": "myndighet",
    "Statens institutionsstyrelse": "myndighet",
    "Sveriges Kommuner och Landsting": "kommunal",
    "Länsstyrelserna": "myndighet",
    "Föreningen Sveriges Socialchefer": "forening",
    "Akademikerförbundet SSR": "fackforbund",
    "Vision": "fackforbund",
    "Rädda Barnen": "forening",
    "Stiftelsen Allmänna barnhuset": "annan",
}


def text(response) -> str:
    plain = unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    return re.sub(r"[\s\u00a0\u202f]+", " ", plain)


def field_value(response, name: str) -> str:
    html = response.get_data(as_text=True)
    m = (re.search(r'<input[^>]*name="' + re.escape(name) + r'"[^>]*value="([^"]*)"', html)
         or re.search(r'<input[^>]*value="([^"]*)"[^>]*name="' + re.escape(name) + r'"', html))
    if m:
        return unescape(m.group(1))
    m = re.search(r'<textarea[^>]*name="' + re.escape(name) + r'"[^>]*>(.*?)</textarea>', html, re.S)
    assert m, f"no field {name}"
    return unescape(m.group(1)).strip()


@pytest.fixture
def organisations(app) -> dict[str, int]:
    """The shipped register (conftest loads it after each test's reset; the first test of a run loads it here)."""
    with app.app_context():
        load_organisation_defaults()
        return {o.name: o.id for o in db.session.scalars(select(Organisation))}


def event_data(**changes) -> dict:
    data = {"kind": "hearing", "title": "Hearing om placeringar av barn", "date": "2027-03-16",
            "start_time": "10:00", "end_time": "12:00", "place": "Socialdepartementet, Fredsgatan 8",
            "description": "Hur kan kommunernas placeringar bli stabilare?", "version": "0"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def create_event(staff, **changes) -> int:
    response = staff.post("/dialogforum/nytt", event_data(**changes))
    assert response.status_code == 302, text(response)[:1500]
    return int(re.search(r"/dialogforum/(\d+)", response.headers["Location"]).group(1))


def version_of(app, model, pk) -> str:
    with app.app_context():
        return str(db.session.get(model, pk).version)


def add_person(app, staff, event_id: int, name: str, email: str, organisation_id: int | None = None):
    return staff.post(f"/dialogforum/{event_id}/personer", {
        "version": version_of(app, Event, event_id), "name": name, "email": email,
        "organisation": "" if organisation_id is None else str(organisation_id)})


def audit_actions(app, prefix: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith(prefix))
                                  .order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return rows


# --------------------------------------------------------------------------- the organisation register

def test_shipped_organisations_are_the_plans_with_their_type_and_loading_again_adds_nothing(app, organisations):
    with app.app_context():
        assert load_organisation_defaults() == 0  # idempotent: nothing added the second time
        assert load_organisation_defaults() == 0
        rows = {o.name: o for o in db.session.scalars(select(Organisation))}
        assert {name: o.kind for name, o in rows.items()} == PLAN_ORGANISATIONS
        assert rows["Inspektionen för vård och omsorg"].short_name == "IVO"
        assert rows["Statens institutionsstyrelse"].short_name == "SiS"
        assert rows["Sveriges Kommuner och Landsting"].short_name == "SKL"
        assert all(o.active and o.email == "" for o in rows.values())  # no invented addresses
        # An edited register is never reset: a rename stays, the old name does not come back.
        rows["Sveriges Kommuner och Landsting"].name = "Sveriges Kommuner och Regioner"
        db.session.commit()
        assert load_organisation_defaults() == 0
        names = set(db.session.scalars(select(Organisation.name)))
        assert "Sveriges Kommuner och Regioner" in names and "Sveriges Kommuner och Landsting" not in names


def test_register_page_lists_organisations_with_their_type(app, staff, organisations):
    page = staff.get("/dialogforum/organisationer")
    assert page.status_code == 200
    body = text(page)
    assert "Barnombudsmannen – Myndighet" in body
    assert "Akademikerförbundet SSR – Fackförbund" in body
    assert "Sveriges Kommuner och Landsting SKL Kommunal organisation" in body
    assert "Stiftelsen Allmänna barnhuset – Annan" in body


def test_organisation_add_edit_and_deactivate_with_messages_and_stale_edit_refused(app, staff, admin,
                                                                                   organisations):
    # Bad input: a message on the field, and what was typed stays.
    r = staff.post("/dialogforum/organisationer/ny", {"name": "", "kind": "forskning", "email": "inte-en-adress",
                                                      "version": "0"})
    assert r.status_code == 400
    assert "Ange organisationens namn." in text(r) and "Ange en giltig e-postadress" in text(r)
    assert field_value(r, "email") == "inte-en-adress"
    r = staff.post("/dialogforum/organisationer/ny", {"name": "RÄDDA BARNEN", "kind": "forening", "version": "0"})
    assert r.status_code == 400 and "Det finns redan en organisation med namnet Rädda Barnen." in text(r)

    r = staff.post("/dialogforum/organisationer/ny", {"name": "Forte", "short_name": "", "kind": "forskning",
                                                      "email": "registrator@forte.example.se", "version": "0"})
    assert r.status_code == 302
    with app.app_context():
        forte = db.session.scalar(select(Organisation).where(Organisation.name == "Forte"))
        assert forte.kind == "forskning" and forte.email == "registrator@forte.example.se" and forte.active
        forte_id, seen = forte.id, str(forte.version)

    # Two people edit from the same version: the second save is refused, nothing is overwritten.
    r = staff.post(f"/dialogforum/organisationer/{forte_id}", {
        "name": "Forskningsrådet för hälsa, arbetsliv och välfärd", "short_name": "Forte", "kind": "forskning",
        "email": "registrator@forte.example.se", "version": seen})
    assert r.status_code == 302
    r = admin.post(f"/dialogforum/organisationer/{forte_id}", {
        "name": "Forte (ändrat av admin)", "short_name": "", "kind": "annan", "email": "", "version": seen})
    assert r.status_code == 409
    body = text(r)
    assert "Någon annan har ändrat organisationen" in body
    assert "Forskningsrådet för hälsa, arbetsliv och välfärd" in body  # what is stored now, beside …
    assert field_value(r, "name") == "Forte (ändrat av admin)"        # … what admin typed, kept
    with app.app_context():
        forte = db.session.get(Organisation, forte_id)
        assert forte.name == "Forskningsrådet för hälsa, arbetsliv och välfärd" and forte.kind == "forskning"
        current = str(forte.version)

    # Deactivated: not offered for a new event, but still in the register.
    assert staff.post(f"/dialogforum/organisationer/{forte_id}/status",
                      {"version": current, "active": "0"}).status_code == 302
    with app.app_context():
        assert not db.session.get(Organisation, forte_id).active
    form = staff.get("/dialogforum/nytt").get_data(as_text=True)
    assert f'value="{forte_id}"' not in form and f'value="{organisations["Vision"]}"' in form
    assert "Inaktiv" in text(staff.get("/dialogforum/organisationer"))
    # A stale (de)activation changes nothing.
    staff.post(f"/dialogforum/organisationer/{forte_id}/status", {"version": current, "active": "1"})
    with app.app_context():
        assert not db.session.get(Organisation, forte_id).active
    assert [e.action for e in audit_actions(app, "organisation.")] == [
        "organisation.created", "organisation.updated", "organisation.deactivated"]


# --------------------------------------------------------------------------- events: create and edit

def test_event_form_refuses_bad_input_with_messages_and_keeps_what_was_typed(app, staff, organisations):
    r = staff.post("/dialogforum/nytt", event_data(title="", date="16/3 2027", end_time="09:00",
                                                   place="Rosenbad"))
    assert r.status_code == 400
    body = text(r)
    assert "Ange en rubrik." in body
    assert "Ange ett datum som ÅÅÅÅ-MM-DD" in body
    assert field_value(r, "date") == "16/3 2027" and field_value(r, "place") == "Rosenbad"
    r = staff.post("/dialogforum/nytt", event_data(end_time="09:30"))
    assert r.status_code == 400 and "Sluttiden måste vara efter starttiden." in text(r)
    r = staff.post("/dialogforum/nytt", event_data(kind="fest"))
    assert r.status_code == 400
    with app.app_context():
        assert not db.session.scalar(select(func.count()).select_from(Event))


def test_event_is_created_listed_and_edited_and_a_stale_edit_is_refused(app, staff, admin, organisations):
    sos, ivo = organisations["Socialstyrelsen"], organisations["Inspektionen för vård och omsorg"]
    event_id = create_event(staff, organisations=[str(sos), str(ivo)])
    held = create_event(staff, kind="rundabord", title="Rundabordssamtal med forskare", date="2015-05-20")
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert (event.kind, event.title, event.date, event.status) == (
            "hearing", "Hearing om placeringar av barn", date(2027, 3, 16), "planerat")
        assert event.uid.endswith("@coordinator") and event.sequence == 0 and event.sent_sequence is None
        assert {link.organisation_id for link in event.organisations if link.invited} == {sos, ivo}
    listing = staff.get("/dialogforum/")
    body = text(listing)
    coming, rest = body.split("Genomförda och tidigare", 1)
    assert "Hearing om placeringar av barn" in coming and "Rundabordssamtal med forskare" in rest
    only_round_tables = text(staff.get("/dialogforum/", query_string={"slag": "rundabord"}))
    assert "Rundabordssamtal med forskare" in only_round_tables
    assert "Hearing om placeringar av barn" not in only_round_tables
    assert held

    seen = version_of(app, Event, event_id)
    r = staff.post(f"/dialogforum/{event_id}/andra", event_data(
        version=seen, title="Hearing om stabila placeringar", organisations=[str(sos)]))
    assert r.status_code == 302
    r = admin.post(f"/dialogforum/{event_id}/andra", event_data(version=seen, place="Rosenbad",
                                                                organisations=[str(ivo)]))
    assert r.status_code == 409
    body = text(r)
    assert "Någon annan har ändrat dialogforumet" in body and "Hearing om stabila placeringar" in body
    assert field_value(r, "place") == "Rosenbad"  # what admin typed is kept
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.title == "Hearing om stabila placeringar" and event.place.startswith("Socialdepartementet")
        assert {link.organisation_id for link in event.organisations if link.invited} == {sos}
    # Saving again from the conflict page (its version is the current one) is deliberate and goes through.
    r = admin.post(f"/dialogforum/{event_id}/andra", event_data(
        version=field_value(r, "version"), title="Hearing om stabila placeringar", place="Rosenbad",
        organisations=[str(ivo)]))
    assert r.status_code == 302
    updated = audit_actions(app, "event.updated")
    assert [e.details["fields"] for e in updated] == [["title", "organisationer"], ["place", "organisationer"]]


# --------------------------------------------------------------------------- invitations over SMTP

def test_invitation_is_a_request_over_smtp_uid_stays_sequence_rises_on_a_new_time_and_cancel(
        app, staff, smtp, organisations):
    sos = organisations["Socialstyrelsen"]
    event_id = create_event(staff, organisations=[str(sos)])
    r = add_person(app, staff, event_id, "Åsa Öberg", "asa.oberg@socialstyrelsen.example.se", sos)
    assert r.status_code == 302
    assert add_person(app, staff, event_id, "Per Ek", "per.ek@ivo.example.se").status_code == 302
    r = add_person(app, staff, event_id, "Per Ek igen", "PER.EK@ivo.example.se")
    assert r.status_code == 400 and "är redan inbjuden" in text(r)
    r = add_person(app, staff, event_id, "Utan adress", "utan-adress")
    assert r.status_code == 400 and "Ange en giltig e-postadress" in text(r)

    r = staff.post(f"/dialogforum/{event_id}/inbjudan", {"version": version_of(app, Event, event_id)})
    assert r.status_code == 302
    with app.app_context():
        event = db.session.get(Event, event_id)
        uid = event.uid
        assert event.sent_sequence == 0
        (message,) = db.session.scalars(select(OutboxMessage)).all()
        assert message.event_id == event_id and message.visit_id is None and message.kind == "request"
    assert deliver(app).sent == 1
    ((mail_from, rcpt, _),) = smtp.handler.received
    assert sorted(rcpt) == ["asa.oberg@socialstyrelsen.example.se", "per.ek@ivo.example.se"]
    (first,) = smtp.handler.messages()
    assert_imip_structure(first, "REQUEST")
    assert first["Subject"] == "Inbjudan: Hearing om placeringar av barn, tisdag 16 mars 2027 10.00"
    plain = first.get_body(("plain",)).get_content()
    assert "bjuder in till en hearing" in plain and "Hearing: Hearing om placeringar av barn" in plain
    assert "Inbjudna organisationer: Socialstyrelsen." in plain
    data = calendar_of(first)
    assert b"DTSTART:20270316T090000Z" in data  # 10.00 in Stockholm (CET) written in UTC
    (ev,) = read_back(data)
    assert ev["uid"] == uid and ev["sequence"] == 0 and ev["status"] == "CONFIRMED"
    assert ev["start"].replace(tzinfo=None) == datetime(2027, 3, 16, 10)
    assert ev["location"] == "Socialdepartementet, Fredsgatan 8"
    assert sorted(a.value for a in ev["attendees"]) == ["mailto:asa.oberg@socialstyrelsen.example.se",
                                                        "mailto:per.ek@ivo.example.se"]

    # Answers recorded by hand, as for visits.
    with app.app_context():
        asa = db.session.scalar(select(Attendee).where(Attendee.name == "Åsa Öberg")).id
    assert staff.post(f"/dialogforum/{event_id}/personer/{asa}/svar",
                      {"partstat": "ACCEPTED", "comment": "Kommer"}).status_code == 302
    # Someone added after the invitation gets the current one alone, with the same SEQUENCE.
    assert add_person(app, staff, event_id, "Lisa Berg", "lisa.berg@vision.example.se",
                      organisations["Vision"]).status_code == 302
    assert "har lagts till efter inbjudan" in text(staff.get(f"/dialogforum/{event_id}"))
    assert staff.post(f"/dialogforum/{event_id}/inbjudan",
                      {"version": version_of(app, Event, event_id)}).status_code == 302
    r = staff.post(f"/dialogforum/{event_id}/inbjudan", {"version": version_of(app, Event, event_id)})
    assert r.status_code == 400 and "Alla inbjudna har redan fått den senaste inbjudan." in text(r)
    assert deliver(app).sent == 1
    assert smtp.handler.received[-1][1] == ["lisa.berg@vision.example.se"]
    (late,) = read_back(calendar_of(smtp.handler.messages()[-1]))
    assert late["uid"] == uid and late["sequence"] == 0

    # A new time: the same UID, SEQUENCE 1, to everyone, and everyone is asked again.
    r = staff.post(f"/dialogforum/{event_id}/andra", event_data(
        version=version_of(app, Event, event_id), start_time="13:00", end_time="15:30",
        organisations=[str(sos)]))
    assert r.status_code == 302
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.sequence == event.sent_sequence == 1
        assert {a.partstat for a in event.attendees} == {"NEEDS-ACTION"}
    assert deliver(app).sent == 1
    moved = smtp.handler.messages()[-1]
    assert sorted(smtp.handler.received[-1][1]) == ["asa.oberg@socialstyrelsen.example.se",
                                                    "lisa.berg@vision.example.se", "per.ek@ivo.example.se"]
    assert moved["Subject"].startswith("Ändrad tid eller plats: Hearing om placeringar av barn")
    assert "Tiden eller platsen har ändrats. Hearingen äger rum enligt nedan" in moved.get_body(
        ("plain",)).get_content()
    (ev,) = read_back(calendar_of(moved))
    assert ev["uid"] == uid and ev["sequence"] == 1 and method_of(calendar_of(moved)) == "REQUEST"
    assert ev["start"].replace(tzinfo=None) == datetime(2027, 3, 16, 13)
    assert b"DTSTART:20270316T120000Z" in calendar_of(moved)
    # A change of the title is what the invited see in their calendars: an update (SEQUENCE 2) that keeps
    # their answers. A change of the description only sends nothing.
    assert staff.post(f"/dialogforum/{event_id}/personer/{asa}/svar", {"partstat": "ACCEPTED"}).status_code == 302
    staff.post(f"/dialogforum/{event_id}/andra", event_data(
        version=version_of(app, Event, event_id), title="Hearing: stabila placeringar", start_time="13:00",
        end_time="15:30", organisations=[str(sos)]))
    assert deliver(app).sent == 1
    retitled = smtp.handler.messages()[-1]
    assert retitled["Subject"].startswith("Ändrad rubrik: Hearing: stabila placeringar")
    (ev,) = read_back(calendar_of(retitled))
    assert ev["uid"] == uid and ev["sequence"] == 2 and ev["summary"] == "Hearing: stabila placeringar"
    answers = {a.value: a.params["PARTSTAT"][0] for a in ev["attendees"]}
    assert answers["mailto:asa.oberg@socialstyrelsen.example.se"] == "ACCEPTED"
    staff.post(f"/dialogforum/{event_id}/andra", event_data(
        version=version_of(app, Event, event_id), title="Hearing: stabila placeringar", start_time="13:00",
        end_time="15:30", organisations=[str(sos)], description="Ny beskrivning"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 4
        assert db.session.get(Attendee, asa).partstat == "ACCEPTED"

    # Cancelled: METHOD:CANCEL, same UID, SEQUENCE 2, to everyone.
    step = staff.post(f"/dialogforum/{event_id}/installt", {"version": version_of(app, Event, event_id),
                                                            "reason": "Departementet flyttar hearingen"})
    # First the confirmation step: who gets a cancellation, what cannot be undone; nothing queued yet.
    assert step.status_code == 200 and "Ett återbud skickas till de 3 personer" in text(step)
    assert "Departementet flyttar hearingen" in step.get_data(as_text=True)  # what was typed is kept
    with app.app_context():
        assert db.session.get(Event, event_id).status == "planerat"
    r = staff.post(f"/dialogforum/{event_id}/installt",
                   form_fields(step.get_data(as_text=True), f"/dialogforum/{event_id}/installt"))
    assert r.status_code == 302
    assert deliver(app).sent == 1
    cancelled = smtp.handler.messages()[-1]
    assert_imip_structure(cancelled, "CANCEL")
    assert cancelled["Subject"].startswith("Inställt: Hearing: stabila placeringar")
    (ev,) = read_back(calendar_of(cancelled))
    assert ev["uid"] == uid and ev["sequence"] == 3 and ev["status"] == "CANCELLED"
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.status == INSTALLT and event.sequence == event.sent_sequence == 3
        assert {m.status for m in db.session.scalars(select(OutboxMessage))} == {SENT}
        assert [m.sequence for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))] == \
            [0, 0, 1, 2, 3]
    # No addresses or names in the audit log.
    queued = audit_actions(app, "invite.")
    assert [e.object_type for e in queued if e.action == "invite.queued"] == ["event"] * 5
    assert "@" not in str([e.details for e in queued]) and "Åsa" not in str([e.details for e in queued])
    # A cancelled event takes no new invitation.
    r = staff.post(f"/dialogforum/{event_id}/inbjudan", {"version": version_of(app, Event, event_id)})
    assert r.status_code == 400 and "Bara planerade dialogforum" in text(r)


def test_a_stale_invitation_or_cancellation_is_refused_and_queues_nothing(app, staff, organisations):
    event_id = create_event(staff)
    seen = version_of(app, Event, event_id)
    assert add_person(app, staff, event_id, "Per Ek", "per.ek@ivo.example.se").status_code == 302
    r = staff.post(f"/dialogforum/{event_id}/inbjudan", {"version": seen})
    assert r.status_code == 409 and "Någon annan har ändrat dialogforumet" in text(r)
    r = staff.post(f"/dialogforum/{event_id}/installt", {"version": seen, "reason": "Fel", "confirmed": "1"})
    assert r.status_code == 409
    with app.app_context():
        assert db.session.get(Event, event_id).status == "planerat"
        assert not db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_a_cancelled_event_that_was_never_sent_queues_no_mail(app, staff, organisations):
    event_id = create_event(staff)
    add_person(app, staff, event_id, "Per Ek", "per.ek@ivo.example.se")
    step = staff.get(f"/dialogforum/{event_id}/installt")
    assert "Ingen inbjudan är skickad, så inget återbud behövs." in text(step)
    r = confirm_through_page(staff, f"/dialogforum/{event_id}/installt")
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Event, event_id).status == INSTALLT
        assert not db.session.scalar(select(func.count()).select_from(OutboxMessage))


# --------------------------------------------------------------------------- held: attendance

def test_held_event_records_who_attended(app, staff, organisations):
    sos, ivo, bo = (organisations[n] for n in ("Socialstyrelsen", "Inspektionen för vård och omsorg",
                                               "Barnombudsmannen"))
    tomorrow = (service.today() + timedelta(days=1)).isoformat()
    future = create_event(staff, date=tomorrow)
    r = staff.post(f"/dialogforum/{future}/genomfort", {"version": version_of(app, Event, future)})
    assert r.status_code == 400 and "före sitt datum" in text(r)

    event_id = create_event(staff, kind="nationell_dialog", title="Nationell dialog", date="2015-03-16",
                            organisations=[str(sos), str(ivo)])
    add_person(app, staff, event_id, "Åsa Öberg", "asa.oberg@socialstyrelsen.example.se", sos)
    add_person(app, staff, event_id, "Per Ek", "per.ek@ivo.example.se", ivo)
    assert staff.post(f"/dialogforum/{event_id}/genomfort",
                      {"version": version_of(app, Event, event_id)}).status_code == 302
    with app.app_context():
        event = db.session.get(Event, event_id)
        asa, per = (a.id for a in event.attendees)
        assert event.status == GENOMFORT
    # Socialstyrelsen came, IVO did not; Barnombudsmannen came without an invitation.
    r = staff.post(f"/dialogforum/{event_id}/narvaro", {"version": version_of(app, Event, event_id),
                                                        "organisation": [str(sos), str(bo)],
                                                        f"person-{asa}": "ja", f"person-{per}": "nej"})
    assert r.status_code == 302
    with app.app_context():
        links = {(link.organisation_id, link.invited, link.attended)
                 for link in db.session.scalars(select(EventOrganisation))}
        assert links == {(sos, True, True), (ivo, True, False), (bo, False, True)}
        assert {a.id: a.attended for a in db.session.scalars(select(Attendee))} == {asa: True, per: False}
    page = text(staff.get(f"/dialogforum/{event_id}"))
    assert "Socialstyrelsen – Myndighet: deltog" in page
    assert "Inspektionen för vård och omsorg (IVO) – Myndighet: deltog inte" in page
    assert "Barnombudsmannen" in text(staff.get("/dialogforum/organisationer"))


# --------------------------------------------------------------------------- roles

def test_reader_gets_403_and_anonymous_is_sent_to_log_in(app, staff, reader, anon, organisations):
    event_id = create_event(staff)
    oid = organisations["Vision"]
    gets = ["/dialogforum/", "/dialogforum/nytt", f"/dialogforum/{event_id}", f"/dialogforum/{event_id}/andra",
            f"/dialogforum/{event_id}/inbjudan.ics", "/dialogforum/organisationer", "/dialogforum/organisationer/ny",
            f"/dialogforum/organisationer/{oid}", f"/dialog/forum/{event_id}", f"/dialog/forum/{event_id}/historik"]
    posts = ["/dialogforum/nytt", f"/dialogforum/{event_id}/andra", f"/dialogforum/{event_id}/personer",
             f"/dialogforum/{event_id}/inbjudan", f"/dialogforum/{event_id}/installt",
             f"/dialogforum/{event_id}/genomfort", f"/dialogforum/{event_id}/narvaro",
             "/dialogforum/organisationer/ny", f"/dialogforum/organisationer/{oid}",
             f"/dialogforum/organisationer/{oid}/status", f"/dialog/forum/{event_id}"]
    for url in gets:
        assert reader.get(url).status_code == 403, url
        assert anon.get(url).status_code == 302, url
    for url in posts:
        assert reader.post(url, {**event_data(), "name": "x", "email": "x@example.se"}).status_code == 403, url
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 1
        assert db.session.get(Organisation, oid).active
    # Staff can download the calendar: METHOD:REQUEST with the event's UID.
    r = staff.get(f"/dialogforum/{event_id}/inbjudan.ics")
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    assert method_of(r.data) == "REQUEST"


# --------------------------------------------------------------------------- in a browser (axe-core)

@pytest.mark.browser
def test_event_pages_are_accessible_and_usable_without_javascript_in_a_browser(app, page, organisations):
    from .conftest import SHOTS, assert_accessible, browser_login

    browser_login(page, "staff")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto("/dialogforum/nytt")
    page.get_by_label("Slag").select_option(label="Rundabordssamtal")
    page.get_by_label("Rubrik").fill("Rundabordssamtal om barns delaktighet")
    page.get_by_label("Datum").fill("2015-04-20")
    page.get_by_label("Starttid").fill("13:00")
    page.get_by_label("Sluttid").fill("12:00")
    page.get_by_label("Barnombudsmannen").check()
    page.get_by_role("button", name="Spara").click()
    assert page.get_by_text("Sluttiden måste vara efter starttiden.").first.is_visible()
    assert page.get_by_label("Barnombudsmannen").is_checked()  # nothing typed is lost
    assert_accessible(page, "event form with errors")
    page.get_by_label("Sluttid").fill("15:00")
    page.get_by_role("button", name="Spara").click()
    page.get_by_label("Namn").fill("Elin Ström")
    page.get_by_label("E-postadress").fill("elin.strom@barnombudsmannen.example.se")
    page.get_by_label("Organisation", exact=True).select_option(label="Barnombudsmannen")
    page.get_by_role("button", name="Lägg till").click()
    assert page.get_by_role("row", name=re.compile("Elin Ström")).is_visible()
    page.get_by_role("button", name="Markera som genomfört").click()
    assert_accessible(page, "held event")
    page.screenshot(path=SHOTS / "dialogforum-event.png", full_page=True)
    page.get_by_role("link", name="Skriv anteckningen").click()
    page.get_by_label("Text, Fråga 2, stycke 1").fill("Barnen behöver komma till tals tidigt.")
    page.get_by_role("button", name="Spara anteckningen").click()
    assert page.get_by_text("Anteckningen är sparad (version 1).").is_visible()
    assert_accessible(page, "event note")
    for name, url in [("dialogforum", "/dialogforum/"), ("organisationer", "/dialogforum/organisationer"),
                      ("oversikt-med-forum", "/dialog/oversikt"), ("sok-forum", "/dialog/sok?kalla=forum")]:
        page.goto(url)
        assert_accessible(page, name)
        page.screenshot(path=SHOTS / f"{name}.png", full_page=True)
    assert "Barnen behöver komma till tals tidigt." in page.content()


def test_an_exploratory_dialogue_in_phase_1_is_booked_as_an_event(app, staff, organisations):
    """Phase 1's dialogues with kommuner outside the sample are events of their own kind (issue 13)."""
    event_id = create_event(staff, kind="utforskande_dialog", title="Utforskande dialog i Nora kommun",
                            date="2015-02-11", place="Nora kommunhus")
    with app.app_context():
        assert db.session.get(Event, event_id).kind == "utforskande_dialog"
    assert "Utforskande dialog med en kommun" in text(staff.get("/dialogforum/nytt"))
    listing = text(staff.get("/dialogforum/", query_string={"slag": "utforskande_dialog"}))
    assert "Utforskande dialog i Nora kommun" in listing
    assert staff.post("/dialogforum/nytt", event_data(kind="utforskande_dialogen")).status_code == 400
