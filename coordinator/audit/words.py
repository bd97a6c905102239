"""The audit log in words: who did what to which object, as a sentence with a link to the object.

Plain words: every change is recorded by `record(action, obj, **details)` with a short code
("visit.moved") and a few details (dates, counts, field names; never note or plan text). For
people, `describe(events)` turns each event into a `Described`: when (an aware datetime), who (the
user's name, "systemet" for the app itself and the command line, "en kommun via sin länk" for a
kommun's link), a short sentence in the reader's language ("Besöket i Katrineholm (omgång 2)
flyttades från 2016-11-21 till 2016-11-24"), and the object's name and page, when the object still
exists. The sentence is built from the action, the details and the object's identity (site, round,
number, name), never from the text of a note or an action plan. An action without a sentence of its
own gets a general one from its last word ("….created" -> "… skapades").

The objects are read in one query per kind of object and one for the people, whatever the number
of events: the audit log page and each site's time line show many events at once. Audit is the
bottom layer that every capability records into, so the models are found by their table names
rather than imported from the capabilities.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from flask import current_app, has_app_context, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from ..extensions import db
from ..i18n import _
from . import AuditEvent

SYSTEM_ACTORS = ("system", "cli")


def N_(s: str) -> str:
    """Marks a phrase for translation; it is translated where it is used (with its values)."""
    return s

LINK_ACTOR = re.compile(r"^(kommunlänk|mätningslänk|datumlänk) \d+$")


@dataclass
class Described:
    event: AuditEvent
    when: datetime        # aware (UTC)
    who: str
    text: str             # one sentence, in the reader's language
    url: str | None       # the object's page, if the object still exists and has one
    label: str | None     # the object's name (the link's text)


# --------------------------------------------------------------------------- kinds of object

@dataclass(frozen=True)
class Kind:
    noun: Callable[[], str]                       # the kind in words ("Besök"), for the log's filter
    phrase: Callable[[Any, dict], str | None]     # the object as a definite phrase ("besöket i …"), or None
    generic: Callable[[], str]                    # the definite phrase when the object is unknown ("besöket")
    url: Callable[[Any], str | None] = lambda obj: None
    loads: tuple[str, ...] = ()                   # many-to-one paths to read with the object ("site.kommun")


def _url(endpoint: str, **values) -> str | None:
    """The page's URL, or None when that page does not exist in this app (or cannot take the values)."""
    if not has_app_context() or endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _site(site) -> str:
    return site.label if site is not None else _("okänd plats")


def _visit_phrase(v) -> str:
    return _("besöket i %(site)s (omgång %(n)s)", site=_site(v.site), n=v.round)


def _plan_site(plan) -> str:
    return _site(plan.site if plan is not None else None)


def _note_phrase(note, d) -> str | None:
    if note.visit is not None:
        return _("anteckningen från %(site)s (omgång %(n)s)", site=_site(note.visit.site), n=note.visit.round)
    if note.event is not None:
        return _("anteckningen från %(event)s", event=note.event.title)
    return None


def _note_url(note) -> str | None:
    if note.visit_id is not None:
        return _url("dialogue.note", visit_id=note.visit_id)
    return _url("dialogue.event_note", event_id=note.event_id) if note.event_id is not None else None


def _attendee_url(a) -> str | None:
    if a.visit_id is not None:
        return _url("invites.replies", visit_id=a.visit_id)
    return _url("events.event", event_id=a.event_id) if a.event_id is not None else None


def _outbox_url(m) -> str | None:
    if m.visit_id is not None:
        return _url("invites.replies", visit_id=m.visit_id)
    if m.event_id is not None:
        return _url("events.event", event_id=m.event_id)
    if m.measurement_request_id is not None:
        return _url("measurement.request_page", request_id=m.measurement_request_id)
    return _url("invites.outbox_page")


def _named(template: str, key: str = "name"):
    """A phrase from the object's attribute `key`, or from the details' `name` once it is deleted."""
    def phrase(obj, d):
        value = getattr(obj, key, None) if obj is not None else d.get("name")
        return _(template, name=value) if value else None
    return phrase


