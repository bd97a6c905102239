"""An ÖJ population group as a rule: its population bounds and how many of its kommuner the sample draws.

The registry reads a kommun's group with it and the sample's design draws by it; it lives here, below both."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GroupRule:
    number: int
    lower: int  # inclusive
    upper: int | None  # exclusive; None = no upper bound
    allocation: int | None  # kommuner to draw; None = take all
    districts_per_city: int = 2  # only used for take-all groups

    @property
    def take_all(self) -> bool:
        return self.allocation is None

    def contains(self, population: int) -> bool:
        return population >= self.lower and (self.upper is None or population < self.upper)
