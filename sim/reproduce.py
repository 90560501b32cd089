"""``narvard reproduce RESULTS_DIR``: run again from a manifest and compare byte for byte.

The manifest of every results folder holds the fully resolved parameters (seed and number of
replications included), their SHA-256, the care systems run and the versions of the package
and of the libraries that shape the numbers. Reproducing validates those parameters again,
re-runs them into a temporary folder and compares ``summary.csv`` (the verdict) and
``events.parquet`` (reported) with the originals. When the bytes differ, the version
differences between then and now are listed, since they are the usual cause.
"""

from __future__ import annotations

import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sim.config import ScenarioError, scenario_hash
from sim.config.loader import legacy_scenario_hash
from sim.experiments.executor import Executor, make_executor
from sim.experiments.pipeline import dependency_versions, package_version, simulate_to_folder
from sim.output.results import (
    EVENTS,
    SUMMARY,
    InterruptedAfterCommit,
    ResultsError,
    manifest_scenario,
    read_manifest,
    shown,
)
from sim.terminal import fail

console = Console()
err = Console(stderr=True)


@dataclass
class Reproduction:
    """What a re-run from a manifest gave."""

    summary_identical: bool
    events_identical: bool | None  #: None when the original folder has no event log
    hash_matches: bool  #: the manifest's parameters still hash to its ``scenario_sha256``
    versions: dict[str, tuple[str, str]] = field(default_factory=dict)  #: name -> (then, now)
    out: Path | None = None  #: where the re-run was kept, if asked

    @property
    def identical(self) -> bool:
        """The verdict: ``summary.csv`` is the same to the byte."""
        return self.summary_identical


def version_differences(manifest: dict) -> dict[str, tuple[str, str]]:
    """Package and dependency versions that differ between the manifest and this install."""
    then = {"narvard-sim": str(manifest.get("version", "?"))}
    deps = manifest.get("dependencies")
    if isinstance(deps, dict):
        then.update({str(k): str(v) for k, v in deps.items()})
    now = {"narvard-sim": package_version(), **dependency_versions()}
    return {k: (then.get(k, "?"), now.get(k, "?")) for k in sorted(set(then) | set(now))
            if then.get(k, "?") != now.get(k, "?")}


def reproduce(folder: Path | str, executor: Executor | None = None, keep: Path | None = None,
              force: bool = False, progress: Callable[[object], None] | None = None) -> Reproduction:
    """Re-run a results folder from its manifest and compare the outputs byte for byte.

    Raises :class:`ResultsError` for a folder that is not a complete results folder and
    :class:`ScenarioError` for parameters that no longer validate. ``keep``: write the re-run
    there (atomically, like ``run --out``) instead of a temporary folder. ``progress``: called
    after each replication.
    """
    from sim.care import CARE_SYSTEMS

    folder = Path(folder)
    manifest = read_manifest(folder)
    summary_path = folder / SUMMARY
    if not summary_path.is_file():
        raise ResultsError(f"{summary_path}: missing; is {folder} a complete narvard results folder?")
    scenario = manifest_scenario(manifest, folder)
    paradigms = tuple(manifest["paradigms"])
    unknown = [p for p in paradigms if p not in CARE_SYSTEMS]
    if unknown:
        raise ResultsError(f"{folder}/manifest.json: field 'paradigms': unknown care system(s)"
                           f" {', '.join(unknown)} (this version has {', '.join(CARE_SYSTEMS)})")
    if (manifest["seed"], manifest["replications"]) != (scenario.simulation.seed, scenario.simulation.replications):
        raise ResultsError(f"{folder}/manifest.json: fields 'seed'/'replications' disagree with"
                           " 'scenario.simulation'")
    executor = executor or Executor()
    same_scenario = manifest.get("scenario_sha256") in {scenario_hash(scenario), legacy_scenario_hash(scenario)}
    result = Reproduction(False, None, same_scenario,
                          version_differences(manifest), keep)

    def compare(out: Path) -> None:
        result.summary_identical = (out / SUMMARY).read_bytes() == summary_path.read_bytes()
        if (folder / EVENTS).is_file():
            result.events_identical = (out / EVENTS).read_bytes() == (folder / EVENTS).read_bytes()

    run = dict(scenario_path=str(manifest.get("scenario_file", "")), command="reproduce", progress=progress)
    if keep is not None:
        simulate_to_folder(scenario, paradigms, keep, force, executor, **run)
        compare(keep)
    else:
        with tempfile.TemporaryDirectory(prefix="narvard-reproduce-") as tmp:
            out = Path(tmp) / "rerun"
            simulate_to_folder(scenario, paradigms, out, False, executor, **run)
            compare(out)
    return result


def _terminate(signum, frame):  # SIGTERM: unwind like Ctrl-C so the temporary folder is removed
    raise KeyboardInterrupt(f"signal {signum}")


def reproduce_command(
    results: Annotated[Path, typer.Argument(help="a results folder (of run, compare or reproduce)")],
    executor: Annotated[str, typer.Option(help="serial, processes or dask")] = "processes",
    workers: Annotated[int | None, typer.Option(help="local worker processes (default: all cores)")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, with --executor dask")] = None,
    out: Annotated[Path | None, typer.Option(help="keep the re-run here (default: a temporary folder)")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace an existing --out folder")] = False,
) -> None:
    """Re-run a results folder from its manifest; exit 0 if summary.csv is byte-identical, 1 if not."""
    signal.signal(signal.SIGTERM, _terminate)

    try:
        ex = make_executor(executor, workers, scheduler)
    except ValueError as exc:
        fail(str(exc))
    try:
        # A bar where there is a terminal; the replications' count either way (a re-run takes minutes).
        with ex, Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task(f"re-running {results}", total=None)
            r = reproduce(results, ex, out, force, progress=lambda _r: bar.advance(task))
    except (ResultsError, ScenarioError) as exc:
        fail(str(exc))
    except OSError as exc:  # disk full, read-only
        where = shown(exc.filename) if exc.filename else shown(out or results)
        fail(f"{where}: {exc.strerror or exc}; nothing kept")
    except KeyboardInterrupt as exc:
        if isinstance(exc, InterruptedAfterCommit):
            err.print(f"interrupted: the re-run was complete and is in {shown(out)}", soft_wrap=True)
        else:
            err.print("interrupted: nothing kept", soft_wrap=True)
        raise typer.Exit(130) from None
    if not r.hash_matches:
        err.print(f"note: {results}/manifest.json: the parameters no longer hash to 'scenario_sha256'"
                  " (edited after the run?)", soft_wrap=True, highlight=False)
    events = {None: "no event log to compare", True: "identical", False: "differs"}[r.events_identical]
    console.print(f"events.parquet: {events}", highlight=False)
    if r.versions:  # named even when the bytes agree: the next run may not be so lucky
        console.print("versions that differ from the manifest's:", highlight=False)
    for name, (then, now) in r.versions.items():
        console.print(f"  {name}: {then} then, {now} now", highlight=False)
    if r.identical:
        console.print(f"summary.csv: byte-identical; {results} is reproducible", highlight=False)
        return
    console.print(f"summary.csv: DIFFERS from {results}/summary.csv", highlight=False)
    if r.out is not None:
        console.print(f"re-run kept in {r.out}", highlight=False)
    raise typer.Exit(1)
