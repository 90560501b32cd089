"""Invariants of one replication's event log, shared by the functional and property tests.

Each check returns a list of human-readable problems (empty when the invariant holds), so a
failing test shows *which* rows break it. The intervals are reconstructed from the rows alone:

- an ``admission`` row is booked at the arrival (``time``); ``duration`` is the whole stay,
  including any wait for a bed; ``quantity`` is the bed-days actually in a bed, so the bed is
  held over ``[time + duration - quantity, time + duration]``;
- a ``short_term_care`` row starts at ``time`` and holds a place for ``duration`` days;
- routine volume at home is accrued over ``[time, time + duration]`` (detail ``routine``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

# Floating-point slack: interval ends are rebuilt as time + duration (- quantity), which can
# differ from the engine's clock in the last bits. Far below any real duration (minutes).
EPS = 1e-7

ROUTINE_KINDS = ("primary_care_visit", "outpatient_visit", "home_health_visit", "home_help")
AT_HOME_DETAILS = ("needs_bed", "needs_assessment", "minor", "relapse")


def frame(table: pa.Table) -> pd.DataFrame:
    """The event log as a DataFrame with plain string columns."""
    df = table.to_pandas()
    for col in ("kind", "provider", "payer", "stratum", "detail", "paradigm"):
        df[col] = df[col].astype(str)
    return df


def max_concurrent(start: np.ndarray, end: np.ndarray) -> int:
    """Largest number of intervals ``[start, end)`` open at once (ends first at ties)."""
    if len(start) == 0:
        return 0
    # A place freed at t and taken again at t must not count twice: shrink by EPS.
    times = np.concatenate([start + EPS, end - EPS])
    delta = np.concatenate([np.ones(len(start), int), -np.ones(len(end), int)])
    order = np.lexsort((delta, times))  # at equal times the -1 (an end) comes first
    return int(np.cumsum(delta[order]).max())


def bed_intervals(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """When each admission held a bed: ``[time + duration - quantity, time + duration]``."""
    a = df[df.kind == "admission"]
    end = (a.time + a.duration).to_numpy()
    return end - a.quantity.to_numpy(), end


def place_intervals(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """When each short-term-care stay held a place."""
    s = df[df.kind == "short_term_care"]
    return s.time.to_numpy(), (s.time + s.duration).to_numpy()


def check_nonnegative(df: pd.DataFrame) -> list[str]:
    """No negative duration or quantity (a cost is a quantity times a price); a bed stay never longer than the stay."""
    out = []
    for col in ("duration", "quantity"):
        bad = df[~(df[col] >= 0)]  # also catches NaN
        if len(bad):
            out.append(f"{len(bad)} rows with negative or NaN {col}: {bad.head(3).to_dict('records')}")
    a = df[df.kind == "admission"]
    bad = a[a.quantity > a.duration + EPS]
    if len(bad):
        out.append(f"{len(bad)} admissions with more bed-days than days in hospital")
    return out


def check_capacity(df: pd.DataFrame, beds: int, places: int) -> list[str]:
    """Occupancy of beds and short-term places never exceeds capacity."""
    out = []
    used = max_concurrent(*bed_intervals(df))
    if used > beds:
        out.append(f"{used} beds occupied at once; capacity {beds}")
    used = max_concurrent(*place_intervals(df))
    if used > places:
        out.append(f"{used} short-term places occupied at once; capacity {places}")
    return out


def check_life_span(df: pd.DataFrame, entry: np.ndarray, death: np.ndarray) -> list[str]:
    """No row (nor the end of its interval) before the person's entry or after their death."""
    p = df[df.person >= 0]
    pid = p.person.to_numpy()
    t0 = p.time.to_numpy()
    t1 = t0 + p.duration.to_numpy()
    out = []
    early = t0 < entry[pid] - EPS
    if early.any():
        out.append(f"{int(early.sum())} rows before entry: {p[early].head(3).to_dict('records')}")
    late = t1 > death[pid] + EPS
    if late.any():
        out.append(f"{int(late.sum())} rows end after death: {p[late].head(3).to_dict('records')}")
    return out


