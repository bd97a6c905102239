"""Date offers: the kommun chooses the day of its visit among two or three the planner ranks.

Plain words: the office offers a kommun a few dates for one visit that keep the plan good. The kommun
gets a mail with its own signed link (coordinator/links.py, as for action plans and feedback letters),
opens it without a login and picks one date, or says that none fits and suggests its own days. A pick
becomes the visit's date and marks it agreed (`Visit.agreed`): a re-plan keeps it as if booked
(`Visit.fixed`). Open offers left unanswered get a reminder after `Assignment.offer_reminder_days`.

The ranking (`rank`) is pure: candidate days are the working days of the round's window that keep
every hard rule of `planner.check` with the other visits' current dates (the even monthly pace aside: it
is the whole plan's aim, and a kommun's pick may move a month's count by one) (checked on the visits of the
candidate's ISO week and of the same site, which is all a rule of the checker can involve), not before
today + LEAD_DAYS, and not offered to another visit in an open offer. They are ranked by the extra
kilometres the visit adds to its week's trips (`planner.travel_km`, with and without it), cheapest
first; the visit's current proposed date wins ties, then the earlier day. The offered dates are
spread: a date in a week not yet offered is taken instead of the next best when it costs at most
SPREAD_KM (or SPREAD_SHARE) more.

The service functions below read and write the database but never a request; they do not commit.
Every change is audited with ids, dates and counts, never the kommun's name or comment.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import links
from ..audit import record
from ..contacts.models import Contact
from ..extensions import db
from ..formatting import swedish_date
from ..forms import CONTROL, EARLIEST, LATEST
from ..i18n import _
from ..outbox import letters
from ..outbox.models import PENDING, OutboxMessage
from ..timeutil import utcnow
from ..versions import Stale, check_version
from . import planner
from .defaults import organizer
from .models import (GENOMFORD, INSTALLD, OFFER_CHOSEN, OFFER_NONE_FITS, OFFER_OPEN, OFFER_WITHDRAWN, DateOffer,
                     Visit)

LEAD_DAYS = 3           # no date is offered before today + LEAD_DAYS
MAX_DATES = 5           # at most this many dates in one offer
MAX_SUGGESTED = 5       # the kommun's own suggestions when none fits
COMMENT_MAX = 2000
NAME_MAX = 200
SPREAD_KM = 30.0
SPREAD_SHARE = 0.10
MIN_LINK_DAYS = 14      # a link works through the last offered date, and at least this many days
LINK_SALT = "date-offer"
LINK_ACTOR = "datumlänk {id}"
MAIL_KIND, REMINDER_KIND = "datum", "datum-paminnelse"


class OfferError(Exception):
    """A request the offers' rules refuse; the message is for the user (Swedish)."""


class StaleError(OfferError, Stale):
    """The form was based on an older version of the offer: nothing was changed."""


# --------------------------------------------------------------------------- the ranking (pure)

@dataclass(frozen=True)
class Candidate:
    day: date
    extra_km: float
    current: bool = False

    @property
    def week(self) -> tuple[int, int]:
        return self.day.isocalendar()[:2]

    def key(self) -> tuple:
        return (self.extra_km, not self.current, self.day)


def _week(d: date) -> tuple[int, int]:
    return d.isocalendar()[:2]


