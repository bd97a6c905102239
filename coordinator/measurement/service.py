"""Pre-visit measurement: the questionnaires the office builds, the kommun's link per site and
round, sending and reminders through the outbox, and the kommun's answers (saved, submitted once).

Nothing here commits; the views and the CLI do. Every change is audited in the same transaction
(ids, counts and field names; never an answer's text, never a token).

Locking: a questionnaire's `version` guards its fields and its questions (a change to a question
raises it). Once sent (or answered) a questionnaire is `locked`: its questions no longer change,
so every kommun answers the same questions; it can be copied. A request's `version` guards the
kommun's answers: a save or a submit first raises it (UPDATE … WHERE version = the old one), so of
two concurrent submits exactly one wins and the other finds the answers already submitted.
"""
from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable, Mapping, Protocol, Sequence

from sqlalchemy import func, select

from .. import links
from ..audit import record
from ..contacts.models import Contact
from ..extensions import db
from ..i18n import _
from ..invites.service import invitation_extras
from ..links import ACTIVE, EXPIRED, REVOKED, last_valid_day, link_state, today
from ..outbox.letters import as_text
from ..outbox.models import PENDING, OutboxMessage
from ..sampling.models import Site
from ..sampling.service import adopted_sample
from ..scheduling.models import INSTALLD, Visit
from ..timeutil import utcnow
from ..versions import Stale, check_version
from . import mailtext, rules
from .tabulate import NUMBER_RE, number_text
from .models import (MANY, NUMBER, ONE, OTHER_OPTION, QUESTION_KINDS, TEXT, MeasurementAnswer, MeasurementRequest,
                     Question, Questionnaire)

ROUNDS = (1, 2)
LINK_SALT = "measurement-link"
LINK_ACTOR = "mätningslänk {id}"
LINK_DAYS = 30          # a link's life when the visit has no date to answer before
REMIND_DAYS = 7         # remind when the visit is this close
TEXT_MAX = 10_000
SEND_KIND, REMINDER_KIND = "matning", "paminnelse"

# A site's state in a round, in the order of progress.
NOT_SENT, SENT, SAVED, SUBMITTED = "ej_skickad", "skickad", "sparad", "inskickad"
STATES = (NOT_SENT, SENT, SAVED, SUBMITTED)


class MeasurementError(Exception):
    """A request the rules refuse; the message is for the user."""


class StaleError(MeasurementError, Stale):
    """The form was based on an older version: someone else saved in between. Nothing was changed."""


class LockedError(MeasurementError):
    """The questionnaire has been sent: its questions no longer change."""


class SubmittedError(MeasurementError):
    """The kommun has already submitted its answers: they no longer change."""


class RuleError(MeasurementError):
    """The skip rules would not hold; `problems` are the messages (translated)."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


class AnswerErrors(MeasurementError):
    """The kommun's answers cannot be submitted: {question id: [messages]}. Nothing was saved."""

    def __init__(self, errors: dict[int, list[str]]):
        super().__init__("answers")
        self.errors = errors


