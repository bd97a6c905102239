"""Pages of the feedback area: the letters per site and round (staff), and the kommun's own letter page.

Thin views: the workflow is service.py, what the letter says is content.py and document.py.
Staff (admin, staff) draft, edit, approve and send; the ministry (reader) sees none of it. The
kommun reads its sent letter through its own link under /aterkoppling/brev/<token>, as a page,
a PDF and a Word file, and nothing else: a token opens its own letter only.
"""
from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .. import confirm, links
from ..auth import staff_required
from ..extensions import db
from ..forms import abort_if_bad_csrf, fits_integer
from ..outbox.mailstatus import mail_status
from ..sampling.models import Site
from . import bp, document, service
from .forms import SECTION_HINTS, LetterForm, VersionForm
from .models import APPROVED, DRAFT, SECTIONS, SENT

CONFLICT_HEADING = _l("Någon annan har ändrat brevet")
CONFLICT_TEXT = _l("Någon annan sparade brevet efter att du öppnade sidan, så det du skickade har inte sparats och "
                   "ingenting har skrivits över. Det du skrev står kvar i formuläret; tabellen visar det mot det som "
                   "är sparat nu. Spara igen om ditt ska gälla.")
STATE_LABELS = {DRAFT: _l("Utkast"), APPROVED: _l("Godkänt, inte skickat"), SENT: _l("Skickat")}
PDF, DOCX = "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@bp.app_template_global("letter_state_label")
def letter_state_label(letter) -> str:
    if letter is None:
        return _("Inte påbörjat")
    return str(STATE_LABELS.get(letter.status, letter.status))


@bp.app_template_global("site_letters")
def site_letters(site_id: int) -> dict:
    """The site's letters by round (the site, kommun, visit and plan pages link to them)."""
    return service.letters_of_site(site_id)


@bp.app_template_global("kommun_letter_urls")
def kommun_letter_urls(site_id: int) -> list[tuple[int, str]]:
    """(round, the kommun's own link) of the site's sent letters whose link works: the kommun's plan page
    lists them, so the kommun finds its letters where it already works with the office."""
    out = []
    for round_, letter in sorted(service.letters_of_site(site_id).items()):
        link = service.active_link(letter) if letter.status == SENT else None
        if link is not None:
            out.append((round_, url_for("feedback.kommun_letter", token=service.token_for(link))))
    return out


@bp.app_template_global("letter_blocks")
def letter_blocks(data, reader: bool = False):
    return document.blocks(data, reader=reader)


# --------------------------------------------------------------------------- helpers

def _site_or_404(site_id: int) -> Site:
    site = db.session.get(Site, site_id) if fits_integer(site_id) else None
    if site is None:
        abort(404)
    return site


def _round_or_404(round_: int) -> int:
    if round_ not in service.ROUNDS:
        abort(404)
    return round_


def _letter_or_404(site: Site, round_: int):
    letter = service.letter_for(site.id, round_)
    if letter is None:
        abort(404)
    return letter


def _file(data: bytes, mimetype: str, name: str, private: bool = False):
    response = make_response(data)
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store" if private else "private, no-cache"
    return links.private_page(response) if private else response


def _form(letter, formdata=None) -> LetterForm:
    if formdata is not None:
        return LetterForm(formdata)
    return LetterForm(formdata=None, version=letter.version if letter else 0,
                      **{s: letter.text(s) if letter else "" for s in SECTIONS})


# --------------------------------------------------------------------------- the list

@bp.route("/")
@staff_required
def index():
    rows = service.overview()
    return render_template("feedback/index.html", rows=rows, due=[r for r in rows if r.due])


# --------------------------------------------------------------------------- one letter (staff)

def _page(site: Site, round_: int, *, form: LetterForm | None = None, conflict=None, status: int = 200):
    letter = service.letter_for(site.id, round_)
    visit = service.visit_for(site.id, round_)
    if form is None:
        form = _form(letter)
    elif conflict is not None and letter is not None:
        form.version.data = str(letter.version)
    data = service.current(letter) if letter is not None else None
    message = letter.outbox_message if letter is not None else None
    link = service.active_link(letter) if letter is not None and letter.status == SENT else None
    return render_template(
        "feedback/letter.html", site=site, round_=round_, letter=letter, visit=visit, form=form, data=data,
        hints=SECTION_HINTS, conflict=conflict, conflict_heading=CONFLICT_HEADING, conflict_text=CONFLICT_TEXT,
        create_form=VersionForm(formdata=None, version=0), message=message,
        mail=mail_status(message) if message is not None else None,
        kommun_url=service.letter_url(link) if link is not None else None,
        last_day=links.last_valid_day(link) if link is not None else None,
        revisions=service.history(letter) if letter is not None else [],
        can_draft=visit is not None and visit.status == "genomford"), status


