"""Pre-visit measurement (mätning): questionnaires with skip rules, the kommun's signed link
(isolation, expiry, revocation), saving a draft and submitting once, numbers as Swedes write them,
mail with the link through a real SMTP server, one reminder, and the link in the visit invitation.

Every database test runs on SQLite and PostgreSQL (the `app` fixture). The sample is drawn and
adopted through the CLI; mail goes through aiosmtpd (the fixtures of test_invites.py).
"""
from __future__ import annotations

import email
import json
import threading
from datetime import datetime, timedelta, timezone
from email import policy

import pytest
from sqlalchemy import select

from coordinator.audit import AuditEvent
from coordinator.contacts.models import Contact
from coordinator.extensions import db
from coordinator.measurement import service, tabulate
from coordinator.measurement.models import OTHER_OPTION, STANDARD_OPTIONS, MeasurementRequest, Question, Questionnaire
from coordinator.outbox.models import OutboxMessage
from coordinator.sampling.models import Site
from coordinator.scheduling.models import FORSLAG, Visit

from .conftest import Client
from .helpers import audit_events, confirm_through_page
from .test_invites import deliver, make_visit, sites, smtp  # noqa: F401  (fixtures)
from .test_plans import text

# --------------------------------------------------------------------------- helpers

# The questionnaire most tests use: a rule "Nej → fråga 3" skips question 2.
QUESTIONS = [
    {"text": "Har socialnämnden antagit en plan för kompetensförsörjning?", "kind": "en",
     "options": list(STANDARD_OPTIONS), "required": True},
    {"text": "Vilket år antogs planen?", "kind": "tal", "required": True},
    {"text": "Hur många socialsekreterare arbetar med barn och unga?", "kind": "tal", "required": True,
     "comment": True},
    {"text": "Vilka metoder används i utredningarna?", "kind": "flera", "options": ["BBIC", "Signs of Safety", "MI"],
     "other_option": True, "required": True},
    {"text": "Något annat ni vill att samordnaren känner till?", "kind": "text"},
]


def make_questionnaire(app, questions=QUESTIONS, rules: dict[int, dict[str, int]] | None = None,
                       name: str = "Inför besöket", round_: int | None = None) -> dict:
    """A questionnaire built through the service; rules {position: {option: target}}. Returns ids."""
    rules = {1: {"Nej": 3}} if rules is None else rules
    with app.app_context():
        qn = service.create_questionnaire({"name": name, "intro": "Tack för att ni svarar.", "round": round_})
        db.session.flush()
        for values in questions:
            service.add_question(qn, qn.version, values)
            db.session.flush()
        for position, rule in rules.items():
            q = qn.questions[position - 1]
            service.update_question(q, qn.version, {**_values(q), "skip_rules": rule})
            db.session.flush()
        db.session.commit()
        return {"id": qn.id, "q": [q.id for q in qn.questions]}


def _values(q: Question) -> dict:
    return {name: getattr(q, name) for name in service.QUESTION_FIELDS}


def make_request(app, site_id: int, questionnaire_id: int, round_: int = 1, days: int = 30) -> tuple[int, str]:
    with app.app_context():
        site = db.session.get(Site, site_id)
        qn = db.session.get(Questionnaire, questionnaire_id)
        req = service.ensure_request(site, round_, qn, service.today() + timedelta(days=days))
        db.session.commit()
        return req.id, service.token_for(req)


def add_contacts(app, site_id: int, n: int = 2) -> list[str]:
    with app.app_context():
        site = db.session.get(Site, site_id)
        emails = [f"kontakt{i}.{site.kommunkod}@kommun.example.se" for i in range(n)]
        for i, address in enumerate(emails):
            db.session.add(Contact(site=site, role="socialchef", name=f"Kontakt {i} i {site.kommun.namn}",
                                   email=address))
        db.session.commit()
        return emails


def request_row(app, request_id: int) -> dict:
    with app.app_context():
        r = db.session.get(MeasurementRequest, request_id)
        return {"version": r.version, "sent_at": r.sent_at, "reminded_at": r.reminded_at,
                "last_saved_at": r.last_saved_at, "submitted_at": r.submitted_at, "revoked_at": r.revoked_at,
                "answers": {a.question_id: (a.value, a.other_text, a.comment) for a in r.answers}}


def form(app, request_id: int, ids: list[int], answers: dict, action: str = "spara") -> dict:
    """The kommun's post: answers {position: value} and {"4-annat": text, "3-kommentar": text}."""
    data = {"version": str(request_row(app, request_id)["version"]), "action": action}
    for key, value in answers.items():
        if isinstance(key, int):
            data[f"q{ids[key - 1]}"] = value
        else:
            position, suffix = key.split("-")
            data[f"q{ids[int(position) - 1]}-{suffix}"] = value
    return data


def outbox(app, kind: str | None = None) -> list[OutboxMessage]:
    with app.app_context():
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return rows