KINDS: dict[str, Kind] = {
    "visit": Kind(lambda: _("Besök"), lambda v, d: _visit_phrase(v) if v is not None else None,
                  lambda: _("besöket"), lambda v: _url("scheduling.visit", visit_id=v.id), ("site.kommun",)),
    "date_offer": Kind(lambda: _("Datum till kommunen"),
                       lambda o, d: _("datumen till %(site)s (omgång %(n)s)", site=_site(o.visit.site), n=o.visit.round)
                       if o is not None else None,
                       lambda: _("datumen till kommunen"), lambda o: _url("scheduling.visit", visit_id=o.visit_id),
                       ("visit.site.kommun",)),
    "site": Kind(lambda: _("Besöksplats"),
                 lambda s, d: _("besöksplatsen %(site)s", site=s.label) if s is not None else None,
                 lambda: _("besöksplatsen"), lambda s: _url("sites.site", site_id=s.id), ("kommun",)),
    "sample": Kind(lambda: _("Urval"), _named(N_("urvalet %(name)s")), lambda: _("urvalet"),
                   lambda s: _url("sampling.detail", sample_id=s.id)),
    "decline": Kind(lambda: _("Avböjande"),
                    lambda x, d: _("avböjandet från %(site)s", site=_site(x.site)) if x is not None else None,
                    lambda: _("avböjandet"), lambda x: _url("sampling.detail", sample_id=x.sample_id),
                    ("site.kommun",)),
    "note": Kind(lambda: _("Anteckning"), lambda n, d: _note_phrase(n, d) if n is not None else None,
                 lambda: _("anteckningen"), _note_url, ("visit.site.kommun", "event")),
    "action_plan": Kind(lambda: _("Handlingsplan"),
                        lambda p, d: _("handlingsplanen för %(site)s", site=_plan_site(p)) if p is not None else None,
                        lambda: _("handlingsplanen"), lambda p: _url("plans.editor", site_id=p.site_id),
                        ("site.kommun",)),
    "plan_goal": Kind(lambda: _("Mål i handlingsplan"),
                      lambda g, d: _("mål %(n)s i handlingsplanen för %(site)s", n=g.position,
                                     site=_plan_site(g.plan)) if g is not None else None,
                      lambda: _("ett mål i handlingsplanen"),
                      lambda g: _url("plans.edit_goal", site_id=g.plan.site_id, goal_id=g.id), ("plan.site.kommun",)),
    "plan_activity": Kind(lambda: _("Aktivitet i handlingsplan"),
                          lambda a, d: _("aktivitet %(nr)s i handlingsplanen för %(site)s",
                                         nr=f"{a.goal.position}.{a.position}", site=_plan_site(a.goal.plan))
                          if a is not None else None,
                          lambda: _("en aktivitet i handlingsplanen"),
                          lambda a: _url("plans.edit_activity", site_id=a.goal.plan.site_id, activity_id=a.id),
                          ("goal.plan.site.kommun",)),
    "plan_link": Kind(lambda: _("Kommunlänk till handlingsplan"),
                      lambda k, d: _("handlingsplanen för %(site)s", site=_plan_site(k.plan)) if k is not None
                      else None,
                      lambda: _("handlingsplanen"), lambda k: _url("plans.editor", site_id=k.plan.site_id),
                      ("plan.site.kommun",)),
    "contact": Kind(lambda: _("Kontakt"),
                    lambda c, d: _("kontakten %(name)s (%(site)s)", name=c.name, site=_site(c.site))
                    if c is not None else None,
                    lambda: _("en kontakt"), lambda c: _url("invites.contact_edit", contact_id=c.id), ("site.kommun",)),
    "attendee": Kind(lambda: _("Inbjuden person"), lambda a, d: a.name if a is not None else None,
                     lambda: _("en inbjuden"), _attendee_url),
    "feed_token": Kind(lambda: _("Kalenderflöde"),
                       lambda f, d: (_("kalenderflödet för %(site)s", site=f.site.label) if f.site is not None
                                     else _("kontorets kalenderflöde")) if f is not None else None,
                       lambda: _("ett kalenderflöde"), lambda f: _url("invites.feeds", _anchor=f"flode-{f.id}"),
                       ("site.kommun",)),
    "outbox_message": Kind(lambda: _("E-brev"), _named(N_("e-brevet ”%(name)s”"), "subject"), lambda: _("utkorgen"),
                           _outbox_url),
    "event": Kind(lambda: _("Dialogforum"), _named(N_("dialogforumet %(name)s"), "title"), lambda: _("dialogforumet"),
                  lambda e: _url("events.event", event_id=e.id)),
    "organisation": Kind(lambda: _("Organisation"), _named(N_("organisationen %(name)s")), lambda: _("organisationen"),
                         lambda o: _url("events.edit_organisation", organisation_id=o.id)),
    "theme": Kind(lambda: _("Tema"), _named(N_("temat %(name)s")), lambda: _("temat"),
                  lambda t: _url("dialogue.codebook_theme", theme_id=t.id)),
    "theme_category": Kind(lambda: _("Temakategori"), _named(N_("temakategorin %(name)s")), lambda: _("temakategorin"),
                           lambda c: _url("dialogue.codebook_category", category_id=c.id)),
    "dialogue_question": Kind(lambda: _("Dialogfråga"),
                              lambda q, d: _("dialogfråga %(nr)s", nr=q.nr if q is not None else d.get("nr"))
                              if q is not None or d.get("nr") is not None else None,
                              lambda: _("en dialogfråga"),
                              lambda q: _url("dialogue.question_edit", question_id=q.id)),
    "questionnaire": Kind(lambda: _("Enkät"), _named(N_("enkäten %(name)s")), lambda: _("enkäten"),
                          lambda q: _url("measurement.questionnaire", questionnaire_id=q.id)),
    "question": Kind(lambda: _("Enkätfråga"),
                     lambda q, d: _("fråga %(n)s i enkäten %(name)s", n=q.position, name=q.questionnaire.name)
                     if q is not None else None,
                     lambda: _("en fråga i en enkät"),
                     lambda q: _url("measurement.question", questionnaire_id=q.questionnaire_id, question_id=q.id),
                     ("questionnaire",)),
    "measurement_request": Kind(lambda: _("Mätning"),
                                lambda r, d: _("mätningen för %(site)s (omgång %(n)s)", site=_site(r.site), n=r.round)
                                if r is not None else None,
                                lambda: _("mätningen"), lambda r: _url("measurement.request_page", request_id=r.id),
                                ("site.kommun",)),
    "user_account": Kind(lambda: _("Konto"), _named(N_("kontot för %(name)s")), lambda: _("ett konto"),
                         lambda u: _url("auth.edit_user", user_id=u.id)),
    "phase": Kind(lambda: _("Fas"),
                  lambda p, d: _("fas %(n)s (%(name)s)", n=p.number, name=p.name) if p is not None
                  else (_("fas %(n)s (%(name)s)", n=d["number"], name=d["name"]) if "number" in d and "name" in d
                        else None),
                  lambda: _("en fas"), lambda p: _url("scheduling.settings_phase_edit", phase_id=p.id)),
    "blackout": Kind(lambda: _("Uppehåll"), _named(N_("uppehållet %(name)s")), lambda: _("ett uppehåll"),
                     lambda b: _url("scheduling.settings_blackout_edit", blackout_id=b.id)),
    "staff_member": Kind(lambda: _("Personal"), _named(N_("%(name)s i personalen")),
                         lambda: _("en person i personalen"),
                         lambda m: _url("scheduling.staff_member", staff_id=m.id)),
    "month_pace": Kind(lambda: _("Takt per månad"), lambda x, d: _("takten per månad"), lambda: _("takten per månad"),
                       lambda x: _url("scheduling.pace_page")),
    "assignment": Kind(lambda: _("Uppdraget"), lambda a, d: _("uppdragets inställningar"),
                       lambda: _("uppdragets inställningar"), lambda a: _url("scheduling.settings")),
    "report_narrative": Kind(lambda: _("Rapporttext"),
                             lambda n, d: _("en rapporttext för %(period)s", period=n.period)
                             if n is not None else None,
                             lambda: _("en rapporttext"),
                             lambda n: _url("reports.narrative", period=n.period, section=n.section)),
    "issued_report": Kind(lambda: _("Utfärdad rapport"),
                          lambda r, d: _("rapporten för %(period)s, version %(n)s", period=r.period, n=r.version_number)
                          if r is not None else None,
                          lambda: _("rapporten"), lambda r: _url("reports.issued", report_id=r.id)),
    "population_import": Kind(lambda: _("Import av folkmängd"), _named(N_("importen av %(name)s"), "filename"),
                              lambda: _("importen av folkmängd"),
                              lambda i: _url("registry.import_detail", import_id=i.id)),
    "oj_group": Kind(lambda: _("ÖJ-grupper"), lambda g, d: _("ÖJ-grupperna"), lambda: _("ÖJ-grupperna"),
                     lambda g: _url("registry.settings")),
    # A task's title is typed by staff and may name people: the log names it by its due day only.
    "task": Kind(lambda: _("Uppgift"),
                 lambda t, d: _("uppgiften med sista dag %(day)s", day=t.due_date.isoformat()) if t is not None else None,
                 lambda: _("en uppgift"),
                 lambda t: _url("tasks.task", task_id=t.id) or _url("tasks.index")),
    "avstamning": Kind(lambda: _("Avstämning"),
                       lambda a, d: _("avstämningen %(date)s", date=a.held_on.isoformat()) if a is not None else None,
                       lambda: _("en avstämning"),
                       lambda a: _url("reports.avstamning", avstamning_id=a.id)),
    "demo": Kind(lambda: _("Demodata"), lambda x, d: _("demodata"), lambda: _("demodata")),
    "feedback_letter": Kind(lambda: _("Återkopplingsbrev"),
                            lambda b, d: _("återkopplingsbrevet till %(site)s (omgång %(n)s)", site=_site(b.site),
                                           n=b.round) if b is not None else None,
                            lambda: _("ett återkopplingsbrev"),
                            lambda b: _url("feedback.letter", site_id=b.site_id, round_=b.round), ("site.kommun",)),
}
# Object types that are not rows (no object to read).
ROWLESS = {"demo", "oj_group", "month_pace"}