def _set(obj, values: Mapping[str, Any]) -> list[str]:
    """Set the attributes that differ; the names of those changed."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


# --------------------------------------------------------------------------- questionnaires

QUESTIONNAIRE_FIELDS = ("name", "intro", "round")
QUESTION_FIELDS = ("text", "help", "kind", "required", "options", "other_option", "comment", "skip_rules")


def questionnaires() -> list[Questionnaire]:
    return list(db.session.scalars(select(Questionnaire).order_by(Questionnaire.archived, Questionnaire.id.desc())))


def rounds_of(questionnaire: Questionnaire) -> tuple[int, ...]:
    return ROUNDS if questionnaire.round is None else (questionnaire.round,)


def _editable(questionnaire: Questionnaire) -> None:
    if questionnaire.locked:
        raise LockedError(_("Enkäten är låst eftersom den har skickats till kommunerna: frågorna kan inte ändras "
                            "längre, så att alla svarar på samma frågor. Gör en kopia om du vill ändra den."))


def _touch(questionnaire: Questionnaire) -> None:
    """Mark the questionnaire changed: its version rises at the flush (and the flush checks the old one)."""
    questionnaire.updated_at = utcnow()


def _lock(questionnaire: Questionnaire, reason: str) -> None:
    if not questionnaire.locked:
        questionnaire.locked = True
        record("measurement.questionnaire_locked", questionnaire, reason=reason)


def normalise_question(values: Mapping[str, Any]) -> dict[str, Any]:
    """Only what the kind uses: options and "Annat, ange" for choices, skip rules for one choice."""
    kind = values["kind"]
    if kind not in QUESTION_KINDS:
        raise MeasurementError(_("Okänd frågetyp."))
    choices = kind in (ONE, MANY)
    options = list(values.get("options") or []) if choices else []
    return {
        "text": values["text"], "help": values.get("help") or "", "kind": kind,
        "required": bool(values.get("required")), "options": options,
        "other_option": bool(values.get("other_option")) and choices, "comment": bool(values.get("comment")),
        "skip_rules": {o: int(t) for o, t in (values.get("skip_rules") or {}).items() if o in options}
        if kind == ONE else {},
    }


def rule_messages(questions: Sequence[Question]) -> list[str]:
    return [_(message, **params) for _position, message, params in rules.rule_problems(questions)]


def _valid_rules(questions: Sequence[Question]) -> None:
    problems = rule_messages(questions)
    if problems:
        raise RuleError(problems)


def _renumber(before: Sequence[Question], after: Sequence[Question]) -> None:
    """Number `after` 1, 2, … keeping every skip rule on the same question: a rule to a removed
    question goes to the one that followed it, a rule to the end stays at the end."""
    end = object()
    kept = {id(q) for q in after}
    old = sorted(before, key=lambda q: q.position)

    def target_of(position: int):
        return next((q for q in old if q.position >= position and id(q) in kept), end)

    targets = [(q, {option: target_of(int(t)) for option, t in (q.skip_rules or {}).items()}) for q in after]
    for n, q in enumerate(after, start=1):
        q.position = n
    for q, rule in targets:
        if rule:  # a new dict: the JSON column sees only assignments
            q.skip_rules = {option: len(after) + 1 if t is end else t.position for option, t in rule.items()}


def create_questionnaire(values: Mapping[str, Any], user=None) -> Questionnaire:
    questionnaire = Questionnaire(name=values["name"], intro=values.get("intro") or "", round=values.get("round"),
                                  locked=False, archived=False)
    db.session.add(questionnaire)
    db.session.flush()
    record("measurement.questionnaire_created", questionnaire, round=questionnaire.round)
    return questionnaire


def update_questionnaire(questionnaire: Questionnaire, expected_version, values: Mapping[str, Any],
                         user=None) -> list[str]:
    check_version(expected_version, questionnaire.version, StaleError)
    _editable(questionnaire)
    changed = _set(questionnaire, {k: values[k] for k in QUESTIONNAIRE_FIELDS if k in values})
    if changed:
        db.session.flush()
        record("measurement.questionnaire_updated", questionnaire, fields=changed)
    return changed


def set_archived(questionnaire: Questionnaire, expected_version, archived: bool, user=None) -> bool:
    """Archived questionnaires are not offered for sending; their answers stay. Allowed when locked."""
    check_version(expected_version, questionnaire.version, StaleError)
    if questionnaire.archived == archived:
        return False
    questionnaire.archived = archived
    db.session.flush()
    record("measurement.questionnaire_archived" if archived else "measurement.questionnaire_restored",
           questionnaire)
    return True


def copy_questionnaire(questionnaire: Questionnaire, user=None) -> Questionnaire:
    """A new, unlocked questionnaire with the same questions and rules."""
    copy = Questionnaire(name=_("Kopia av %(name)s", name=questionnaire.name)[:200], intro=questionnaire.intro,
                         round=questionnaire.round, locked=False, archived=False)
    for q in questionnaire.questions:
        copy.questions.append(Question(position=q.position,
                                       **{name: deepcopy(getattr(q, name)) for name in QUESTION_FIELDS}))
    db.session.add(copy)
    db.session.flush()
    record("measurement.questionnaire_copied", copy, source_id=questionnaire.id, questions=len(copy.questions))
    return copy


def add_question(questionnaire: Questionnaire, expected_version, values: Mapping[str, Any], user=None) -> Question:
    check_version(expected_version, questionnaire.version, StaleError)
    _editable(questionnaire)
    before = list(questionnaire.questions)
    question = Question(position=len(before) + 1, **normalise_question(values))
    questionnaire.questions.append(question)
    _renumber(before, before + [question])
    _valid_rules(questionnaire.questions)
    _touch(questionnaire)
    db.session.flush()
    record("measurement.question_added", question, questionnaire_id=questionnaire.id, position=question.position,
           kind=question.kind)
    return question


def update_question(question: Question, expected_version, values: Mapping[str, Any], user=None) -> list[str]:
    questionnaire = question.questionnaire
    check_version(expected_version, questionnaire.version, StaleError)
    _editable(questionnaire)
    changed = _set(question, normalise_question(values))
    _valid_rules(questionnaire.questions)
    if changed:
        _touch(questionnaire)
        db.session.flush()
        record("measurement.question_updated", question, questionnaire_id=questionnaire.id, fields=changed)
    return changed


def remove_question(question: Question, expected_version, user=None) -> None:
    questionnaire = question.questionnaire
    check_version(expected_version, questionnaire.version, StaleError)
    _editable(questionnaire)
    before = list(questionnaire.questions)
    record("measurement.question_removed", question, questionnaire_id=questionnaire.id, position=question.position)
    _renumber(before, [q for q in before if q is not question])
    questionnaire.questions.remove(question)
    db.session.delete(question)
    _touch(questionnaire)
    db.session.flush()


def move_question(question: Question, direction: str, expected_version, user=None) -> bool:
    """Swap with the question above ("upp") or below ("ned"); False at the end of the list.

    Rules keep pointing at the same question; a move that would make a rule jump backwards is refused.
    """
    questionnaire = question.questionnaire
    check_version(expected_version, questionnaire.version, StaleError)
    _editable(questionnaire)
    before = sorted(questionnaire.questions, key=lambda q: q.position)
    i = before.index(question)
    j = i - 1 if direction == "upp" else i + 1
    if direction not in ("upp", "ned") or not 0 <= j < len(before):
        return False
    after = list(before)
    after[i], after[j] = after[j], after[i]
    _renumber(before, after)
    _valid_rules(after)
    _touch(questionnaire)
    db.session.flush()
    record("measurement.question_moved", question, questionnaire_id=questionnaire.id, direction=direction,
           position=question.position)
    return True


def usable_for(round_: int) -> list[Questionnaire]:
    """The questionnaires that can be sent in a round: not archived, for that round, with questions."""
    return [q for q in questionnaires() if not q.archived and round_ in rounds_of(q) and q.questions]


def check_sendable(questionnaire: Questionnaire, round_: int) -> None:
    if questionnaire.archived:
        raise MeasurementError(_("Enkäten är arkiverad och kan inte skickas."))
    if round_ not in rounds_of(questionnaire):
        raise MeasurementError(_("Enkäten gäller inte omgång %(n)d.", n=round_))
    if not questionnaire.questions:
        raise MeasurementError(_("Enkäten har inga frågor än."))
    _valid_rules(questionnaire.questions)


# --------------------------------------------------------------------------- the sites' requests

def sites() -> list[Site]:
    """The active sites of the adopted sample, in the sample's order ([] without one)."""
    sample = adopted_sample()
    return sample.active_sites if sample else []