def candidates(target: planner.VisitRequest, others: Mapping[tuple[int, int], date],
               sites: Sequence[planner.Site], rules: planner.Rules, taken: Iterable[date] = (),
               check_taken: bool = True) -> list[Candidate]:
    """Every day the visit `target` could take without breaking a hard rule, cheapest first.

    `others`: the other visits' dates by (site id, round), without `target`; `taken`: days offered to
    other visits in open offers (left out); `target.current`: the visit's present date (wins ties)."""
    # The even monthly pace is the plan's aim, checked over a whole round; on the few visits looked at
    # here it would refuse nearly every day. A kommun's pick may move the pace by one (the plan page says).
    rules = replace(rules, level=False)
    others = {k: d for k, d in others.items() if k != target.key}
    by_week: dict[tuple[int, int], dict[tuple[int, int], date]] = {}
    for k, d in others.items():
        by_week.setdefault(_week(d), {})[k] = d
    same_site = {k: d for k, d in others.items() if k[0] == target.site_id}
    taken = set(taken) if check_taken else set()
    week_km: dict[tuple[int, int], float] = {}
    out = []
    for d in rules.allowed_days(target.round):
        if d in taken:
            continue
        wk = _week(d)
        near = {**by_week.get(wk, {}), **same_site}
        requests = [planner.VisitRequest(k[0], k[1]) for k in near] + [planner.VisitRequest(target.site_id,
                                                                                             target.round)]
        before = {(v.code, v.message) for v in planner.check(near, requests[:-1], sites, rules)}
        after = planner.check({**near, target.key: d}, requests, sites, rules)
        if any((v.code, v.message) not in before for v in after):
            continue
        week = by_week.get(wk, {})
        if wk not in week_km:
            week_km[wk] = planner.travel_km(week, sites, rules).km
        extra = planner.travel_km({**week, target.key: d}, sites, rules).km - week_km[wk]
        out.append(Candidate(d, round(extra, 1), d == target.current))
    out.sort(key=Candidate.key)
    return out


def spread(ranked: Sequence[Candidate], count: int) -> list[date]:
    """The `count` dates to offer from `ranked` (cheapest first): the best, then each next one from a week
    not offered yet when it costs at most SPREAD_KM or SPREAD_SHARE more than the next best."""
    rest = list(ranked)
    chosen: list[Candidate] = []
    while rest and len(chosen) < count:
        best = rest[0]
        weeks = {c.week for c in chosen}
        pick = best
        if best.week in weeks:
            alt = next((c for c in rest if c.week not in weeks), None)
            if alt is not None and alt.extra_km <= best.extra_km + max(SPREAD_KM, SPREAD_SHARE * best.extra_km):
                pick = alt
        chosen.append(pick)
        rest.remove(pick)
    return [c.day for c in chosen]


def rank(target: planner.VisitRequest, others: Mapping[tuple[int, int], date], sites: Sequence[planner.Site],
         rules: planner.Rules, count: int, taken: Iterable[date] = ()) -> list[date]:
    """The `count` best dates to offer for `target` (see the module docstring). Pure and deterministic."""
    return spread(candidates(target, others, sites, rules, taken), max(0, count))


# --------------------------------------------------------------------------- reading the database

def office_today() -> date:
    from .overview import today
    return today()


def _rules(today: date | None):
    """The planner's rules as an offer keeps them: from today + LEAD_DAYS, without the even monthly pace."""
    from . import service
    return replace(service.rules((today or office_today()) + timedelta(days=LEAD_DAYS)), level=False)


def _inputs(visit: Visit) -> tuple[planner.VisitRequest, dict, list[planner.Site]]:
    """The planner's view of `visit` and of every other dated visit that is not cancelled."""
    from . import service
    rows = [v for v in service.visits() if v.status != INSTALLD and (v.date is not None or v.id == visit.id)]
    others = {(v.site_id, v.round): v.date for v in rows if v.id != visit.id}
    sites = service._planner_sites(rows)
    target = planner.VisitRequest(visit.site_id, visit.round, current=visit.date)
    return target, others, sites


def _taken(visit: Visit) -> set[date]:
    """Days offered to other visits in open offers."""
    out: set[date] = set()
    for dates in db.session.scalars(select(DateOffer.dates).where(DateOffer.status == OFFER_OPEN,
                                                                  DateOffer.visit_id != visit.id)):
        out.update(date.fromisoformat(d) for d in dates or ())
    return out


def candidate_days(visit: Visit, today: date | None = None, check_taken: bool = True) -> list[Candidate]:
    target, others, sites = _inputs(visit)
    return candidates(target, others, sites, _rules(today), _taken(visit), check_taken=check_taken)


def rank_dates(visit: Visit, count: int | None = None, today: date | None = None) -> list[date]:
    """The best `count` (default the assignment's `offer_count`) dates to offer for `visit`, best first."""
    from .defaults import assignment
    count = assignment().offer_count if count is None else count
    return spread(candidate_days(visit, today), max(0, count))


def contacts_of(site_id: int) -> list:
    return list(db.session.scalars(select(Contact).where(Contact.site_id == site_id, Contact.active.is_(True))
                                   .order_by(Contact.id)))