def kind_choices() -> list[tuple[str, str]]:
    """(object type, kind in words) of every kind of object, sorted by the words: the log's filter."""
    return sorted(((key, k.noun()) for key, k in KINDS.items()), key=lambda pair: pair[1].lower())


# --------------------------------------------------------------------------- what happened

def _fields(d: dict) -> str:
    """The changed fields in words, "status, ansvarig"; unknown field names are left out (they are codes)."""
    words = {
        "status": _("status"), "decided": _("beslutad"), "depends_on_decision": _("beroende av beslut"),
        "depends_on_resources": _("beroende av resurser"), "due_date": _("klart senast"),
        "responsible": _("ansvarig"), "description": _("beskrivning"), "comment": _("kommentar"),
        "kommun_comment": _("kommunens kommentar"), "title": _("rubrik"), "situation": _("läget"),
        "theme_id": _("målområde"), "challenges": _("utmaningar"), "followup_summary": _("uppföljning"),
        "most_urgent": _("det mest angelägna"), "name": _("namn"), "email": _("e-postadress"), "role": _("roll"),
        "phone": _("telefon"), "organisation": _("organisation"), "date": _("datum"), "start_time": _("starttid"),
        "end_time": _("sluttid"), "place": _("plats"), "location": _("plats"), "kind": _("slag"),
        "text": _("text"), "help": _("hjälptext"), "options": _("svarsalternativ"), "required": _("obligatorisk"),
        "skip_rules": _("hoppregler"), "intro": _("inledning"), "round": _("omgång"), "active": _("aktiv"),
        "short_name": _("kortnamn"), "fraga": _("frågan"), "kravtext": _("kravtexten"), "lagrum": _("lagrum"),
        "start_date": _("från"), "end_date": _("till"), "owner_id": _("ansvarig"), "details": _("beskrivning"),
        "outcome": _("utfall"),
    }
    fields = d.get("fields") or []
    if not isinstance(fields, list):
        return ""
    return ", ".join(dict.fromkeys(words[f] for f in fields if isinstance(f, str) and f in words))


