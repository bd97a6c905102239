"""Shipped organisations (to be written)."""


def load_organisation_defaults() -> None:
    pass