def open_offer(visit: Visit) -> DateOffer | None:
    return db.session.scalar(select(DateOffer).where(DateOffer.visit_id == visit.id, DateOffer.status == OFFER_OPEN)
                             .order_by(DateOffer.id.desc()).limit(1))


def latest_offer(visit: Visit) -> DateOffer | None:
    """The visit's latest offer that is not withdrawn (open, chosen or none fits)."""
    return db.session.scalar(select(DateOffer).where(DateOffer.visit_id == visit.id,
                                                     DateOffer.status != OFFER_WITHDRAWN)
                             .order_by(DateOffer.id.desc()).limit(1))


def offer_dates(offer: DateOffer) -> list[date]:
    return [date.fromisoformat(d) for d in offer.dates or ()]


def suggested(offer: DateOffer) -> list[date]:
    return [date.fromisoformat(d) for d in offer.suggested_dates or ()]


def token_for(offer: DateOffer) -> str:
    return links.token_for(offer, LINK_SALT)


def offer_url(offer: DateOffer) -> str:
    return links.external_url("scheduling.kommun_offer", token=token_for(offer))


def resolve_token(token: str) -> DateOffer:
    return links.resolve(token, LINK_SALT, DateOffer)


def touch_link(offer: DateOffer) -> None:
    offer.last_used_at = utcnow()


def offer_problems(visit: Visit) -> list[str]:
    """Why the office cannot offer dates for `visit` now (empty: it can)."""
    if visit.status == INSTALLD:
        return [_("Besöket är inställt. Det går inte att erbjuda datum.")]
    if visit.status == GENOMFORD:
        return [_("Besöket är redan genomfört. Det går inte att erbjuda datum.")]
    if visit.agreed:
        return [_("Kommunen har redan valt datum för besöket.")]
    if visit.booked:
        return [_("Besöket är redan bokat med kommunen. Flytta besöket i stället om datumet behöver ändras.")]
    if not contacts_of(visit.site_id):
        return [_("%(site)s har inga aktiva kontakter att skicka till. Lägg till en kontakt först.",
                  site=visit.site.label)]
    return []


# --------------------------------------------------------------------------- the mail

def _mail_facts(offer: DateOffer) -> tuple[str, str, str]:
    name, email = organizer()
    return name, email, offer_url(offer)


def _mail_text(offer: DateOffer, reminder: bool) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the mail (always Swedish: the recipients are Swedish kommuner)."""
    import html
    visit = offer.visit
    name, email, url = _mail_facts(offer)
    which = "första" if visit.round == 1 else "andra"
    site = visit.site.label
    subject = (f"Påminnelse: välj datum för besöket – {site}" if reminder
               else f"Välj datum för besöket – {site}")
    intro = (f"Vi har ännu inte fått ert svar om datum för det {which} besöket av den nationella samordnaren "
             f"i {site}." if reminder else
             f"Den nationella samordnaren planerar det {which} besöket i {site}. Vi föreslår de här datumen:")
    days = [swedish_date(d) for d in offer_dates(offer)]
    ask = ("Välj det datum som passar er bäst med länken nedan. Passar inget av dem kan ni föreslå egna dagar "
           "på samma sida.")
    last = f"Länken är personlig för er kommun och fungerar till och med {swedish_date(links.last_valid_day(offer))}."
    plain = "\n".join(["Hej,", "", intro, *([""] + [f"- {d}" for d in days] if not reminder else
                                              ["", "Datumen vi föreslog:"] + [f"- {d}" for d in days]),
                       "", ask, "", url, "", last, "", "Med vänliga hälsningar", name, email, ""])
    e = html.escape
    items = "".join(f"<li>{e(d)}</li>" for d in days)
    body = "\n".join([
        f'<!doctype html>\n<html lang="sv">\n<head><meta charset="utf-8"><title>{e(subject)}</title></head>\n<body>',
        "<p>Hej,</p>", f"<p>{e(intro)}</p>", f"<ul>{items}</ul>", f"<p>{e(ask)}</p>",
        f'<p><a href="{e(url)}">{e(url)}</a></p>', f"<p>{e(last)}</p>",
        f"<p>Med vänliga hälsningar<br>\n{e(name)}<br>\n{e(email)}</p>", "</body>\n</html>\n"])
    return subject, plain, body


def _queue_mail(offer: DateOffer, contacts: list, reminder: bool, now: datetime):
    subject, plain, body = _mail_text(offer, reminder)
    msg = letters.letter(subject, organizer(), [(c.name, c.email) for c in contacts], plain, body, now)
    topic = f"{REMINDER_KIND}:{offer.id}:{offer.reminders + 1}" if reminder else f"{MAIL_KIND}:{offer.id}"
    message = OutboxMessage(kind=REMINDER_KIND if reminder else MAIL_KIND, topic=topic,
                            recipients=", ".join(c.email for c in contacts), subject=subject[:300],
                            message=letters.as_text(msg), status=PENDING, attempts=0, next_attempt_at=now,
                            last_error="")
    db.session.add(message)
    db.session.flush()
    return message


def mail_state(offer: DateOffer) -> str | None:
    """The offer mail's outbox status (pending, sending, sent, failed), or None."""
    if offer.outbox_message_id is None:
        return None
    message = db.session.get(OutboxMessage, offer.outbox_message_id)
    return message.status if message is not None else None


