"""What the visits ask of the invitations, so that they never import them: the invitations build on the visits.

A change of a visit that the kommun has been told of goes out as a calendar message, written to the outbox in
the caller's transaction (nothing commits). The invitations (coordinator/invites/service.py) connect one
receiver to each signal:
- invitation_due(visit, user=...): queue METHOD:REQUEST at the visit's current SEQUENCE to those it concerns
  (the first invitation, a moved visit, a new programme);
- cancellation_due(visit, user=...): raise SEQUENCE and queue METHOD:CANCEL to every attendee.
A receiver that cannot send (nobody left to invite, no valid time) raises VisitError with the reason for the user.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()
invitation_due = _signals.signal("visit-invitation-due")
cancellation_due = _signals.signal("visit-cancellation-due")


def send(signal, visit, user=None) -> None:
    """Send `signal` for the visit. A mail that no receiver writes would be lost without a word: none is an error."""
    if not signal.send(visit, user=user):
        raise RuntimeError(f"nothing answers {signal.name!r}: coordinator.invites.service is not loaded")
