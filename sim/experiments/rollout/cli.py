"""The ``narvard rollout`` command (registered in :mod:`sim.cli`)."""

from __future__ import annotations

import signal
import time
from concurrent.futures import BrokenExecutor
from pathlib import Path
from typing import Annotated

import typer


def _terminate(signum, frame):  # SIGTERM: unwind like Ctrl-C so partial results are removed
    raise KeyboardInterrupt(f"signal {signum}")


def rollout_command(
    scenario: Annotated[Path, typer.Argument(help="a region scenario file (with a \\[region] table)")],
    more: Annotated[list[Path] | None, typer.Argument(help="more option files (after --options)",
                                                      show_default=False)] = None,
    options: Annotated[list[Path] | None, typer.Option(
        "--options", help="option files merged over the region file, run side by side (e.g. a.toml b.toml)")] = None,
    replications: Annotated[int | None, typer.Option("--replications", "-n", min=1,
                                                     help="override the number of replications")] = None,
    out: Annotated[Path | None, typer.Option(help="results folder (default: results/<file stem>-rollout)")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace an existing results folder")] = False,
    executor: Annotated[str, typer.Option(help="serial, processes or dask")] = "processes",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, with --executor dask")] = None,
    workers: Annotated[int | None, typer.Option(help="local worker processes (default: all cores)")] = None,
    full_scale: Annotated[bool, typer.Option("--full-scale", help="simulate every municipality (ignore each"
                                             " group's `simulate`); use with --executor dask")] = False,
) -> None:
    """Roll the plan out over the region's areas, year by year; the options side by side.

    Each payer's cost under both care systems, the investment (teams, implementation support),
    savings, net, cumulative net and break-even year; bed-days, ED visits, beds freed, living
    teams; every figure with its 95 % interval over replications.
    """
    from sim.config import ScenarioError
    from sim.config.paths import default_results_dir
    from sim.experiments.executor import make_executor
    from sim.experiments.rollout import command as rc
    from sim.output.results import InterruptedAfterCommit, ResultsError, shown
    from sim.terminal import console, err
    from sim.terminal import fail as _fail

    signal.signal(signal.SIGTERM, _terminate)
    files = [*(options or []), *(more or [])]
    try:
        opts = rc.load_options(scenario, files, full_scale)
    except ScenarioError as exc:
        _fail(str(exc))
    default = default_results_dir(scenario)
    out = out or default.with_name(f"{default.name}-rollout")
    try:
        ex = make_executor(executor, workers, scheduler)
    except ValueError as exc:
        _fail(str(exc))
    start = time.perf_counter()
    written = False
    try:
        with ex:
            fixed = rc.fixed_part(scenario, files, ex, full_scale)
            result = rc.simulate(opts, ex, replications=replications)
            table = rc.write_folder(result, out, force, fixed, start)
            written = True
    except ResultsError as exc:
        _fail(str(exc))
    except BrokenExecutor as exc:
        _fail(f"a worker process died ({exc}); nothing written to {shown(out)}")
    except OSError as exc:
        _fail(f"{shown(exc.filename or out)}: {exc.strerror or exc}; nothing written to {shown(out)}")
    except KeyboardInterrupt as exc:
        done = written or isinstance(exc, InterruptedAfterCommit)
        err.print(f"interrupted: {'the results were complete and are in' if done else 'nothing written to'} "
                  f"{shown(out)}", soft_wrap=True)
        raise typer.Exit(130) from None
    rc.show(table, result["options"], console)
    console.print(f"{len(result['areas'])} areas x {result['replications']} replications x {len(result['options'])} "
                  f"options in {time.perf_counter() - start:.0f} s; results written to {out}/ ({rc.ROLLOUT}, "
                  f"{rc.YEARS}, {rc.LEDGER}, {rc.BREAK_EVEN}, {rc.TEAMS}, {rc.CHARTS}, manifest.json)")