# --------------------------------------------------------------------------- the office's actions

def _uid(user) -> int | None:
    return getattr(user, "id", None)


def withdraw(offer: DateOffer, user=None, expected_version=None) -> bool:
    """Withdraw an open offer: its link stops working. False when it was not open."""
    if expected_version is not None:
        check_version(expected_version, offer.version, StaleError)
    if offer.status != OFFER_OPEN:
        return False
    offer.status = OFFER_WITHDRAWN
    offer.revoked_at = utcnow()
    db.session.flush()
    record("offer.withdrawn", offer, visit_id=offer.visit_id)
    return True


def offer(visit: Visit, count: int | None = None, user=None, dates: Sequence[date] | None = None,
          today: date | None = None, expected_version=None, now: datetime | None = None) -> DateOffer:
    """Offer dates for `visit` to its kommun: the `count` best (rank_dates), or the office's choice `dates`
    among the days that keep the rules. Withdraws the visit's open offer, makes the signed link, queues the
    mail to the site's active contacts and audits. `now`: when it is sent (the demo dates it in its own
    time; the link's signature carries it). Does not commit."""
    if expected_version is not None:
        check_version(expected_version, visit.version, StaleError)
    problems = offer_problems(visit)
    if problems:
        raise OfferError(problems[0])
    from .defaults import assignment
    if dates is None:
        count = assignment().offer_count if count is None else count
        if not 1 <= count <= MAX_DATES:
            raise OfferError(_("Erbjud mellan 1 och %(n)d datum.", n=MAX_DATES))
        chosen = rank_dates(visit, count, today)
    else:
        chosen = list(dict.fromkeys(dates))
        if not 1 <= len(chosen) <= MAX_DATES:
            raise OfferError(_("Välj mellan 1 och %(n)d datum att erbjuda.", n=MAX_DATES))
        ok = {c.day for c in candidate_days(visit, today)}
        bad = [d for d in chosen if d not in ok]
        if bad:
            raise OfferError(_("%(date)s går inte längre att erbjuda: dagen bryter mot en regel för planeringen "
                               "eller är redan erbjuden till en annan kommun. Välj bland datumen som visas nu.",
                               date=bad[0].isoformat()))
    if not chosen:
        raise OfferError(_("Det finns inget datum kvar i omgångens fönster som håller planeringens regler."))
    old = open_offer(visit)
    if old is not None:
        withdraw(old, user)
    contacts = contacts_of(visit.site_id)
    now = (now or utcnow()).replace(microsecond=0)
    last_day = max(max(chosen), links.today() + timedelta(days=MIN_LINK_DAYS))
    row = DateOffer(visit=visit, visit_id=visit.id, dates=[d.isoformat() for d in chosen], status=OFFER_OPEN,
                    suggested_dates=[], comment="", answered_by="", reminders=0, nonce=links.new_nonce(),
                    created_at=now, created_by_id=_uid(user), expires_at=links.expires_at_for(last_day))
    db.session.add(row)
    db.session.flush()
    message = _queue_mail(row, contacts, False, now)
    row.outbox_message_id = message.id
    db.session.flush()
    record("offer.created", row, visit_id=visit.id, site_id=visit.site_id, round=visit.round, dates=row.dates,
           recipients=len(contacts), outbox_id=message.id, replaced=old.id if old is not None else None)
    return row