def request_for(site_id: int, round_: int) -> MeasurementRequest | None:
    return db.session.scalar(select(MeasurementRequest).where(MeasurementRequest.site_id == site_id,
                                                              MeasurementRequest.round == round_))


def visit_for(site_id: int, round_: int) -> Visit | None:
    return db.session.scalar(select(Visit).where(Visit.site_id == site_id, Visit.round == round_))


def state_of(req: MeasurementRequest | None) -> str:
    if req is None or (req.sent_at is None and req.last_saved_at is None and req.submitted_at is None):
        return NOT_SENT
    if req.submitted_at is not None:
        return SUBMITTED
    return SAVED if req.last_saved_at is not None else SENT


def default_last_day(visit: Visit | None) -> date:
    """The day before the visit when that is at least tomorrow; else LINK_DAYS from today."""
    day = today()
    if visit is not None and visit.date is not None and visit.date - timedelta(days=1) > day:
        return visit.date - timedelta(days=1)
    return day + timedelta(days=LINK_DAYS)


def _future(last_day: date) -> date:
    if last_day <= today():
        raise MeasurementError(_("Sista svarsdagen måste vara i morgon eller senare."))
    return last_day


def ensure_request(site: Site, round_: int, questionnaire: Questionnaire, last_day: date | None = None,
                   user=None) -> MeasurementRequest:
    """The site's request for the round, created when missing (with its link). A request not yet
    sent nor answered takes the given questionnaire (and last day, when one is given); otherwise it
    keeps its own."""
    check_sendable(questionnaire, round_)
    req = request_for(site.id, round_)
    if req is None:
        day = _future(last_day or default_last_day(visit_for(site.id, round_)))
        req = MeasurementRequest(questionnaire=questionnaire, site=site, round=round_, nonce=links.new_nonce(),
                                 created_at=utcnow().replace(microsecond=0), created_by_id=getattr(user, "id", None),
                                 expires_at=links.expires_at_for(day))
        db.session.add(req)
        db.session.flush()
        record("measurement.request_created", req, site_id=site.id, round=round_, questionnaire_id=questionnaire.id,
               valid_through=day.isoformat())
    elif state_of(req) == NOT_SENT and not req.answers:
        if req.questionnaire_id != questionnaire.id:
            req.questionnaire = questionnaire
            db.session.flush()
            record("measurement.request_questionnaire", req, site_id=site.id, round=round_,
                   questionnaire_id=questionnaire.id)
        if last_day is not None and last_day != last_valid_day(req) and req.revoked_at is None:
            set_last_day(req, last_day)
    return req


