"""Work per person-year: engine events scheduled, and event-log rows, by kind.

Default scenario, one replication, each registered care system separately. Engine events
are counted by wrapping the environment's ``schedule`` (``instrument.CountingModel``) and
named ``<SimPy event class> <model function that caused it>``; rows come from the kept
event log. Person-years: every person's time in the area over the whole run (warm-up
included), because the engine works during the warm-up too.
"""

from __future__ import annotations

import argparse

import numpy as np
import pyarrow.compute as pc
from common import default_scenario, header, paradigms
from instrument import CountingModel, model_class

from sim.domain.streams import replication_seed
from sim.experiments.runner import run_replication
from sim.population import draw_trajectories, make_population


def person_years(scenario, replication: int = 0) -> float:
    """Person-years lived in the area over the whole run (warm-up included)."""
    seed = replication_seed(scenario.simulation.seed, replication)
    pop = make_population(scenario, seed)
    traj = draw_trajectories(scenario, pop, seed)
    hi = np.minimum(traj.death_time, scenario.horizon_days)
    return float(np.clip(hi - pop.entry_time, 0, None).sum() / 365.25)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--top", type=int, default=12, help="kinds shown per table")
    args = ap.parse_args(argv)
    scenario = default_scenario()
    py = person_years(scenario)
    header(f"Work per person-year: default scenario, 1 replication, {py:,.0f} person-years")
    out = {}
    for par in paradigms():
        CountingModel.reset()
        with model_class(CountingModel):
            res = run_replication(scenario, 0, (par,), keep=True)
        counts = CountingModel.counts
        total = sum(counts.values())
        assert total == res.events, (total, res.events)  # the wrapper saw every engine event
        table = res.tables[par]
        kinds = pc.value_counts(table["kind"].combine_chunks().dictionary_decode()).to_pylist()
        rows = {k["values"]: k["counts"] for k in kinds}
        print(f"\n[{par}] engine events per person-year: {total / py:.2f}  (all kinds; {total:,} events)")
        for name, c in counts.most_common(args.top):
            print(f"  {c / py:8.3f}  {name}")
        rest = counts.most_common()[args.top:]
        if rest:
            print(f"  {sum(c for _, c in rest) / py:8.3f}  ({len(rest)} other kinds)")
        print(f"[{par}] event-log rows per person-year: {table.num_rows / py:.2f}  ({table.num_rows:,} rows)")
        for name, c in sorted(rows.items(), key=lambda kv: -kv[1])[: args.top]:
            print(f"  {c / py:8.3f}  {name}")
        out[par] = {"events_per_py": total / py, "rows_per_py": table.num_rows / py,
                    "events": dict(counts), "rows": rows}
    return out


if __name__ == "__main__":
    main()
