"""What the workshop app computes: scenarios from form values, comparisons, the vidigi event log.

Scenario files are only ever the project's own (``scenarios/*.toml``, chosen from a list);
form values become a deep override of the resolved scenario and go through the same
validation as a scenario file, so a bad value gives the same one-line messages as the CLI.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import Scenario
from sim.config.loader import _deep_merge, resolve, validate

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
CONCEPTS = ("mobile_team", "palliative_team", "home_physician", "safe_discharge")
SWITCHES = ("direct_admission", "team_collaboration")
#: Metrics the what-if page compares (the rest is in the download).
WHATIF_METRICS = ("bed_days", "admissions", "ed_visits", "short_term_care_days", "delayed_discharge_days",
                  "home_help_hours", "cost_region_sek", "cost_municipality_sek", "cost_total_sek",
                  "mobile_team_caseload", "mobile_team_full_share", "bed_occupancy")


def scenario_names() -> list[str]:
    """List the project's scenario files a user may pick (never a typed path)."""
    return sorted(p.stem for p in SCENARIOS.glob("*.toml"))


@dataclass(frozen=True)
class WhatIf:
    """The what-if form: the area, the team and capacity, the concepts on or off, the run size."""

    scenario: str = "default"
    persons: int = 18000
    warmup_years: float = 1.0
    years: float = 1.0
    replications: int = 3
    seed: int | None = None
    team_caseload: int | None = None
    team_hours_start: float | None = None
    team_hours_end: float | None = None
    team_criteria: int | None = None
    beds: int | None = None
    short_term_places: int | None = None
    concepts: tuple[str, ...] = CONCEPTS
    switches: tuple[str, ...] = SWITCHES

    def key(self) -> str:
        """Return a stable key of the inputs (results are kept per key)."""
        return json.dumps(asdict(self), sort_keys=True)


def build_scenario(w: WhatIf) -> Scenario:
    """Build the scenario of a what-if form, validated like a scenario file (``ScenarioError`` if not)."""
    from sim.config import ScenarioError

    if w.scenario not in scenario_names():
        raise ScenarioError("what-if form", [f"scenario: expected one of {', '.join(scenario_names())} "
                                             f"(got {w.scenario!r})"])
    path = SCENARIOS / f"{w.scenario}.toml"
    data = resolve(path)
    base_persons = data["population"]["persons_65plus"]
    scale = w.persons / base_persons if base_persons else 1.0
    over: dict = {
        "simulation": {"warmup_years": w.warmup_years, "years": w.years, "replications": w.replications},
        "population": {"persons_65plus": w.persons,
                       "entrants_per_year": data["population"]["entrants_per_year"] * scale},
        "capacity": {
            # an area of another size keeps today's beds and places per person unless they are set
            "beds": w.beds if w.beds is not None else max(1, round(data["capacity"]["beds"] * scale)),
            "short_term_places": (w.short_term_places if w.short_term_places is not None
                                  else max(1, round(data["capacity"]["short_term_places"] * scale))),
        },
        "concepts": {c: {"enabled": c in w.concepts} for c in CONCEPTS if c in data.get("concepts", {})},
    }
    for s in SWITCHES:
        over["concepts"][s] = s in w.switches
    if w.seed is not None:
        over["simulation"]["seed"] = w.seed
    team = {}
    for field, key in (("team_caseload", "caseload_max"), ("team_hours_start", "hours_start"),
                       ("team_hours_end", "hours_end"), ("team_criteria", "criteria_required")):
        if getattr(w, field) is not None:
            team[key] = getattr(w, field)
    if team:
        over["concepts"].setdefault("mobile_team", {}).update(team)
    return validate(_deep_merge(data, over), f"what-if on {path.name}")


#: Person-years of simulation (persons x run years x replications) above which the replications
#: run on local processes: below it, starting the processes costs more than it saves.
PARALLEL_PERSON_YEARS = 50_000