def contacts_of(site_id: int) -> list[Contact]:
    return list(db.session.scalars(select(Contact).where(Contact.site_id == site_id, Contact.active.is_(True))
                                   .order_by(Contact.id)))


def token_for(req: MeasurementRequest) -> str:
    return links.token_for(req, LINK_SALT)


def resolve_token(token: str) -> MeasurementRequest:
    return links.resolve(token, LINK_SALT, MeasurementRequest)


def request_url(req: MeasurementRequest) -> str:
    return links.external_url("measurement.kommun_form", token=token_for(req))


def _organizer() -> tuple[str, str]:
    from ..invites.service import organizer
    return organizer()


def send(req: MeasurementRequest, user=None, reminder: bool = False) -> OutboxMessage:
    """Queue the mail with the link (or the reminder) to the site's active contacts. Does not commit."""
    if req.submitted_at is not None:
        raise SubmittedError(_("%(site)s har redan skickat in svaren.", site=req.site.label))
    state = link_state(req)
    if state == REVOKED:
        raise MeasurementError(_("Länken till %(site)s är återkallad. Skapa en ny länk först.", site=req.site.label))
    if state == EXPIRED:
        raise MeasurementError(_("Länken till %(site)s har gått ut. Ändra sista svarsdagen först.",
                                 site=req.site.label))
    contacts = contacts_of(req.site_id)
    if not contacts:
        raise MeasurementError(_("%(site)s har inga aktiva kontakter att skicka till.", site=req.site.label))
    check_sendable(req.questionnaire, req.round)
    name, email = _organizer()
    visit = visit_for(req.site_id, req.round)
    letter = mailtext.Letter(site=req.site.label, url=request_url(req), last_day=last_valid_day(req),
                             visit_day=visit.date if visit else None, organizer_name=name, organizer_email=email,
                             reminder=reminder)
    now = utcnow()
    msg = mailtext.build_message(letter, [(c.name, c.email) for c in contacts], now)
    message = OutboxMessage(measurement_request_id=req.id, kind=REMINDER_KIND if reminder else SEND_KIND,
                            recipients=", ".join(c.email for c in contacts), subject=mailtext.subject(letter)[:300],
                            message=as_text(msg), status=PENDING, attempts=0, next_attempt_at=now, last_error="")
    db.session.add(message)
    if reminder:
        req.reminded_at = now
    else:
        req.sent_at = req.sent_at or now
    _lock(req.questionnaire, "sent")
    db.session.flush()
    record("measurement.reminded" if reminder else "measurement.sent", req, site_id=req.site_id, round=req.round,
           outbox_id=message.id, recipients=len(contacts))
    return message


