"""``narvard sensitivity SCENARIO.toml``: tornado, Morris, Sobol' on common random numbers; resumable."""

from __future__ import annotations

import signal
import time
from concurrent.futures import BrokenExecutor
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sim.config import ScenarioError, scenario_hash
from sim.config.loader import resolve, validate
from sim.config.paths import bundled, default_results_dir
from sim.experiments.executor import make_executor
from sim.experiments.sensitivity.assumptions import check_against, load_assumptions
from sim.experiments.sensitivity.evaluate import evaluate_point
from sim.experiments.sensitivity.output import OUTPUTS, write_outputs
from sim.experiments.sensitivity.run import fingerprint, run_study
from sim.experiments.sensitivity.study import StudyError, StudyStore
from sim.terminal import console, err, fail

DEFAULT_ASSUMPTIONS = bundled("calibration/sensitivity.toml")

STAGE_NAMES = {"oat": "one at a time", "noise": "noise at the default", "morris": "Morris", "sobol": "Sobol'"}


def _terminate(signum, frame):  # SIGTERM: stop like Ctrl-C; the study keeps the finished points
    raise KeyboardInterrupt(f"signal {signum}")


def default_out(scenario: Path) -> Path:
    """Study folder of a scenario without ``--out``: ``results/<stem>-sensitivity`` beside its results."""
    d = default_results_dir(scenario)
    return d.with_name(f"{d.name}-sensitivity")


def sensitivity_command(
    scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
    assumptions: Annotated[Path, typer.Option(help="assumptions, ranges and design (TOML)")] = DEFAULT_ASSUMPTIONS,
    out: Annotated[Path | None, typer.Option(
        help="study folder: points, tables, charts (default: results/<stem>-sensitivity)")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="delete a stored study in the folder and start over")] = False,
    morris_r: Annotated[int | None, typer.Option(min=2, help="override the design's Morris trajectories r")] = None,
    sobol_n: Annotated[int | None, typer.Option(min=2, help="override the design's Sobol' N (a power of 2)")] = None,
    until: Annotated[str, typer.Option(help="last stage: morris (screening only) or sobol")] = "sobol",
    executor: Annotated[str, typer.Option(help="serial, processes or dask")] = "processes",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, with --executor dask")] = None,
    workers: Annotated[int | None, typer.Option(help="local worker processes (default: all cores)")] = None,
) -> None:
    """Which unpinned assumption moves the answer: one-at-a-time ranges, Morris, then Sobol' for the few.

    Every design point runs the same replication seeds (the same persons and trajectories).
    Completed points are kept in the study folder: run the same command again after an
    interruption and it goes on; a folder holding another study is refused (``--fresh``).
    """
    if until not in ("morris", "sobol"):
        fail(f"--until: expected morris or sobol (got {until!r})")
    try:
        spec = load_assumptions(assumptions)
        over = {k: v for k, v in (("morris_trajectories", morris_r), ("sobol_n", sobol_n)) if v is not None}
        if over:
            from sim.experiments.sensitivity.assumptions import Design

            spec = spec.model_copy(update={"design": Design.model_validate({**spec.design.model_dump(), **over})})
        data = resolve(scenario)
        sc = validate(data, scenario)
        check_against(spec, data, assumptions)
        ex = make_executor(executor, workers, scheduler)
    except ScenarioError as exc:
        fail(str(exc))
    except ValueError as exc:  # an executor that cannot be built, a bad override
        fail(str(exc).splitlines()[0])
    folder = out or default_out(scenario)
    try:
        store = StudyStore.open(folder, fingerprint(scenario_hash(sc), spec, evaluate_point), fresh, OUTPUTS)
    except (StudyError, OSError) as exc:
        fail(str(exc))
    signal.signal(signal.SIGTERM, _terminate)
    stored = store.runs
    start = time.perf_counter()
    session = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "executor": ex.name,
               "workers": getattr(ex, "workers", None), "runs_stored_before": stored}
    with ex, Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=False, disable=not err.is_terminal) as bar:
        def progress(stage: str, total: int):
            task = bar.add_task(f"{sc.meta.name}: {STAGE_NAMES.get(stage, stage)}", total=total)
            if not err.is_terminal:
                err.print(f"{STAGE_NAMES.get(stage, stage)}: {total} design points", soft_wrap=True)
            return lambda: bar.advance(task)

        try:
            res = run_study(store, data, spec, ex, progress, until=until)
        except KeyboardInterrupt:
            _record(store, session, start)
            err.print(f"interrupted: {store.runs} model runs kept in {folder}; run the same command to go on",
                      soft_wrap=True)
            raise typer.Exit(130) from None
        except (BrokenExecutor, StudyError, OSError) as exc:
            _record(store, session, start)
            fail(f"{exc}; {store.runs} model runs kept in {folder}")
    _record(store, session, start)
    written = write_outputs(folder, res, spec, f"{sc.meta.name} ({scenario})", store.sessions)
    console.print(f"CPU per model run {res.cpu_seconds:.2f} s; runs: "
                  + ", ".join(f"{k} {v}" for k, v in res.evaluations.items())
                  + f"; Sobol' stage on {', '.join(res.selected) or 'none'}")
    for n in res.notes:
        console.print(f"note: {n}")
    console.print(f"written to {folder}/: " + ", ".join(p.name for p in written))


def _record(store: StudyStore, session: dict, start: float) -> None:
    """Add this session (wall time, runs made) to the study record."""
    session = {**session, "wall_seconds": round(time.perf_counter() - start, 1),
               "runs_made": store.runs - session["runs_stored_before"]}
    store.sessions.append(session)
    store.save(force=True)
