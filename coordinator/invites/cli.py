import click

invites_cli = click.Group("invites", help="Kalenderinbjudningar.")
outbox_cli = click.Group("outbox", help="Utkorgen för e-post.")
