"""The ``narvard`` command line: arranges the model, the outputs and the plots."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sim.config import ScenarioError
from sim.executor import make_executor
from sim.output.results import ResultsError
from sim.pipeline import load, simulate_to_folder

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="narvard-sim: the same elderly persons under intervention-driven and person-driven care.")
console = Console()
err = Console(stderr=True)

SHOWN = (
    "bed_days", "admissions", "readmissions_30d", "ed_visits", "outpatient_visits",
    "primary_care_visits", "home_health_visits", "home_help_hours", "short_term_care_days",
    "delayed_discharge_days", "deaths", "cost_region_sek", "cost_municipality_sek", "cost_total_sek",
    "mobile_team_caseload", "mobile_team_full_share", "home_physician_list", "nurse_hassle_share",
    "persons_start", "persons_entered", "persons_died", "persons_end",
)

ScenarioArg = Annotated[Path, typer.Argument(help="scenario TOML file")]
SeedOpt = Annotated[int | None, typer.Option(help="override the scenario seed")]
RepsOpt = Annotated[int | None, typer.Option("--replications", "-n", min=1, help="override the number of replications")]
OutOpt = Annotated[Path | None, typer.Option(help="results folder (default results/<scenario name>)")]
ForceOpt = Annotated[bool, typer.Option("--force", help="replace an existing results folder")]
ExecOpt = Annotated[str, typer.Option(help="serial, processes or dask")]
SchedOpt = Annotated[str | None, typer.Option(help="Dask scheduler address, with --executor dask")]
WorkersOpt = Annotated[int | None, typer.Option(help="local worker processes (default: all cores)")]


def _terminate(signum, frame):  # SIGTERM: unwind like Ctrl-C so partial results are removed
    raise KeyboardInterrupt(f"signal {signum}")


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def show_summary(summary: pd.DataFrame, title: str) -> None:
    """Print the summary as a table: one row per metric, one column per paradigm."""
    table = Table(title=title, show_lines=False, caption="rates per 1,000 persons 65+ per year; costs SEK per person 65+ per year")
    table.add_column("metric")
    paradigms = list(dict.fromkeys(summary["paradigm"]))
    for p in paradigms:
        table.add_column(f"{p} (95 % CI)", justify="right")
    for metric in SHOWN:
        rows = summary[summary["metric"] == metric]
        if rows.empty:
            continue
        cells = []
        for p in paradigms:
            r = rows[rows["paradigm"] == p]
            if r.empty:
                cells.append("")
                continue
            r = r.iloc[0]
            ci = "" if pd.isna(r.ci_low) else f" ({r.ci_low:,.1f} – {r.ci_high:,.1f})"
            cells.append(f"{r['mean']:,.1f}{ci}")
        table.add_row(metric, *cells)
    console.print(table)


def _simulate(scenario_path: Path, paradigms: tuple[str, ...], seed, replications, out, force,
              executor, scheduler, workers, command: str) -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        scenario = load(scenario_path, seed, replications)
    except ScenarioError as exc:
        _fail(str(exc))
    out = out or Path("results") / scenario.meta.name
    try:
        ex = make_executor(executor, workers, scheduler)
    except ValueError as exc:
        _fail(str(exc))
    reps = scenario.simulation.replications
    with ex, Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(f"{scenario.meta.name}: replications", total=reps)
        try:
            summary = simulate_to_folder(scenario, paradigms, out, force, ex, str(scenario_path),
                                         progress=lambda _r: bar.advance(task), command=command)
        except ResultsError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            err.print(f"interrupted: nothing written to {out}")
            raise typer.Exit(130) from None
    show_summary(summary, f"{scenario.meta.name}: {reps} replications, seed {scenario.simulation.seed}")
    console.print(f"results written to {out}/ (summary.csv, events.parquet, manifest.json)")


@app.command()
def run(scenario: ScenarioArg,
        paradigm: Annotated[str, typer.Option(help="intervention (insatsstyrning) or person (individstyrning)")] = "intervention",
        seed: SeedOpt = None, replications: RepsOpt = None, out: OutOpt = None, force: ForceOpt = False,
        executor: ExecOpt = "processes", scheduler: SchedOpt = None, workers: WorkersOpt = None) -> None:
    """Run one care system on a scenario and write a results folder."""
    from sim.care import CARE_SYSTEMS

    if paradigm not in CARE_SYSTEMS:
        _fail(f"--paradigm: expected one of {', '.join(CARE_SYSTEMS)} (got {paradigm!r})")
    _simulate(scenario, (paradigm,), seed, replications, out, force, executor, scheduler, workers, "run")


@app.command()
def compare(scenario: ScenarioArg, seed: SeedOpt = None, replications: RepsOpt = None,
            out: OutOpt = None, force: ForceOpt = False, executor: ExecOpt = "processes",
            scheduler: SchedOpt = None, workers: WorkersOpt = None) -> None:
    """Run both care systems on the same persons and trajectories; paired differences."""
    _simulate(scenario, ("intervention", "person"), seed, replications, out, force, executor,
              scheduler, workers, "compare")


def main() -> None:  # pragma: no cover - console entry point
    """Entry point."""
    sys.exit(app())
