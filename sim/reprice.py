"""``narvard reprice``: the summary of a finished run at other prices, without simulating care again.

The event log carries quantities (visits, bed-days, hours, staffed days); the prices come
from the run's scenario, overridden by a costs file. The persons and their health are drawn
again from the manifest's seed (cheap, and the same by construction: they never depend on
care), so the person-years are exactly the run's; the rows are read back in the chunks the
run wrote them in. At the run's own prices the summary is byte-identical to ``summary.csv``.

A costs file is TOML with any of ``[costs]`` and ``[payers]`` (fields as in a scenario) and
``[payer_shares.<provider>]`` (``region = 0.5``, ``municipality = 0.5``: shared financing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.markup import escape

from sim.config import ScenarioError
from sim.config.loader import read_toml, validate
from sim.domain.columns import as_chunk
from sim.domain.streams import replication_seed
from sim.economics.prices import PAID, Prices
from sim.output.concepts import ConceptAccumulator
from sim.output.results import EVENTS, ResultsError, manifest_scenario, read_manifest
from sim.output.summary import MetricAccumulator, paired_differences, population_counts, summarise, write_summary
from sim.population import draw_trajectories, make_population

err = Console(stderr=True)
console = Console()


def read_costs(path: Path, scenario):
    """Return the scenario with the costs file's ``[costs]`` and ``[payers]``, and its payer shares."""
    data = read_toml(path)
    unknown = sorted(set(data) - {"costs", "payers", "payer_shares"})
    if unknown:
        raise ScenarioError(path, [f"{unknown[0]}: unknown table (expected costs, payers, payer_shares)"])
    dump = scenario.model_dump()
    for table in ("costs", "payers"):
        section = data.get(table, {})
        if not isinstance(section, dict):
            raise ScenarioError(path, [f"{table}: expected a table"])
        dump[table] = {**dump[table], **section}
    priced = validate(dump, path)
    shares: dict[str, dict[str, float]] = {}
    for provider, split in data.get("payer_shares", {}).items():
        if not isinstance(split, dict) or set(split) - set(PAID) or not split:
            raise ScenarioError(path, [f"payer_shares.{provider}: expected shares for {' and '.join(PAID)}"])
        bad = [k for k, v in split.items() if not isinstance(v, int | float) or not 0 <= v <= 1]
        if bad:
            got = split[bad[0]]
            raise ScenarioError(path, [f"payer_shares.{provider}.{bad[0]}: a share from 0 to 1 (got {got!r})"])
        if abs(sum(split.values()) - 1.0) > 1e-9:
            raise ScenarioError(path, [f"payer_shares.{provider}: shares must sum to 1 (got {sum(split.values())})"])
        shares[provider] = {k: float(v) for k, v in split.items()}
    return priced, shares


def reprice(results: Path, costs: Path | None) -> pd.DataFrame:
    """Return the summary rows of ``results`` at the prices of ``costs`` (the run's own without it)."""
    manifest = read_manifest(results)
    scenario = manifest_scenario(manifest, results)
    shares: dict[str, dict[str, float]] = {}
    if costs is not None:
        scenario, shares = read_costs(costs, scenario)
    prices = Prices.of(scenario, shares)
    events = Path(results) / EVENTS
    if not events.is_file():
        raise ResultsError(f"{events}: missing; reprice needs the event log")
    warmup, horizon = scenario.warmup_days, scenario.horizon_days
    acc: dict[tuple[int, str], tuple] = {}
    f = pq.ParquetFile(events)
    for i in range(f.num_row_groups):
        table = f.read_row_group(i)
        for rep in np.unique(table["replication"].to_numpy()):
            for paradigm in table["paradigm"].combine_chunks().dictionary.to_pylist():
                part = table.filter((table["replication"].to_numpy() == rep)
                                    & (table["paradigm"].cast("string").to_numpy(zero_copy_only=False) == paradigm))
                if part.num_rows == 0:
                    continue
                key = (int(rep), paradigm)
                if key not in acc:
                    acc[key] = (MetricAccumulator(warmup, horizon, scenario.capacity.beds, prices,
                                                  scenario.capacity.nurse_hours_per_week),
                                ConceptAccumulator(warmup, horizon))
                metrics, concepts = acc[key]
                part = as_chunk(part)  # both accumulators read one chunk's columns and codes once
                metrics.add(part)
                concepts.add(part)
    per_paradigm: dict[str, list[dict]] = {}
    for (rep, paradigm), (metrics, concepts) in sorted(acc.items(), key=lambda kv: kv[0][0]):
        seed = replication_seed(scenario.simulation.seed, rep)
        pop = make_population(scenario, seed)
        counts = population_counts(pop, draw_trajectories(scenario, pop, seed), warmup, horizon)
        metrics.extra.update(concepts.result())
        row = metrics.result(counts)
        per_paradigm.setdefault(paradigm, []).append({"replication": rep, **row})
    paradigms = [p for p in manifest["paradigms"] if p in per_paradigm]
    frames = {p: pd.DataFrame(per_paradigm[p]) for p in paradigms}
    summary = pd.concat([summarise(frames[p], p) for p in paradigms], ignore_index=True)
    if len(paradigms) == 2:
        summary = pd.concat([summary, paired_differences(frames[paradigms[0]], frames[paradigms[1]])],
                            ignore_index=True)
    return summary


def reprice_command(
    results: Annotated[Path, typer.Argument(help="a results folder with its event log")],
    costs: Annotated[Path | None, typer.Option(help="TOML with [costs], [payers], [payer_shares.<provider>]")] = None,
    out: Annotated[Path | None, typer.Option(help="summary file (default: RESULTS/summary-<costs>.csv)")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace an existing --out file")] = False,
) -> None:
    """Summarise a finished run again at other prices or payer shares, without re-simulating."""
    target = out or Path(results) / f"summary-{costs.stem if costs else 'repriced'}.csv"
    try:
        if target.exists() and not force:
            raise ResultsError(f"{target}: exists; choose another --out or pass --force")
        summary = reprice(results, costs)
    except (ResultsError, ScenarioError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    tmp = target.with_name(target.name + ".partial")
    write_summary(summary, tmp)
    tmp.replace(target)
    console.print(f"wrote {target}", highlight=False)
