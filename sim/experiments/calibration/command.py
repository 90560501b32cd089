"""``narvard calibrate [TARGETS] [--budget N] [--resume | --fresh]``."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from sim.config import ScenarioError
from sim.config.loader import resolve
from sim.experiments.executor import make_executor
from sim.measure.command import DEFAULT_TARGETS, show_measures
from sim.measure.targets import load_targets

console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


TargetsArg = Annotated[Path, typer.Argument(help="targets, designs and the calibration table (TOML)")]
RESUME_HELP = ("go on with the stored study (refused if the scenario, targets, parameter ranges or"
               " replications differ)")
FRESH_HELP = ("delete a stored study and start a new one, replacing earlier outputs (without it a stored"
              " study, or outputs without a study, are refused)")


def _terminate(signum, frame):  # SIGTERM: stop like Ctrl-C; the study keeps the finished trials
    raise KeyboardInterrupt(f"signal {signum}")


CHARTS_HELP = ("only render fit.html and identifiability.html from fit.csv and trials.csv in the output folder"
               " (no trials; the charts are not committed: plotly.js embedded makes each about 5 MB)")


def _charts_only(out: Path, tf) -> None:
    from sim.experiments.calibration.output import FIT, TRIALS, rewrite_charts

    missing = [name for name in (FIT, TRIALS) if not (out / name).is_file()]
    if missing:
        err.print(f"[red]error:[/red] {out}: no {', '.join(missing)} to render charts from", highlight=False,
                  soft_wrap=True)
        raise typer.Exit(2)
    written = rewrite_charts(out, tf.calibration)
    console.print("written: " + ", ".join(str(p) for p in written))


def calibrate_command(
    targets: TargetsArg = DEFAULT_TARGETS,
    budget: Annotated[int | None, typer.Option(min=1, help="completed trials in the study (default: the file's)")
                      ] = None,
    replications: Annotated[int | None, typer.Option("--replications", "-n", min=1,
                                                     help="replications per trial")] = None,
    final_replications: Annotated[int | None, typer.Option(min=2, help="replications of the final run")] = None,
    resume: Annotated[bool, typer.Option("--resume", help=RESUME_HELP)] = False,
    fresh: Annotated[bool, typer.Option("--fresh", help=FRESH_HELP)] = False,
    out: Annotated[Path | None, typer.Option(help="output folder (default: the targets file's folder)")] = None,
    executor: Annotated[str, typer.Option(help="serial, processes or dask")] = "processes",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address")] = None,
    workers: Annotated[int | None, typer.Option(help="parallel trials (default: all cores)")] = None,
    profile: Annotated[int, typer.Option(min=0, help="profile points per parameter after the search (0: none)")] = 5,
    charts_only: Annotated[bool, typer.Option("--charts-only", help=CHARTS_HELP)] = False,
) -> None:
    """Fit the service concepts' effect sizes to the reported outcomes (optuna TPE), resumable."""
    from sim.experiments.calibration.fit import calibrate

    signal.signal(signal.SIGTERM, _terminate)
    try:
        tf = load_targets(targets)
        if tf.calibration is None:
            raise ScenarioError(targets, ["calibration: missing table"])
        scenario_data = resolve(targets.parent / tf.calibration.scenario)
        ex = make_executor(executor, workers, scheduler)
    except (ScenarioError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    n_workers = workers or getattr(ex, "workers", 1) if executor != "dask" else (workers or 2)
    out = out or targets.parent
    if charts_only:
        _charts_only(out, tf)
        return
    t0 = time.perf_counter()

    def progress(number: int, loss: float) -> None:
        err.print(f"trial {number}: loss {loss:.3f} ({time.perf_counter() - t0:.0f} s)", highlight=False)

    try:
        with ex:
            res = calibrate(tf, scenario_data, out, ex, n_workers, budget, replications,
                            final_replications, resume, progress=progress,
                            profile_points=profile, fresh=fresh)
    except (ScenarioError, KeyError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err.print(f"interrupted: the finished trials are kept in {out / tf.calibration.storage};"
                  " go on with --resume")
        raise typer.Exit(130) from None
    show_measures(res.fit, res.fit_detail, f"fit at the best parameters (loss {res.best_loss:.3f})")
    t = Table(title="identifiability: each parameter among the trials that fit"
              " (loss within [calibration] identifiability_delta of the best)")
    for col in ("parameter", "best", "range among trials that fit", "profile interval", "importance", "verdict"):
        t.add_column(col, justify="left" if col in ("parameter", "verdict") else "right")
    for r in res.identifiability.itertuples():
        imp = "" if r.importance != r.importance else f"{r.importance:.2f}"
        t.add_row(r.parameter, f"{r.best:.3g}", f"{r.fit_min:.3g} – {r.fit_max:.3g}",
                  f"{r.profile_low:.3g} – {r.profile_high:.3g}" if hasattr(r, "profile_low") else "", imp, r.verdict)
    console.print(t)
    console.print(f"{len(res.trials)} trials, {res.seconds:.0f} s; written: "
                  + ", ".join(res.files.values()))


def ensemble_command(
    targets: TargetsArg = DEFAULT_TARGETS,
    top: Annotated[int, typer.Option(min=1, help="at most this many parameter sets, lowest loss first")] = 20,
    replications: Annotated[int, typer.Option("--replications", "-n", min=1,
                                              help="paired replications per set")] = 3,
    out: Annotated[Path | None, typer.Option(help="folder with trials.csv, for ensemble.csv/.md"
                                                  " (default: the targets file's folder)")] = None,
    executor: Annotated[str, typer.Option(help="serial, processes or dask")] = "processes",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address")] = None,
    workers: Annotated[int | None, typer.Option(help="parallel sets (default: all cores)")] = None,
) -> None:
    """Run every parameter set that fits as well as the best.

    How much do the results depend on what the targets leave loose?
    """
    from sim.experiments.calibration.ensemble import (
        ENSEMBLE,
        ENSEMBLE_MD,
        EnsembleError,
        ensemble_markdown,
        ensemble_summary,
        fitting_sets,
        load_trials,
        run_ensemble,
        write_ensemble,
    )
    from sim.experiments.calibration.fileset import recover
    from sim.experiments.calibration.output import TRIALS
    from sim.stats import format_value

    signal.signal(signal.SIGTERM, _terminate)
    out = out or targets.parent
    try:
        tf = load_targets(targets)
        if tf.calibration is None:
            raise ScenarioError(targets, ["calibration: missing table"])
        cal = tf.calibration
        scenario_data = resolve(targets.parent / cal.scenario)
        recover(out)  # a calibration killed while committing its outputs: complete it before reading
        trials = load_trials(out / TRIALS, cal.parameters)
        ex = make_executor(executor, workers, scheduler)
    except (ScenarioError, EnsembleError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    sets = fitting_sets(trials, cal.parameters, cal.identifiability_delta, top)
    err.print(f"{len(sets)} parameter sets within {cal.identifiability_delta:g} of the best loss"
              f" ({len(trials)} trials), {replications} replications each", highlight=False)
    t0 = time.perf_counter()
    done = []

    def progress() -> None:  # a line per set: readable on a terminal and in a log alike
        done.append(1)
        err.print(f"set {len(done)}/{len(sets)} done ({time.perf_counter() - t0:.0f} s)", highlight=False)

    try:
        with ex:
            ens = run_ensemble(scenario_data, sets, cal.parameters, list(range(replications)), tf, ex, progress)
    except KeyboardInterrupt:
        err.print("interrupted: nothing written")
        raise typer.Exit(130) from None
    summary = ensemble_summary(ens, cal.parameters, tf)
    try:
        write_ensemble(out, ens, ensemble_markdown(summary, len(sets), replications, cal.identifiability_delta))
    except KeyboardInterrupt:
        err.print(f"interrupted: {out / ENSEMBLE} and {out / ENSEMBLE_MD} are the earlier ones or both new")
        raise typer.Exit(130) from None
    t = Table(title="ensemble: the figures over every parameter set that fits as well as the best")
    for col in ("figure", "at the best set", "min", "max"):
        t.add_column(col, justify="left" if col == "figure" else "right")
    for r in summary.itertuples():
        t.add_row(r.figure, *(format_value(x, r.relative) for x in (r.at_best, r.min, r.max)))
    console.print(t)
    console.print(f"{len(sets)} sets, {time.perf_counter() - t0:.0f} s; written: {out / ENSEMBLE}, {out / ENSEMBLE_MD}")