# --------------------------------------------------------------------------- the kommun's answers

def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise OfferError(_("Skriv ert namn, så att kansliet vet vem som svarade."))
    if CONTROL.search(name) or "\n" in name or "\r" in name:
        raise OfferError(_("Skriv namnet på en rad, utan specialtecken."))
    if len(name) > NAME_MAX:
        raise OfferError(_("Namnet får vara högst %(n)d tecken.", n=NAME_MAX))
    return name


def _answerable(offer: DateOffer) -> None:
    if offer.status == OFFER_CHOSEN:
        raise OfferError(_("Ett datum är redan valt för besöket. Kontakta kansliet om det behöver ändras."))
    if offer.status == OFFER_NONE_FITS:
        raise OfferError(_("Ni har redan svarat att inget av datumen passar. Kansliet återkommer."))
    if offer.status != OFFER_OPEN or offer.revoked_at is not None:
        raise OfferError(_("Erbjudandet är återkallat. Kontakta kansliet om ni behöver nya datum."))
    if links.link_state(offer) != links.ACTIVE:
        raise OfferError(_("Länken har gått ut. Kontakta kansliet om ni behöver nya datum."))


def parse_day(value) -> date | None:
    """A day from a form ("2015-03-17"), or None when it is no date the app can hold."""
    if isinstance(value, date):
        return value if EARLIEST <= value <= LATEST else None
    text = (value or "").strip() if isinstance(value, str) else ""
    if len(text) != 10 or CONTROL.search(text):
        return None
    try:
        d = date.fromisoformat(text)
    except ValueError:
        return None
    return d if EARLIEST <= d <= LATEST else None


def choose(offer: DateOffer, day, name: str, expected_version=None, today: date | None = None) -> Visit:
    """The kommun picks one of the offered dates: it becomes the visit's date, agreed with the kommun.

    Refused (OfferError) when the offer is answered, withdrawn or expired, the day is not one offered, or
    the day no longer keeps the rules (another visit took it since). Does not commit."""
    check_version(expected_version, offer.version, StaleError)
    _answerable(offer)
    d = parse_day(day)
    if d is None or d not in offer_dates(offer):
        raise OfferError(_("Välj ett av de erbjudna datumen."))
    name = _clean_name(name)
    visit = offer.visit
    if visit.status in (INSTALLD, GENOMFORD) or visit.booked or visit.agreed:
        raise OfferError(_("Besöket har redan bokats eller ändrats av kansliet. Kontakta kansliet."))
    if d not in {c.day for c in candidate_days(visit, today, check_taken=False)}:
        raise OfferError(_("%(date)s går tyvärr inte längre: dagen har tagits av ett annat besök sedan datumen "
                           "skickades. Välj ett annat datum, eller svara att inget av datumen passar.",
                           date=d.isoformat()))
    old = visit.date
    visit.date = d
    visit.agreed = True
    offer.status, offer.chosen_date = OFFER_CHOSEN, d
    offer.answered_by, offer.answered_at = name, utcnow()
    offer.last_used_at = offer.answered_at
    db.session.flush()
    record("offer.chosen", offer, actor=LINK_ACTOR.format(id=offer.id), visit_id=visit.id, date=d.isoformat(),
           old=old.isoformat() if old else None)
    return visit


