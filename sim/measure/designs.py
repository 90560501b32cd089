"""Measurement designs computed from the event log: the naive and the causal statistic.

For one design (a :class:`~sim.measure.targets.Cohort` and a
:class:`~sim.measure.targets.Metric`) and one replication:

* the **cohort** is the set of index rows (kind ``cohort.index``, or ``discharge``: the end
  of an admission that was not censored and that the person survived) of the measured run
  (``cohort.paradigm``, normally the person-driven run) with an index date in the period;
* **naive** (what the studies measured, on the measured run alone):

  - ``before_after``: ``A / B - 1``, with ``A`` the cohort total over ``[t, t + after)`` and
    ``B`` over ``[t - before, t)``, ``t`` each member's index date;
  - ``control``: ``mean_A / mean_C - 1``, with ``mean_C`` the mean per index of a comparable
    control cohort over the same window (by default from the intervention-driven run: the
    area as it was before the concept existed);

* **causal**: ``A / A_cf - 1``, with ``A_cf`` the total over the *same* windows of the *same*
  persons (same replication, person ids and index dates) in the paired run of the other
  paradigm, which meets the same health trajectories (common random numbers);
* **counterfactual change** (the gap): ``A_cf / B - 1`` (or ``mean A_cf / mean_C - 1``):
  what the naive design would have shown without the concept. It is regression to the mean
  (a cohort selected at a peak of use), deaths after the index date (both runs share them,
  so they cancel in the causal figure but not in the naive one) and selection. Exactly
  ``(1 + naive) = (1 + causal) * (1 + counterfactual)``.

Rows are placed in time as the metric says (``point``, ``interval`` pro-rated by overlap,
``stay`` = the bed-days of the stay); a window takes the part of each row inside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.domain.events import DETAILS, KINDS, D, K
from sim.domain.strata import STRATA
from sim.measure.targets import Cohort, ControlCohort, Metric

DAYS_PER_YEAR = 365.25
_TOL = 1e-6
EVENT_COLUMNS = ["replication", "paradigm", "person", "time", "kind", "duration", "quantity",
                 "stratum", "readmission", "avoidable", "detail"]
OTHER = {"person": "intervention", "intervention": "person"}
#: Paradigm codes of the coded event rows (index in this tuple).
PARADIGMS = ("intervention", "person")
_P = {name: i for i, name in enumerate(PARADIGMS)}
#: The coded columns and their vocabularies (a code is the index of the name).
CODED = {"paradigm": PARADIGMS, "kind": KINDS, "stratum": STRATA, "detail": DETAILS}


class MeasureError(ValueError):
    """A design cannot be computed on these results (run too short, column missing...)."""


def _codes(col: pd.Series, vocab) -> np.ndarray:
    """Codes (index in ``vocab``, -1 if absent) of a column of names; integer columns are codes already."""
    if pd.api.types.is_integer_dtype(col.dtype):
        return col.to_numpy(np.int16)
    index = {w: i for i, w in enumerate(vocab)}
    if isinstance(col.dtype, pd.CategoricalDtype):
        # One look-up per category, not per row; code -1 (a missing value) maps to the table's last cell, -1.
        lut = np.array([index.get(str(c), -1) for c in col.cat.categories] + [-1], np.int16)
        return lut[col.cat.codes.to_numpy()]
    return np.array([index.get(str(v), -1) for v in col], np.int16)


def normalise_events(events: pd.DataFrame) -> pd.DataFrame:
    """Keep the columns the designs use, with the categorical columns as integer codes.

    ``paradigm``, ``kind``, ``stratum`` and ``detail`` become their codes in :data:`CODED`
    (names not in the vocabulary: -1), whether they come as names (a results folder's
    dictionary columns, plain strings) or as codes already (the recorder's in-memory rows of
    :mod:`sim.experiments.evaluate`): the designs compare small integers, never strings.
    """
    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise MeasureError(f"event log lacks columns: {', '.join(missing)}")
    out = events[EVENT_COLUMNS].copy()
    for col, vocab in CODED.items():
        out[col] = _codes(out[col], vocab)
    return out


class CodedEvents:
    """:func:`normalise_events` rows with the selections the designs repeat computed once.

    Every target's design selects rows by care system and kind, its cohort's index rows and the
    deaths; ten designs over five cohorts and eight metrics made the same selections of the whole
    frame again and again. Here each selection is made once, by the same filters in the same
    order, so every figure is the same to the bit; the cached frames are not changed by their users.
    """

    def __init__(self, events: pd.DataFrame):
        self.frame = events
        self._paradigm = events["paradigm"].to_numpy()
        self._kind = events["kind"].to_numpy()
        self._memo: dict[tuple, object] = {}

    @classmethod
    def from_groups(cls, groups: dict[tuple[str, str], pd.DataFrame], replications: list) -> CodedEvents:
        """Rows split by care system and kind already: ``groups[(paradigm, kind)]``, as :func:`normalise_events` gives.

        Each group holds the rows :meth:`of` would select from the frame of all of them (the same
        rows in the same order: by replication, then as recorded), so the designs read the same
        figures without a frame of every row to filter again per group (the metrics-only evaluation,
        whose recorder hands its rows on in chunks). A pair not in ``groups`` has no rows;
        ``replications``: those of the rows, sorted (:meth:`replications`).
        """
        frames = list(groups.values())
        empty = (frames[0] if frames else pd.DataFrame(columns=EVENT_COLUMNS)).iloc[:0]
        ev = cls(empty)
        for (paradigm, kind), frame in groups.items():
            ev._memo[("of", paradigm, kind)] = frame
        for paradigm in {p for p, _ in groups}:
            ev._memo[("has", paradigm)] = any(len(f) for (p, _), f in groups.items() if p == paradigm)
        ev._memo[("replications",)] = list(replications)
        return ev

    def memo(self, key: tuple, make):
        """``make()``, computed once per ``key``."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def has(self, paradigm: str) -> bool:
        """Tell whether any row is of ``paradigm``."""
        return self.memo(("has", paradigm), lambda: bool((self._paradigm == _P[paradigm]).any()))

    def of(self, paradigm: str, kind: str) -> pd.DataFrame:
        """Return the rows of one care system and kind, in their order."""
        return self.memo(("of", paradigm, kind),
                         lambda: self.frame[(self._paradigm == _P[paradigm]) & (self._kind == K[kind])])

    def replications(self) -> list:
        """Return the replications in the rows, sorted."""
        return self.memo(("replications",), lambda: sorted(self.frame["replication"].unique()))