def compare(scenario: Scenario, progress: Callable[[int, int], None] | None = None) -> dict:
    """Run both care systems on the scenario: summary, per-replication metrics (no files written).

    ``progress(done, total)`` is called after each replication. Large runs use the local process
    executor of the CLI (the same replications, the same numbers). Returns ``summary``
    (paradigm, metric, mean, ci_low, ci_high, unit), ``replications`` and ``seconds``.
    """
    import time

    from sim.experiments.executor import make_executor
    from sim.experiments.runner import PARADIGMS, metrics_frame, run_replications, task_groups, whole_replications
    from sim.output.summary import paired_differences, summarise

    t0 = time.perf_counter()
    sim = scenario.simulation
    reps = sim.replications
    size = scenario.population.persons_65plus * (sim.warmup_years + sim.years) * reps
    results = []
    with make_executor("processes" if size > PARALLEL_PERSON_YEARS and reps > 1 else "serial", None, None) as ex:
        # As compare's: an incomplete last round of replications runs one task per care system.
        groups = task_groups(reps, PARADIGMS, ex)
        tasks = [(scenario, r, g, None) for r in range(reps) for g in groups[r]]
        for res in whole_replications(tasks, run_replications(ex, tasks), groups):
            results.append(res)
            if progress:
                progress(len(results), reps)
    frames = {p: metrics_frame(results, p) for p in PARADIGMS}
    summary = pd.concat([summarise(frames[p], p) for p in PARADIGMS]
                        + [paired_differences(frames["intervention"], frames["person"])], ignore_index=True)
    per_rep = pd.concat([f.assign(paradigm=p) for p, f in frames.items()], ignore_index=True)
    return {"summary": summary, "replications": per_rep, "seconds": time.perf_counter() - t0}


def comparison_table(summary: pd.DataFrame, metrics=WHATIF_METRICS) -> pd.DataFrame:
    """One row per metric: each system and the paired difference as ``mean [low, high]``."""
    from sim.measure.report import format_value

    def cell(r):
        if r.empty:
            return ""
        r = r.iloc[0]
        if pd.isna(r["ci_low"]):
            return format_value(r["mean"], relative=False)
        return (f"{format_value(r['mean'], relative=False)} [{format_value(r['ci_low'], relative=False)}, "
                f"{format_value(r['ci_high'], relative=False)}]")

    rows = []
    for m in metrics:
        d = summary[summary["metric"] == m]
        if d.empty:
            continue
        rows.append({"metric": m, "unit": d["unit"].iloc[0],
                     **{p: cell(d[d["paradigm"] == p]) for p in ("intervention", "person", "difference")}})
    return pd.DataFrame(rows)


# -- vidigi event log ---------------------------------------------------------------------------
#: Stays drawn as resource use: kind -> (the step's name, who provides the "resource").
_STAYS = {"admission": "hospital_bed", "short_term_care": "short_term_place", "team_enrol": "narsjukvardsteam",
          "palliative_enrol": "palliative_team", "safe_discharge": "trygg_hemgang"}
_VISITS = ("ed_visit",)
VIDIGI_COLUMNS = ["entity_id", "event_type", "event", "time", "resource_id", "run", "paradigm", "person"]