def none_fits(offer: DateOffer, suggested_dates: Sequence, comment: str, name: str, expected_version=None) -> None:
    """The kommun says no offered date fits, with up to MAX_SUGGESTED own days in the round's window and a
    comment. Does not commit."""
    check_version(expected_version, offer.version, StaleError)
    _answerable(offer)
    name = _clean_name(name)
    raw = [s for s in suggested_dates if (s.strip() if isinstance(s, str) else s)]
    if len(raw) > MAX_SUGGESTED:
        raise OfferError(_("Föreslå högst %(n)d dagar.", n=MAX_SUGGESTED))
    days = []
    for s in raw:
        d = parse_day(s)
        if d is None:
            raise OfferError(_("”%(value)s” är inget datum. Skriv dagarna som ÅÅÅÅ-MM-DD, till exempel 2015-03-17.",
                               value=str(s)[:20]))
        days.append(d)
    visit = offer.visit
    first, last = _rules(None).windows[visit.round]
    outside = [d for d in days if not first <= d <= last]
    if outside:
        raise OfferError(_("%(date)s ligger utanför omgångens period (%(first)s–%(last)s). Föreslå dagar inom den.",
                           date=outside[0].isoformat(), first=first.isoformat(), last=last.isoformat()))
    comment = (comment or "").strip()
    if CONTROL.sub("", comment.replace("\t", " ")) != comment.replace("\t", " "):
        raise OfferError(_("Kommentaren innehåller tecken som inte kan sparas."))
    if len(comment) > COMMENT_MAX:
        raise OfferError(_("Kommentaren får vara högst %(n)d tecken.", n=COMMENT_MAX))
    offer.status = OFFER_NONE_FITS
    offer.suggested_dates = [d.isoformat() for d in sorted(set(days))]
    offer.comment = comment
    offer.answered_by, offer.answered_at = name, utcnow()
    offer.last_used_at = offer.answered_at
    db.session.flush()
    record("offer.none_fits", offer, actor=LINK_ACTOR.format(id=offer.id), visit_id=visit.id,
           suggested=len(offer.suggested_dates), with_comment=bool(comment))


# --------------------------------------------------------------------------- after a pick, reminders

def pick_effect(visit: Visit, time_limit: float | None = None) -> list[dict]:
    """What a re-plan of the visit's round would move now (the office sees what the kommun's pick changed):
    the other unbooked visits whose proposed date differs, as {visit_id, site, from, to}. Writes nothing
    (the caller rolls back what planning may have flushed)."""
    from . import service
    result = service.plan(visit.round, save=False, time_limit=time_limit, earliest=service.plan_from(office_today()))
    ids = [v["visit_id"] for v in result["visits"] if v["moved"] and v["visit_id"] != visit.id]
    rows = {v.id: v for v in db.session.scalars(select(Visit).where(Visit.id.in_(ids)))} if ids else {}
    out = []
    for v in result["visits"]:
        row = rows.get(v["visit_id"])
        if row is None or row.fixed:
            continue
        out.append({"visit_id": row.id, "site": v["site"], "from": row.date.isoformat() if row.date else None,
                    "to": v["date"]})
    return out


def _local_day(dt: datetime) -> date:
    return links.aware(dt).astimezone(links.TZ).date()


def due_for_reminder(today: date, days: int | None = None) -> list[DateOffer]:
    from .defaults import assignment
    days = assignment().offer_reminder_days if days is None else days
    rows = db.session.scalars(select(DateOffer).where(DateOffer.status == OFFER_OPEN,
                                                      DateOffer.revoked_at.is_(None))
                              .options(joinedload(DateOffer.visit).joinedload(Visit.site))
                              .order_by(DateOffer.id))
    return [o for o in rows if links.link_state(o) == links.ACTIVE
            and (today - _local_day(o.reminded_at or o.created_at)).days >= days]


def remind(today: date | None = None) -> int:
    """Queue a reminder for every open offer unanswered `offer_reminder_days` days after it was sent or last
    reminded (days in Swedish time); the number queued. `reminded_at` is `today` at the present time of day,
    so a second run on the same day sends nothing. Does not commit."""
    today = today or links.today()
    clock = datetime.now(links.TZ).timetz().replace(microsecond=0)
    now = datetime.combine(today, clock).astimezone(timezone.utc)
    n = 0
    for o in due_for_reminder(today):
        contacts = contacts_of(o.visit.site_id)
        if not contacts:
            continue
        message = _queue_mail(o, contacts, True, now)
        o.reminders += 1
        o.reminded_at = now
        db.session.flush()
        record("offer.reminded", o, visit_id=o.visit_id, reminders=o.reminders, outbox_id=message.id)
        n += 1
    return n
