"""Pages for invitations: the outbox, a visit's .ics and answers, and the calendar feeds.

Everything is for staff, except the feed itself (/kalender/<token>.ics): calendar clients
cannot log in, so the secret token in the URL is the key, and revoking it closes the feed.
"""
from __future__ import annotations

import hashlib

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from ..forms import FlaskForm, parse_id
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from .. import confirm
from ..audit import record
from ..auth import staff_required
from ..contacts.models import PARTSTATS, Attendee
from ..extensions import db
from ..outbox import delivery as outbox
from ..outbox.mailstatus import invitation_status, mail_status
from ..outbox.models import FAILED, PENDING, SENT, OutboxMessage
from ..paging import page_of
from ..sampling.models import Site
from ..sampling.service import adopted_sample
from ..scheduling.models import GENOMFORD, INSTALLD, Visit
from ..timeutil import utcnow
from . import bp, service
from .models import FeedToken

PARTSTAT_LABELS = {
    "NEEDS-ACTION": _l("Inte svarat"),
    "ACCEPTED": _l("Tackat ja"),
    "DECLINED": _l("Tackat nej"),
    "TENTATIVE": _l("Preliminärt"),
    "DELEGATED": _l("Delegerat"),
}
ATTENDEE_ROLE_LABELS = {
    "REQ-PARTICIPANT": _l("Deltagare"),
    "OPT-PARTICIPANT": _l("Valfri deltagare"),
    "CHAIR": _l("Ordförande"),
    "NON-PARTICIPANT": _l("För kännedom"),
}
# A mail's status in words (coordinator/outbox/mailstatus.py): "skickad" only once delivered.
OUTBOX_STATUS_LABELS = {
    PENDING: _l("väntar i utkorgen"),
    outbox.SENDING: _l("väntar i utkorgen"),
    SENT: _l("skickad"),
    FAILED: _l("kunde inte skickas"),
}
OUTBOX_FILTERS = {PENDING: _l("väntar i utkorgen"), SENT: _l("skickad"), FAILED: _l("kunde inte skickas")}
KIND_LABELS = {"request": _l("Inbjudan"), "cancel": _l("Inställt"), "matning": _l("Mätning"),
               "paminnelse": _l("Påminnelse om mätning"), "rapport": _l("Påminnelse om rapport")}
REPLY_MAX_BYTES = 1024 * 1024


@bp.app_template_filter("partstat_label")
def partstat_label(value: str) -> str:
    return str(PARTSTAT_LABELS.get(value, value))


@bp.app_template_global("mail_status")
def mail_status_global(message):
    """A mail's status in words, for the templates (invites/_mail.html)."""
    return mail_status(message)


@bp.app_template_global("invitation_status")
def invitation_status_global(messages):
    """A visit's or an event's invitation in one sentence, from its outbox messages."""
    return invitation_status(messages)


def calendar_response(data: bytes, filename: str, method: str | None = None, download: bool = True) -> Response:
    """An iCalendar file as the staff download it (the events' invitations use it too); never cached."""
    mimetype = "text/calendar; charset=utf-8" + (f"; method={method}" if method else "")
    response = Response(data, content_type=mimetype)
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- outbox

OUTBOX_PAGE = 50


@bp.route("/utkorg")
@staff_required
def outbox_page():
    status = request.args.get("status") or None
    if status not in outbox.FILTERS:
        status = None
    elif status == outbox.SENDING:
        status = PENDING  # one filter for all mail still in the outbox
    counts = dict(db.session.execute(select(OutboxMessage.status, func.count())
                                     .group_by(OutboxMessage.status)).all())
    shown = sum(counts.get(s, 0) for s in outbox.FILTERS[status]) if status else sum(counts.values())
    page = page_of(request.args, shown, OUTBOX_PAGE)
    rows = db.session.scalars(outbox.filtered(status).offset(page.offset).limit(page.per_page)).all()
    now = utcnow()
    return render_template("invites/outbox.html", rows=[(m, mail_status(m, now)) for m in rows], status=status,
                           page=page, filters=OUTBOX_FILTERS, kinds=KIND_LABELS,
                           counts={key: sum(counts.get(s, 0) for s in outbox.FILTERS[key]) for key in OUTBOX_FILTERS},
                           smtp=f"{current_app.config.get('SMTP_HOST')}:{current_app.config.get('SMTP_PORT')}")


