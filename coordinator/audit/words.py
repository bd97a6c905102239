"""PROVISIONAL stand-in until the language-nav branch lands (same interface)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass
class Described:
    event: Any
    when: datetime
    who: str
    text: str
    url: str | None
    label: str | None


def describe(events) -> list[Described]:
    return [Described(e, e.at, e.actor, e.action, None, None) for e in events]
