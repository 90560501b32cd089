"""Need strata (behovsgrunder) of the 65+ population, in index order (never reorder)."""

from __future__ import annotations

from typing import Literal

STRATA = ("stable", "fluctuating", "unstable", "palliative")
Stratum = Literal["stable", "fluctuating", "unstable", "palliative"]
STABLE, FLUCTUATING, UNSTABLE, PALLIATIVE = range(4)
