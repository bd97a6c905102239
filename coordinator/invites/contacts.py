"""Contacts per visit site: pages and CSV import.

Personal data: every page here is for staff and admin only (a reader gets 403). The audit
log notes which contact and which fields changed, never the values.
"""
from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.orm.exc import StaleDataError

from ..audit import record
from ..auth import staff_required
from ..extensions import db
from ..database import write_private
from ..paging import page_of
from ..registry.service import clean_filename
from ..sampling.models import Site
from .. import confirm
from ..contacts import service
from ..contacts.forms import FIELDS, ConfirmContactImportForm, ContactForm, ContactImportForm, VersionForm
from ..contacts.models import Contact
from . import bp
from . import service as invitations

CONTACTS_PAGE = 100  # sites a page of the contacts' overview
STASH_MAX_AGE = 24 * 3600  # an unconfirmed upload (personal data) is removed after a day


@bp.context_processor
def contact_helpers():
    return {"role_label": service.role_label, "role_short": service.role_short,
            "role_labels": lambda keys: ", ".join(service.role_label(k) for k in keys)}


def _site_or_404(site_id: int):
    site = service.site_of_adopted_sample(site_id)
    if site is None:
        abort(404)
    return site


def _contact_or_404(contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None or service.site_of_adopted_sample(contact.site_id) is None:
        abort(404)
    return contact


# --------------------------------------------------------------------------- overview and site page

@bp.route("/kontakter")
@staff_required
def contacts():
    from ..sampling.service import adopted_sample

    sample = adopted_sample()
    if sample is None:
        return render_template("invites/contacts_no_sample.html")
    everything = _site_summaries(sample.id)
    incomplete = sum(1 for _site_id, missing in everything if missing)
    # ?saknas=1: only the sites that lack an important role; either way a page (CONTACTS_PAGE sites) at a time.
    missing_only = request.args.get("saknas") == "1"
    listed = [site_id for site_id, missing in everything if missing or not missing_only]
    page = page_of(request.args, len(listed), CONTACTS_PAGE)
    return render_template("invites/contacts.html", sample=sample,
                           rows=_page_rows(listed[page.offset:page.offset + page.per_page]),
                           total=len(everything), incomplete=incomplete, missing_only=missing_only, page=page,
                           filters={"saknas": "1"} if missing_only else {},
                           roles=service.ROLE_KEYS, important_kommun=service.IMPORTANT_ROLES_KOMMUN,
                           important_district=service.IMPORTANT_ROLES_DISTRICT,
                           important_count=lambda site: len(service.important_roles(site)))


def _counts(site_ids: list[int]) -> dict[int, tuple[Counter, int]]:
    """Site id -> (active contacts per role, inactive contacts) for the sites given: one grouped statement."""
    query = (select(Contact.site_id, Contact.role, Contact.active, func.count())
             .where(Contact.site_id.in_(site_ids)).group_by(Contact.site_id, Contact.role, Contact.active))
    roles: dict[int, Counter] = {}
    inactive: Counter = Counter()
    for site_id, role, active, n in db.session.execute(query):
        roles.setdefault(site_id, Counter())
        if active:
            roles[site_id][role] += n
        else:
            inactive[site_id] += n
    return {site_id: (c, inactive[site_id]) for site_id, c in roles.items()}


def _site_summaries(sample_id: int) -> list[tuple[int, bool]]:
    """(site id, whether an important role has no active contact) for every active site of the sample, in its
    order: one grouped statement that counts the important roles covered, not the sites and contacts themselves
    (the page shows a hundred sites; there are thousands of contacts at ten times the demo)."""
    district = func.coalesce(Site.enhet, "") != ""
    important = case((district, Contact.role.in_(service.IMPORTANT_ROLES_DISTRICT)),
                     else_=Contact.role.in_(service.IMPORTANT_ROLES_KOMMUN))
    covered = func.count(case((Contact.active & important, Contact.role)).distinct())
    needed = case((district, len(service.IMPORTANT_ROLES_DISTRICT)), else_=len(service.IMPORTANT_ROLES_KOMMUN))
    return [(site_id, bool(missing)) for site_id, missing in db.session.execute(
        select(Site.id, covered < needed).outerjoin(Contact, Contact.site_id == Site.id)
        .where(Site.sample_id == sample_id, Site.active)
        .group_by(Site.id, Site.enhet, Site.position).order_by(Site.position, Site.id))]


def _page_rows(site_ids: list[int]) -> list[service.SiteSummary]:
    """The overview's rows for the sites shown (with their kommun and län, joined), in the order given."""
    if not site_ids:
        return []
    sites = {s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_(site_ids)))}
    counts = _counts(site_ids)
    rows = []
    for site_id in site_ids:
        site = sites[site_id]
        roles, inactive = counts.get(site_id, (Counter(), 0))
        rows.append(service.SiteSummary(site=site, counts=dict(roles), total=sum(roles.values()), inactive=inactive,
                                        missing=[r for r in service.important_roles(site) if not roles.get(r)]))
    return rows


