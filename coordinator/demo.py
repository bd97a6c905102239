"""`coordinator demo` (to be written)."""
import click


@click.command("demo", help="Skapa ett demouppdrag (fiktiva data) med urval, besök, anteckningar och planer.")
def demo() -> None:
    pass
