"""``narvard validate RESULTS_DIR``: today's care in a results folder against Swedish statistics."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.measure.validate import (
    DEFAULT_TARGETS,
    ValidateError,
    folder_statistics,
    format_table,
    load_baseline_targets,
    validation_table,
    write_validation,
)

console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def validate_command(
    results: Annotated[Path, typer.Argument(help="results folder of `narvard run` or `narvard compare`")],
    targets: Annotated[Path, typer.Option(help="published figures and bands (TOML)")] = DEFAULT_TARGETS,
    paradigm: Annotated[str, typer.Option(help="care system to validate (today's care: intervention)")]
    = "intervention",
) -> None:
    """Compare the baseline's figures with published Swedish statistics: validation.csv/.md, lorenz.csv."""
    try:
        tf = load_baseline_targets(targets)
        with err.status(f"validating {results} ({len(tf.figures)} figures)"):
            per_rep, lorenz = folder_statistics(results, paradigm)
            table = validation_table(per_rep, tf)
            written = write_validation(table, lorenz, results, targets)
    except (ValidateError, OSError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    shown = format_table(table, short=True)
    t = Table(title=f"{results}: {paradigm} against published figures ({len(per_rep)} replications)",
              caption="model: mean [95 % CI over replications]; in band: the interval meets the band")
    for col in shown.columns:
        t.add_column(col, justify="left" if col in ("figure", "unit") else "right")
    for row in shown.itertuples(index=False):
        t.add_row(*(escape(str(v)) for v in row))
    console.print(t)
    counts = table["within_band"].value_counts()
    console.print(f"in band {counts.get('yes', 0)}, out of band {counts.get('no', 0)}, "
                  f"not modelled {counts.get('not modelled', 0)}; written {', '.join(str(p) for p in written)}")