def plain_text(raw: bytes | str) -> str:
    msg = (email.message_from_bytes(raw, policy=policy.default) if isinstance(raw, bytes)
           else email.message_from_string(raw, policy=policy.default))
    return msg.get_body(("plain",)).get_content()


COMPLETE = {1: "Ja", 2: "2015", 3: "1 234,5", 4: ["BBIC", "MI"]}


# --------------------------------------------------------------------------- access

def test_measurement_pages_are_for_staff_only(app, sites, staff, reader, anon):
    ids = make_questionnaire(app)
    pages = ["/matningar/", "/matningar/?omgang=2", "/matningar/enkater/ny", f"/matningar/enkater/{ids['id']}",
             f"/matningar/enkater/{ids['id']}/fragor/{ids['q'][0]}", f"/matningar/enkater/{ids['id']}/forhandsvisning",
             f"/matningar/omgang/1/plats/{sites[0]}"]
    for url in pages:
        assert reader.get(url).status_code == 403, url
        assert anon.get(url).status_code == 302, url
        assert staff.get(url).status_code == 200, url
    for url in ["/matningar/omgang/1/skicka", "/matningar/paminnelser", f"/matningar/enkater/{ids['id']}/kopiera",
                f"/matningar/omgang/1/plats/{sites[0]}/skicka"]:
        assert reader.post(url, {"version": "1"}).status_code == 403, url
    assert staff.get("/matningar/omgang/3/plats/1").status_code == 404
    assert staff.get("/matningar/enkater/999999").status_code == 404
    assert staff.post(f"/matningar/enkater/{ids['id']}", {"version": "1", "name": "x"}, csrf=False).status_code == 400


# --------------------------------------------------------------------------- building a questionnaire

def test_staff_build_a_questionnaire_with_standard_options_and_a_skip_rule(app, sites, staff):
    r = staff.post("/matningar/enkater/ny", {"name": "", "round": ""})
    assert r.status_code == 400 and "Ge enkäten ett namn." in text(r)
    r = staff.post("/matningar/enkater/ny", {"name": "Läget inför besöket", "intro": "Tar fem minuter.",
                                              "round": "1"})
    assert r.status_code == 302
    with app.app_context():
        qn = db.session.scalar(select(Questionnaire))
        qid, version = qn.id, qn.version
    base = f"/matningar/enkater/{qid}"
    page = staff.get(base).get_data(as_text=True)
    # A new one-choice question starts with the field's standard options.
    assert "Ja, i viss mån" in page and "Vet ej" in page

    def add(values):
        nonlocal version
        r = staff.post(f"{base}/fragor", {"version": str(version), **values})
        with app.app_context():
            version = db.session.get(Questionnaire, qid).version
        return r

    assert add({"text": "Finns en plan?", "kind": "en", "options": "Ja\nJa, i viss mån\nNej\nVet ej",
                "required": "y"}).status_code == 302
    assert add({"text": "Vilket år?", "kind": "tal"}).status_code == 302
    r = add({"text": "Metoder", "kind": "flera", "options": "BBIC"})
    assert r.status_code == 400 and "minst två svarsalternativ" in text(r)
    assert 'value="Metoder"' in r.get_data(as_text=True) or "Metoder</textarea>" in r.get_data(as_text=True)
    r = add({"text": "Metoder", "kind": "flera", "options": "BBIC\nAnnat, ange"})
    assert r.status_code == 400 and "kryssa i rutan" in text(r)
    assert add({"text": "Metoder", "kind": "flera", "options": "BBIC\nMI", "other_option": "y",
                "comment": "y"}).status_code == 302
    with app.app_context():
        qs = db.session.get(Questionnaire, qid).questions
        assert [(q.position, q.kind, q.required) for q in qs] == [(1, "en", True), (2, "tal", False),
                                                                   (3, "flera", False)]
        assert qs[2].options == ["BBIC", "MI"] and qs[2].other_option and qs[2].comment
        assert qs[1].options == []  # a number question keeps no options
        first = qs[0].id

    # The rule: "Nej → fråga 3"; a backward jump is refused with a clear message and nothing is saved.
    url = f"{base}/fragor/{first}"
    edit = {"version": str(version), "text": "Finns en plan?", "kind": "en",
            "options": "Ja\nJa, i viss mån\nNej\nVet ej", "required": "y",
            "rule_0_option": "Ja", "rule_0": "", "rule_1_option": "Ja, i viss mån", "rule_1": "",
            "rule_2_option": "Nej", "rule_2": "1", "rule_3_option": "Vet ej", "rule_3": "4"}
    r = staff.post(url, edit)
    assert r.status_code == 422 and "Fråga 1: ”Nej” kan bara hoppa framåt." in text(r)
    assert "Om svaret är ”Nej”, gå vidare till" in text(r)
    r = staff.post(url, {**edit, "rule_2": "3"})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Question, first).skip_rules == {"Nej": 3, "Vet ej": 4}  # 4: the end
    page = text(staff.get(base))
    assert "Om du svarar ”Nej”, gå vidare till fråga 3." in page
    assert "Om du svarar ”Vet ej” är du klar" in page
    log = [e.action for e in audit_events(app, "measurement.")]
    assert log.count("measurement.question_added") == 3 and "measurement.question_updated" in log