def coded(events: pd.DataFrame | CodedEvents) -> CodedEvents:
    """``events`` (:func:`normalise_events` output) as :class:`CodedEvents` (as it is if it is one)."""
    return events if isinstance(events, CodedEvents) else CodedEvents(events)


def _in_period(t: pd.Series, period: tuple[float, float], warmup: float) -> pd.Series:
    a = warmup + period[0] * DAYS_PER_YEAR
    b = warmup + period[1] * DAYS_PER_YEAR
    return (t >= a) & (t < b)


def death_times(events: pd.DataFrame | CodedEvents, paradigm: str) -> pd.DataFrame:
    """Death day per (replication, person) in one paradigm's rows (coded events)."""
    ev = coded(events)

    def make():
        d = ev.of(paradigm, "death")
        return d.groupby(["replication", "person"], as_index=False)["time"].min().rename(columns={"time": "death"})
    return ev.memo(("death_times", paradigm), make)


def index_rows(events: pd.DataFrame | CodedEvents, rule: Cohort | ControlCohort, warmup: float,
               paradigm: str | None = None) -> pd.DataFrame:
    """Index events of a cohort rule: columns ``replication, person, t`` (one row per index)."""
    ev = coded(events)
    paradigm = paradigm or rule.paradigm
    return ev.memo(("index_rows", paradigm, warmup, type(rule).__name__, rule.model_dump_json()),
                   lambda: _index_rows(ev, rule, warmup, paradigm))


