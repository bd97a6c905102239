"""What the codebook asks of the capabilities that build on it, so that it never imports them.

The plans' goals may name a theme (goal area); the plans connect receivers here:
- theme_counted(theme_id) returns how many of their rows name the theme (the merge's preview);
- theme_merged(source_id, target_id=...) moves those rows to the target theme in the caller's transaction and
  returns how many it moved.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()
theme_counted = _signals.signal("theme-counted")
theme_merged = _signals.signal("theme-merged")
