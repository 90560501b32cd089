"""One person's months under both care systems, side by side (the documents' patient example).

:func:`person_timeline` cuts one person's rows out of a ``compare`` results folder (what
happened inside the window, including routine care that started before it, with the teams'
allocated cost); :func:`typical_person` picks a typical person from the unstable group;
:func:`weekly_volume` turns routine volume into weekly counts; :func:`timeline_caption` says
what changed for the person and why. The plot lives in :mod:`sim.plots`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.domain.units import DAYS_PER_WEEK
from sim.output.costs import person_costs, read_priced_events, team_cost_per_enrolled_day
from sim.output.results import ResultsError

TIMELINE_COLUMNS = ["paradigm", "day", "time", "kind", "provider", "payer", "duration", "quantity",
                    "cost", "allocated", "stratum", "detail", "readmission", "avoidable"]
DAYS_PER_MONTH = 30.44
# Rows that are neither contacts nor state changes of the person.
_NOT_PERSONAL = ("nurse_demand_hours", "nurse_available_hours", "nurse_lost_hours", "fixed_cost")
_INDEX_KINDS = ("team_enrol", "palliative_enrol", "safe_discharge", "physician_list")
_MIN_TEAM_DAYS = 60.0  # a typical team patient has had at least this much of the team (days)


def _events(folder, replication: int, events: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the replication's personal rows and each team's SEK per enrolled day (for the allocation).

    ``events``: the folder's priced event log when the caller has read it already (the report,
    which has verified the folder). Otherwise the folder is verified first (its manifest's file
    hashes; :func:`read_priced_events` reads the manifest): a changed event log is refused.
    """
    ev = read_priced_events(folder) if events is None else events
    ev = ev[ev["replication"] == replication].copy()
    if ev.empty:
        raise ResultsError(f"{folder}: no events for replication {replication}")
    for col in ("paradigm", "kind", "provider", "payer", "stratum", "detail"):
        ev[col] = ev[col].astype(str)
    paradigms = set(ev["paradigm"])
    if paradigms != {"intervention", "person"}:
        raise ResultsError(f"{folder}: timeline needs both care systems (run `narvard compare`); "
                           f"found {sorted(paradigms)}")
    rates = team_cost_per_enrolled_day(ev)
    return ev[ev["person"] >= 0], rates


