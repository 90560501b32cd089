"""One area in one replication: both care systems under every option, reduced to yearly rows.

The persons and their trajectories are drawn once per area and replication; today's care is
run once per distinct set-up (an option that changes only the reform, e.g. implementation
support, reuses it), the reform once per option. Rows are summed by measured year (``year`` 1
is the first year after the warm-up) as they are recorded; prices are applied after the run
(:mod:`sim.economics.ledger`).
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.care import CARE_SYSTEMS
from sim.domain.events import DETAILS, KINDS, PROVIDERS
from sim.domain.streams import replication_seed
from sim.domain.units import DAYS_PER_YEAR
from sim.engine.model import Model
from sim.engine.recorder import Recorder
from sim.experiments.rollout.plan import AreaRun
from sim.population import Attributes, draw_trajectories, make_population

PARADIGMS = ("intervention", "person")
_ADMISSION = KINDS.index("admission")
_VIA_ED = DETAILS.index("via_ed")


def _codes(col: pa.ChunkedArray) -> np.ndarray:
    """Return the recorder's codes of a dictionary column (its dictionary is the whole vocabulary)."""
    arr = col.combine_chunks()
    return arr.indices.to_numpy(zero_copy_only=False).astype(np.int64)


class YearAccumulator:
    """Sums of rows by (measured year, kind, provider, detail), and beds held by year."""

    def __init__(self, warmup: float, horizon: float):
        self.warmup, self.horizon = warmup, horizon
        self.years = max(1, math.ceil((horizon - warmup) / DAYS_PER_YEAR - 1e-9))
        self.sums: dict[int, np.ndarray] = {}
        self.bed_time = np.zeros(self.years)
        self.wait = np.zeros(self.years)  # days waited for a bed after the ED, by the admission's year
        self.waits = np.zeros(self.years)
        self.shape = (len(KINDS), len(PROVIDERS), len(DETAILS))

    def _year(self, t: np.ndarray) -> np.ndarray:
        return np.clip(((t - self.warmup) // DAYS_PER_YEAR).astype(np.int64), 0, self.years - 1)

    def add(self, table: pa.Table) -> None:
        """Add one chunk of the event log."""
        if table.num_rows == 0:
            return
        t = table["time"].to_numpy()
        kind, prov, det = _codes(table["kind"]), _codes(table["provider"]), _codes(table["detail"])
        q, d = table["quantity"].to_numpy(), table["duration"].to_numpy()
        nk, npv, nd = self.shape
        code = (kind * npv + prov) * nd + det
        # Counts at the row's start; quantities and durations of a row that lasts (accrued
        # routine volume, stays, staffed time) split over the years in proportion to its days.
        start = t >= self.warmup
        self._sum(self._year(t[start]), code[start], np.ones(int(start.sum())), np.zeros(int(start.sum())),
                  np.zeros(int(start.sum())))
        point = start & (d <= 0)
        self._sum(self._year(t[point]), code[point], np.zeros(int(point.sum())), q[point], d[point])
        span = np.flatnonzero((d > 0) & (t + d > self.warmup))
        if len(span):
            ts, ds = t[span], d[span]
            for j in range(self.years):
                a = self.warmup + j * DAYS_PER_YEAR
                b = a + DAYS_PER_YEAR if j < self.years - 1 else math.inf
                f = np.clip(np.minimum(ts + ds, b) - np.maximum(ts, a), 0, None) / ds
                w = f > 0
                if w.any():
                    zeros = np.zeros(int(w.sum()))
                    self._sum(np.full(len(zeros), j), code[span][w], zeros, q[span][w] * f[w], ds[w] * f[w])
        # Beds held: [t1 - bed-days, t1] of every stay (warm-up stays reaching into year 1 too).
        adm = np.flatnonzero(kind == _ADMISSION)
        if len(adm):
            t1 = t[adm] + d[adm]
            t0 = t1 - q[adm]
            for j in range(self.years):
                a = self.warmup + j * DAYS_PER_YEAR
                b = min(a + DAYS_PER_YEAR, self.horizon)
                self.bed_time[j] += float(np.clip(np.minimum(t1, b) - np.maximum(t0, a), 0, None).sum())
            ed = adm[(det[adm] == _VIA_ED) & (t[adm] >= self.warmup)]
            if len(ed):
                yy = self._year(t[ed])
                self.wait += np.bincount(yy, weights=d[ed] - q[ed], minlength=self.years)
                self.waits += np.bincount(yy, minlength=self.years)

    def _sum(self, year: np.ndarray, code: np.ndarray, n: np.ndarray, q: np.ndarray, d: np.ndarray) -> None:
        if len(year) == 0:
            return
        nk, npv, nd = self.shape
        uniq, inv = np.unique(year * (nk * npv * nd) + code, return_inverse=True)
        sums = np.stack([np.bincount(inv, weights=x, minlength=len(uniq)) for x in (n, q, d)], axis=1)
        for k, vec in zip(uniq.tolist(), sums, strict=True):
            acc = self.sums.get(k)
            if acc is None:
                self.sums[k] = vec.copy()
            else:
                acc += vec

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(rows by year, kind, provider, detail with n, quantity, duration; beds by year)."""
        nk, npv, nd = self.shape
        keys = np.array(sorted(self.sums), dtype=np.int64)
        vals = np.array([self.sums[k] for k in keys.tolist()]).reshape(-1, 3)
        det, rest = keys % nd, keys // nd
        prov, rest = rest % npv, rest // npv
        kind, year = rest % nk, rest // nk
        rows = pd.DataFrame({
            "year": year + 1,
            "kind": [KINDS[k] for k in kind.tolist()],
            "provider": [PROVIDERS[p] for p in prov.tolist()],
            "detail": [DETAILS[x] for x in det.tolist()],
            "n": vals[:, 0], "quantity": vals[:, 1], "duration": vals[:, 2],
        })
        beds = pd.DataFrame({"year": np.arange(1, self.years + 1), "bed_time": self.bed_time,
                             "ed_bed_wait_days": self.wait, "ed_bed_waits": self.waits})
        return rows, beds


def _close_beds(model: Model, day: float, k: int):
    """Close ``k`` beds from ``day``: they are taken as they come free and never given back."""
    yield model.env.timeout(day)
    for _ in range(k):
        model.beds.request()  # queued behind the patients already waiting; held to the horizon


def _setup_key(run: AreaRun, paradigm: str) -> str:
    """Return what decides a run (for today's care, not the reform's concepts)."""
    skip = {"meta", "concepts"} if paradigm == "intervention" else {"meta"}
    dump = run.scenario.model_dump(mode="json", exclude=skip)
    return json.dumps([paradigm, dump, run.beds_closed, run.cut_day], sort_keys=True, default=str)


def run_area(area: str, weight: float, runs: list[AreaRun], replication: int, keep: bool = False):
    """Run ``area``'s options in one replication; return (rows, beds, seconds[, tables]).

    ``rows`` and ``beds`` carry ``option``, ``paradigm``, ``area``, ``replication`` and ``year``.
    ``keep``: also the event tables by (option, paradigm) (tests).
    """
    t_start = time.perf_counter()
    pops: dict[str, tuple] = {}
    done: dict[str, tuple[pd.DataFrame, pd.DataFrame, object]] = {}
    rows, beds, tables = [], [], {}
    for run in runs:
        s = run.scenario
        seed = replication_seed(s.simulation.seed, replication)
        persons = s.model_dump(mode="json", include={"population", "health", "simulation"})
        pkey = json.dumps([s.simulation.seed, persons], sort_keys=True)
        if pkey not in pops:
            pop = make_population(s, seed)
            pops[pkey] = (pop, draw_trajectories(s, pop, seed), Attributes(s, pop))
        pop, traj, attrs = pops[pkey]
        for paradigm in PARADIGMS:
            key = _setup_key(run, paradigm)
            if key not in done:
                acc = YearAccumulator(s.warmup_days, s.horizon_days)
                rec = Recorder(replication, paradigm, keep=keep, on_chunk=acc.add)
                model = Model(s, pop, traj, seed, CARE_SYSTEMS[paradigm], rec, attrs)
                if run.beds_closed and run.cut_day < s.horizon_days:
                    model.env.process(_close_beds(model, run.cut_day, run.beds_closed))
                model.run()
                r, b = acc.frames()
                b["beds_open"] = _open_bed_days(s, run, acc.years)
                done[key] = (r, b, rec.to_table() if keep else None)
            r, b, table = done[key]
            tags = {"option": run.option, "paradigm": paradigm, "area": area, "weight": weight,
                    "replication": replication}
            rows.append(r.assign(**tags))
            beds.append(b.assign(**tags))
            if keep:
                tables[(run.option, paradigm)] = table
    out = (pd.concat(rows, ignore_index=True), pd.concat(beds, ignore_index=True), time.perf_counter() - t_start)
    return (*out, tables) if keep else out


def _open_bed_days(s, run: AreaRun, years: int) -> np.ndarray:
    """Bed-days open in each measured year (beds less those closed from the cut day)."""
    out = np.zeros(years)
    for j in range(years):
        a = s.warmup_days + j * DAYS_PER_YEAR
        b = min(a + DAYS_PER_YEAR, s.horizon_days)
        closed = run.beds_closed * max(0.0, b - max(a, run.cut_day)) if run.beds_closed else 0.0
        out[j] = s.capacity.beds * (b - a) - closed
    return out
