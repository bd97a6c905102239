import click
from flask.cli import with_appcontext

from ..audit import record
from ..extensions import db
from . import ROLES
from .models import MIN_PASSWORD_LENGTH, User, find_by_email

user_cli = click.Group("user", help="Personalkonton.")


@user_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), default="reader", show_default=True,
              help="Minsta behörighet som standard: läsare.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Läses från prompten om det inte anges.")
@with_appcontext
def create_user(email: str, name: str, role: str, password: str) -> None:
    if find_by_email(email):
        raise click.ClickException(f"Det finns redan ett konto för {email}.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"Lösenordet ska ha minst {MIN_PASSWORD_LENGTH} tecken.")
    user = User(email=email.strip().lower(), name=name, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record("auth.user_created", user, actor="cli", role=role)
    db.session.commit()
    click.echo(f"Konto skapat: {user.email} ({role}).")