@bp.route("/utkorg/skicka", methods=["POST"])
@staff_required
def outbox_send():
    db.session.rollback()  # nothing of this request is unsaved; deliver_pending commits as it goes
    report = outbox.deliver_pending(current_app.config)
    record("outbox.delivered", object_type="outbox_message", **report.as_dict())
    db.session.commit()
    if not (report.sent or report.failed or report.retried):
        flash(_("Det fanns inget att skicka just nu."), "info")
    elif report.failed or report.retried:
        flash(_("%(sent)d meddelanden skickades. %(retried)d misslyckades och försöks igen senare; "
                "%(failed)d gick inte att skicka.", sent=report.sent, retried=report.retried,
                failed=report.failed), "error")
    else:
        flash(_("%(sent)d meddelanden skickades.", sent=report.sent), "success")
    return redirect(url_for("invites.outbox_page"))


@bp.route("/utkorg/<int:message_id>/forsok-igen", methods=["POST"])
@staff_required
def outbox_retry(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    if message.status != FAILED:
        flash(_("Meddelandet har inte misslyckats och behöver inte försökas igen."), "info")
    else:
        outbox.retry(message, current_user)
        db.session.commit()
        flash(_("Meddelandet ligger i kön igen och skickas vid nästa utskick."), "success")
    return redirect(url_for("invites.outbox_page"))


# --------------------------------------------------------------------------- a visit's calendar and answers

@bp.route("/besok/<int:visit_id>/inbjudan.ics")
@staff_required
def visit_ics(visit_id: int):
    visit = db.get_or_404(Visit, visit_id)
    method = "CANCEL" if visit.status == INSTALLD else "REQUEST"  # a cancelled visit's file removes it
    try:
        data = service.calendar_for(visit, method)
    except service.InviteError as e:
        flash(str(e), "error")
        return redirect(url_for("invites.replies", visit_id=visit.id))
    return calendar_response(data, f"besok-{visit.id}.ics", method=method)


def _replies_page(visit: Visit, errors: list[str] | None = None, pasted: str = "", status: int = 200):
    return render_template("invites/replies.html", visit=visit, attendees=visit.attendees,
                           partstats=PARTSTATS, partstat_labels=PARTSTAT_LABELS,
                           role_labels=ATTENDEE_ROLE_LABELS, errors=errors or [], pasted=pasted,
                           messages=db.session.scalars(select(OutboxMessage).where(OutboxMessage.visit_id == visit.id)
                                                       .order_by(OutboxMessage.id.desc())).all(),
                           statuses=OUTBOX_STATUS_LABELS, kinds=KIND_LABELS), status


def reply_data(req) -> tuple[bytes, str | None]:
    """The REPLY from an upload or a paste (visits and events): (data, None) or (b"", the problem in words)."""
    upload = req.files.get("file")
    pasted = (req.form.get("text") or "").strip()
    data: bytes = b""
    if upload is not None and upload.filename:
        data = upload.read(REPLY_MAX_BYTES + 1)
        if len(data) > REPLY_MAX_BYTES:
            return b"", _("Filen är för stor för att vara ett svar på en inbjudan.")
    elif pasted:
        data = pasted.encode("utf-8")
    if not data.strip():
        return b"", _("Välj en .ics-fil med svaret eller klistra in dess innehåll.")
    return data, None


def flash_reply_result(result: service.ReplyResult) -> None:
    """What became of an uploaded answer, in words."""
    if result:
        flash(_("Svaret är registrerat: %(who)s.", who=", ".join(
            f"{a.name} – {partstat_label(a.partstat)}" for a in result)), "success")
    if result.superseded:
        flash(_("Svaret gäller en äldre version av inbjudan (före den senaste ändringen av tid eller plats) "
                "och har inte registrerats."), "info")
    if result.outdated:
        flash(_("Ett senare svar från %(who)s är redan registrerat. Det här svaret är äldre och har inte "
                "registrerats.", who=", ".join(a.name for a in result.outdated)), "info")


@bp.route("/besok/<int:visit_id>/svar", methods=["GET", "POST"])
@staff_required
def replies(visit_id: int):
    visit = db.get_or_404(Visit, visit_id)
    if request.method == "GET":
        return _replies_page(visit)
    pasted = (request.form.get("text") or "").strip()
    data, problem = reply_data(request)
    if problem:
        return _replies_page(visit, [problem], pasted, 400)
    try:
        result = service.apply_reply(data, current_user, owner=visit)
    except service.InviteError as e:
        db.session.rollback()
        return _replies_page(visit, [str(e)], pasted, 400)
    db.session.commit()
    flash_reply_result(result)
    return redirect(url_for("invites.replies", visit_id=visit.id))


def _remove_confirmation(visit: Visit, attendee: Attendee) -> confirm.Confirmation:
    happens = [_("%(name)s (%(email)s) tas bort från de inbjudna till besöket och från besökets program.",
                 name=attendee.name, email=attendee.email)]
    if attendee.sent_sequence is not None and visit.date is not None:
        happens.append(_("%(name)s har fått inbjudan och får nu ett meddelande om att den inte längre gäller. "
                         "Besöket tas då bort ur personens kalender. De andra inbjudna får inget meddelande.",
                         name=attendee.name))
    if attendee.partstat != "NEEDS-ACTION":
        happens.append(_("Svaret som är registrerat (%(answer)s) tas bort med personen.",
                         answer=partstat_label(attendee.partstat)))
    return confirm.Confirmation(
        heading=_("Ta bort %(name)s från de inbjudna?", name=attendee.name),
        action=url_for("invites.remove_attendee", visit_id=visit.id, attendee_id=attendee.id),
        button=_("Ta bort personen"), back=url_for("invites.replies", visit_id=visit.id) + f"#deltagare-{attendee.id}",
        facts=[(_("Besök"), visit.site.label), (_("Datum"), visit.date.isoformat() if visit.date else "–")],
        happens=happens,
        cannot_undo=_("Meddelandet om att inbjudan inte längre gäller kan inte tas tillbaka. Behövs personen igen "
                      "kryssar du i henne eller honom i programmet och skickar inbjudan på nytt."),
        hidden={"version": visit.version})


@bp.route("/besok/<int:visit_id>/svar/<int:attendee_id>/ta-bort", methods=["GET", "POST"])
@staff_required
def remove_attendee(visit_id: int, attendee_id: int):
    """Take a person off a visit; someone who had the invitation gets a cancellation for them alone."""
    visit = db.get_or_404(Visit, visit_id)
    attendee = next((a for a in visit.attendees if a.id == attendee_id), None)
    if attendee is None:
        abort(404)
    if visit.status in (INSTALLD, GENOMFORD):
        flash(_("Besöket är inställt eller genomfört; listan över inbjudna ändras inte längre."), "info")
        return redirect(url_for("invites.replies", visit_id=visit.id))
    if not confirm.confirmed():
        return confirm.page(_remove_confirmation(visit, attendee))
    if not FlaskForm().validate_on_submit():  # the CSRF token only
        abort(400)
    if request.form.get("version") != str(visit.version):
        flash(_("Besöket har ändrats av någon annan sedan du öppnade sidan. Ingenting ändrades; se hur det ser ut "
                "nu och försök igen."), "error")
        return redirect(url_for("invites.replies", visit_id=visit.id))
    name = attendee.name
    try:
        message = service.visit_uninvite(visit, attendee, current_user)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash(_("Besöket har ändrats av någon annan sedan du öppnade sidan. Ingenting ändrades; se hur det ser ut "
                "nu och försök igen."), "error")
        return redirect(url_for("invites.replies", visit_id=visit_id))
    if message is not None:
        flash(_("%(name)s är borttagen från de inbjudna. Ett meddelande om att inbjudan inte längre gäller ligger "
                "i utkorgen.", name=name), "success")
    else:
        flash(_("%(name)s är borttagen från de inbjudna.", name=name), "success")
    return redirect(url_for("invites.replies", visit_id=visit.id))


@bp.route("/besok/<int:visit_id>/svar/<int:attendee_id>", methods=["POST"])
@staff_required
def set_partstat(visit_id: int, attendee_id: int):
    visit = db.get_or_404(Visit, visit_id)
    attendee = db.session.get(Attendee, attendee_id)
    if attendee is None or attendee.visit_id != visit.id:
        abort(404)
    try:
        service.record_partstat(attendee, request.form.get("partstat", ""),
                                (request.form.get("comment") or "").strip()[:2000], current_user)
    except service.InviteError as e:
        db.session.rollback()
        return _replies_page(visit, [str(e)], status=400)
    db.session.commit()
    flash(_("Svaret från %(name)s är sparat: %(answer)s.", name=attendee.name,
            answer=partstat_label(attendee.partstat)), "success")
    return redirect(url_for("invites.replies", visit_id=visit.id) + f"#deltagare-{attendee.id}")


# --------------------------------------------------------------------------- calendar feeds

@bp.route("/kalender/<token>.ics")
def feed(token: str):
    """Public: the token is the secret. An unknown token is 404 (says nothing); a revoked one is 410 Gone,
    so that calendar clients stop asking. ETag and Last-Modified let a client ask "anything new?" and get
    304 Not Modified without the calendar."""
    feed_token = service.find_feed(token)
    if feed_token is None:
        abort(404)
    if feed_token.revoked_at is not None:
        text = _("Kalenderflödet är återkallat och finns inte längre. Be samordnarens kansli om en ny adress.")
        return Response(text + "\n", status=410, content_type="text/plain; charset=utf-8",
                        headers={"X-Robots-Tag": "noindex", "Cache-Control": "no-cache"})
    data, last_modified = service.feed_calendar(feed_token)
    response = calendar_response(data, "besok.ics", download=False)
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Cache-Control"] = "private, no-cache"  # kept, but asked about each time
    response.set_etag(hashlib.sha256(data).hexdigest()[:32])
    response.last_modified = last_modified
    return response.make_conditional(request)


@bp.route("/kalenderflöden")
@staff_required
def feeds():
    sample = adopted_sample()
    sites = sample.active_sites if sample else []
    tokens = db.session.scalars(select(FeedToken).order_by(FeedToken.created_at.desc(), FeedToken.id.desc())).all()
    by_site: dict[int | None, list[FeedToken]] = {}
    for t in tokens:
        by_site.setdefault(t.site_id, []).append(t)
    return render_template("invites/feeds.html", sites=sites, by_site=by_site, sample=sample,
                           feed_url=lambda t: url_for("invites.feed", token=t.token, _external=True))


@bp.route("/kalenderflöden/ny", methods=["POST"])
@staff_required
def create_feed():
    raw = request.form.get("site_id", "")
    site = None
    if raw not in ("", "kontoret"):
        sample = adopted_sample()
        site_id = parse_id(raw)
        site = db.session.get(Site, site_id) if site_id is not None else None
        if site is None or sample is None or site.sample_id != sample.id:
            flash(_("Flödet skapades inte: den valda platsen finns inte i det antagna urvalet. Välj en plats i "
                    "listan och försök igen."), "error")
            return redirect(url_for("invites.feeds"))
    feed_token = service.create_feed(site, current_user)
    db.session.commit()
    flash(_("Ett nytt kalenderflöde har skapats för %(what)s. Kopiera adressen nedan.",
            what=site.label if site else _("hela kontoret")), "success")
    return redirect(url_for("invites.feeds") + f"#flode-{feed_token.id}")


def _revoke_feed_confirmation(feed_token: FeedToken) -> confirm.Confirmation:
    what = feed_token.site.label if feed_token.site_id is not None else _("hela kontoret")
    return confirm.Confirmation(
        heading=_("Återkalla kalenderflödet för %(what)s?", what=what),
        action=url_for("invites.revoke_feed", feed_id=feed_token.id), button=_("Återkalla flödet"),
        back=url_for("invites.feeds") + f"#flode-{feed_token.id}",
        facts=[(_("Flöde för"), what), (_("Skapat"), format_datetime(feed_token.created_at, "yyyy-MM-dd HH:mm"))],
        happens=[_("Adressen slutar fungera direkt. Kalendrar som prenumererar på den (Outlook, Google, Apple) får "
                   "inga fler uppdateringar, och besöken kan försvinna ur dem."),
                 _("Behövs ett flöde igen skapar du ett nytt och delar den nya adressen.")],
        cannot_undo=_("Den återkallade adressen kan inte öppnas igen."))


@bp.route("/kalenderflöden/<int:feed_id>/aterkalla", methods=["GET", "POST"])
@staff_required
def revoke_feed(feed_id: int):
    feed_token = db.session.get(FeedToken, feed_id)
    if feed_token is None:
        abort(404)
    if feed_token.revoked_at is not None:
        flash(_("Kalenderflödet var redan återkallat."), "info")
        return redirect(url_for("invites.feeds"))
    if not confirm.confirmed():
        return confirm.page(_revoke_feed_confirmation(feed_token))
    service.revoke_feed(feed_token, current_user)
    db.session.commit()
    flash(_("Kalenderflödet är återkallat. Adressen fungerar inte längre."), "success")
    return redirect(url_for("invites.feeds"))
