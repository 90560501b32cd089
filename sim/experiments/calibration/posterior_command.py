"""``narvard posterior [TARGETS] [--population N] [--generations G] [--resume | --fresh]``: ABC-SMC."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from sim.config import ScenarioError
from sim.config.loader import resolve, validate
from sim.experiments.executor import make_executor
from sim.measure.command import DEFAULT_TARGETS
from sim.measure.targets import load_targets

console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def _terminate(signum, frame):  # SIGTERM: stop like Ctrl-C; the history keeps the finished generations
    raise KeyboardInterrupt(f"signal {signum}")


def fitted_replications_ran(fitted) -> bool:
    """Whether the point estimate's fit was run (``--fit-replications`` > 0)."""
    return fitted.replications > 0 and "within_band" in fitted.fit


def posterior_command(
    targets: Annotated[Path, typer.Argument(help="targets, designs and the calibration table (TOML)")
                       ] = DEFAULT_TARGETS,
    population: Annotated[int, typer.Option(min=2, help="particles per generation")] = 100,
    generations: Annotated[int, typer.Option(min=1, help="generations in the history (a resume goes on to it)")] = 8,
    replications: Annotated[int, typer.Option("--replications", "-n", min=1,
                                              help="paired replications per evaluation (fresh areas)")] = 1,
    check: Annotated[int, typer.Option(min=0, help="new areas in the posterior predictive check")] = 40,
    minutes: Annotated[float | None, typer.Option(min=0.1, help="stop starting generations after this wall time")
                       ] = None,
    min_eps_drop: Annotated[float, typer.Option(min=0.0, max=1.0, help=(
        "stop once a generation lowers epsilon by less than this fraction of the one before (0: off): with the"
        " median as the next epsilon a generation costs about twice the evaluations of the last, and a smaller"
        " fall means the distances sit at the floor the model's misfit and one area's noise set"))] = 0.1,
    resume: Annotated[bool, typer.Option("--resume", help="go on with the stored history (refused if the scenario,"
                                                          " targets, priors or replications differ)")] = False,
    fresh: Annotated[bool, typer.Option("--fresh", help="delete a stored history and start a new one")] = False,
    out: Annotated[Path | None, typer.Option(help="output folder (default: the targets file's folder)")] = None,
    executor: Annotated[str, typer.Option(help="serial, processes or dask")] = "processes",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address")] = None,
    workers: Annotated[int | None, typer.Option(help="local worker processes (default: all cores)")] = None,
    seed: Annotated[int | None, typer.Option(help=(
        "seed of the sampler's tasks and of the predictive check's draws (default: the file's)"))] = None,
    write_fitted: Annotated[bool, typer.Option("--write-fitted", help=(
        "also write the overlay the bundled scenarios load (the targets file's `fitted`, fitted.toml): the"
        " posterior's point estimate, and its fit (fit.csv, fit.md); removes the optuna search's outputs"))] = False,
    point: Annotated[str, typer.Option(help="point estimate for --write-fitted: median (each marginal's weighted"
                                            " median) or best (the smallest-distance particle)")] = "median",
    fit_replications: Annotated[int, typer.Option(min=0, help="paired replications of the fit at the point"
                                                              " (--write-fitted; 0: no fit run)")] = 3,
) -> None:
    """Posterior of the free parameters by ABC-SMC (pyabc), with its report, resumable."""
    from sim.experiments.calibration.abc import HISTORY, POINT_RULES, fitted_targets, point_estimate, run_abc
    from sim.experiments.calibration.batch import measures_at
    from sim.experiments.calibration.params import apply_params
    from sim.experiments.calibration.posterior import (
        FittedPoint,
        PosteriorSettings,
        predictive_check,
        predictive_draws,
        write_posterior,
    )
    from sim.experiments.calibration.study import StudyError

    signal.signal(signal.SIGTERM, _terminate)
    if point not in POINT_RULES:
        err.print(f"[red]error:[/red] --point: expected one of {', '.join(POINT_RULES)} (got {point!r})",
                  highlight=False)
        raise typer.Exit(2)
    try:
        tf = load_targets(targets)
        if tf.calibration is None:
            raise ScenarioError(targets, ["calibration: missing table"])
        cal = tf.calibration
        scenario_data = resolve(targets.parent / cal.scenario)
        validate(apply_params(scenario_data, {k: (p.low + p.high) / 2 for k, p in cal.parameters.items()}),
                 "calibration scenario")
        ex = make_executor(executor, workers, scheduler)
    except (ScenarioError, KeyError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    out = out or targets.parent
    n_workers = getattr(ex, "workers", 1)
    t0 = time.perf_counter()
    try:
        with ex:
            try:
                run = run_abc(tf, scenario_data, out, ex, population, generations, replications, resume, fresh,
                              minutes, min_eps_drop=min_eps_drop, seed=cal.seed if seed is None else seed)
                for note in run.notes:
                    err.print(note, highlight=False)
                err.print(f"{len(run.populations)} generations, {run.evaluations} evaluations"
                          f" ({time.perf_counter() - t0:.0f} s); predictive check: {check} new areas",
                          highlight=False)
                t1 = time.perf_counter()
                draws = predictive_draws(scenario_data, run.last, tf, check, ex, cal.seed if seed is None else seed)
                check_seconds = time.perf_counter() - t1
                fitted = None
                if write_fitted:
                    pt = point_estimate(run.last, cal.parameters, point)
                    t2 = time.perf_counter()
                    reps = list(range(fit_replications))
                    fit, detail = (measures_at(scenario_data, pt, tf, reps, ex) if reps
                                   else (pd.DataFrame(), pd.DataFrame()))
                    fitted = FittedPoint(point, pt, fit, detail, fit_replications, time.perf_counter() - t2)
            except KeyboardInterrupt:
                ex.abort()  # a mapped task samples until it has a particle: do not wait for it
                raise
    except StudyError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err.print(f"interrupted: the finished generations are kept in {out / HISTORY}; go on with --resume")
        raise typer.Exit(130) from None
    check_table = predictive_check(draws, tf)
    settings = PosteriorSettings(population, generations, replications, check, n_workers, executor)
    try:
        files, marg = write_posterior(out, run, tf, draws, check_table, settings, check_seconds, fitted)
    except KeyboardInterrupt:
        err.print(f"interrupted: the posterior outputs in {out} are the earlier set or the whole new one")
        raise typer.Exit(130) from None
    t = Table(title=f"posterior ({run.evaluations} evaluations, {time.perf_counter() - t0:.0f} s)")
    for col in ("parameter", "prior", "median", "90 % interval", "shrinkage", "verdict"):
        t.add_column(col, justify="left" if col in ("parameter", "verdict") else "right")
    for r in marg.itertuples():
        verdict = "still the prior" if r.still_prior else (f"at {r.at_bound} bound" if r.at_bound else "")
        t.add_row(r.parameter, f"{r.prior_low:.3g}–{r.prior_high:.3g}", f"{r.median:.3g}",
                  f"{r.q05:.3g}–{r.q95:.3g}", f"{r.shrinkage:.2f}", verdict)
    console.print(t)
    if fitted is not None and fitted_replications_ran(fitted):
        inside = fitted.fit.set_index("target")["within_band"]
        miss = [tid for tid in fitted_targets(tf) if tid in inside and not bool(inside[tid])]
        console.print(f"fitted.toml: {point} point; fit over {fit_replications} replications: "
                      + (f"outside their bands: {', '.join(miss)}" if miss else "every fitted target in its band"))
    console.print("written: " + ", ".join(str(p) for p in files))