@bp.route("/plats/<int:site_id>/omgang/<int:round_>")
@staff_required
def letter(site_id: int, round_: int):
    return _page(_site_or_404(site_id), _round_or_404(round_))


@bp.route("/plats/<int:site_id>/omgang/<int:round_>/skapa", methods=["POST"])
@staff_required
def create(site_id: int, round_: int):
    site, round_ = _site_or_404(site_id), _round_or_404(round_)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.create_draft(site, round_, current_user)
        db.session.commit()
    except IntegrityError:  # a colleague created it at the same moment: theirs is the letter
        db.session.rollback()
    except service.LetterError as e:
        db.session.rollback()
        flash(str(e), "error")
        return redirect(url_for("feedback.letter", site_id=site.id, round_=round_))
    flash(_("Ett utkast till återkopplingsbrev är skapat. Skriv brevets texter och spara."), "success")
    return redirect(url_for("feedback.letter", site_id=site.id, round_=round_, _anchor="texter"))


@bp.route("/plats/<int:site_id>/omgang/<int:round_>/texter", methods=["POST"])
@staff_required
def save(site_id: int, round_: int):
    site, round_ = _site_or_404(site_id), _round_or_404(round_)
    letter = _letter_or_404(site, round_)
    form = LetterForm()
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _page(site, round_, form=form, status=400)
    was = letter.status
    try:
        saved = service.save_texts(letter, form.version.data, {s: form[s].data for s in SECTIONS}, current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError, IntegrityError):
        db.session.rollback()
        letter = service.letter_for(site.id, round_)
        rows = [(form[s].label.text, form[s].data, letter.text(s)) for s in SECTIONS]
        return _page(site, round_, form=form, conflict=rows, status=409)
    except service.LetterError as e:
        db.session.rollback()
        flash(str(e), "error")
        return _page(site, round_, form=form, status=400)
    if saved is None:
        flash(_("Inget var ändrat; ingenting sparades."), "info")
    elif was == APPROVED:
        flash(_("Texterna är sparade (version %(n)d). Brevet är ett utkast igen och behöver godkännas på nytt.",
                n=saved.number), "success")
    else:
        flash(_("Texterna är sparade (version %(n)d).", n=saved.number), "success")
    return redirect(url_for("feedback.letter", site_id=site.id, round_=round_, _anchor="texter"))


def _approve_confirmation(site: Site, letter) -> confirm.Confirmation:
    return confirm.Confirmation(
        heading=_("Godkänna återkopplingsbrevet till %(site)s?", site=site.label),
        action=url_for("feedback.approve", site_id=site.id, round_=letter.round), button=_("Godkänn brevet"),
        back=url_for("feedback.letter", site_id=site.id, round_=letter.round),
        facts=[(_("Till"), site.label), (_("Omgång"), str(letter.round))],
        happens=[_("Brevet sparas precis som det ser ut nu: texterna, anteckningarna, handlingsplanen och "
                   "mätningens siffror. Ändras något av det senare ändras inte brevet."),
                 _("Ditt namn och tiden sparas som godkännande."),
                 _("Brevet skickas inte än: det gör du i nästa steg.")],
        hidden={"version": letter.version}, danger=False, errors=service.approve_problems(letter))


def _step(site: Site, letter, confirmation, act, stale: str, done: str, conflicts=(service.StaleError, StaleDataError)):
    """Approve or send: the confirmation page first, then the step on the version the user saw; a colleague's
    change in between refuses it with `stale`, a rule of the workflow with its own message."""
    if not confirm.confirmed():
        return confirm.page(confirmation())
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        act(letter, form.version.data, current_user)
        db.session.commit()
        flash(done, "success")
    except conflicts:
        db.session.rollback()
        flash(stale, "error")
    except service.LetterError as e:
        db.session.rollback()
        flash(str(e), "error")
    return redirect(url_for("feedback.letter", site_id=site.id, round_=letter.round))


