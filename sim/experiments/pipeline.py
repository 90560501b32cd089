"""From a scenario file to a complete results folder: the steps behind ``run`` and ``compare``."""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pandas as pd

from sim.config import Scenario, ScenarioError, budget, scenario_hash
from sim.config.loader import _deep_merge, resolve, validate
from sim.experiments.executor import Executor
from sim.experiments.runner import (
    ARROW_PART,
    ReplicationResult,
    encode_later,
    metrics_frame,
    open_events,
    parquet_part,
    run_replications,
    task_groups,
    whole_replications,
)
from sim.output.dictionary import parquet_metadata, write_dictionary
from sim.output.results import (
    EVENTS,
    MANIFEST,
    REPLICATIONS,
    SUMMARY,
    AtomicFolder,
    manifest_bytes,
    shown,
    write_manifest,
)
from sim.output.summary import paired_differences, summarise, write_summary

DEPENDENCIES = ("simpy", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "plotly", "dask", "distributed")


def package_version() -> str:
    """Installed version of narvard-sim."""
    try:
        return metadata.version("narvard-sim")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def dependency_versions() -> dict[str, str]:
    """Versions of the packages that shape the results."""
    out = {"python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def simulate_to_folder(scenario: Scenario, paradigms: tuple[str, ...], out: Path, force: bool,
                       executor: Executor, scenario_path: str = "",
                       progress: Callable[[ReplicationResult], None] | None = None,
                       command: str = "run") -> pd.DataFrame:
    """Run every replication and write summary.csv, events.parquet and manifest.json atomically.

    The manifest's fixed part is checked for JSON/UTF-8 before any work, and the target before
    the run starts (:class:`AtomicFolder`), so a run that cannot be recorded does not start.
    """
    start = time.perf_counter()
    reps = scenario.simulation.replications
    fixed = {
        "tool": "narvard-sim",
        "command": command,
        "version": package_version(),
        "dependencies": dependency_versions(),
        "scenario_file": scenario_path,
        "scenario_sha256": scenario_hash(scenario),
        "seed": scenario.simulation.seed,
        "replications": reps,
        "paradigms": list(paradigms),
        "executor": executor.name,
    }
    # The command line is a record for people: bytes that are not UTF-8 (a folder name) escaped.
    tail = {"argv": [shown(a) for a in sys.argv], "scenario": scenario.model_dump(mode="json")}
    manifest_bytes({**fixed, **tail}, f"{shown(out)}/{MANIFEST}")
    folder = AtomicFolder(out, force)
    with folder.late_signals():
        return _simulate_into(folder, scenario, paradigms, executor, progress, fixed, tail, start)


def _simulate_into(folder: AtomicFolder, scenario: Scenario, paradigms: tuple[str, ...], executor: Executor,
                   progress, fixed: dict, tail: dict, start: float) -> pd.DataFrame:
    """Run the replications into ``folder``'s temporary folder; the manifest last."""
    reps = scenario.simulation.replications
    with folder as tmp:
        parts_dir = tmp / "parts"
        parts_dir.mkdir()
        # An incomplete last round runs one task per care system (task_groups). The rows go to the event
        # log in the same order and row groups (a part per care system instead of one per replication).
        groups = task_groups(reps, paradigms, executor)
        # Parts are Parquet, encoded by the workers, on this machine or another (Dask: sent back as bytes),
        # but those of the round before a split one, which this process encodes while a worker waits.
        later = encode_later(groups, executor)
        tasks = [(scenario, r, g, str(parts_dir / f"r{r:04d}-{i}{ARROW_PART if r in later else '.parquet'}"))
                 for r in range(reps) for i, g in enumerate(groups[r])]
        results: list[ReplicationResult] = []
        window = (scenario.warmup_days, scenario.horizon_days)
        meta = parquet_metadata(*window)
        pending: list[str] = []  # done parts not yet in events.parquet, in order
        workers, left = getattr(executor, "workers", 1), len(tasks)  # tasks not yet done (in order)
        try:
            # Each part's row groups are copied to events.parquet as soon as it and those before it are
            # done (in order), while the workers run the next ones, and the part deleted. An unencoded
            # part (and those after it) waits until fewer tasks are left than workers: a worker is idle.
            with open_events(tmp / EVENTS, meta) as events:
                def append(task, _res):
                    nonlocal left
                    pending.append(task[3])
                    left -= 1
                    if left >= workers and any(p.endswith(ARROW_PART) for p in pending):
                        return
                    for part in pending:
                        part = parquet_part(part, meta) if part.endswith(ARROW_PART) else part
                        events.append(part)
                        Path(part).unlink()
                    pending.clear()

                for res in whole_replications(tasks, run_replications(executor, tasks), groups, append):
                    results.append(res)
                    if progress:
                        progress(res)
        except BaseException:
            getattr(executor, "abort", lambda: None)()  # no worker may write into tmp once it is removed
            raise
        write_dictionary(tmp, *window)
        parts_dir.rmdir()
        frames = {p: metrics_frame(results, p) for p in paradigms}
        summary = pd.concat([summarise(frames[p], p) for p in paradigms], ignore_index=True)
        if len(paradigms) == 2:
            summary = pd.concat([summary, paired_differences(frames[paradigms[0]], frames[paradigms[1]])],
                                ignore_index=True)
        write_summary(summary, tmp / SUMMARY)
        per_rep = pd.concat([f.assign(paradigm=p) for p, f in frames.items()], ignore_index=True)
        per_rep.to_csv(tmp / REPLICATIONS, index=False, float_format="%.6g", lineterminator="\n")
        write_manifest(tmp, {
            **fixed,
            "events_rows": events.rows,
            "engine_events": int(sum(r.events for r in results)),
            "replication_seconds": [round(r.seconds, 3) for r in results],
            "wall_seconds": round(time.perf_counter() - start, 3),
            **tail,
        }, known={EVENTS: events.sha256} if events.sha256 else None)  # hashed as written: not read back
    return summary


#: Command-line options that override scenario fields, as the messages name them.
OVERRIDES = {"seed": "--seed", "replications": "--replications/-n"}


def _warn_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load(path: str | Path, seed: int | None = None, replications: int | None = None, *,
         paradigms: int = 2, workers: int | None = None,
         warn: Callable[[str], None] | None = _warn_stderr) -> Scenario:
    """Load a scenario file and apply command-line overrides, through one validation path.

    The file is validated first (its problems name the file); the overrides are then merged into
    the same mapping and validated again with the same limits (``--seed -5``, ``--seed 2**70``
    and ``-n 1000000`` are refused like the same values in a file, naming the option). Last,
    the resource guard (:mod:`sim.config.budget`) estimates memory and time for ``paradigms``
    care systems on ``workers`` processes: above the limit the run is refused, above the
    warning threshold ``warn`` gets one line.
    """
    data = resolve(path)
    scenario = validate(data, path)
    given = {k: v for k, v in (("seed", seed), ("replications", replications)) if v is not None}
    if given:
        try:
            scenario = validate(_deep_merge(data, {"simulation": given}), "command line")
        except ScenarioError as exc:
            lines = []
            for line in exc.problems:
                for field, option in OVERRIDES.items():
                    line = line.replace(f"simulation.{field}:", f"{option} (simulation.{field}):")
                lines.append(line)
            raise ScenarioError("command line", lines) from None
    refuse, warnings = budget.check(scenario, paradigms, workers)
    if refuse:
        raise ScenarioError(path, refuse)
    if warn is not None:
        for w in warnings:
            warn(f"warning: {ScenarioError(path, [w])}")
    return scenario
