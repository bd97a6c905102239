"""Report drafts cached by what they depend on: the figures of a period and its charts, once per data version.

A draft is counted from today's data (figures.compute, a few hundred milliseconds) and its three charts
are drawn as SVG (about as much again), and the body is laid out from them (the Document, then HTML).
All of it depends only on the data, the day (plans and bookings are
shown as they stand today) and the language, so they are kept per process, keyed by
(period, data version, today, language): dataversion.py raises the version with every committed change
to the records, in whichever process it is made. The body is kept beside them per narratives and
status, which are read on every view. Repeated views cost the look-up of the version and the narratives.

Issued reports never come from here: freezing computes its figures anew, and an issued version is shown
as it was stored.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from .. import dataversion
from ..i18n import locale
from . import figures

MAX_ENTRIES = 8  # periods × languages that stay warm; an entry (figures, SVGs, bodies) is about 1 MB with the demo


BODIES_PER_ENTRY = 2  # rendered bodies kept per figures dict (the texts as they are, and as they were)


@dataclass
class _Entry:
    data: dict[str, Any]
    svgs: dict[tuple, Markup] = field(default_factory=dict)
    bodies: OrderedDict[tuple, Markup] = field(default_factory=OrderedDict)


_lock = threading.Lock()  # the entries' charts and bodies
stats = {"charts_drawn": 0, "bodies_rendered": 0}  # read by tests and the benchmark, with the cache's computed/hits
_cache = dataversion.Cache(MAX_ENTRIES, stats)


def _today():
    return figures._local_today()  # noqa: SLF001  the report's own "today"


def compute(period_key: str) -> dict[str, Any]:
    """figures.compute(period_key) in the current language, from the cache while the data is unchanged.

    The dict is shared between views: callers read it and never change it."""
    key = (period_key, _today().isoformat(), str(locale()))
    return _cache.get(key, lambda: _Entry(figures.compute(period_key))).data


def _entry_of(data: dict[str, Any]) -> _Entry | None:
    """The cached entry holding this very figures dict, if any (a few entries: a scan is cheaper than a second
    map to keep in step). Called with the lock held."""
    return next((entry for entry in _cache.values() if entry.data is data), None)


def chart_svg(key: tuple, data: dict[str, Any], draw) -> Markup:
    """The SVG of one chart of `data`: drawn by draw() once per cached figures dict, every time for any other."""
    with _lock:
        entry = _entry_of(data)
        svg = entry.svgs.get(key) if entry is not None else None
    if svg is not None:
        return svg
    svg = draw()
    stats["charts_drawn"] += 1
    if entry is not None:
        with _lock:
            entry.svgs[key] = svg
    return svg


def body(data: dict[str, Any], narratives: dict[str, str], status: dict[str, Any], render) -> Markup:
    """The report's HTML body for `data` with these narratives and status: rendered by render() once per cached
    figures dict and texts (the narratives are read on every view, so an edited text is a new key)."""
    key = (tuple(sorted(narratives.items())), tuple(sorted((k, str(v)) for k, v in status.items())))
    with _lock:
        entry = _entry_of(data)
        html = entry.bodies.get(key) if entry is not None else None
        if html is not None:
            entry.bodies.move_to_end(key)
            return html
    html = Markup(render())
    stats["bodies_rendered"] += 1
    if entry is not None:
        with _lock:
            entry.bodies[key] = html
            while len(entry.bodies) > BODIES_PER_ENTRY:
                entry.bodies.popitem(last=False)
    return html


def clear() -> None:
    """Forget every cached draft (tests, and a benchmark's cold views)."""
    _cache.clear()