def _slots(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Give a resource slot (1, 2, ...) to each interval so no two overlapping intervals share one."""
    order = np.argsort(starts, kind="stable")
    free: list[int] = []
    busy: list[tuple[float, int]] = []
    out = np.zeros(len(starts), dtype=int)
    n = 0
    for i in order:
        while busy and busy[0][0] <= starts[i]:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if free:
            slot = heapq.heappop(free)
        else:
            n += 1
            slot = n
        out[i] = slot
        heapq.heappush(busy, (ends[i], slot))
    return out


def vidigi_log(ev: pd.DataFrame, persons: list[int] | None = None, start: float = 0.0,
               end: float | None = None) -> pd.DataFrame:
    """Convert the event log to the vidigi format: ``entity_id, event_type, event, time`` (+ ``resource_id``).

    One entity per person and care system (``entity_id`` = person * 2 + 0 for insatsstyrning, + 1
    for individstyrning; ``person`` and ``paradigm`` columns say which), so the same persons can
    be animated side by side. ``arrival_departure`` rows mark the window (or entry and death);
    each stay (hospital bed, short-term place, team enrolment) is a ``queue`` row at the request
    and ``resource_use``/``resource_use_end`` rows with a slot number; an ED visit is a ``queue``
    row. ``time`` is in days since ``start``. ``ev``: string ``kind``/``paradigm`` columns.
    """
    d = ev[ev["person"] >= 0]
    if persons is not None:
        d = d[d["person"].isin(persons)]
    end = float(d["time"].max()) if end is None and len(d) else (end or 0.0)
    d = d[(d["time"] < end) & (d["time"] + d["duration"].clip(lower=0) >= start)]
    rows = []
    for (rep, paradigm, person), g in d.groupby(["replication", "paradigm", "person"], observed=True):
        eid = int(person) * 2 + (1 if paradigm == "person" else 0)
        born = g.loc[g["kind"] == "enter", "time"]
        died = g.loc[g["kind"] == "death", "time"]
        arrive = max(start, float(born.min())) if len(born) else start
        depart = min(end, float(died.min())) if len(died) else end
        rows.append((eid, "arrival_departure", "arrival", arrive, np.nan, rep, paradigm, person))
        for t in g.loc[g["kind"].isin(_VISITS), "time"]:
            rows.append((eid, "queue", "ed_visit", float(t), np.nan, rep, paradigm, person))
        for kind, step in _STAYS.items():
            s = g[(g["kind"] == kind) & (g["duration"] > 0) & (g["detail"] != "full")]
            for t, dur, q in s[["time", "duration", "quantity"]].itertuples(index=False):
                begin = t + (dur - q if kind == "admission" else 0.0)  # a bed is held after any wait
                rows.append((eid, "queue", f"{step}_wait_begins", float(t), np.nan, rep, paradigm, person))
                rows.append((eid, "resource_use", f"{step}_begins", float(begin), -1, rep, paradigm, person))
                # no stay outlasts the departure (t + dur can pass a death time by a rounding step)
                rows.append((eid, "resource_use_end", f"{step}_complete", min(float(t + dur), depart), -1, rep,
                             paradigm, person))
        rows.append((eid, "arrival_departure", "depart", depart, np.nan, rep, paradigm, person))
    out = pd.DataFrame(rows, columns=VIDIGI_COLUMNS)
    if out.empty:
        return out
    out["time"] = out["time"].clip(lower=start, upper=end) - start
    # slot numbers per resource and system, from the begin/end pairs
    for _key, g in out[out["event_type"] == "resource_use"].groupby(
            ["paradigm", out["event"].str.removesuffix("_begins")]):
        ends = out.loc[g.index + 1, "time"].to_numpy()  # the _complete row follows its _begins row
        slots = _slots(g["time"].to_numpy(), ends)
        out.loc[g.index, "resource_id"] = slots
        out.loc[g.index + 1, "resource_id"] = slots
    return out.sort_values(["time", "entity_id"], kind="stable").reset_index(drop=True)


LOCATIONS = ("home", "ED", "hospital bed", "short-term place", "team at home", "died")


def locations(log: pd.DataFrame, step: float = 7.0) -> pd.DataFrame:
    """Where each entity is at each ``step`` (days) from a vidigi log: ``paradigm, person, day, location``.

    For the side-by-side animation: a stay's location holds from its ``_begins`` to its
    ``_complete`` row; a team enrolment shows as "team at home"; after departure by death the
    person is "died".
    """
    if log.empty:
        return pd.DataFrame(columns=["paradigm", "person", "day", "location"])
    where = {"hospital_bed": "hospital bed", "short_term_place": "short-term place", "narsjukvardsteam": "team at home",
             "palliative_team": "team at home", "trygg_hemgang": "team at home"}
    days = np.arange(0.0, float(log["time"].max()) + step, step)
    rows = []
    for (paradigm, person), g in log.groupby(["paradigm", "person"]):
        loc = np.full(len(days), "home", dtype=object)
        use = g[g["event_type"] == "resource_use"]
        for t, ev_name in use[["time", "event"]].itertuples(index=False):
            step_name = ev_name.removesuffix("_begins")
            t_end = g[(g["event"] == f"{step_name}_complete") & (g["time"] >= t)]["time"].min()
            inside = (days >= t) & (days < t_end)
            new = where[step_name]
            # a team patient in hospital is in hospital: the team only shows where the person is at home
            loc[inside & (loc == "home") if new == "team at home" else inside] = new
        for t in g.loc[g["event"] == "ed_visit", "time"]:
            i = int(t // step)
            if i < len(days) and loc[i] == "home":
                loc[i] = "ED"
        dep = g.loc[g["event"] == "depart", "time"]
        if len(dep) and float(dep.max()) < float(log["time"].max()) - 1e-9:  # left before the end: died
            loc[days > float(dep.max())] = "died"
        rows.append(pd.DataFrame({"paradigm": paradigm, "person": person, "day": days, "location": loc}))
    return pd.concat(rows, ignore_index=True)