@bp.route("/kontakter/plats/<int:site_id>")
@staff_required
def contacts_site(site_id: int):
    site = _site_or_404(site_id)
    contacts = service.site_contacts(site)
    summary = service.overview([site])[0]
    return render_template("invites/contacts_site.html", site=site, contacts=contacts, summary=summary,
                           important=service.important_roles(site))


# --------------------------------------------------------------------------- add, edit, (de)activate

def _duplicate_email(form: ContactForm, site_id: int, exclude_id: int | None = None) -> bool:
    other = service.existing_with_email(site_id, form.email.data or "", exclude_id)
    if other is not None:
        form.email.errors.append(_("Det finns redan en kontakt med den e-postadressen på den här besöksplatsen "
                                   "(%(name)s).", name=other.name))
        return True
    return False


@bp.route("/kontakter/plats/<int:site_id>/ny", methods=["GET", "POST"])
@staff_required
def contact_new(site_id: int):
    site = _site_or_404(site_id)
    form = ContactForm()
    if request.method == "GET":
        form.role.data = request.args.get("roll") if request.args.get("roll") in service.ROLE_KEYS else None
    elif form.validate_on_submit() and not _duplicate_email(form, site.id):
        contact = Contact(site_id=site.id, active=True, **form.values())
        db.session.add(contact)
        db.session.flush()
        record("contact.created", contact, site_id=site.id, role=contact.role)
        db.session.commit()
        flash(_("Kontakten är sparad."), "success")
        return redirect(url_for("invites.contacts_site", site_id=site.id))
    status = 422 if form.errors else 200
    return render_template("invites/contacts_form.html", form=form, site=site, contact=None, conflict=None), status


def _typed(form: ContactForm, contact: Contact) -> list[tuple[str, str, str]]:
    """(label, typed, stored) for each field the user typed differently from what is stored now."""
    out = []
    for name in FIELDS:
        typed, stored = form[name].data or "", getattr(contact, name) or ""
        if typed != stored:
            if name == "role":
                typed, stored = service.role_label(typed), service.role_label(stored)
            out.append((str(form[name].label.text), typed, stored))
    return out


@bp.route("/kontakter/<int:contact_id>", methods=["GET", "POST"])
@staff_required
def contact_edit(contact_id: int):
    contact = _contact_or_404(contact_id)
    site = contact.site
    form = ContactForm()
    conflict = None
    if request.method == "GET":
        form.load(contact)
    else:
        valid = form.validate_on_submit()
        if "csrf_token" not in form.errors and form.version.data != str(contact.version):
            conflict = _typed(form, contact)
        elif valid and not _duplicate_email(form, site.id, contact.id):
            changed = sorted(k for k, v in form.values().items() if getattr(contact, k) != v)
            if not changed:
                flash(_("Inga ändringar att spara."), "info")
                return redirect(url_for("invites.contacts_site", site_id=site.id))
            for name in changed:
                setattr(contact, name, form.values()[name])
            record("contact.updated", contact, site_id=site.id, fields=changed)
            try:
                db.session.commit()
            except StaleDataError:
                db.session.rollback()
                contact = _contact_or_404(contact_id)
                conflict = _typed(form, contact)
            else:
                flash(_("Kontakten är sparad."), "success")
                return redirect(url_for("invites.contacts_site", site_id=site.id))
    if conflict is not None:
        form = ContactForm(formdata=None)
        form.load(contact)
        return render_template("invites/contacts_form.html", form=form, site=site, contact=contact,
                               conflict=conflict), 409
    status = 422 if form.errors else 200
    return render_template("invites/contacts_form.html", form=form, site=site, contact=contact,
                           conflict=None), status


