"""``narvard rollout REGION.toml --options a.toml b.toml ...``: options side by side, year by year.

The region file as written is the first option (``plan``); each option file is merged over it
(e.g. ``[region.support] enabled = true`` or a ``[region.bed_cut]``). Every option runs on the
same areas, persons and survival draws. Writes, atomically, a results folder with
``rollout.csv`` (the headline figures side by side), ``rollout_years.csv`` (every metric by
option, area, year and care system), ``ledger.csv`` (each payer's money by option, area and
year), ``break_even.csv``, ``teams.csv`` (every team's window and death), ``rollout_charts.html``
and ``manifest.json``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.config import ScenarioError
from sim.config.region import Region, load_region
from sim.config.scenario import Scenario
from sim.economics import Prices
from sim.economics.ledger import LEDGER_ITEMS
from sim.experiments.pipeline import dependency_versions, package_version
from sim.experiments.rollout import plots
from sim.experiments.rollout import tables as tb
from sim.experiments.rollout.plan import area_runs, areas
from sim.experiments.rollout.run import PARADIGMS, run_area
from sim.output.results import AtomicFolder, manifest_bytes, shown, write_manifest
from sim.output.summary import format_number

ROLLOUT, YEARS, LEDGER, BREAK_EVEN, TEAMS, CHARTS = (
    "rollout.csv", "rollout_years.csv", "ledger.csv", "break_even.csv", "teams.csv", "rollout_charts.html")
PLAN = "plan"


def load_options(path: Path, options: list[Path],
                 full_scale: bool = False) -> dict[str, tuple[Scenario, Region, dict]]:
    """Load the region file (option ``plan``) and each option merged over it, by name (the file's stem)."""
    out = {PLAN: load_region(path, full_scale=full_scale)}
    base_groups = out[PLAN][1].groups
    for opt in options:
        name = opt.stem
        if name in out:
            raise ScenarioError(opt, [f"option name {name!r} used twice (options are named by their file's stem)"])
        out[name] = load_region(path, opt, full_scale=full_scale)
        if out[name][1].groups != base_groups:
            raise ScenarioError(opt, ["region.groups: an option cannot change the areas"
                                      " (they must meet the same persons)"])
        if out[name][0].simulation != out[PLAN][0].simulation:
            raise ScenarioError(opt, ["simulation: an option cannot change the seed, horizon or replications"])
    return out


def simulate(options: dict, executor, progress: Callable[[], None] | None = None,
             replications: int | None = None) -> dict:
    """Run every option on every area and replication; return the tables (DataFrames) and timings."""
    template, region, _ = options[PLAN]
    seed = template.simulation.seed
    reps = replications or template.simulation.replications
    area_list = areas(region, seed)
    tasks, team_lists = [], {}
    for a in area_list:
        for r in range(reps):
            runs = area_runs(options, a, r)
            tasks.append((a.name, a.weight, runs, r))
            for run in runs:
                team_lists[(run.option, a.name, a.weight, r)] = run.teams
    rows, beds, seconds = [], [], []
    for r, b, s in executor.map(run_area, tasks):
        rows.append(r)
        beds.append(b)
        seconds.append(s)
        if progress:
            progress()
    rows_df, beds_df = pd.concat(rows, ignore_index=True), pd.concat(beds, ignore_index=True)
    years = int(round(template.simulation.years))
    prices = {o: Prices.of(t) for o, (t, _, _) in options.items()}
    regions = {o: reg for o, (_, reg, _) in options.items()}
    metrics = tb.yearly_metrics(rows_df, beds_df, prices)
    values = [c for c in metrics.columns if c not in (*tb.KEYS, "weight")]
    diff = tb.differences(metrics, values)
    teams = tb.team_frame(team_lists)
    living = tb.living_teams(teams, template.warmup_days, years, list(options), reps)
    freed = tb.capacity_freed(metrics, template, regions)
    municipalities = sum(g.count for g in region.groups)
    support = tb.support_costs(teams, regions, template.warmup_days, years, municipalities)
    led = tb.ledgers(rows_df, prices, regions, support)
    keys = ["option", "area", "year", "paradigm"]
    year_table = pd.concat([
        tb.summarise(metrics, keys, values),
        tb.summarise(diff, keys, values),
        tb.summarise(freed, keys, [c for c in freed.columns if c not in (*keys, "replication")]),
        tb.summarise(living, keys, ["areas_with_living_teams", "teams_alive", "teams_started"]),
    ], ignore_index=True)
    year_table["unit"] = year_table["metric"].map(tb.UNITS).fillna("")
    ledger_table = tb.summarise(led, ["option", "area", "year", "payer"], list(LEDGER_ITEMS))
    return {
        "years": year_table, "ledger": ledger_table, "break_even": tb.break_even(led), "teams": teams,
        "areas": area_list, "seconds": seconds, "replications": reps, "template": template, "region": region,
        "options": list(options),
    }


#: Headline figures of ``rollout.csv``: (figure, table, metric, paradigm or payer, area).
HEADLINE = [
    ("net, region (SEK)", "ledger", "net", "region"),
    ("net, municipalities (SEK)", "ledger", "net", "municipality"),
    ("net, total (SEK)", "ledger", "net", "total"),
    ("cumulative net, region (SEK)", "ledger", "cumulative_net", "region"),
    ("cumulative net, municipalities (SEK)", "ledger", "cumulative_net", "municipality"),
    ("cumulative net, total (SEK)", "ledger", "cumulative_net", "total"),
    ("cost today, region (SEK)", "ledger", "cost_today", "region"),
    ("cost with the reform, region (SEK)", "ledger", "cost_reform", "region"),
    ("cost today, municipalities (SEK)", "ledger", "cost_today", "municipality"),
    ("cost with the reform, municipalities (SEK)", "ledger", "cost_reform", "municipality"),
    ("investment: teams and support, total (SEK)", "ledger", "investment", "total"),
    ("bed-days, reform - today", "years", "bed_days", "difference"),
    ("ED visits, reform - today", "years", "ed_visits", "difference"),
    ("bed occupancy, today", "years", "bed_occupancy", "intervention"),
    ("bed occupancy, reform", "years", "bed_occupancy", "person"),
    ("days from the ED to a bed, today", "years", "ed_bed_wait_days", "intervention"),
    ("days from the ED to a bed, reform", "years", "ed_bed_wait_days", "person"),
    ("delayed-discharge days, today", "years", "delayed_discharge_days", "intervention"),
    ("delayed-discharge days, reform", "years", "delayed_discharge_days", "person"),
    ("delayed-discharge payments, today (SEK)", "years", "delayed_discharge_sek", "intervention"),
    ("delayed-discharge payments, reform (SEK)", "years", "delayed_discharge_sek", "person"),
    ("beds open", "years", "beds_open", "intervention"),
    ("beds freed at the target occupancy", "years", "beds_freed", "difference"),
    ("cash saving, region (SEK)", "years", "cash_saving_region_sek", "difference"),
    ("cash saving, municipalities (SEK)", "years", "cash_saving_municipality_sek", "difference"),
    ("municipalities with a living team", "years", "areas_with_living_teams", "person"),
    ("team referrals refused or queued (unmet need)", "years", "team_referrals_refused", "person"),
]


def headline(result: dict) -> pd.DataFrame:
    """Return the side-by-side table: figure, year, then mean, ci_low, ci_high per option (region)."""
    years, led = result["years"], result["ledger"]
    parts = []
    for figure, table, metric, who in HEADLINE:
        if table == "ledger":
            sel = led[(led["area"] == tb.REGION) & (led["metric"] == metric) & (led["payer"] == who)]
        else:
            sel = years[(years["area"] == tb.REGION) & (years["metric"] == metric) & (years["paradigm"] == who)]
        if sel.empty:
            continue
        wide = sel.pivot_table(index="year", columns="option", values=["mean", "ci_low", "ci_high"], dropna=False)
        for year in wide.index:
            row = {"figure": figure, "year": int(year)}
            for option in result["options"]:
                for stat in ("mean", "ci_low", "ci_high"):
                    row[f"{option} {stat}"] = wide.get((stat, option), pd.Series(dtype=float)).get(year, float("nan"))
            parts.append(row)
    be = result["break_even"]
    for payer in ("region", "municipality", "total"):
        row = {"figure": f"break-even year, {payer} (first year the cumulative net stays >= 0)", "year": 0}
        for option in result["options"]:
            sel = be[(be["option"] == option) & (be["area"] == tb.REGION) & (be["payer"] == payer)]
            row[f"{option} mean"] = float(sel["break_even_year"].iloc[0]) if len(sel) else float("nan")
            row[f"{option} ci_low"] = row[f"{option} ci_high"] = float("nan")
        parts.append(row)
    return pd.DataFrame(parts)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype.kind == "f":
            out[col] = out[col].map(format_number)
    out.to_csv(path, index=False, lineterminator="\n")


def write_folder(result: dict, out: Path, force: bool, fixed: dict, start: float) -> pd.DataFrame:
    """Write the results folder atomically (manifest last); return the headline table."""
    table = headline(result)
    manifest = {
        **fixed,
        "tool": "narvard-sim", "command": "rollout", "version": package_version(),
        "dependencies": dependency_versions(),
        "seed": result["template"].simulation.seed, "replications": result["replications"],
        "paradigms": list(PARADIGMS), "options": result["options"],
        "areas": [{"name": a.name, "group": a.group.name, "weight": a.weight, "seed": a.seed} for a in result["areas"]],
        "scenario": result["template"].model_dump(mode="json"),
        "region": result["region"].model_dump(mode="json"),
    }
    manifest_bytes(manifest)
    folder = AtomicFolder(out, force)
    with folder.late_signals(), folder as tmp:
        _write_csv(table, tmp / ROLLOUT)
        _write_csv(result["years"], tmp / YEARS)
        _write_csv(result["ledger"], tmp / LEDGER)
        _write_csv(result["break_even"], tmp / BREAK_EVEN)
        _write_csv(result["teams"], tmp / TEAMS)
        plots.write_charts(result["years"], result["ledger"], tmp / CHARTS)
        write_manifest(tmp, {**manifest, "task_seconds": [round(s, 3) for s in result["seconds"]],
                             "wall_seconds": round(time.perf_counter() - start, 3)})
    return table


def fixed_part(path: Path, options: list[Path], executor, full_scale: bool = False) -> dict:
    """Return the manifest's record of the command (checked for JSON before the run)."""
    return {"scenario_file": str(path), "option_files": [str(p) for p in options], "executor": executor.name,
            "full_scale": full_scale, "argv": [shown(a) for a in sys.argv]}


def show(table: pd.DataFrame, options: list[str], console) -> None:
    """Print the headline figures of the last year and the break-even years, options side by side."""
    from rich import box
    from rich.table import Table

    last = table["year"].max()
    t = Table(title=f"Region, year {last} (mean [95 % interval] over replications)", box=box.SIMPLE_HEAD)
    t.add_column("figure", no_wrap=False)
    for o in options:
        t.add_column(o, justify="right")
    for _, r in table[(table["year"] == last) | (table["year"] == 0)].iterrows():
        figure, scale = _console_unit(r["figure"])
        cells = []
        for o in options:
            m, lo, hi = (r[f"{o} {c}"] / scale for c in ("mean", "ci_low", "ci_high"))
            if m != m:
                cells.append("never" if r["year"] == 0 else "")
            elif r["year"] == 0:
                cells.append(f"year {m:.0f}")
            else:
                cells.append(_number(m) + ("" if lo != lo else f" [{_number(lo)}, {_number(hi)}]"))
        t.add_row(figure, *cells)
    console.print(t)


def _console_unit(figure: str) -> tuple[str, float]:
    """Return the console label and divisor: money in MSEK (the CSV keeps SEK), other figures as they are."""
    if figure.endswith("(SEK)"):
        return figure[: -len("(SEK)")] + "(MSEK)", 1e6
    return figure, 1.0


def _number(x: float) -> str:
    """Plain digits for a console cell, never e-notation: 3 decimals below 1, 1 below 100, none above."""
    return f"{x:,.3f}" if abs(x) < 1 else f"{x:,.1f}" if abs(x) < 100 else f"{x:,.0f}"
