"""Service-concept figures from the event log: caseloads, list sizes, refusals.

The metrics are those the registered concepts declare (:mod:`sim.domain.metrics`).
Enrolment rows carry ``time`` = start and ``duration`` = days enrolled, so a mean caseload is
the enrolled person-days overlapping the measured period divided by its length.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sim.care.concepts import metrics
from sim.domain.metrics import Caseload, RefusedShare


def caseloads() -> dict[str, str]:
    """Caseload metrics of the registered concepts: metric -> enrolment kind."""
    return {m: d.kind for m, d in metrics().items() if isinstance(d, Caseload)}


def units() -> dict[str, str]:
    """Units of the registered concepts' metrics."""
    return {m: d.unit for m, d in metrics().items()}


#: Units of the concepts registered when this module is imported (the summary's unit column).
UNITS = units()


class ConceptAccumulator:
    """Sums over event-log chunks of one replication and paradigm."""

    def __init__(self, warmup: float, horizon: float):
        self.warmup, self.horizon = warmup, horizon
        declared = metrics()
        self.caseloads = {m: d for m, d in declared.items() if isinstance(d, Caseload)}
        self.shares = {m: d for m, d in declared.items() if isinstance(d, RefusedShare)}
        self.days = {m: 0.0 for m in self.caseloads}
        self.counted = {m: 0 for m in self.shares}
        self.refused = {m: 0 for m in self.shares}

    def add(self, table: pa.Table) -> None:
        """Add one chunk."""
        kind = pc.cast(table["kind"], pa.string())
        detail = pc.cast(table["detail"], pa.string())
        for metric, d in self.caseloads.items():
            rows = table.filter(pc.and_(pc.equal(kind, d.kind), pc.not_equal(detail, "full")))
            if rows.num_rows:
                t0 = rows["time"].to_numpy()
                t1 = t0 + rows["duration"].to_numpy()
                overlap = np.minimum(t1, self.horizon) - np.maximum(t0, self.warmup)
                self.days[metric] += float(np.clip(overlap, 0, None).sum())
        for metric, d in self.shares.items():
            ref = table.filter(pc.and_(pc.equal(kind, d.kind), pc.greater_equal(table["time"], self.warmup)))
            if ref.num_rows:
                self.counted[metric] += ref.num_rows
                dd = pc.cast(ref["detail"], pa.string())
                self.refused[metric] += int(pc.sum(pc.is_in(dd, pa.array(d.refused))).as_py() or 0)

    def result(self) -> dict[str, float]:
        """Mean caseloads over the measured period, then the refused shares."""
        length = self.horizon - self.warmup
        out = {m: d / length for m, d in self.days.items()}
        for m in self.shares:
            out[m] = self.refused[m] / self.counted[m] if self.counted[m] else 0.0
        return out