def _index_rows(events: CodedEvents, rule: Cohort | ControlCohort, warmup: float, paradigm: str) -> pd.DataFrame:
    if rule.index == "discharge":
        adm = events.of(paradigm, "admission")
        adm = adm[adm["detail"] != D["censored"]]
        rows = adm.assign(t=adm["time"] + adm["duration"])
        deaths = death_times(events, paradigm)
        rows = rows.merge(deaths, on=["replication", "person"], how="left")
        # A stay that ends in death is no discharge.
        rows = rows[~(rows["death"] <= rows["t"] + _TOL)]
    else:
        rows = events.of(paradigm, rule.index).assign(t=lambda d: d["time"])
    if rule.strata:
        rows = rows[rows["stratum"].isin([STRATA.index(s) for s in rule.strata])]
    rows = rows[_in_period(rows["t"], rule.period_years, warmup)]
    rows = rows[["replication", "person", "t"]].sort_values(["replication", "person", "t"])
    if rule.first_only:
        rows = rows.drop_duplicates(["replication", "person"], keep="first")
    return rows.reset_index(drop=True)


def metric_rows(events: pd.DataFrame | CodedEvents, metric: Metric, paradigm: str) -> pd.DataFrame:
    """Rows of a metric placed in time: ``replication, person, start, end, qty``."""
    ev = coded(events)
    return ev.memo(("metric_rows", paradigm, metric.model_dump_json()), lambda: _metric_rows(ev, metric, paradigm))


def _metric_rows(events: CodedEvents, metric: Metric, paradigm: str) -> pd.DataFrame:
    ev = events.of(paradigm, metric.kind)
    if metric.flag is not None:
        ev = ev[ev[metric.flag].astype(bool)]
    if metric.details:
        ev = ev[ev["detail"].isin([D[d] for d in metric.details])]
    if metric.exclude_details:
        ev = ev[~ev["detail"].isin([D[d] for d in metric.exclude_details])]
    qty = np.ones(len(ev)) if metric.value == "count" else ev["quantity"].to_numpy(float)
    time = ev["time"].to_numpy(float)
    dur = ev["duration"].to_numpy(float)
    if metric.spread == "point" or metric.value == "count":
        start, end = time, time
    elif metric.spread == "interval":
        start, end = time, time + dur
    else:  # stay: the bed-days at the end of the stay (after any wait for a bed)
        end = time + dur
        start = end - np.minimum(qty, dur)
    return pd.DataFrame({"replication": ev["replication"].to_numpy(), "person": ev["person"].to_numpy(),
                         "start": start, "end": end, "qty": qty})


