"""Service-concept figures from the event log: caseloads, list sizes, refusals.

The metrics are those the registered concepts declare (:mod:`sim.domain.metrics`).
Enrolment rows carry ``time`` = start and ``duration`` = days enrolled, so a mean caseload is
the enrolled person-days overlapping the measured period divided by its length.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sim.care.concepts import metrics
from sim.domain.columns import Chunk, as_chunk
from sim.domain.events import DETAILS, KINDS, PR, PROVIDERS, D, K
from sim.domain.metrics import (
    Caseload,
    PerYear,
    RefusedShare,
    StaffFigure,
    StaffLimitShare,
    Unserved,
    Waiting,
    WeeklyHours,
)
from sim.domain.units import DAYS_PER_WEEK

_FULL = D["full"]


def _code(vocab: dict[str, int], name: str) -> int:
    """Return the code of ``name``; -1 (matches no row) for a name not in the vocabulary."""
    return vocab.get(name, -1)


def _codes_of(vocab: dict[str, int], names) -> list[int]:
    """Return the codes of ``names`` found in the vocabulary."""
    return [vocab[n] for n in names if n in vocab]


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
        self.others = {m: d for m, d in declared.items() if not isinstance(d, Caseload | RefusedShare)}
        self.values: dict[str, float] = {m: 0.0 for m in self.others}
        self.pairs: dict[str, list[float]] = {m: [0.0, 0.0] for m in self.others}
        self.waits: dict[str, list[np.ndarray]] = {m: [] for m in self.others}
        self.referred: dict[str, dict[int, float]] = {m: {} for m in self.others}
        self.enrolled: dict[str, dict[int, float]] = {m: {} for m in self.others}

    def add(self, table: pa.Table | Chunk) -> None:
        """Add one chunk.

        Kind, provider and detail are compared as codes (:mod:`sim.domain.events`), read once per
        chunk; each metric's rows are taken from the rows of its kind (:meth:`TableChunk.rows_of`,
        indices in row order): the same rows in the same order as filtering the table by names,
        so the same sums.
        """
        c = as_chunk(table)
        detail = c.codes("detail", DETAILS)
        time = c.column("time")
        col = c.column

        def of(kind: str) -> np.ndarray:
            return c.rows_of("kind", KINDS, _code(K, kind))

        for metric, d in self.caseloads.items():
            r = of(d.kind)
            r = r[detail[r] != _FULL]
            if len(r):
                t0 = time[r]
                t1 = t0 + col("duration")[r]
                overlap = np.minimum(t1, self.horizon) - np.maximum(t0, self.warmup)
                self.days[metric] += float(np.clip(overlap, 0, None).sum())
        for metric, d in self.shares.items():
            r = of(d.kind)
            r = r[time[r] >= self.warmup]
            if len(r):
                self.counted[metric] += len(r)
                self.refused[metric] += int(np.count_nonzero(np.isin(detail[r], _codes_of(D, d.refused))))
        if self.others:
            self._add_staffed(of, detail, c.codes("provider", PROVIDERS), col)

    def _add_staffed(self, of, detail: np.ndarray, provider: np.ndarray, col) -> None:
        """Add the staffed concepts' figures: capacity, staff limits, referrals, unmet need, waits.

        ``of(kind)``: the indices of the chunk's rows of a kind, in row order.
        """
        time = col("time")
        measured = (time >= self.warmup) & (time < self.horizon)

        def rows(k: str, prov: str, details: tuple[str, ...] = ()) -> np.ndarray:
            r = of(k)
            m = provider[r] == _code(PR, prov)
            if details:
                m &= np.isin(detail[r], _codes_of(D, details))
            return r[m]

        for metric, d in self.others.items():
            if isinstance(d, StaffFigure):
                r = rows("staff_time", d.provider, (d.detail,))
                if len(r):
                    self.values[metric] = float(col("quantity")[r][0])
            elif isinstance(d, StaffLimitShare):
                self.pairs[metric][0] += int(np.count_nonzero(measured[rows("staff_limit", d.provider)]))
                made = rows(d.visit_kind, d.provider, (d.home_detail,))
                self.pairs[metric][1] += int(np.count_nonzero(measured[made]))
            elif isinstance(d, PerYear):
                self.values[metric] += int(np.count_nonzero(measured[rows(d.kind, d.provider, d.details)]))
            elif isinstance(d, Unserved):
                person = col("person")
                ref = rows(d.referral_kind, d.provider)
                ref = ref[measured[ref]]
                seen = self.referred[metric]
                for p, t in zip(person[ref].tolist(), time[ref].tolist(), strict=True):
                    if p not in seen or t < seen[p]:
                        seen[p] = t
                enr = rows(d.enrol_kind, d.provider)
                enr = enr[(time[enr] < self.horizon) & (detail[enr] != _FULL)]
                last = self.enrolled[metric]
                for p, t in zip(person[enr].tolist(), time[enr].tolist(), strict=True):
                    if t > last.get(p, -np.inf):
                        last[p] = t
            elif isinstance(d, WeeklyHours):
                r = rows(d.kind, d.provider, (d.detail,))
                if len(r):
                    t0, dur, q = time[r], col("duration")[r], col("quantity")[r]
                    overlap = np.clip(np.minimum(t0 + dur, self.horizon) - np.maximum(t0, self.warmup), 0, None)
                    self.values[metric] += float((q * np.divide(overlap, dur, out=np.zeros_like(dur),
                                                                where=dur > 0)).sum())
            elif isinstance(d, Waiting):
                r = rows("waiting", d.provider)
                if not len(r):
                    continue
                t0 = time[r]
                dur = col("duration")[r]
                if d.stat == "person_days":
                    overlap = np.minimum(t0 + dur, self.horizon) - np.maximum(t0, self.warmup)
                    self.values[metric] += float(np.clip(overlap, 0, None).sum())
                else:
                    self.waits[metric].append(dur[t0 >= self.warmup])

    def result(self) -> dict[str, float]:
        """Mean caseloads over the measured period, then the refused shares."""
        length = self.horizon - self.warmup
        out = {m: d / length for m, d in self.days.items()}
        for m in self.shares:
            out[m] = self.refused[m] / self.counted[m] if self.counted[m] else 0.0
        years = length / 365.25
        for m, d in self.others.items():
            if isinstance(d, StaffFigure):
                out[m] = self.values[m]
            elif isinstance(d, StaffLimitShare):
                refused, made = self.pairs[m]
                out[m] = refused / (refused + made) if refused + made else 0.0
            elif isinstance(d, PerYear):
                out[m] = self.values[m] / years
            elif isinstance(d, WeeklyHours):
                out[m] = self.values[m] / (length / DAYS_PER_WEEK)
            elif isinstance(d, Unserved):
                last = self.enrolled[m]
                out[m] = sum(1 for p, t in self.referred[m].items() if last.get(p, -np.inf) < t) / years
            elif d.stat == "person_days":
                out[m] = self.values[m] / years
            else:
                w = np.concatenate(self.waits[m]) if self.waits[m] else np.empty(0)
                if not len(w):
                    out[m] = 0.0
                else:
                    out[m] = float(w.mean()) if d.stat == "mean" else float(np.quantile(w, 0.9))
        return out