def test_moving_and_removing_questions_keep_each_rule_on_its_question(app, sites):
    four = [{"text": t, "kind": "en", "options": ["Ja", "Nej", "Vet ej"]} for t in "ABCD"]
    ids = make_questionnaire(app, four, rules={1: {"Nej": 3, "Vet ej": 5}})
    a, b, c, d = ids["q"]
    with app.app_context():
        qn = db.session.get(Questionnaire, ids["id"])
        q = {x.id: x for x in qn.questions}
        # C moves above B: A's rule follows C to position 2; "to the end" stays the end.
        assert service.move_question(q[c], "upp", qn.version)
        db.session.commit()
        assert [x.text for x in sorted(qn.questions, key=lambda x: x.position)] == ["A", "C", "B", "D"]
        assert q[a].skip_rules == {"Nej": 2, "Vet ej": 5}
        # C above A would make A's rule jump backwards: refused, nothing changes.
        with pytest.raises(service.RuleError) as refused:
            service.move_question(q[c], "upp", qn.version)
        assert "kan bara hoppa framåt" in str(refused.value)
        db.session.rollback()
        assert [(x.text, x.position) for x in qn.questions] == [("A", 1), ("C", 2), ("B", 3), ("D", 4)]
        # Removing C: the rule goes to the question that followed it (B, now 2).
        service.remove_question(q[c], qn.version)
        db.session.commit()
        assert [(x.text, x.position) for x in qn.questions] == [("A", 1), ("B", 2), ("D", 3)]
        assert q[a].skip_rules == {"Nej": 2, "Vet ej": 4}
        # A new last question: "to the end" still means the end.
        service.add_question(qn, qn.version, {"text": "E", "kind": "text"})
        db.session.commit()
        assert q[a].skip_rules == {"Nej": 2, "Vet ej": 5}
        assert service.rule_messages(qn.questions) == []
    assert [e.action for e in audit_events(app, "measurement.question_moved")] == ["measurement.question_moved"]


def test_a_stale_questionnaire_edit_is_refused_and_keeps_what_was_typed(app, sites, staff):
    ids = make_questionnaire(app)
    with app.app_context():
        old = db.session.get(Questionnaire, ids["id"]).version
    base = f"/matningar/enkater/{ids['id']}"
    assert staff.post(base, {"version": str(old), "name": "Första namnet", "round": ""}).status_code == 302
    r = staff.post(base, {"version": str(old), "name": "Mitt eget namn", "intro": "Min inledning", "round": "2"})
    assert r.status_code == 409
    assert "Någon annan har ändrat enkäten" in text(r) and 'value="Mitt eget namn"' in r.get_data(as_text=True)
    with app.app_context():
        qn = db.session.get(Questionnaire, ids["id"])
        assert qn.name == "Första namnet" and qn.round is None
    # A question added on a stale version is refused too.
    r = staff.post(f"{base}/fragor", {"version": str(old), "text": "Sen fråga", "kind": "text"})
    assert r.status_code == 409 and "Sen fråga" in r.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.get(Questionnaire, ids["id"]).questions) == len(QUESTIONS)


def test_a_sent_questionnaire_is_locked_but_can_be_copied(app, sites, staff, smtp):
    ids = make_questionnaire(app)
    add_contacts(app, sites[0])
    r = staff.post(f"/matningar/omgang/1/plats/{sites[0]}/skicka", {"questionnaire": str(ids["id"]), "last_day": ""})
    assert r.status_code == 302
    with app.app_context():
        qn = db.session.get(Questionnaire, ids["id"])
        assert qn.locked
        version = qn.version
    base = f"/matningar/enkater/{ids['id']}"
    page = text(staff.get(base))
    assert "Enkäten är låst." in page and "Lägg till en fråga" not in page
    q1 = ids["q"][0]
    for url, data in [(f"{base}/fragor", {"text": "Ny", "kind": "text"}),
                      (f"{base}/fragor/{q1}", {"text": "Ändrad", "kind": "en", "options": "Ja\nNej"}),
                      (f"{base}/fragor/{q1}/ta-bort", {}), (f"{base}/fragor/{ids['q'][1]}/upp", {}),
                      (base, {"name": "Nytt namn", "round": ""})]:
        r = staff.post(url, {"version": str(version), **data})
        assert r.status_code == 409, url
        assert "låst" in text(r), url
    with app.app_context():
        qn = db.session.get(Questionnaire, ids["id"])
        assert [q.text for q in qn.questions] == [q["text"] for q in QUESTIONS] and qn.name == "Inför besöket"
        with pytest.raises(service.LockedError):
            service.add_question(qn, qn.version, {"text": "x", "kind": "text"})
        db.session.rollback()
    # The copy has the same questions and rules, and can be changed.
    r = staff.post(f"{base}/kopiera", {"version": str(version)})
    assert r.status_code == 302
    with app.app_context():
        copy = db.session.scalar(select(Questionnaire).where(Questionnaire.id != ids["id"]))
        assert copy.name == "Kopia av Inför besöket" and not copy.locked
        assert [(q.text, q.skip_rules) for q in copy.questions] == [
            (q.text, q.skip_rules) for q in db.session.get(Questionnaire, ids["id"]).questions]
        copy_id, copy_version = copy.id, copy.version
    assert staff.post(f"/matningar/enkater/{copy_id}/fragor",
                      {"version": str(copy_version), "text": "Ny fråga", "kind": "text"}).status_code == 302