def _with_fields(sentence: str, d: dict) -> str:
    fields = _fields(d)
    return f"{sentence[:-1]} ({fields})." if fields and sentence.endswith(".") else sentence


def _answer(code: Any) -> str:
    words = {"NEEDS-ACTION": _("Inte svarat"), "ACCEPTED": _("Tackat ja"), "DECLINED": _("Tackat nej"),
             "TENTATIVE": _("Preliminärt"), "DELEGATED": _("Delegerat")}
    return words.get(code, _("ett svar"))


def _role(code: Any) -> str:
    words = {"admin": _("administratör"), "staff": _("handläggare"), "reader": _("läsare")}
    return words.get(code, _("okänd roll"))


def _n(d: dict, key: str) -> Any:
    value = d.get(key)
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else "–"


# Every action recorded in coordinator/ has its own sentence (tests/test_audit_words.py checks it).
SENTENCES: dict[str, Callable[[str, dict], str]] = {
    "assignment.changed": lambda what, d: _("%(what)s ändrades.", what=what),
    "auth.login": lambda what, d: _("Inloggning."),
    "auth.login_failed": lambda what, d: _("Misslyckat inloggningsförsök."),
    "auth.logout": lambda what, d: _("Utloggning."),
    "auth.password_changed": lambda what, d: _("Lösenordet byttes."),
    "auth.user_changed": lambda what, d: _("%(what)s ändrades.", what=what),
    "blackout.changed": lambda what, d: _("%(what)s ändrades.", what=what),
    "blackout.created": lambda what, d: _("%(what)s lades till.", what=what),
    "blackout.deleted": lambda what, d: _("%(what)s togs bort.", what=what),
    "contact.activated": lambda what, d: _("%(what)s aktiverades.", what=what),
    "contact.deactivated": lambda what, d: _("%(what)s inaktiverades.", what=what),
    "contact.created": lambda what, d: _("%(what)s lades till.", what=what),
    "contact.updated": lambda what, d: _("%(what)s ändrades.", what=what),
    "contacts.imported": lambda what, d: _("Kontakter importerades (%(n)s rader).", n=_n(d, "rows")),
    "demo.created": lambda what, d: _("Demodata skapades."),
    "demo.working_data_deleted": lambda what, d: _("Arbetsdata togs bort inför nya demodata."),
    "dialogue_question.created": lambda what, d: _("%(what)s lades till.", what=what),
    "dialogue_question.updated": lambda what, d: _("%(what)s ändrades.", what=what),
    "event.attendance": lambda what, d: _("Närvaron registrerades för %(what)s.", what=what),
    "event.attendee_added": lambda what, d: _("En person bjöds in till %(what)s.", what=what),
    "event.attendee_removed": lambda what, d: _("En inbjuden togs bort från %(what)s.", what=what),
    "event.cancelled": lambda what, d: _("%(what)s ställdes in.", what=what),
    "event.created": lambda what, d: _("%(what)s skapades.", what=what),
    "event.held": lambda what, d: _("%(what)s markerades som genomfört.", what=what),
    "event.updated": lambda what, d: _("%(what)s ändrades.", what=what),
    "feedback.letter_approved": lambda what, d: _("%(what)s godkändes.", what=what),
    "feedback.letter_created": lambda what, d: _("%(what)s påbörjades.", what=what),
    "feedback.letter_opened": lambda what, d: _("Kommunen öppnade %(what)s.", what=what),
    "feedback.letter_saved": lambda what, d: _("Texten i %(what)s sparades.", what=what),
    "feedback.letter_sent": lambda what, d: _("%(what)s lades i utkorgen till kommunen.", what=what),
    "feed.created": lambda what, d: _("%(what)s skapades.", what=what),
    "feed.revoked": lambda what, d: _("%(what)s återkallades.", what=what),
    "invite.cancel_not_sent": lambda what, d: _("Inget återbud behövdes för %(what)s.", what=what),
    "measurement.exported": lambda what, d: _("Resultaten för %(what)s exporterades.", what=what),
    "measurement.last_day": lambda what, d: _("Sista svarsdag för %(what)s blev %(day)s.", what=what,
                                      day=_n(d, "valid_through")),
    "measurement.link_renewed": lambda what, d: _("Länken till %(what)s förnyades.", what=what),
    "measurement.link_revoked": lambda what, d: _("Länken till %(what)s återkallades.", what=what),
    "measurement.question_added": lambda what, d: _("%(what)s lades till.", what=what),
    "measurement.question_moved": lambda what, d: _("%(what)s flyttades.", what=what),
    "measurement.question_removed": lambda what, d: _("%(what)s togs bort.", what=what),
    "measurement.question_updated": lambda what, d: _("%(what)s ändrades.", what=what),
    "measurement.questionnaire_archived": lambda what, d: _("%(what)s arkiverades.", what=what),
    "measurement.questionnaire_restored": lambda what, d: _("%(what)s togs fram ur arkivet.", what=what),
    "measurement.questionnaire_copied": lambda what, d: _("%(what)s skapades som en kopia.", what=what),
    "measurement.questionnaire_created": lambda what, d: _("%(what)s skapades.", what=what),
    "measurement.questionnaire_locked": lambda what, d: _("%(what)s låstes.", what=what),
    "measurement.questionnaire_updated": lambda what, d: _("%(what)s ändrades.", what=what),
    "measurement.reminded": lambda what, d: _("En påminnelse om %(what)s lades i utkorgen.", what=what),
    "measurement.request_created": lambda what, d: _("%(what)s skapades.", what=what),
    "measurement.request_questionnaire": lambda what, d: _("Enkäten för %(what)s byttes.", what=what),
    "measurement.sent": lambda what, d: _("En länk till %(what)s lades i utkorgen.", what=what),
    "measurement.sent_with_invitation": lambda what, d: _("Länken till %(what)s följde med inbjudan till besöket.",
                                                  what=what),
    "measurement.saved": lambda what, d: _("Kommunen sparade svar i %(what)s.", what=what),
    "measurement.submitted": lambda what, d: _("Kommunen skickade in svaren i %(what)s.", what=what),
    "note.created": lambda what, d: _("%(what)s skapades.", what=what),
    "note.saved": lambda what, d: _("%(what)s sparades.", what=what),
    "note.restored": lambda what, d: _("%(what)s återställdes till en tidigare version.", what=what),
    "organisation.created": lambda what, d: _("%(what)s lades till.", what=what),
    "organisation.updated": lambda what, d: _("%(what)s ändrades.", what=what),
    "organisation.reactivated": lambda what, d: _("%(what)s aktiverades.", what=what),
    "organisation.deactivated": lambda what, d: _("%(what)s inaktiverades.", what=what),
    "outbox.delivered": lambda what, d: _("Utkorgen skickades: %(sent)s skickade, %(retried)s görs om senare, "
                                  "%(failed)s kunde inte skickas.", sent=_n(d, "sent"), retried=_n(d, "retried"),
                                  failed=_n(d, "failed")),
    "outbox.retry": lambda what, d: _("%(what)s lades i kön igen.", what=what),
    "phase.changed": lambda what, d: _("%(what)s ändrades.", what=what),
    "phase.created": lambda what, d: _("%(what)s lades till.", what=what),
    "phase.deleted": lambda what, d: _("%(what)s togs bort.", what=what),
    "plan.activity_added": lambda what, d: _("%(what)s lades till.", what=what),
    "plan.activity_removed": lambda what, d: _("%(what)s togs bort.", what=what),
    "plan.activity_updated": lambda what, d: _("%(what)s uppdaterades.", what=what),
    "plan.created": lambda what, d: _("%(what)s skapades.", what=what),
    "plan.updated": lambda what, d: _("%(what)s uppdaterades.", what=what),
    "plan.followup_updated": lambda what, d: _("Uppföljningen av %(what)s uppdaterades.", what=what),
    "plan.goal_added": lambda what, d: _("%(what)s lades till.", what=what),
    "plan.goal_moved": lambda what, d: _("%(what)s flyttades.", what=what),
    "plan.goal_removed": lambda what, d: _("%(what)s togs bort.", what=what),
    "plan.goal_updated": lambda what, d: _("%(what)s uppdaterades.", what=what),
    "plan.kommun_report": lambda what, d: _("Kommunen rapporterade läget för %(what)s.", what=what),
    "plan.link_created": lambda what, d: _("En kommunlänk till %(what)s skapades.", what=what),
    "plan.link_revoked": lambda what, d: _("En kommunlänk till %(what)s återkallades.", what=what),
    "registry.population_imported": lambda what, d: _("Folkmängd importerades (%(n)s rader).", n=_n(d, "rows")),
    "registry.settings_changed": lambda what, d: _("ÖJ-gruppernas gränser och urvalsinställningar ändrades."),
    "registry.settings_reset": lambda what, d: _("ÖJ-gruppernas gränser och urvalsinställningar återställdes."),
    "report.issued": lambda what, d: _("%(what)s utfärdades.", what=what),
    "report.narrative_saved": lambda what, d: _("%(what)s sparades.", what=what),
    "report.narrative_restored": lambda what, d: _("%(what)s återställdes till en tidigare version.", what=what),
    "sample.adopted": lambda what, d: _("%(what)s antogs.", what=what),
    "sample.deleted": lambda what, d: _("%(what)s togs bort.", what=what),
    "sample.drawn": lambda what, d: _("%(what)s drogs.", what=what),
    "sample.manual_saved": lambda what, d: _("%(what)s sparades som handplockat urval.", what=what),
    "pace.changed": lambda what, d: _("Takten per månad ändrades (%(n)s månader).", n=_n(d, "count")),
    "staff.absence_added": lambda what, d: _("Frånvaro %(start)s–%(end)s lades in för %(what)s.", what=what,
                                             start=_n(d, "start"), end=_n(d, "end")),
    "staff.absence_removed": lambda what, d: _("Frånvaron %(start)s–%(end)s för %(what)s togs bort.", what=what,
                                               start=_n(d, "start"), end=_n(d, "end")),
    "staff.activated": lambda what, d: _("%(what)s gjordes aktiv igen.", what=what),
    "staff.created": lambda what, d: _("%(what)s lades till.", what=what),
    "staff.deactivated": lambda what, d: _("%(what)s gjordes inaktiv.", what=what),
    "staff.updated": lambda what, d: _("%(what)s ändrades.", what=what),
    "task.created": lambda what, d: _("%(what)s skapades.", what=what),
    "task.deleted": lambda what, d: _("%(what)s togs bort.", what=what),
    "task.done": lambda what, d: _("%(what)s markerades som klar.", what=what),
    "task.reopened": lambda what, d: _("%(what)s öppnades igen.", what=what),
    "task.updated": lambda what, d: _("%(what)s ändrades.", what=what),
    "theme.created": lambda what, d: _("%(what)s lades till.", what=what),
    "theme.merged": lambda what, d: _("%(what)s slogs ihop med ett annat tema.", what=what),
    "theme.retired": lambda what, d: _("%(what)s togs ur bruk.", what=what),
    "theme.reactivated": lambda what, d: _("%(what)s togs i bruk igen.", what=what),
    "theme.updated": lambda what, d: _("%(what)s ändrades.", what=what),
    "theme_category.created": lambda what, d: _("%(what)s lades till.", what=what),
    "theme_category.renamed": lambda what, d: _("%(what)s bytte namn.", what=what),
    "theme_category.retired": lambda what, d: _("%(what)s togs ur bruk.", what=what),
    "theme_category.reactivated": lambda what, d: _("%(what)s togs i bruk igen.", what=what),
    "visit.attendee_removed": lambda what, d: (
        _("En inbjuden togs bort från %(what)s och fick besked om det i sin kalender.", what=what) if d.get("cancel_sent")
        else _("En inbjuden togs bort från %(what)s.", what=what)),
    "visit.cancelled": lambda what, d: _("%(what)s ställdes in.", what=what),
    "visit.completed": lambda what, d: _("%(what)s markerades som genomfört.", what=what),
    "visit.confirmed": lambda what, d: _("%(what)s bekräftades.", what=what),
    "visit.created": lambda what, d: _("Besök skapades (%(n)s st.).", n=_n(d, "count")),
    "visit.invited": lambda what, d: _("%(what)s bjöds in.", what=what),
    "visit.planned": lambda what, d: _("Besöken planerades: %(n)s fick datum, %(moved)s av dem flyttades.",
                               n=_n(d, "visits"), moved=_n(d, "moved")),
    "visit.programme_changed": lambda what, d: _("Programmet för %(what)s ändrades.", what=what),
    "visit.programme_sent": lambda what, d: _("Ett uppdaterat program för %(what)s lades i utkorgen.", what=what),
    "visit.staff_changed": lambda what, d: _("Vem som åker på %(what)s ändrades: %(n)s medarbetare.", what=what,
                                             n=_n(d, "count")),
}


