import click

sample_cli = click.Group("sample", help="Urvalet av besöksplatser.")