# --------------------------------------------------------------------------- the kommun's form

def test_skip_rules_apply_on_the_server_skipped_questions_are_not_required_and_cleared(app, sites, anon):
    ids = make_questionnaire(app)
    rid, token = make_request(app, sites[0], ids["id"])
    page = text(anon.get(f"/matning/{token}"))
    assert "Om du svarar ”Nej”, gå vidare till fråga 3." in page  # the rule in words, for no JavaScript

    # "Nej" skips question 2: it is not required, and what was typed there is not kept.
    data = form(app, rid, ids["q"], {1: "Nej", 2: "1999", 3: "7", 4: ["BBIC"]}, action="skicka")
    r = anon.post(f"/matning/{token}", data)
    assert r.status_code == 302
    row = request_row(app, rid)
    assert row["submitted_at"] is not None
    assert set(row["answers"]) == {ids["q"][0], ids["q"][2], ids["q"][3]}
    assert row["answers"][ids["q"][0]][0] == "Nej"

    # Without the rule's answer, question 2 is required.
    rid2, token2 = make_request(app, sites[1], ids["id"])
    r = anon.post(f"/matning/{token2}", form(app, rid2, ids["q"], {1: "Ja", 3: "7", 4: ["BBIC"]}, action="skicka"))
    assert r.status_code == 400 and "Fråga 2 : Skriv ett tal." in text(r)
    # The read-only answers say which question was skipped.
    assert "Hoppades över enligt en hoppregel." in text(anon.get(f"/matning/{token}"))


def test_submit_checks_required_answers_numbers_and_annat_with_messages_and_keeps_everything(app, sites, anon):
    ids = make_questionnaire(app)
    rid, token = make_request(app, sites[0], ids["id"])
    typed = {1: "Ja", 2: "i fjol", 3: "", 4: [OTHER_OPTION], "3-kommentar": "Två tjänster är vakanta",
             5: "Vi har byggt om mottagningen"}
    r = anon.post(f"/matning/{token}", form(app, rid, ids["q"], typed, action="skicka"))
    assert r.status_code == 400
    html, page = r.get_data(as_text=True), text(r)
    assert "Svaren skickades inte in: 3 frågor behöver rättas" in page
    assert "Fråga 2 : Skriv ett tal med siffror, till exempel 12 eller 1 234,5." in page
    assert "Fråga 3 : Skriv ett tal." in page
    assert "Fråga 4 : Skriv vad ”Annat” är, eller ta bort krysset." in page
    # Each error is on its field and linked from the summary.
    assert f'href="#q{ids["q"][1]}"' in html and f'id="q{ids["q"][1]}-error"' in html
    assert f'href="#q{ids["q"][3]}-0"' in html and 'aria-invalid="true"' in html
    # Nothing typed is lost; nothing is saved.
    assert 'value="i fjol"' in html and "Två tjänster är vakanta" in html and "Vi har byggt om mottagningen" in html
    assert f'value="{OTHER_OPTION}" checked' in html and 'value="Ja" checked' in html
    row = request_row(app, rid)
    assert row["answers"] == {} and row["submitted_at"] is None and row["last_saved_at"] is None

    fixed = {**typed, 2: "2015", 3: "12", "4-annat": "Egen modell"}
    assert anon.post(f"/matning/{token}", form(app, rid, ids["q"], fixed, action="skicka")).status_code == 302
    answers = request_row(app, rid)["answers"]
    assert answers[ids["q"][3]] == ([OTHER_OPTION], "Egen modell", "")
    assert answers[ids["q"][2]] == ("12", "", "Två tjänster är vakanta")