def typical_person(ev: pd.DataFrame, months: float = 18.0) -> tuple[int, float]:
    """Choose a typical person of the unstable group: ``(person, index day)``.

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
    span = months * DAYS_PER_MONTH
    iv = ev[ev["paradigm"] == "intervention"][["person", "time", "cost"]]
    iv = iv[iv["person"].isin(enrol.index)]
    start = enrol.reindex(iv["person"]).to_numpy() - span / 3
    inside = (iv["time"].to_numpy() >= start) & (iv["time"].to_numpy() < start + span)
    cost = iv[inside].groupby("person")["cost"].sum().reindex(enrol.index, fill_value=0.0)
    median = float(np.median(cost.to_numpy()))
    person = int((cost - median).abs().sort_values(kind="stable").index[0])
    return person, float(enrol.loc[person])


def person_timeline(folder, person: int | None = None, replication: int = 0,
                    months: float = 18.0, events: pd.DataFrame | None = None) -> tuple[pd.DataFrame, int]:
    """Rows of one person under both systems over ``months``; ``day`` counts from the window start.

    The window starts a third of the way before the person's first enrolment (or first row).
    """
    ev, rates = _events(folder, replication, events)
    if person is None:
        person, index = typical_person(ev, months)
    else:
        mine = ev[ev["person"] == person]
        if mine.empty:
            raise ResultsError(f"{folder}: person {person} has no events in replication {replication}")
        idx = mine[mine["kind"].isin(_INDEX_KINDS) & (mine["paradigm"] == "person")]["time"]
        index = float(idx.min()) if len(idx) else float(mine["time"].min()) + months * DAYS_PER_MONTH / 3
    span = months * DAYS_PER_MONTH
    start = max(0.0, index - span / 3)
    rows = window_rows(ev[(ev["person"] == person) & ~ev["kind"].isin(_NOT_PERSONAL)], start, start + span)
    rows = person_costs(rows, rates)
    rows["day"] = rows["time"] - start
    rows = rows.sort_values(["paradigm", "time", "kind"], kind="stable")[TIMELINE_COLUMNS]
    return rows.reset_index(drop=True), person


def window_rows(rows: pd.DataFrame, start: float, end: float) -> pd.DataFrame:
    """Cut ``rows`` to what happened in ``[start, end)`` (days).

    Contacts count if they fall inside. Rows with a duration (stays, enrolments, accrued routine
    volume) count if they overlap the window: a row that started before the window or runs past
    its end is cut to the window, its quantity and cost pro rata (routine care that started
    before the window is part of what happened in it).
    """
    t0 = rows["time"].to_numpy()
    dur = rows["duration"].to_numpy()
    span = dur > 0
    inside = np.where(span, (t0 < end) & (t0 + dur > start), (t0 >= start) & (t0 < end))
    out = rows[inside].copy()
    t0, dur = out["time"].to_numpy(), out["duration"].to_numpy()
    spanning = dur > 0
    lo, hi = np.maximum(t0, start), np.minimum(t0 + dur, end)
    cut = spanning & ((lo > t0) | (hi < t0 + dur))
    if cut.any():
        keep = (hi[cut] - lo[cut]) / dur[cut]
        idx = out.index[cut]
        for col in ("quantity", "cost"):
            out.loc[idx, col] = out.loc[idx, col].to_numpy() * keep
        out.loc[idx, "time"] = lo[cut]
        out.loc[idx, "duration"] = hi[cut] - lo[cut]
    return out


def cumulative_cost(rows: pd.DataFrame, step: float = 1.0) -> pd.DataFrame:
    """Cumulative cost by day for each care system (SEK).

    Contacts count on their day; accrued routine volume (home help, routine visits) and the
    teams' allocated cost are spread evenly over their interval, as they were delivered.
    """
    out = []
    last = float(rows["day"].max() + rows["duration"].clip(lower=0).max()) if len(rows) else 0.0
    grid = np.arange(0.0, max(last, 0.0) + step, step)
    for paradigm, d in rows.groupby("paradigm"):
        allocated = d["allocated"] if "allocated" in d else False
        spread = ((d["detail"] == "routine") | allocated) & (d["duration"] > 0)
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


# -- what a workshop room reads -------------------------------------------------------------
#: Kinds whose volume is accrued (expected counts over an interval) rather than single contacts.
VOLUME_KINDS = ("primary_care_visit", "outpatient_visit", "home_health_visit", "home_help",
                "team_visit", "palliative_visit", "physician_visit", "safe_discharge_visit")
_DETERIORATION = {"needs_bed": "needs a bed", "needs_assessment": "needs assessment", "minor": "minor",
                  "relapse": "relapse after discharge", "in_care": "while in care"}
_DEATH_PLACE = {"home": "at home", "hospital": "in hospital", "short_term_care": "in short-term care"}


def is_volume(rows: pd.DataFrame) -> pd.Series:
    """Rows that are accrued volume (routine intervals, fractional expected counts), not one contact."""
    fractional = (rows["quantity"] - rows["quantity"].round()).abs() > 1e-9
    return rows["kind"].isin(VOLUME_KINDS) & ((rows["detail"] == "routine") | fractional)


def weekly_volume(rows: pd.DataFrame, span: float) -> pd.DataFrame:
    """Accrued volume as counts per week of the window: ``paradigm, kind, week, day, count``.

    Each volume row's quantity is spread evenly over its interval (as delivered) and summed
    per week ``[7k, 7k + 7)``; ``day`` is the week's middle (the last week may be shorter).
    Weeks with nothing are left out.
    """
    weeks = int(np.ceil(span / DAYS_PER_WEEK))
    edges = np.minimum(np.arange(weeks + 1) * 7.0, span)
    out = []
    vol = rows[is_volume(rows)]
    for (paradigm, kind), d in vol.groupby(["paradigm", "kind"], observed=True):
        counts = np.zeros(weeks)
        for day, dur, q in d[["day", "duration", "quantity"]].itertuples(index=False):
            if dur <= 0:
                counts[min(int(day // 7), weeks - 1)] += q
                continue
            overlap = np.clip(np.minimum(edges[1:], day + dur) - np.maximum(edges[:-1], day), 0, None)
            counts += q * overlap / dur
        keep = counts > 1e-9
        mid = (edges[:-1] + edges[1:]) / 2
        out.append(pd.DataFrame({"paradigm": paradigm, "kind": kind, "week": np.flatnonzero(keep),
                                 "day": mid[keep], "count": counts[keep]}))
    cols = ["paradigm", "kind", "week", "day", "count"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


def health_label(kind: str, stratum: str, detail: str, short: bool = False) -> str:
    """Label a health event readably: stratum names, a deterioration's need, death and where.

    ``short``: without the word "deterioration" (for a chart whose marker already says it).
    """
    if kind == "stratum_change":
        return f"→ {stratum}"
    if kind == "deterioration":
        need = _DETERIORATION.get(detail, detail or "unspecified")
        return need if short else f"deterioration: {need}"
    if kind == "death":
        return f"died {_DEATH_PLACE.get(detail, detail)}".strip()
    if kind == "enter":
        return f"turns 65 / moves in ({stratum})"
    return kind


_CONCEPT_NAMES = {"team_enrol": "the närsjukvårdsteam", "palliative_enrol": "the palliative team",
                  "physician_list": "the home-care physician", "safe_discharge": "Trygg hemgång"}


def _counts(d: pd.DataFrame) -> dict[str, float]:
    adm = d[d["kind"] == "admission"]
    return {
        # a stay cut at the window's start (day 0) began before the window: not an admission in it
        "admissions": float((adm["day"] > 1e-9).sum()),
        "bed_days": float(adm["quantity"].sum()),
        "ed_visits": float(d.loc[d["kind"] == "ed_visit", "quantity"].sum()),
        "cost": float(d["cost"].sum()),
        "allocated": float(d.loc[d["allocated"], "cost"].sum()) if "allocated" in d else 0.0,
    }


def _n(x: float, word: str) -> str:
    return f"{x:.0f} {word}" + ("" if round(x) == 1 else "s")


def timeline_caption(rows: pd.DataFrame, person: int) -> str:
    """Say what changed for this person under person-driven care, and why (one short paragraph)."""
    a = _counts(rows[rows["paradigm"] == "intervention"])
    b = _counts(rows[rows["paradigm"] == "person"])
    mine = rows[rows["paradigm"] == "person"]
    why = []
    for kind, name in _CONCEPT_NAMES.items():
        days = mine.loc[(mine["kind"] == kind) & (mine["detail"] != "full"), "duration"].sum()
        if days > 0:
            why.append(f"{name} for {days:.0f} days")
    prevented = int((mine["detail"] == "prevented").sum())
    det = rows[(rows["paradigm"] == "person") & (rows["kind"] == "deterioration")]
    parts = [f"Person {person} has the same health under both systems ({len(det)} deteriorations in the window)."]
    parts.append(f"Person-driven care: {_n(b['admissions'], 'admission')} ({b['bed_days']:.0f} bed-days) and "
                 f"{_n(b['ed_visits'], 'ED visit')}, against {a['admissions']:.0f} ({a['bed_days']:.0f} bed-days) "
                 f"and {a['ed_visits']:.0f} under today's care.")
    if why:
        because = "Why: the person was with " + ", ".join(why)
        because += f"; {prevented} deteriorations were prevented by proactive care" if prevented else ""
        parts.append(because + ".")
    else:
        parts.append("No service concept acted on this person in the window, so the difference comes from "
                     "direct admission and team collaboration alone.")
    diff = b["cost"] - a["cost"]
    parts.append(f"Cost in the window: {b['cost']:,.0f} SEK against {a['cost']:,.0f} SEK ({diff:+,.0f} SEK), "
                 f"including {b['allocated']:,.0f} SEK of team cost allocated over the team's enrolled "
                 "person-days (an allocation of fixed yearly costs, not a price).")
    return " ".join(parts)