def window_sums(rows: pd.DataFrame, idx: pd.DataFrame, lo: float, hi: float,
                by_key: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Per index row: the metric inside ``[t + lo, t + hi)`` (intervals pro-rated by overlap).

    Each index row meets the metric's rows of its (replication, person), in their order, and adds
    up their parts, as an inner merge on those keys would pair them (:func:`_window_sums_merge`,
    the reference: the same sums to the bit). ``by_key``: :func:`rows_by_key` of ``rows``, when the
    caller keeps it for several windows over the same rows.
    """
    if idx.empty:
        return np.zeros(0)
    by_key = by_key if by_key is not None else rows_by_key(rows)
    ik = _packed_keys(idx)
    if by_key is None or ik is None:  # a key outside the packed range: the merge
        return _window_sums_merge(rows, idx, lo, hi)
    keys, order = by_key
    n = len(idx)
    first = np.searchsorted(keys, ik, "left")
    count = np.searchsorted(keys, ik, "right") - first
    total = int(count.sum())
    if total == 0:
        return np.zeros(n)
    li = np.repeat(np.arange(n), count)  # index row of each pair; its rows in their order
    ri = order[np.arange(total) + np.repeat(first - (np.cumsum(count) - count), count)]
    t = idx["t"].to_numpy()[li]
    s, e, q = rows["start"].to_numpy()[ri], rows["end"].to_numpy()[ri], rows["qty"].to_numpy()[ri]
    return np.bincount(li, weights=_window_parts(s, e, q, t + lo, t + hi), minlength=n)


def _packed_keys(frame: pd.DataFrame) -> np.ndarray | None:
    """(replication, person) as one int64 per row, or None if either is outside [0, 2**31)."""
    rep = frame["replication"].to_numpy(np.int64)
    person = frame["person"].to_numpy(np.int64)
    if len(rep) and (rep.min() < 0 or rep.max() >= 2**31 or person.min() < 0 or person.max() >= 2**31):
        return None
    return rep << 32 | person


def rows_by_key(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Metric rows' packed (replication, person) keys, sorted, and the stable order that sorts them."""
    keys = _packed_keys(rows)
    if keys is None:
        return None
    order = stable_order(keys)
    return keys[order], order


_DIGIT_BITS = 16  #: bits of one pass of :func:`stable_order` (numpy's stable sort of 16-bit integers is a radix sort)


def stable_order(keys: np.ndarray) -> np.ndarray:
    """Return ``np.argsort(keys, kind="stable")`` of non-negative int64 keys, the same permutation, faster.

    A least-significant-digit radix sort: one stable pass per 16-bit digit that is not the same in
    every key. numpy sorts 64-bit integers stably by a merge sort, 16-bit ones by a radix sort about
    6 times faster; the (replication, person) keys have two varying digits at most areas' sizes.
    """
    order = None  # None: the rows' own order
    mask = (1 << _DIGIT_BITS) - 1
    for shift in range(0, 64, _DIGIT_BITS):
        digit = (((keys if order is None else keys[order]) >> shift) & mask).astype(np.uint16)
        if len(digit) == 0 or digit.min() == digit.max():  # a constant digit leaves a stable order as it is
            continue
        step = np.argsort(digit, kind="stable")
        order = step if order is None else order[step]
    return np.arange(len(keys)) if order is None else order


def _window_parts(s, e, q, w0, w1) -> np.ndarray:
    """Each row's part inside its window: points counted if inside, intervals pro-rated by overlap."""
    length = e - s
    point = length <= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(point, ((s >= w0) & (s < w1)).astype(float),
                        np.clip(np.minimum(e, w1) - np.maximum(s, w0), 0.0, None) / np.where(point, 1.0, length))
    return q * frac


def _window_sums_merge(rows: pd.DataFrame, idx: pd.DataFrame, lo: float, hi: float) -> np.ndarray:
    """:func:`window_sums` by an inner merge of the index rows with the metric rows (the reference)."""
    if idx.empty:
        return np.zeros(0)
    ids = idx[["replication", "person", "t"]].reset_index(drop=True).assign(_i=lambda d: np.arange(len(d)))
    m = ids.merge(rows, on=["replication", "person"], how="inner")
    if m.empty:
        return np.zeros(len(ids))
    t = m["t"].to_numpy()
    contrib = _window_parts(m["start"].to_numpy(), m["end"].to_numpy(), m["qty"].to_numpy(), t + lo, t + hi)
    return np.bincount(m["_i"].to_numpy(), weights=contrib, minlength=len(ids))


def check_fits(cohort: Cohort, warmup: float, horizon: float, name: str = "") -> None:
    """Refuse a design whose windows do not lie inside the run: ``[0, horizon]``."""
    rules = [(cohort.period_years, cohort.before_days)]
    if cohort.control is not None:
        rules.append((cohort.control.period_years, 0.0))
    for period, before in rules:
        a = warmup + period[0] * DAYS_PER_YEAR - before
        b = warmup + period[1] * DAYS_PER_YEAR + cohort.after_days
        if a < -_TOL or b > horizon + _TOL:
            raise MeasureError(
                f"design {name or '?'}: windows run from day {a:.0f} to day {b:.0f}, outside the run"
                f" (0 to {horizon:.0f}); lengthen the run (warm-up, years) or shorten the period"
            )


def _ratio(a: float, b: float) -> float:
    return a / b - 1.0 if b > 0 else float("nan")


def compute_design(events: pd.DataFrame | CodedEvents, cohort: Cohort, metric: Metric, warmup: float,
                   horizon: float, name: str = "") -> pd.DataFrame:
    """Per-replication figures of one design.

    ``events``: :func:`normalise_events` output (both paradigms for the causal figure), or it as
    :class:`CodedEvents` (the selections shared by every design on it).
    Returns one row per replication: ``naive, causal, counterfactual`` (relative changes as
    fractions), ``persons`` (cohort members), ``index_rows``, ``before`` (or the control's
    mean), ``after``, ``after_cf`` and ``died_share`` (share of index rows followed by a death
    inside the after window).
    """
    check_fits(cohort, warmup, horizon, name)
    events = coded(events)
    measured = cohort.paradigm
    other = OTHER[measured]
    reps = events.replications()
    idx = index_rows(events, cohort, warmup)
    rows_m = metric_rows(events, metric, measured)
    rows_o = metric_rows(events, metric, other)
    has_other = events.has(other)

    def keyed(paradigm):  # the metric rows' sorted keys, made once per care system and metric
        return events.memo(("by_key", paradigm, metric.model_dump_json()),
                           lambda: rows_by_key(metric_rows(events, metric, paradigm)))

    after = window_sums(rows_m, idx, 0.0, cohort.after_days, keyed(measured))
    after_cf = (window_sums(rows_o, idx, 0.0, cohort.after_days, keyed(other)) if has_other
                else np.full(len(idx), np.nan))
    if cohort.comparison == "before_after":
        before = window_sums(rows_m, idx, -cohort.before_days, 0.0, keyed(measured))
        ctrl = None
    else:
        before = np.full(len(idx), np.nan)
        c = cohort.control
        cidx = index_rows(events, c, warmup)
        ctrl = cidx.assign(v=window_sums(metric_rows(events, metric, c.paradigm), cidx, 0.0, cohort.after_days,
                                         keyed(c.paradigm)))
    deaths = death_times(events, measured)
    d = idx.merge(deaths, on=["replication", "person"], how="left")["death"].to_numpy(float)
    died = (d >= idx["t"].to_numpy()) & (d < idx["t"].to_numpy() + cohort.after_days)
    frame = idx.assign(after=after, after_cf=after_cf, before=before, died=died)
    out = []
    for r in reps:
        f = frame[frame["replication"] == r]
        n = len(f)
        a, acf = float(f["after"].sum()), float(f["after_cf"].sum())
        if cohort.comparison == "before_after":
            b = float(f["before"].sum())
            naive, cf = _ratio(a, b), _ratio(acf, b)
            base = b
        else:
            cv = ctrl.loc[ctrl["replication"] == r, "v"]
            base = float(cv.mean()) if len(cv) else float("nan")
            ma = a / n if n else float("nan")
            mcf = acf / n if n else float("nan")
            naive = _ratio(ma, base) if n and base == base else float("nan")
            cf = _ratio(mcf, base) if n and base == base else float("nan")
        causal = _ratio(a, acf) if n and has_other else float("nan")
        out.append({
            "replication": r, "naive": naive if n else float("nan"), "causal": causal,
            "counterfactual": cf if n else float("nan"), "persons": int(f["person"].nunique()),
            "index_rows": n, "before": base, "after": a, "after_cf": acf,
            "died_share": float(f["died"].mean()) if n else float("nan"),
        })
    return pd.DataFrame(out)