def test_save_and_continue_later_keeps_a_draft_without_required_answers(app, sites, anon):
    ids = make_questionnaire(app)
    rid, token = make_request(app, sites[0], ids["id"])
    # A post without a valid CSRF token (a lost session cookie) saves nothing but keeps what was typed.
    r = anon.post(f"/matning/{token}", form(app, rid, ids["q"], {5: "Skrivet länge sedan"}), csrf=False)
    assert r.status_code == 400 and "Skrivet länge sedan" in r.get_data(as_text=True)
    assert "Ingenting har sparats" in text(r) and request_row(app, rid)["last_saved_at"] is None
    r = anon.post(f"/matning/{token}", form(app, rid, ids["q"], {1: "Ja", 3: "1 234,5", "4-annat": "Halvskrivet",
                                                                  2: "ungefär 2015"}))
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/matning/{token}")
    row = request_row(app, rid)
    assert row["last_saved_at"] is not None and row["submitted_at"] is None
    # A draft keeps what was typed, a number in canonical form, an unfinished one as typed.
    assert row["answers"][ids["q"][2]][0] == "1234.5" and row["answers"][ids["q"][1]][0] == "ungefär 2015"
    assert row["answers"][ids["q"][3]] == (None, "Halvskrivet", "")
    # Back later through the same link: everything is there, the number with a decimal comma.
    html = anon.get(f"/matning/{token}").get_data(as_text=True)
    assert 'value="1234,5"' in html and 'value="Halvskrivet"' in html and 'value="Ja" checked' in html
    assert 'value="ungefär 2015"' in html
    log = [e for e in audit_events(app, "measurement.") if e.action == "measurement.saved"]
    assert len(log) == 1 and log[0].actor == f"mätningslänk {rid}" and log[0].user_id is None
    with app.app_context():
        every = db.session.scalars(select(AuditEvent)).all()
        assert all("Halvskrivet" not in json.dumps(e.details or {}, ensure_ascii=False) for e in every)
        assert all(token not in json.dumps(e.details or {}) and token not in e.actor for e in every)


@pytest.mark.parametrize("typed,stored", [
    ("12", "12"), ("1 234", "1234"), ("1\u00a0234,5", "1234.5"), ("12,50", "12.5"), ("-3,25", "-3.25"),
    ("\u22123", "-3"), ("0,0", "0"), ("007", "7"), ("2.5", "2.5"), (" 45 ", "45"), ("1\u202f000\u202f000", "1000000"),
])
def test_numbers_are_read_as_swedes_write_them(typed, stored):
    assert tabulate.number_text(typed) == stored


@pytest.mark.parametrize("typed", ["", "tolv", "12 kr", "1.234,5", "1,2,3", "12e3", "+-3", ",5"])
def test_what_is_not_a_number_is_refused(typed):
    assert tabulate.number_text(typed) is None


def test_a_token_opens_its_own_request_only(app, sites, anon):
    ids = make_questionnaire(app)
    rid_a, token_a = make_request(app, sites[0], ids["id"])
    rid_b, token_b = make_request(app, sites[1], ids["id"])
    assert anon.post(f"/matning/{token_b}", form(app, rid_b, ids["q"], {5: "Beta skrev detta"})).status_code == 302
    before_b = request_row(app, rid_b)

    r = anon.get(f"/matning/{token_a}")
    assert r.status_code == 200
    assert r.headers["Referrer-Policy"] == "no-referrer" and "no-store" in r.headers["Cache-Control"]
    with app.app_context():
        label_b = db.session.get(Site, sites[1]).label
        label_a = db.session.get(Site, sites[0]).label
    assert label_a in text(r) and label_b not in text(r) and "Beta skrev detta" not in text(r)

    # A's link writes A's answers only, whatever is posted; B's version or request id changes nothing.
    data = form(app, rid_a, ids["q"], {5: "Alfa skrev detta"})
    data["request_id"] = str(rid_b)
    assert anon.post(f"/matning/{token_a}", data).status_code == 302
    assert request_row(app, rid_b) == before_b
    assert request_row(app, rid_a)["answers"][ids["q"][4]][0] == "Alfa skrev detta"

    # A token naming B's request with A's nonce, or made for an action plan's link, opens nothing.
    with app.app_context():
        from coordinator import links
        nonce_a = db.session.get(MeasurementRequest, rid_a).nonce
        forged = links.serializer(service.LINK_SALT).dumps({"l": rid_b, "n": nonce_a})
        plan_salt = links.serializer("plan-link").dumps({"l": rid_a, "n": nonce_a})
    for bad in (forged, plan_salt, token_a[:-2] + ("xx" if token_a[-2:] != "xx" else "yy"), "nonsens"):
        r = anon.get(f"/matning/{bad}")
        assert r.status_code == 404 and "Länken fungerar inte" in text(r), bad
        assert anon.post(f"/matning/{bad}", form(app, rid_b, ids["q"], {5: "Intrång"})).status_code == 404
    assert request_row(app, rid_b) == before_b


