"""Long lists shown a page at a time: the page asked for (`?sida=N`), clamped to the pages there are.

Plain words: a list page counts its rows once, then reads one page of them with OFFSET/LIMIT, so the
number of SQL statements stays the same whatever the length of the list. A page number that is not a
number, or is out of range, shows the nearest page instead of an error. The links to other pages keep
the list's filters (templates/_pager.html).
"""
from __future__ import annotations

from dataclasses import dataclass

PARAM = "sida"


@dataclass(frozen=True)
class Page:
    number: int     # 1-based, within 1..pages
    per_page: int
    total: int      # rows in the whole (filtered) list

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def first(self) -> int:
        """The 1-based position of the page's first row (0 for an empty list)."""
        return self.offset + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.offset + self.per_page)


def page_of(args, total: int, per_page: int) -> Page:
    """The page that `args` (the query string) asks for, within the pages that `total` rows make."""
    raw = (args.get(PARAM) or "").strip()
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 1
    pages = max(1, -(-total // per_page))
    return Page(number=min(max(1, number), pages), per_page=per_page, total=total)