@bp.route("/plats/<int:site_id>/omgang/<int:round_>/godkann", methods=["GET", "POST"])
@staff_required
def approve(site_id: int, round_: int):
    site, round_ = _site_or_404(site_id), _round_or_404(round_)
    letter = _letter_or_404(site, round_)
    return _step(site, letter, lambda: _approve_confirmation(site, letter), service.approve,
                 _("Någon annan har ändrat brevet sedan du öppnade sidan. Ingenting godkändes; läs brevet och "
                   "godkänn igen."),
                 _("Brevet är godkänt. Skicka det till kommunen när ni är redo."))


def _send_confirmation(site: Site, letter) -> confirm.Confirmation:
    contacts = service.contacts_of(site.id)
    return confirm.Confirmation(
        heading=_("Skicka återkopplingsbrevet till %(site)s?", site=site.label),
        action=url_for("feedback.send", site_id=site.id, round_=letter.round), button=_("Skicka brevet"),
        back=url_for("feedback.letter", site_id=site.id, round_=letter.round),
        facts=[(_("Till"), ", ".join(f"{c.name} <{c.email}>" for c in contacts) or _("ingen")),
               (_("Omgång"), str(letter.round))],
        happens=[_("Kommunen får en egen länk där brevet kan läsas och laddas ner som PDF och Word-fil. Länken "
                   "gäller i två år."),
                 _("Ett e-brev med länken läggs i utkorgen till kommunens aktiva kontakter och skickas därifrån."),
                 _("Brevet kan inte ändras efter att det har skickats.")],
        cannot_undo=_("Ett skickat brev kan inte tas tillbaka."),
        hidden={"version": letter.version}, danger=False, errors=service.send_problems(letter))


@bp.route("/plats/<int:site_id>/omgang/<int:round_>/skicka", methods=["GET", "POST"])
@staff_required
def send(site_id: int, round_: int):
    site, round_ = _site_or_404(site_id), _round_or_404(round_)
    letter = _letter_or_404(site, round_)
    return _step(site, letter, lambda: _send_confirmation(site, letter), service.send,
                 _("Någon annan har ändrat brevet sedan du öppnade sidan. Ingenting skickades; läs brevet och "
                   "skicka igen."),
                 _("Brevet väntar i utkorgen och skickas till kommunen därifrån."),
                 conflicts=(service.StaleError, StaleDataError, IntegrityError))


@bp.route("/plats/<int:site_id>/omgang/<int:round_>/brev.pdf")
@staff_required
def letter_pdf(site_id: int, round_: int):
    site, round_ = _site_or_404(site_id), _round_or_404(round_)
    letter = _letter_or_404(site, round_)
    data = service.current(letter)
    return _file(document.render_pdf(data, draft=letter.status == DRAFT), PDF, service.filename(data, "pdf"))


@bp.route("/plats/<int:site_id>/omgang/<int:round_>/brev.docx")
@staff_required
def letter_docx(site_id: int, round_: int):
    site, round_ = _site_or_404(site_id), _round_or_404(round_)
    letter = _letter_or_404(site, round_)
    data = service.current(letter)
    return _file(document.render_docx(data, draft=letter.status == DRAFT), DOCX, service.filename(data, "docx"))


# --------------------------------------------------------------------------- the kommun's link (no login)

def _resolve(token: str):
    try:
        link = service.resolve_token(token)
    except links.LinkRefused as e:
        return None, (render_template("link_refused.html", kind="letter", reason=e.reason, back=None), e.status)
    if link.letter.status != SENT or not link.letter.content:
        return None, (render_template("link_refused.html", kind="letter", reason="invalid", back=None), 404)
    service.touch_link(link)
    db.session.commit()
    return link, None


@bp.route("/brev/<token>")
def kommun_letter(token: str):
    link, refused = _resolve(token)
    if refused:
        return refused
    response = make_response(render_template("feedback/kommun.html", letter=link.letter, data=link.letter.content,
                                             token=token, last_day=links.last_valid_day(link)))
    return links.private_page(response)


@bp.route("/brev/<token>/brev.pdf")
def kommun_pdf(token: str):
    link, refused = _resolve(token)
    if refused:
        return refused
    data = link.letter.content
    return _file(document.render_pdf(data), PDF, service.filename(data, "pdf"), private=True)


@bp.route("/brev/<token>/brev.docx")
def kommun_docx(token: str):
    link, refused = _resolve(token)
    if refused:
        return refused
    data = link.letter.content
    return _file(document.render_docx(data), DOCX, service.filename(data, "docx"), private=True)


from . import spread_views  # noqa: E402,F401  (regional summaries and the good-examples digest)