@dataclass
class RoundReport:
    """What a round-wide action did, site by site."""
    done: list[Site] = field(default_factory=list)
    already: list[Site] = field(default_factory=list)        # sent (or answered) before
    no_contacts: list[Site] = field(default_factory=list)
    inactive_link: list[Site] = field(default_factory=list)  # revoked or expired: staff decide


def send_round(round_: int, questionnaire: Questionnaire, last_day: date | None = None, user=None) -> RoundReport:
    """Send the link to every site of the sample that has not had it in the round."""
    check_sendable(questionnaire, round_)
    report = RoundReport()
    for site in sites():
        req = request_for(site.id, round_)
        if state_of(req) != NOT_SENT:
            report.already.append(site)
        elif not contacts_of(site.id):
            report.no_contacts.append(site)
        elif req is not None and link_state(req) != ACTIVE:
            report.inactive_link.append(site)
        else:
            send(ensure_request(site, round_, questionnaire, last_day, user), user)
            report.done.append(site)
    return report


def create_round(round_: int, questionnaire: Questionnaire, last_day: date | None = None,
                 user=None) -> RoundReport:
    """Create the links of a round without mailing them: they go out with the visits' invitations."""
    check_sendable(questionnaire, round_)
    report = RoundReport()
    for site in sites():
        if request_for(site.id, round_) is not None:
            report.already.append(site)
        else:
            ensure_request(site, round_, questionnaire, last_day, user)
            report.done.append(site)
    return report


def due_reminders(days: int = REMIND_DAYS) -> list[MeasurementRequest]:
    """Sent, not submitted, never reminded, link active, and the visit within `days` days from today."""
    start = today()
    rows = db.session.scalars(
        select(MeasurementRequest)
        .join(Visit, (Visit.site_id == MeasurementRequest.site_id) & (Visit.round == MeasurementRequest.round))
        .where(MeasurementRequest.sent_at.isnot(None), MeasurementRequest.submitted_at.is_(None),
               MeasurementRequest.reminded_at.is_(None), MeasurementRequest.revoked_at.is_(None),
               Visit.status != INSTALLD, Visit.date >= start, Visit.date <= start + timedelta(days=days))
        .order_by(Visit.date, MeasurementRequest.id))
    return [r for r in rows if link_state(r) == ACTIVE]


def remind(days: int = REMIND_DAYS, user=None) -> tuple[list[MeasurementRequest], list[MeasurementRequest]]:
    """One reminder per request that is due (never a second: reminded_at). (reminded, without contacts)."""
    reminded, skipped = [], []
    for req in due_reminders(days):
        if contacts_of(req.site_id):
            send(req, user, reminder=True)
            reminded.append(req)
        else:
            skipped.append(req)
    return reminded, skipped