def _set_active(contact_id: int, active: bool):
    contact = _contact_or_404(contact_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    back = url_for("invites.contacts_site", site_id=contact.site_id)
    if form.version.data != str(contact.version):
        flash(_("Kontakten har ändrats av någon annan sedan du öppnade sidan. Inget ändrades; "
                "se de sparade uppgifterna nedan och försök igen."), "error")
        return redirect(back)
    if contact.active == active:
        return redirect(back)
    coming = [] if active else invitations.coming_invitations(contact)
    if coming and not confirm.confirmed():
        return confirm.page(_deactivate_confirmation(contact, coming))
    contact.active = active
    withdrawn = invitations.withdraw_contact(contact) if coming else []
    record("contact.activated" if active else "contact.deactivated", contact, site_id=contact.site_id,
           **({"visits_left": len(coming), "cancellations": len(withdrawn)} if coming else {}))
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash(_("Kontakten har ändrats av någon annan sedan du öppnade sidan. Inget ändrades; "
                "se de sparade uppgifterna nedan och försök igen."), "error")
        return redirect(back)
    if withdrawn:
        flash(_("%(name)s är inaktiverad och borttagen från de inbjudna till kommande besök. Ett meddelande om att "
                "inbjudan inte längre gäller ligger i utkorgen.", name=contact.name), "success")
    elif active:
        flash(_("%(name)s är aktiv igen.", name=contact.name), "success")
    else:
        flash(_("%(name)s är inaktiverad och bjuds inte in till nya besök.", name=contact.name), "success")
    return redirect(back)


def _deactivate_confirmation(contact: Contact, coming) -> confirm.Confirmation:
    invited = [a for v in coming for a in v.attendees if a.contact_id == contact.id and a.sent_sequence is not None]
    happens = [_("%(name)s bjuds inte in till nya besök och tas bort från de inbjudna till %(n)d kommande besök.",
                 name=contact.name, n=len(coming))]
    if invited:
        happens.append(_("%(name)s har fått inbjudan och får nu ett meddelande om att den inte längre gäller. Besöket "
                         "tas då bort ur personens kalender. De andra inbjudna får inget meddelande.",
                         name=contact.name))
    return confirm.Confirmation(
        heading=_("Inaktivera %(name)s?", name=contact.name),
        action=url_for("invites.contact_deactivate", contact_id=contact.id), button=_("Inaktivera kontakten"),
        back=url_for("invites.contact_edit", contact_id=contact.id),
        facts=[(_("Besök"), ", ".join(f"{v.site.label} ({v.date.isoformat() if v.date else '–'})" for v in coming))],
        happens=happens,
        cannot_undo=_("Meddelandet om att inbjudan inte längre gäller kan inte tas tillbaka. Aktiveras kontakten "
                      "igen behöver den kryssas i programmet och bjudas in på nytt."),
        hidden={"version": contact.version})


@bp.route("/kontakter/<int:contact_id>/inaktivera", methods=["POST"])
@staff_required
def contact_deactivate(contact_id: int):
    return _set_active(contact_id, False)


@bp.route("/kontakter/<int:contact_id>/aktivera", methods=["POST"])
@staff_required
def contact_activate(contact_id: int):
    return _set_active(contact_id, True)


# --------------------------------------------------------------------------- CSV import

def _stash_dir() -> Path:
    path = Path(current_app.instance_path) / "contact_imports"
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def _prune_stash() -> None:
    cutoff = time.time() - STASH_MAX_AGE
    for old in _stash_dir().iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass


def _import_page(form, problems=None, status=200):
    return render_template("invites/contacts_import.html", form=form, problems=problems or [],
                           columns=service.COLUMNS, roles=service.role_choices()), status


@bp.route("/kontakter/import", methods=["GET", "POST"])
@staff_required
def contacts_import():
    from ..sampling.service import adopted_sample

    if adopted_sample() is None:
        return render_template("invites/contacts_no_sample.html")
    form = ContactImportForm()
    if not form.validate_on_submit():
        return _import_page(form, status=200 if request.method == "GET" or not form.errors else 422)
    upload = form.file.data
    data = upload.read()
    filename = clean_filename(upload.filename)
    parsed = service.parse_contacts_csv(data)
    if not parsed.ok:
        return _import_page(form, parsed.problems, 422)
    import hashlib

    token = hashlib.sha256(data).hexdigest()
    _prune_stash()
    path = _stash_dir() / token
    write_private(path, data)  # contacts are personal data: owner-only, as the database
    path.chmod(0o600)
    plan = service.plan_import(parsed)
    confirm = ConfirmContactImportForm(formdata=None, token=token, filename=filename)
    return render_template("invites/contacts_import_preview.html", plan=plan, parsed=parsed, filename=filename,
                           confirm=confirm, NEW=service.NEW, UPDATED=service.UPDATED)


@bp.route("/kontakter/import/bekrafta", methods=["POST"])
@staff_required
def contacts_import_confirm():
    form = ConfirmContactImportForm()
    if not form.validate_on_submit():
        abort(400)
    token = form.token.data or ""
    if not re.fullmatch(r"[0-9a-f]{64}", token):
        abort(400)
    path = _stash_dir() / token
    if not path.is_file():
        flash(_("Filen finns inte längre kvar på servern. Ladda upp den igen."), "error")
        return redirect(url_for("invites.contacts_import"))
    parsed = service.parse_contacts_csv(path.read_bytes())
    if not parsed.ok:
        # The adopted sample changed between preview and confirmation so that the file no longer fits.
        return _import_page(ContactImportForm(formdata=None), parsed.problems, 422)
    try:
        counts = service.apply_import(parsed, sha256=token)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash(_("Någon annan ändrade kontakterna samtidigt. Inget sparades; försök igen."), "error")
        return redirect(url_for("invites.contacts_import"))
    path.unlink(missing_ok=True)
    flash(_("Kontakterna är importerade: %(new)s nya, %(updated)s uppdaterade och %(unchanged)s oförändrade.",
            new=counts["new"], updated=counts["updated"], unchanged=counts["unchanged"]), "success")
    return redirect(url_for("invites.contacts"))
