"""The results page kept per process while the data is unchanged (as reports/drafts.py keeps a report draft).

The results page tabulates every submitted response of a questionnaire and computes the design-weighted
national figures (weighted.py) with their intervals: at ten times the demo a thousand requests and ten
thousand answers, about a hundred milliseconds, and lays them out (the free texts: thousands of lines). All
of it depends only on the data, the page's filters and the language, never on who asks, so the laid-out
content is kept per process, keyed by (what, data version, language): dataversion.py raises the version with
every committed change to the records, in whichever process it is made. A repeated view costs the look-up
of the version and the page's frame (base.html).

"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from .. import dataversion
from ..i18n import locale

MAX_ENTRIES = 16  # questionnaires × filters × languages that stay warm; an entry is about 100 KB at ten times the demo

T = TypeVar("T")

_cache = dataversion.Cache(MAX_ENTRIES)
stats = _cache.stats  # read by tests


def get(key: Hashable, compute: Callable[[], T]) -> T:
    """compute() for `key` in the current language, from the cache while the data is unchanged."""
    return _cache.get((key, str(locale())), compute)


def clear() -> None:
    """Forget everything kept (tests, and a benchmark's cold views)."""
    _cache.clear()