def revoke(req: MeasurementRequest, user=None) -> bool:
    if req.revoked_at is not None:
        return False
    req.revoked_at = utcnow()
    db.session.flush()
    record("measurement.link_revoked", req, site_id=req.site_id, round=req.round)
    return True


def renew_link(req: MeasurementRequest, last_day: date, user=None) -> None:
    """A new link (the old address stops working), valid through `last_day`; the answers stay."""
    if req.submitted_at is not None:
        raise SubmittedError(_("%(site)s har redan skickat in svaren.", site=req.site.label))
    req.expires_at = links.expires_at_for(_future(last_day))
    req.nonce = links.new_nonce()
    req.revoked_at = None
    db.session.flush()
    record("measurement.link_renewed", req, site_id=req.site_id, round=req.round, valid_through=last_day.isoformat())


def set_last_day(req: MeasurementRequest, last_day: date, user=None) -> None:
    """Move the last day of an existing link (the address stays the same)."""
    req.expires_at = links.expires_at_for(_future(last_day))
    db.session.flush()
    record("measurement.last_day", req, site_id=req.site_id, round=req.round, valid_through=last_day.isoformat())


def invitation_links(visit: Visit) -> list[tuple[str, str]]:
    """For a visit's invitation: the (text, link) of the site's questionnaire for the round while it is
    unanswered and its link works. Marks the request sent (the invitation carries it)."""
    req = request_for(visit.site_id, visit.round)
    if req is None or req.submitted_at is not None or link_state(req) != ACTIVE:
        return []
    if req.sent_at is None:
        req.sent_at = utcnow()
        _lock(req.questionnaire, "sent")
        record("measurement.sent_with_invitation", req, site_id=req.site_id, round=req.round, visit_id=visit.id)
    return [(mailtext.invitation_text(last_valid_day(req)), request_url(req))]


@invitation_extras.connect
def _questionnaire_with_invitation(visit: Visit, **_kwargs) -> list[tuple[str, str]]:
    """The site's unanswered questionnaire goes along with a visit's invitation."""
    return invitation_links(visit)


# --------------------------------------------------------------------------- overview

@dataclass
class Row:
    site: Site
    visit: Visit | None
    request: MeasurementRequest | None
    state: str
    link: str | None = None  # ACTIVE / EXPIRED / REVOKED, None without a request


@dataclass
class RoundOverview:
    round: int
    rows: list[Row]

    def count(self, *states: str) -> int:
        return sum(1 for r in self.rows if r.state in states)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def submitted(self) -> int:
        return self.count(SUBMITTED)

    @property
    def sent(self) -> int:
        return self.count(SENT, SAVED, SUBMITTED)

    @property
    def saved(self) -> int:
        return self.count(SAVED)

    @property
    def reminded(self) -> int:
        return sum(1 for r in self.rows if r.request is not None and r.request.reminded_at is not None)


def request_counts(questionnaire: Questionnaire) -> dict[str, int]:
    requests, sent, submitted = db.session.execute(
        select(func.count(MeasurementRequest.id), func.count(MeasurementRequest.sent_at),
               func.count(MeasurementRequest.submitted_at))
        .where(MeasurementRequest.questionnaire_id == questionnaire.id)).one()
    return {"requests": requests, "sent": sent, "submitted": submitted}


def messages_of(req: MeasurementRequest | None) -> list[OutboxMessage]:
    """The mails about a request (the link, the reminder), oldest first."""
    if req is None:
        return []
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.measurement_request_id == req.id)
                                   .order_by(OutboxMessage.id)))