def check_one_place(df: pd.DataFrame) -> list[str]:
    """A person is in one place at a time.

    Hospital stays (incl. the wait for a bed) and short-term stays of one person never
    overlap; routine volume at home is never accrued during them; a deterioration met at
    home (detail needs_bed / needs_assessment / minor / relapse) never happens during them.
    """
    stays = df[df.kind.isin(("admission", "short_term_care"))][["person", "time", "duration", "kind"]]
    stays = stays.assign(end=stays.time + stays.duration).sort_values(["person", "time", "end"])
    out = []
    same = stays.person.to_numpy()[1:] == stays.person.to_numpy()[:-1]
    overlap = same & (stays.time.to_numpy()[1:] < stays.end.to_numpy()[:-1] - EPS)
    if overlap.any():
        i = int(np.flatnonzero(overlap)[0])
        out.append(f"{int(overlap.sum())} overlapping stays, e.g. {stays.iloc[i:i + 2].to_dict('records')}")

    home = df[(df.kind.isin(ROUTINE_KINDS) & (df.detail == "routine") & (df.duration > 0))
              | ((df.kind == "deterioration") & df.detail.isin(AT_HOME_DETAILS))]
    if len(home) and len(stays):
        # For each home interval, the last stay starting before its end must have ended by its start.
        m = pd.merge_asof(
            home.assign(hend=home.time + home.duration).sort_values("hend")[["person", "time", "hend", "kind"]],
            stays.rename(columns={"time": "stay_start", "kind": "stay"})[["person", "stay_start", "end", "stay"]]
            .sort_values("stay_start"),
            left_on="hend", right_on="stay_start", by="person", allow_exact_matches=False,
        )
        # Stays of one person do not overlap (checked above), so the last one starting before
        # the home interval ends is the only candidate. Touching at an end point is fine (the
        # instants of admission and discharge); a deterioration (an instant) clashes when
        # strictly inside a stay.
        clash = m.stay_start.notna() & (m.end > m.time + EPS) & (m.hend > m.stay_start + EPS)
        if clash.any():
            out.append(f"{int(clash.sum())} home rows during a stay, e.g. {m[clash].head(3).to_dict('records')}")
    return out


# Kinds the model core books; the service concepts' own rows are checked by their tests.
CORE_KINDS = ("enter", "stratum_change", "deterioration", "death", "ed_visit", "admission",
              "delayed_discharge", "short_term_care", *ROUTINE_KINDS)


def check_strata(df: pd.DataFrame, kinds: tuple[str, ...] = CORE_KINDS) -> list[str]:
    """A row's stratum is the person's stratum at the row's ``time`` (its start, for a stay).

    The stratum at a time is the one set by the last enter / stratum_change row at or before
    it. A stay booked when it ends must still carry the stratum it started in.
    """
    states = df[df.kind.isin(("enter", "stratum_change"))][["person", "time", "stratum"]]
    rows = df[df.kind.isin(kinds) & (df.person >= 0)][["person", "time", "kind", "stratum"]]
    m = pd.merge_asof(rows.sort_values("time"), states.rename(columns={"stratum": "stratum_then"}).sort_values("time"),
                      on="time", by="person")
    bad = m[m.stratum != m.stratum_then]
    if len(bad):
        return [f"{len(bad)} rows whose stratum is not the one at their time: "
                f"{bad.kind.value_counts().to_dict()}, e.g. {bad.head(3).to_dict('records')}"]
    return []


def event_log_counts(df: pd.DataFrame, warmup: float, horizon: float) -> dict[str, int]:
    """persons_start / _entered / _died / _end rebuilt from enter and death rows only."""
    enter = df[df.kind == "enter"].set_index("person").time
    death = df[df.kind == "death"].set_index("person").time.reindex(enter.index, fill_value=np.inf)
    return {
        "persons_start": int(((enter <= warmup) & (death > warmup)).sum()),
        "persons_entered": int(((enter > warmup) & (enter < horizon)).sum()),
        "persons_died": int(((death > warmup) & (death < horizon)).sum()),
        "persons_end": int(((enter < horizon) & (death >= horizon)).sum()),
    }


def check_event_counts(df: pd.DataFrame) -> list[str]:
    """Each person enters once and dies at most once."""
    out = []
    for kind in ("enter", "death"):
        dup = df[df.kind == kind].person.duplicated()
        if dup.any():
            out.append(f"{int(dup.sum())} persons with more than one {kind} row")
    return out


def all_problems(df: pd.DataFrame, scenario, entry: np.ndarray, death: np.ndarray) -> list[str]:
    """Every invariant above, for one replication and paradigm."""
    cap = scenario.capacity
    return (check_nonnegative(df) + check_capacity(df, cap.beds, cap.short_term_places)
            + check_life_span(df, entry, death) + check_one_place(df) + check_event_counts(df)
            + check_strata(df))