def test_expired_and_revoked_links_are_refused_in_swedish(app, sites, anon, staff):
    ids = make_questionnaire(app)
    rid, token = make_request(app, sites[0], ids["id"])
    assert anon.get(f"/matning/{token}").status_code == 200
    data = form(app, rid, ids["q"], {5: "Sent svar"})

    with app.app_context():
        db.session.get(MeasurementRequest, rid).expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
        db.session.commit()
    r = anon.get(f"/matning/{token}")
    assert r.status_code == 410 and "Länken har gått ut" in text(r)
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert anon.post(f"/matning/{token}", data).status_code == 410

    # Staff move the last day: the same address works again.
    r = staff.post(f"/matningar/omgang/1/plats/{sites[0]}/sista-dag",
                   {"last_day": (service.today() + timedelta(days=5)).isoformat()})
    assert r.status_code == 302
    assert anon.get(f"/matning/{token}").status_code == 200

    # Revoking says first what happens, and the GET of that step changes nothing.
    step = staff.get(f"/matningar/omgang/1/plats/{sites[0]}/aterkalla")
    assert step.status_code == 200 and "slutar fungera direkt" in text(step)
    assert anon.get(f"/matning/{token}").status_code == 200
    assert confirm_through_page(staff, f"/matningar/omgang/1/plats/{sites[0]}/aterkalla").status_code == 302
    r = anon.get(f"/matning/{token}")
    assert r.status_code == 403 and "Länken är återkallad" in text(r)
    assert anon.post(f"/matning/{token}", data).status_code == 403
    assert request_row(app, rid)["answers"] == {}

    # A new link: the old address stays closed, the new one opens the same request.
    assert staff.post(f"/matningar/omgang/1/plats/{sites[0]}/ny-lank",
                      {"last_day": (service.today() + timedelta(days=9)).isoformat()}).status_code == 302
    assert anon.get(f"/matning/{token}").status_code == 404
    with app.app_context():
        new_token = service.token_for(db.session.get(MeasurementRequest, rid))
    assert anon.get(f"/matning/{new_token}").status_code == 200
    actions = [e.action for e in audit_events(app, "measurement.")]
    assert {"measurement.last_day", "measurement.link_revoked", "measurement.link_renewed"} <= set(actions)


def test_answers_are_submitted_once_and_then_shown_read_only(app, sites, anon):
    ids = make_questionnaire(app)
    rid, token = make_request(app, sites[0], ids["id"])
    first = form(app, rid, ids["q"], COMPLETE, action="skicka")
    r = anon.post(f"/matning/{token}", first)
    assert r.status_code == 302
    stored = request_row(app, rid)
    assert stored["submitted_at"] is not None and stored["answers"][ids["q"][2]][0] == "1234.5"

    page = anon.get(f"/matning/{token}")
    assert "Tack! Svaren skickades in" in text(page) and "Skicka in" not in text(page)
    assert "1234,5" in text(page) and "<form" not in page.get_data(as_text=True).split("<main")[1]

    # The same post again, a changed one, or a save: refused politely, nothing changes.
    for data in (first, form(app, rid, ids["q"], {**COMPLETE, 3: "99"}, action="skicka"),
                 form(app, rid, ids["q"], {5: "Efteråt"}, action="spara")):
        r = anon.post(f"/matning/{token}", data)
        assert r.status_code == 409
        assert "Svaren är redan inskickade" in text(r)
        assert request_row(app, rid) == stored
    assert [e.action for e in audit_events(app, "measurement.") if e.action.startswith("measurement.submitted")] == [
        "measurement.submitted"]


