"""The results page kept per process while the data is unchanged (as reports/drafts.py keeps a report draft).

The results page tabulates every submitted response of a questionnaire and computes the design-weighted
national figures (weighted.py) with their intervals: at ten times the demo a thousand requests and ten
thousand answers, about a hundred milliseconds, and lays them out (the free texts: thousands of lines). All
of it depends only on the data, the page's filters and the language, never on who asks, so the laid-out
content is kept per process, keyed by (what, data version, language): dataversion.py raises the version with
every committed change to the records, in whichever process it is made. A repeated view costs the look-up
of the version and the page's frame (base.html).

Nothing is kept while the session's transaction holds changes it has not committed (the version does not
show them yet), nor on a database that never counted a change.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from .. import dataversion
from ..i18n import locale

MAX_ENTRIES = 16  # questionnaires × filters × languages that stay warm; an entry is about 100 KB at ten times the demo

T = TypeVar("T")

_lock = threading.Lock()
_entries: OrderedDict[tuple, Any] = OrderedDict()
stats = {"computed": 0, "hits": 0}  # read by tests


def get(key: Hashable, compute: Callable[[], T]) -> T:
    """compute() for `key`, from the cache while the data is unchanged. The value is shared between views:
    callers read it and never change it."""
    version = dataversion.current()
    if version is None:
        stats["computed"] += 1
        return compute()
    full = (key, version, str(locale()))
    with _lock:
        if full in _entries:
            _entries.move_to_end(full)
            stats["hits"] += 1
            return _entries[full]
    value = compute()  # outside the lock: another questionnaire's view need not wait
    stats["computed"] += 1
    with _lock:
        _entries.setdefault(full, value)
        _entries.move_to_end(full)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
        return _entries[full]


def clear() -> None:
    """Forget everything kept (tests, and a benchmark's cold views)."""
    with _lock:
        _entries.clear()
