import click

schedule_cli = click.Group("schedule", help="Planering av besöken.")