def _moved(what: str, d: dict) -> str:
    if d.get("old"):
        return _("%(what)s flyttades från %(old)s till %(new)s.", what=what, old=d["old"], new=_n(d, "new"))
    return _("%(what)s fick datum %(new)s.", what=what, new=_n(d, "new"))


def _queued(what: str, d: dict) -> str:
    if d.get("method") == "CANCEL":
        return _("Ett återbud för %(what)s lades i utkorgen.", what=what)
    return _("En inbjudan till %(what)s lades i utkorgen.", what=what)


def _declined(what: str, d: dict) -> str:
    site = d["site"] if isinstance(d.get("site"), str) and d["site"] else _("En besöksplats")
    if d.get("replacement"):
        return _("%(site)s tackade nej; %(replacement)s ersätter.", site=site, replacement=d["replacement"])
    return _("%(site)s tackade nej; ingen ersättare.", site=site)


SENTENCES.update({
    "visit.moved": _moved,
    "invite.queued": _queued,
    "sample.site_declined": _declined,
    "invite.reply": lambda what, d: _("Ett svar från en kalender registrerades för %(what)s: %(answer)s.", what=what,
                                      answer=_answer(d.get("partstat")).lower()),
    "invite.partstat": lambda what, d: _("Ett svar registrerades för %(what)s: %(answer)s.", what=what,
                                         answer=_answer(d.get("partstat")).lower()),
    "auth.user_created": lambda what, d: _("%(what)s skapades (roll: %(role)s).", what=what, role=_role(d.get("role"))),
    "auth.digest_changed": lambda what, d: (_("%(what)s valde veckobrev.", what=what) if d.get("weekly_digest")
                                            else _("%(what)s avslutade veckobrevet.", what=what)),
    "digest.queued": lambda what, d: _("Ett veckobrev (%(week)s) lades i utkorgen.", week=_n(d, "week")),
    "avstamning.created": lambda what, d: _("%(what)s lades in.", what=_capital(what)),
    "avstamning.updated": lambda what, d: _("%(what)s ändrades.", what=_capital(what)),
    "avstamning.deleted": lambda what, d: _("Avstämningen %(day)s togs bort med sina åtgärder.", day=_n(d, "held_on")),
    "report.reminder_queued": lambda what, d: _("En påminnelse om rapporten för %(period)s (ska lämnas %(due)s) lades i "
                                                "utkorgen till %(n)s personer.", period=_n(d, "period"),
                                                due=_n(d, "due"), n=_n(d, "recipients")),
    "offer.created": lambda what, d: _("%(what)s skickades: %(n)s datum att välja bland.", what=_capital(what),
                                       n=len(d["dates"]) if isinstance(d.get("dates"), list) else "–"),
    "offer.withdrawn": lambda what, d: _("%(what)s drogs tillbaka.", what=_capital(what)),
    "offer.chosen": lambda what, d: _("Kommunen valde %(date)s bland %(what)s.", date=_n(d, "date"), what=what),
    "offer.none_fits": lambda what, d: _("Kommunen svarade att inget av %(what)s passar.", what=what),
    "offer.reminded": lambda what, d: _("En påminnelse om %(what)s lades i utkorgen.", what=what),
    "sample.decline_undone": lambda what, d: _("Ett avböjande ångrades: %(site)s är med i urvalet igen.",
                                               site=d["site"] if isinstance(d.get("site"), str) and d["site"]
                                               else _("besöksplatsen")),
})


