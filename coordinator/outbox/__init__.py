"""The mail outbox, below every capability that writes mail: the message row (models.py), plain letters and
the stored text of a message (letters.py), delivery over SMTP (delivery.py) and a mail's status in words
(mailstatus.py). The outbox's pages and commands are the invitations' (coordinator/invites)."""
