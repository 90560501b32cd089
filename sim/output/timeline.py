"""One person's months under both care systems, side by side (the documents' patient example).

:func:`person_timeline` cuts one person's rows out of a ``compare`` results folder;
:func:`typical_person` picks a typical person from the unstable group; the plot lives in
:mod:`sim.plots`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.output.results import ResultsError, read_events

TIMELINE_COLUMNS = ["paradigm", "day", "time", "kind", "provider", "payer", "duration", "quantity",
                    "cost", "stratum", "detail", "readmission", "avoidable"]
# Rows that are neither contacts nor state changes of the person.
_NOT_PERSONAL = ("nurse_demand_hours", "nurse_available_hours", "nurse_lost_hours", "fixed_cost")
_INDEX_KINDS = ("team_enrol", "palliative_enrol", "safe_discharge", "physician_list")
_MIN_TEAM_DAYS = 60.0  # a typical team patient has had at least this much of the team (days)


def _events(folder, replication: int) -> pd.DataFrame:
    ev = read_events(folder)
    ev = ev[(ev["replication"] == replication) & (ev["person"] >= 0)]
    if ev.empty:
        raise ResultsError(f"{folder}: no events for replication {replication}")
    for col in ("paradigm", "kind", "provider", "payer", "stratum", "detail"):
        ev[col] = ev[col].astype(str)
    paradigms = set(ev["paradigm"])
    if paradigms != {"intervention", "person"}:
        raise ResultsError(f"{folder}: timeline needs both care systems (run `narvard compare`); found {sorted(paradigms)}")
    return ev


def typical_person(ev: pd.DataFrame, months: float = 18.0) -> tuple[int, float]:
    """A typical person of the unstable group: ``(person, index day)``.

    Among persons enrolled in the närsjukvårdsteam under person-driven care (else: anyone who
    was unstable), the one whose intervention-driven cost over the window is the median.
    """
    person_run = ev[ev["paradigm"] == "person"]
    team = person_run[person_run["kind"] == "team_enrol"]
    # The team's patients who had its intensive period (not those discharged within weeks).
    long_enough = team.groupby("person")["duration"].sum() >= _MIN_TEAM_DAYS
    enrol = team[team["person"].isin(long_enough[long_enough].index)].groupby("person")["time"].min()
    if enrol.empty:
        enrol = team.groupby("person")["time"].min()
    if enrol.empty:
        unstable = ev[(ev["stratum"] == "unstable") & (ev["paradigm"] == "intervention")]
        enrol = unstable.groupby("person")["time"].min()
    if enrol.empty:
        raise ResultsError("no person was ever in the unstable group in this run")
    span = months * 30.44
    iv = ev[ev["paradigm"] == "intervention"][["person", "time", "cost"]]
    iv = iv[iv["person"].isin(enrol.index)]
    start = enrol.reindex(iv["person"]).to_numpy() - span / 3
    inside = (iv["time"].to_numpy() >= start) & (iv["time"].to_numpy() < start + span)
    cost = iv[inside].groupby("person")["cost"].sum().reindex(enrol.index, fill_value=0.0)
    median = float(np.median(cost.to_numpy()))
    person = int((cost - median).abs().sort_values(kind="stable").index[0])
    return person, float(enrol.loc[person])


def person_timeline(folder, person: int | None = None, replication: int = 0,
                    months: float = 18.0) -> tuple[pd.DataFrame, int]:
    """Rows of one person under both systems over ``months``; ``day`` counts from the window start.

    The window starts a third of the way before the person's first enrolment (or first row).
    """
    ev = _events(folder, replication)
    if person is None:
        person, index = typical_person(ev, months)
    else:
        mine = ev[ev["person"] == person]
        if mine.empty:
            raise ResultsError(f"{folder}: person {person} has no events in replication {replication}")
        idx = mine[mine["kind"].isin(_INDEX_KINDS) & (mine["paradigm"] == "person")]["time"]
        index = float(idx.min()) if len(idx) else float(mine["time"].min()) + months * 30.44 / 3
    span = months * 30.44
    start = max(0.0, index - span / 3)
    rows = ev[(ev["person"] == person) & (ev["time"] >= start) & (ev["time"] < start + span)
              & ~ev["kind"].isin(_NOT_PERSONAL)].copy()
    # Accrued routine volume that runs past the window is cut at its end, pro rata.
    end = start + span
    over = (rows["duration"] > 0) & (rows["detail"] == "routine") & (rows["time"] + rows["duration"] > end)
    if over.any():
        keep = (end - rows.loc[over, "time"]) / rows.loc[over, "duration"]
        for col in ("duration", "quantity", "cost"):
            rows.loc[over, col] = rows.loc[over, col] * keep
    rows["day"] = rows["time"] - start
    rows = rows.sort_values(["paradigm", "time", "kind"], kind="stable")[TIMELINE_COLUMNS]
    return rows.reset_index(drop=True), person


def cumulative_cost(rows: pd.DataFrame, step: float = 1.0) -> pd.DataFrame:
    """Cumulative cost by day for each care system (SEK).

    Contacts count on their day; accrued routine volume (home help, routine visits) is
    spread evenly over its interval, as it was delivered.
    """
    out = []
    last = float(rows["day"].max() + rows["duration"].clip(lower=0).max()) if len(rows) else 0.0
    grid = np.arange(0.0, max(last, 0.0) + step, step)
    for paradigm, d in rows.groupby("paradigm"):
        spread = (d["detail"] == "routine") & (d["duration"] > 0)
        total = np.zeros_like(grid)
        for day, dur, cost in d.loc[spread, ["day", "duration", "cost"]].itertuples(index=False):
            total += cost * np.clip((grid - day) / dur, 0.0, 1.0)
        for day, cost in d.loc[~spread, ["day", "cost"]].itertuples(index=False):
            total += np.where(grid >= day, cost, 0.0)
        out.append(pd.DataFrame({"paradigm": paradigm, "day": grid, "cost": total}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=["paradigm", "day", "cost"])


def timeline_totals(rows: pd.DataFrame) -> pd.DataFrame:
    """Contacts, bed-days and cost by kind and payer for each care system."""
    t = rows.groupby(["paradigm", "kind", "payer"], observed=True)[["quantity", "cost"]].sum().reset_index()
    return t[(t["quantity"] > 0) | (t["cost"] > 0)]