def overview(round_: int) -> RoundOverview:
    """One row per site of the adopted sample with its request and visit of the round (three queries)."""
    site_list = sites()
    ids = [s.id for s in site_list]
    requests = {r.site_id: r for r in db.session.scalars(
        select(MeasurementRequest).where(MeasurementRequest.round == round_, MeasurementRequest.site_id.in_(ids)))}
    visits = {v.site_id: v for v in db.session.scalars(
        select(Visit).where(Visit.round == round_, Visit.site_id.in_(ids)))}
    now = utcnow()
    rows = []
    for s in site_list:
        req = requests.get(s.id)
        rows.append(Row(site=s, visit=visits.get(s.id), request=req, state=state_of(req),
                        link=link_state(req, now) if req is not None else None))
    return RoundOverview(round_, rows)


# --------------------------------------------------------------------------- the kommun's answers

class FormData(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...

    def getlist(self, key: str) -> list[Any]: ...


@dataclass
class Entry:
    """What the kommun gave for one question, as typed (a draft keeps it as it is)."""
    value: Any = None  # str (en, tal, text), list[str] (flera), or None
    other_text: str = ""
    comment: str = ""


def number_for_input(value: Any) -> str:
    """A stored number shown as a Swede writes it (decimal comma); a draft's text as it was typed."""
    if value is None:
        return ""
    text = str(value)
    return text.replace(".", ",") if NUMBER_RE.fullmatch(text) else text


def _text(value: Any) -> str:
    return (value or "").replace("\r\n", "\n").strip()


def choices_of(question: Question) -> list[str]:
    return list(question.options or []) + ([OTHER_OPTION] if question.other_option else [])


def read_sheet(questions: Iterable[Question], form: FormData) -> dict[int, Entry]:
    """The posted form as entries per question id. Fields of any other questionnaire are never read."""
    sheet = {}
    for q in questions:
        name = f"q{q.id}"
        allowed = choices_of(q)
        if q.kind == MANY:
            picked = set(form.getlist(name))
            value: Any = [o for o in allowed if o in picked]
        elif q.kind == ONE:
            value = form.get(name)
            value = value if value in allowed else None
        else:
            value = _text(form.get(name))
        sheet[q.id] = Entry(value=value, other_text=_text(form.get(f"{name}-annat")) if q.other_option else "",
                            comment=_text(form.get(f"{name}-kommentar")) if q.comment else "")
    return sheet


def sheet_of(req: MeasurementRequest) -> dict[int, Entry]:
    """The stored answers as entries (numbers as a Swede writes them)."""
    kinds = {q.id: q.kind for q in req.questionnaire.questions}
    out = {}
    for a in req.answers:
        value = number_for_input(a.value) if kinds.get(a.question_id) == NUMBER else a.value
        out[a.question_id] = Entry(value=value, other_text=a.other_text or "", comment=a.comment or "")
    return out


def has_answer(question: Question, entry: Entry | None) -> bool:
    if entry is None:
        return False
    return bool(entry.value) if question.kind == MANY else entry.value not in (None, "")


def _chose_other(question: Question, entry: Entry) -> bool:
    value = entry.value
    return question.other_option and (value == OTHER_OPTION or (isinstance(value, list) and OTHER_OPTION in value))


def check_sheet(questions: Sequence[Question], sheet: Mapping[int, Entry], submit: bool
                ) -> tuple[set[int], dict[int, list[str]]]:
    """(ids skipped by rule, {id: messages}). Saving checks lengths only; submitting checks everything
    of the questions not skipped: required answers, numbers, the text of "Annat, ange"."""
    skip = rules.skipped(questions, {qid: e.value for qid, e in sheet.items()})
    errors: dict[int, list[str]] = {}
    for q in questions:
        entry = sheet.get(q.id) or Entry()
        messages = []
        if any(len(t) > TEXT_MAX for t in (entry.value if isinstance(entry.value, str) else "", entry.other_text,
                                           entry.comment)):
            messages.append(_("Texten är för lång: högst %(n)d tecken.", n=TEXT_MAX))
        if submit and q.id not in skip:
            if q.required and not has_answer(q, entry):
                messages.append({ONE: _("Välj ett svar."), MANY: _("Välj minst ett alternativ."),
                                 NUMBER: _("Skriv ett tal."), TEXT: _("Skriv ett svar.")}[q.kind])
            if q.kind == NUMBER and has_answer(q, entry) and number_text(entry.value) is None:
                messages.append(_("Skriv ett tal med siffror, till exempel 12 eller 1 234,5."))
            if _chose_other(q, entry) and not entry.other_text:
                messages.append(_("Skriv vad ”Annat” är, eller ta bort krysset."))
        if messages:
            errors[q.id] = messages
    return skip, errors


def save_answers(req: MeasurementRequest, expected_version, sheet: Mapping[int, Entry], submit: bool) -> int:
    """Save the kommun's answers (a draft, or submitted once and for all); the number of answers kept.

    Answers to questions skipped by rule are cleared. Refused: a submitted request (SubmittedError),
    an older version (StaleError), and on submit any error (AnswerErrors): then nothing is saved.
    """
    if req.submitted_at is not None:
        raise SubmittedError(_("Svaren är redan inskickade."))
    check_version(expected_version, req.version, StaleError)
    questions = list(req.questionnaire.questions)
    skip, errors = check_sheet(questions, sheet, submit)
    if errors:
        raise AnswerErrors(errors)
    now = utcnow()
    req.last_saved_at = now
    if submit:
        req.submitted_at = now
    # The request's versioned UPDATE goes first: it takes the row, so a concurrent save or submit
    # waits here and then fails on the version, before it has written any answer.
    db.session.flush()
    _lock(req.questionnaire, "answered")
    stored = {a.question_id: a for a in req.answers}
    kept = 0
    for q in questions:
        entry = sheet.get(q.id) or Entry()
        answer = stored.get(q.id)
        value = entry.value or None
        if q.kind == NUMBER and value is not None:
            value = number_text(value) or value
        other = entry.other_text if not submit or _chose_other(q, entry) else ""
        if q.id in skip or (value is None and not other and not entry.comment):
            if answer is not None:
                req.answers.remove(answer)
            continue
        if answer is None:
            answer = MeasurementAnswer(question_id=q.id)
            req.answers.append(answer)
        answer.value, answer.other_text, answer.comment = value, other, entry.comment
        kept += 1
    db.session.flush()
    record("measurement.submitted" if submit else "measurement.saved", req, actor=LINK_ACTOR.format(id=req.id),
           site_id=req.site_id, round=req.round, answers=kept, skipped=len(skip))
    return kept


# --------------------------------------------------------------------------- reading the answers

@dataclass
class Shown:
    """One question with its answer for reading (staff pages, the kommun after submitting)."""
    question: Question
    entry: Entry | None
    skipped: bool

    @property
    def answered(self) -> bool:
        return has_answer(self.question, self.entry)

    @property
    def values(self) -> list[str]:
        value = self.entry.value if self.entry else None
        if isinstance(value, list):
            return [str(v) for v in value]
        return [] if value in (None, "") else [str(value)]


def shown_answers(req: MeasurementRequest) -> list[Shown]:
    sheet = sheet_of(req)
    questions = list(req.questionnaire.questions)
    skip = rules.skipped(questions, {qid: e.value for qid, e in sheet.items()})
    return [Shown(q, sheet.get(q.id), q.id in skip) for q in questions]


def rule_text(question: Question, last: int) -> list[tuple[list[str], int | None]]:
    """A question's rules grouped by target: ([options], position or None for the end)."""
    grouped: dict[int, list[str]] = {}
    for option in choices_of(question):
        target = (question.skip_rules or {}).get(option)
        if target is not None:
            grouped.setdefault(int(target), []).append(option)
    return [(options, None if target > last else target) for target, options in sorted(grouped.items())]


def panel(visit: Visit) -> dict[str, Any]:
    """What the visit page shows of the site's measurement in the visit's round."""
    req = request_for(visit.site_id, visit.round)
    return {"request": req, "state": state_of(req), "link": link_state(req) if req else None,
            "answers": shown_answers(req) if req is not None and req.answers else []}