def test_a_double_submit_at_the_same_moment_is_accepted_once(app, sites):
    ids = make_questionnaire(app)
    rid, token = make_request(app, sites[0], ids["id"])
    clients = [Client(app, None), Client(app, None)]
    posts = []
    for i, c in enumerate(clients):
        data = form(app, rid, ids["q"], {**COMPLETE, 3: str(10 + i)}, action="skicka")
        data["csrf_token"] = c._token()
        posts.append(data)
    start = threading.Barrier(2)
    codes: list[int] = []

    def submit(c, data):
        start.wait()
        codes.append(c.post(f"/matning/{token}", data, csrf=False).status_code)

    threads = [threading.Thread(target=submit, args=(c, d)) for c, d in zip(clients, posts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [302, 409]
    row = request_row(app, rid)
    assert row["submitted_at"] is not None and row["answers"][ids["q"][2]][0] in ("10", "11")
    assert len([e for e in audit_events(app, "measurement.") if e.action == "measurement.submitted"]) == 1


def test_a_concurrent_submit_loses_on_the_version_and_writes_nothing(app, sites, anon):
    """The service itself: a save based on a request that another submit has changed meanwhile."""
    from sqlalchemy.orm.exc import StaleDataError
    ids = make_questionnaire(app)
    rid, token = make_request(app, sites[0], ids["id"])
    with app.app_context():
        req = db.session.get(MeasurementRequest, rid)
        questions = list(req.questionnaire.questions)
        version = req.version
        # Meanwhile, the other browser submits (another thread: its own app context and session).
        data = form(app, rid, ids["q"], COMPLETE, action="skicka")
        codes = []
        other = threading.Thread(target=lambda: codes.append(anon.post(f"/matning/{token}", data).status_code))
        other.start()
        other.join()
        assert codes == [302]
        sheet = {q.id: service.Entry(value=v) for q, v in zip(questions, ["Nej", None, "5", ["MI"], "Sent"])}
        with pytest.raises(StaleDataError):
            service.save_answers(req, version, sheet, submit=True)
        db.session.rollback()
    assert request_row(app, rid)["answers"][ids["q"][0]][0] == "Ja"


# --------------------------------------------------------------------------- mail, reminders, invitations

def test_the_link_goes_out_by_mail_through_a_real_smtp_server(app, sites, staff, anon, smtp):
    ids = make_questionnaire(app, round_=1)
    emails = add_contacts(app, sites[0], 2)
    add_contacts(app, sites[1], 1)
    with app.app_context():
        visit = make_visit(sites[0], day=service.today() + timedelta(days=20), n_attendees=0)
        db.session.commit()
        visit_day = visit.date
    page = text(staff.get("/matningar/"))
    assert "0 av 50 har svarat" in page and "0 av 50 har fått länken" in page

    r = staff.post("/matningar/omgang/1/skicka", {"questionnaire": str(ids["id"]), "last_day": ""})
    assert r.status_code == 302
    page = text(staff.get(r.headers["Location"]))
    assert "Länken ligger i utkorgen till 2 besöksplatser." in page and "Utan aktiva kontakter" in page
    assert "2 av 50 har fått länken" in page
    sent = outbox(app, "matning")
    assert len(sent) == 2 and all(m.measurement_request_id is not None for m in sent)
    with app.app_context():
        req = service.request_for(sites[0], 1)
        # Without a date the default is 30 days; with one, the day before the visit.
        assert service.last_valid_day(req) == visit_day - timedelta(days=1)
        assert req.sent_at is not None and req.questionnaire.locked
        token = service.token_for(req)
    # The outbox names the kind and leads to the site's measurement.
    outbox_page = staff.get("/utkorg").get_data(as_text=True)
    assert "Mätning" in outbox_page and f"/matningar/begaran/{sent[0].measurement_request_id}" in outbox_page
    r = staff.get(f"/matningar/begaran/{sent[0].measurement_request_id}")
    assert r.status_code == 302 and "/matningar/omgang/1/plats/" in r.headers["Location"]
    # A second round-wide send skips those who already have it.
    r = staff.post("/matningar/omgang/1/skicka", {"questionnaire": str(ids["id"]), "last_day": ""})
    assert len(outbox(app, "matning")) == 2

    report = deliver(app)
    assert report.sent == 2
    received = {tuple(rcpt): content for _sender, rcpt, content in smtp.handler.received}
    content = received[tuple(emails)]
    msg = email.message_from_bytes(content, policy=policy.default)
    assert msg["Subject"].startswith("Mätning inför besöket – ")
    body = plain_text(content)
    link = next(line for line in body.splitlines() if "/matning/" in line)
    assert link.endswith(f"/matning/{token}")
    assert "Sista dag att svara:" in body and str((visit_day - timedelta(days=1)).day) in body
    html = msg.get_body(("html",)).get_content()
    assert f'href="{link}"' in html
    # The link in the mail opens the form.
    path = link[link.index("/matning/"):]
    assert anon.get(path).status_code == 200
    assert {"measurement.sent", "measurement.request_created"} <= {e.action for e in audit_events(app, "measurement.")}


def test_a_reminder_goes_once_to_those_who_have_not_answered_before_a_near_visit(app, sites, smtp, anon):
    ids = make_questionnaire(app)
    soon, later, done = sites[0], sites[1], sites[2]
    with app.app_context():
        for site_id, days in ((soon, 3), (later, 20), (done, 2)):
            make_visit(site_id, day=service.today() + timedelta(days=days), status=FORSLAG)
        db.session.commit()
    rids = {}
    for site_id in (soon, later, done):
        rid, token = make_request(app, site_id, ids["id"], days=40)
        rids[site_id] = (rid, token)
        with app.app_context():
            service.send(db.session.get(MeasurementRequest, rid))
            db.session.commit()
    rid, token = rids[done]
    assert anon.post(f"/matning/{token}", form(app, rid, ids["q"], COMPLETE, action="skicka")).status_code == 302

    runner = app.test_cli_runner()
    result = runner.invoke(args=["measurement", "remind", "--days", "7", "--json",
                                 "--base-url", "https://samordnaren.example.se"])
    assert result.exit_code == 0, result.output
    reminded = json.loads(result.output)["reminded"]
    assert [r["request_id"] for r in reminded] == [rids[soon][0]]
    # Never twice.
    again = runner.invoke(args=["measurement", "remind", "--days", "7", "--json"])
    assert json.loads(again.output)["reminded"] == []
    assert request_row(app, rids[soon][0])["reminded_at"] is not None
    assert request_row(app, rids[later][0])["reminded_at"] is None
    reminders = outbox(app, "paminnelse")
    assert len(reminders) == 1 and reminders[0].measurement_request_id == rids[soon][0]

    deliver(app)
    subjects = [email.message_from_bytes(c, policy=policy.default)["Subject"] for _s, _r, c in smtp.handler.received]
    assert sum(s.startswith("Påminnelse: Mätning inför besöket") for s in subjects) == 1
    reminder = next(c for _s, _r, c in smtp.handler.received
                    if email.message_from_bytes(c, policy=policy.default)["Subject"].startswith("Påminnelse"))
    assert f"https://samordnaren.example.se/matning/{rids[soon][1]}" in plain_text(reminder)


def test_the_staff_reminder_button_sends_one_reminder_only(app, sites, staff):
    ids = make_questionnaire(app)
    with app.app_context():
        make_visit(sites[0], day=service.today() + timedelta(days=2))
        db.session.commit()
    rid, _token = make_request(app, sites[0], ids["id"])
    with app.app_context():
        service.send(db.session.get(MeasurementRequest, rid))
        db.session.commit()
    assert "1 mätning är aktuell för en påminnelse nu" in text(staff.get("/matningar/"))
    r = staff.post("/matningar/paminnelser?omgang=1", {"days": "7"})
    assert r.status_code == 302 and "1 påminnelse ligger i utkorgen." in text(staff.get(r.headers["Location"]))
    r = staff.post(f"/matningar/omgang/1/plats/{sites[0]}/paminn", {})
    assert r.status_code == 422 and "En påminnelse är redan skickad" in text(r)
    r = staff.post("/matningar/paminnelser?omgang=1", {"days": "0"})
    assert r.status_code == 400 and "Ange mellan 1 och 90 dagar." in text(r)
    assert len(outbox(app, "paminnelse")) == 1


def test_the_visit_invitation_carries_the_link_while_it_is_unanswered(app, sites, staff, anon, smtp):
    ids = make_questionnaire(app)
    with app.app_context():
        visit = make_visit(sites[0], day=service.today() + timedelta(days=30), status=FORSLAG)
        db.session.commit()
        visit_id, version = visit.id, visit.version
    # The link is created without a mail of its own ("skapa"): it goes with the invitation.
    r = staff.post(f"/matningar/omgang/1/plats/{sites[0]}/skapa", {"questionnaire": str(ids["id"]), "last_day": ""})
    assert r.status_code == 302 and outbox(app, "matning") == []
    with app.app_context():
        req = service.request_for(sites[0], 1)
        rid, token = req.id, service.token_for(req)
        assert req.sent_at is None and not req.questionnaire.locked

    assert staff.post(f"/besok/{visit_id}/bjud-in", {"version": str(version)}).status_code == 302
    (invitation,) = outbox(app, "request")
    body = plain_text(invitation.message)
    assert "Inför besöket ber vi er fylla i en kort mätning" in body and f"/matning/{token}" in body
    row = request_row(app, rid)
    assert row["sent_at"] is not None
    with app.app_context():
        assert db.session.get(MeasurementRequest, rid).questionnaire.locked
    assert "measurement.sent_with_invitation" in [e.action for e in audit_events(app, "measurement.")]
    deliver(app)
    (_sender, _rcpt, content), = smtp.handler.received
    assert f"/matning/{token}" in plain_text(content)
    # The calendar itself does not carry the secret link.
    calendar = next(p for p in email.message_from_bytes(content, policy=policy.default).walk()
                    if p.get_content_type() == "text/calendar").get_payload(decode=True)
    assert token.encode() not in calendar

    # Once submitted, a new invitation (an updated programme) no longer carries it.
    assert anon.post(f"/matning/{token}", form(app, rid, ids["q"], COMPLETE, action="skicka")).status_code == 302
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        from coordinator.invites import service as invites
        invites.queue_request(visit)
        db.session.commit()
    latest = outbox(app, "request")[-1]
    assert "/matning/" not in plain_text(latest.message)


def test_staff_see_the_state_and_answers_on_the_visit_page_and_in_the_overview(app, sites, staff, anon):
    ids = make_questionnaire(app)
    with app.app_context():
        visit = make_visit(sites[0], day=service.today() + timedelta(days=10), status=FORSLAG)
        db.session.commit()
        visit_id = visit.id
    page = text(staff.get(f"/besok/{visit_id}"))
    assert "Mätning före besöket" in page and "Ingen mätning är skapad" in page
    rid, token = make_request(app, sites[0], ids["id"])
    anon.post(f"/matning/{token}", form(app, rid, ids["q"], {1: "Ja", 5: "Ett utkast"}))
    page = text(staff.get(f"/besok/{visit_id}"))
    assert "delvis ifylld" in page and "Svaren är sparade men inte inskickade än." in page
    assert anon.post(f"/matning/{token}", form(app, rid, ids["q"], {**COMPLETE, 5: "Vi har en ny mottagning"},
                                              action="skicka")).status_code == 302
    page = text(staff.get(f"/besok/{visit_id}"))
    assert "inskickad" in page and "Vi har en ny mottagning" in page and "1234,5" in page
    assert QUESTIONS[0]["text"] in page
    overview = text(staff.get("/matningar/"))
    assert "1 av 50 har svarat" in overview
    detail = text(staff.get(f"/matningar/omgang/1/plats/{sites[0]}"))
    assert "Vi har en ny mottagning" in detail and "inskickad" in detail
