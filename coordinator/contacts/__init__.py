"""Contacts at the visit sites and the people invited to a visit or an event (attendees): the model, the
contact register's rules (roles, addresses, the CSV import) and its forms.

Below both the visits (coordinator/scheduling) and the invitations (coordinator/invites), which use them; no
blueprint of its own: the contact pages are the invitations' (they take a person off coming invitations).
"""