def _sentence(action: str, what: str, d: dict) -> str:
    """The sentence for one action; `what` is the object as a definite phrase, `d` the details."""
    if action in SENTENCES:
        sentence = SENTENCES[action](what, d)
        return _with_fields(sentence, d) if action.endswith(("_updated", ".updated", ".changed")) else sentence
    return _generic(action, what, d)


def _generic(action: str, what: str, d: dict) -> str:
    """A sentence for an action without its own, from its last word: created, updated, deleted, done…"""
    verb = action.rpartition(".")[2]
    if verb.endswith(("created", "added", "drawn")):
        return _("%(what)s skapades.", what=what)
    if verb.endswith(("deleted", "removed")):
        return _("%(what)s togs bort.", what=what)
    if verb.endswith(("undone", "reverted")):
        return _("%(what)s ångrades.", what=what)
    if verb.endswith("done"):
        return _("%(what)s markerades som klar.", what=what)
    if verb.endswith(("sent", "queued", "reminded")):
        return _("Ett e-brev om %(what)s lades i utkorgen.", what=what)
    if verb.endswith(("updated", "changed", "saved", "renamed", "moved")):
        return _with_fields(_("%(what)s ändrades.", what=what), d)
    return _("En ändring gjordes: %(what)s.", what=what)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- reading the objects at once

