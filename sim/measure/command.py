"""``narvard measure RESULTS_DIR``: every target's design on a results folder."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.config import ScenarioError
from sim.measure.designs import MeasureError
from sim.measure.report import (
    FORMATTED_COLUMNS,
    MEASURES,
    MEASURES_DETAIL,
    format_measures,
    measure_folder,
    write_measures,
)
from sim.measure.targets import default_targets, load_targets
from sim.output.results import ResultsError, shown, write_files_atomically

DEFAULT_TARGETS = default_targets()  # found from the package, not the current folder
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def show_measures(table: pd.DataFrame, detail: pd.DataFrame, title: str) -> None:
    """Print reported vs naive and causal figures, with the gap."""
    t = Table(title=title,
              caption="relative changes after vs before (or vs comparable patients); 95 % CI over replications")
    for col in FORMATTED_COLUMNS:
        t.add_column(col, justify="left" if col == "target" else "right")
    for row in format_measures(table, detail).itertuples(index=False):
        t.add_row(*(escape(str(v)).replace("**", "") for v in row))
    console.print(t)
    notes = detail[detail["note"].astype(str).str.len() > 0]
    for _, r in notes.iterrows():
        err.print(f"{r['target']}: {r['note']}")


def measure_command(
    results: Annotated[Path, typer.Argument(help="results folder of `narvard compare` (both paradigms)")],
    targets: Annotated[Path, typer.Option(help="targets and designs (TOML)")] = DEFAULT_TARGETS,
) -> None:
    """Compute every target's measurement design: naive (as the studies measured) and causal."""
    from sim.output.results import read_manifest

    signal.signal(signal.SIGTERM, _terminate)

    def fail(message: str) -> None:
        err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)

    try:
        paradigms = read_manifest(results)["paradigms"]
        if len(paradigms) < 2:
            raise ResultsError(f"{results}: holds one care system ({', '.join(paradigms)}, written by `narvard run`);"
                               " the designs compare both: run `narvard compare` and measure its folder")
        tf = load_targets(targets)
        with err.status(f"measuring {results} ({len(tf.targets)} targets)"):
            table, detail = measure_folder(results, tf)
        write_files_atomically({results / MEASURES: lambda p: write_measures(table, p),
                                results / MEASURES_DETAIL: lambda p: write_measures(detail, p)})
    except (ScenarioError, ResultsError, MeasureError) as exc:
        fail(str(exc))
    except OSError as exc:  # disk full, read-only folder
        where = shown(exc.filename) if exc.filename else shown(results)
        fail(f"{where}: {exc.strerror or exc}; {MEASURES} and {MEASURES_DETAIL} not written")
    except KeyboardInterrupt:
        err.print(f"interrupted: {MEASURES} and {MEASURES_DETAIL} not written", soft_wrap=True)
        raise typer.Exit(130) from None
    show_measures(table, detail, f"measures: {results}")
    console.print(f"written {results / MEASURES} and {results / MEASURES_DETAIL}")


def _terminate(signum, frame):  # SIGTERM: stop like Ctrl-C; nothing is written before the end
    raise KeyboardInterrupt(f"signal {signum}")


