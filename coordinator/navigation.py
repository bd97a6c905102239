"""Which main-menu item a page belongs to, so that every page can mark its section.

Plain words: the main menu (templates/base.html) has one item per section of the office's work.
A page belongs to the section of its blueprint, with a few exceptions by endpoint: the sample
protocol has its own menu item, the outbox, feeds, contacts and a site's page belong to the
visits, and the user's own account page to the account link beside the name.
"""
from __future__ import annotations

OVERVIEW, KOMMUNER, URVAL, BESOK, DIALOGER, PLANER, MATNINGAR, FORUM, RAPPORTER, PROTOKOLL, ANVANDARE, LOGG, KONTO = (
    "oversikt", "kommuner", "urval", "besok", "dialoger", "handlingsplaner", "matningar", "dialogforum",
    "rapporter", "protokoll", "anvandare", "logg", "konto")

BLUEPRINTS = {
    "registry": KOMMUNER,
    "sampling": URVAL,
    "scheduling": BESOK,
    "invites": BESOK,      # contacts, outbox, feeds and a visit's answers are reached from the visits
    "sites": BESOK,        # a visit site's own page
    "dialogue": DIALOGER,
    "plans": PLANER,
    "measurement": MATNINGAR,
    "events": FORUM,
    "reports": RAPPORTER,
    "feedback": RAPPORTER,  # återkoppling: letters, regional summaries, the good-examples digest
    "audit": LOGG,
    "tasks": OVERVIEW,     # the office's tasks are part of its day, shown from the overview
}
ENDPOINTS = {
    "index": OVERVIEW,
    "sampling.protocol_current": PROTOKOLL,
    "sampling.protocol": PROTOKOLL,
    "auth.users": ANVANDARE,
    "auth.edit_user": ANVANDARE,
    "auth.change_password": KONTO,
    "auth.account": KONTO,
}


def section(endpoint: str | None) -> str | None:
    """The main-menu section of a page's endpoint ("blueprint.view"), None for pages outside the menu."""
    if not endpoint:
        return None
    if endpoint in ENDPOINTS:
        return ENDPOINTS[endpoint]
    return BLUEPRINTS.get(endpoint.rpartition(".")[0])