_MODELS: dict[str, type] = {}


def _model(table: str) -> type | None:
    """The mapped class of a table, found in the models' registry (no import of the capabilities)."""
    if not _MODELS:
        for mapper in db.Model.registry.mappers:
            if mapper.local_table is not None:
                _MODELS[mapper.local_table.name] = mapper.class_
    return _MODELS.get(table)


def _loads(cls, paths: tuple[str, ...]) -> list:
    options = []
    for path in paths:
        option, current = None, cls
        for name in path.split("."):
            attr = getattr(current, name)
            option = joinedload(attr) if option is None else option.joinedload(attr)
            current = attr.property.mapper.class_
        options.append(option)
    return options


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 18:
        return int(value)
    return None


# Details that name a related object: read it too, to phrase an event whose own object is gone.
_DETAIL_REFERENCES = {"plan_id": "action_plan", "visit_id": "visit", "questionnaire_id": "questionnaire",
                      "event_id": "event"}


def _objects(events: list[AuditEvent]) -> dict[tuple[str, int], Any]:
    """(table, id) -> object for every object the events name, one query per kind of object."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for e in events:
        oid = _int(e.object_id)
        if e.object_type in KINDS and e.object_type not in ROWLESS and oid is not None:
            wanted[e.object_type].add(oid)
        for key, table in _DETAIL_REFERENCES.items():
            ref = _int((e.details or {}).get(key))
            if ref is not None:
                wanted[table].add(ref)
    found: dict[tuple[str, int], Any] = {}
    for table, ids in wanted.items():
        cls = _model(table)
        if cls is None:
            continue
        query = select(cls).where(cls.id.in_(ids)).options(*_loads(cls, KINDS[table].loads))
        for obj in db.session.scalars(query).unique():
            found[(table, obj.id)] = obj
    return found


def _people(events: list[AuditEvent]) -> tuple[dict[int, Any], dict[str, Any]]:
    """Users by id and by e-mail (the command line records the e-mail), in one query."""
    ids = {e.user_id for e in events if e.user_id is not None}
    emails = {e.actor for e in events if e.user_id is None and e.actor and "@" in e.actor}
    if not ids and not emails:
        return {}, {}
    cls = _model("user_account")
    users = db.session.scalars(select(cls).where(or_(cls.id.in_(ids), cls.email.in_(emails)))).all()
    return {u.id: u for u in users}, {u.email: u for u in users}


def who_of(e: AuditEvent, by_id: dict, by_email: dict) -> str:
    if e.user_id is not None and e.user_id in by_id:
        return by_id[e.user_id].name
    actor = e.actor or ""
    if actor in SYSTEM_ACTORS:
        return _("systemet")
    if LINK_ACTOR.match(actor):
        return _("en kommun via sin länk")
    if actor in by_email:
        return by_email[actor].name
    return actor or _("okänd")


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def describe(events: list[AuditEvent]) -> list[Described]:
    """Each event in words, in the given order; a constant number of SQL statements for any number of events."""
    events = list(events)
    objects = _objects(events)
    by_id, by_email = _people(events)
    out = []
    for e in events:
        d = e.details if isinstance(e.details, dict) else {}
        kind = KINDS.get(e.object_type or "")
        oid = _int(e.object_id)
        obj = objects.get((e.object_type, oid)) if kind is not None and oid is not None else None
        phrase = None
        if kind is not None:
            phrase = kind.phrase(obj, d) if obj is not None or e.object_type in ROWLESS else kind.phrase(None, d)
            if phrase is None:
                parent = _parent_phrase(e.object_type, d, objects)
                phrase = parent or kind.generic()
        what = phrase or _("något")
        text = _capital(_sentence(e.action, what, d))
        url = kind.url(obj) if kind is not None and obj is not None else None
        label = _capital(phrase) if phrase and (obj is not None or e.object_type in ROWLESS) else None
        out.append(Described(event=e, when=_aware(e.at), who=who_of(e, by_id, by_email), text=text,
                             url=url, label=label))
    return out


def _parent_phrase(object_type: str | None, d: dict, objects: dict) -> str | None:
    """For an object that is gone (a removed goal or activity), its plan, visit or questionnaire, in words."""
    plan = objects.get(("action_plan", _int(d.get("plan_id"))))
    if plan is not None and object_type == "plan_goal":
        return _("ett mål i handlingsplanen för %(site)s", site=_plan_site(plan))
    if plan is not None and object_type == "plan_activity":
        return _("en aktivitet i handlingsplanen för %(site)s", site=_plan_site(plan))
    questionnaire = objects.get(("questionnaire", _int(d.get("questionnaire_id"))))
    if questionnaire is not None and object_type == "question":
        return _("en fråga i enkäten %(name)s", name=questionnaire.name)
    visit = objects.get(("visit", _int(d.get("visit_id"))))
    if visit is not None and object_type == "outbox_message":
        return _("ett e-brev om %(visit)s", visit=_visit_phrase(visit))
    return None
