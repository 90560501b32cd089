"""``narvard events RESULTS_DIR``: totals per kind from the event log, and an export to CSV.

By default only the measured period counts (rows from the end of the warm-up on), as in
``summary.csv``; ``--include-warmup`` sums every row, the warm-up included.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.output.dictionary import KIND_DOC, read_measured_events
from sim.output.results import ResultsError, read_manifest

console = Console(width=None if sys.stdout.isatty() else 100)
err = Console(stderr=True)


def event_totals(events):
    """Per kind and care system: rows, quantity and cost, each a mean per replication."""
    reps = events.groupby("paradigm", observed=True)["replication"].nunique()
    g = events.groupby(["kind", "paradigm"], observed=True).agg(rows=("time", "size"), quantity=("quantity", "sum"),
                                                                 cost=("cost", "sum")).reset_index()
    n = g["paradigm"].map(reps).astype(float)
    for col in ("rows", "quantity", "cost"):
        g[col] = g[col] / n
    g["kind"] = g["kind"].astype(str)
    g["paradigm"] = g["paradigm"].astype(str)
    return g


def events_command(
    results: Annotated[Path, typer.Argument(help="a results folder (of run, compare or reproduce)")],
    include_warmup: Annotated[bool, typer.Option("--include-warmup", help="count the warm-up's rows too")] = False,
    kind: Annotated[list[str] | None, typer.Option(help="only this kind (repeatable)")] = None,
    out: Annotated[Path | None, typer.Option(help="also write the rows to this CSV file")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace an existing --out file")] = False,
) -> None:
    """Totals per kind from events.parquet (measured period unless --include-warmup); optionally export rows."""
    def fail(message: str) -> None:
        err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)

    unknown = [k for k in kind or [] if k not in KIND_DOC]
    if unknown:
        fail(f"--kind: no such kind: {', '.join(unknown)} (see data_dictionary.md)")
    if out is not None and out.exists() and not force:
        fail(f"{out}: exists; use --force to replace it")
    try:
        warmup = float(read_manifest(results)["scenario"]["simulation"]["warmup_years"])
        events = read_measured_events(results, include_warmup)
    except ResultsError as exc:
        fail(str(exc))
    if kind:
        events = events[events["kind"].astype(str).isin(kind)]
    totals = event_totals(events)
    period = "every row, warm-up included" if include_warmup else f"measured period (after {warmup:g} warm-up years)"
    console.print(f"{results}: totals per replication, {period}", soft_wrap=True, highlight=False)
    t = Table(box=box.SIMPLE_HEAD)
    for col in ("kind", "paradigm", "rows", "quantity", "unit of quantity", "cost SEK"):
        t.add_column(col, justify="left" if col in ("kind", "paradigm", "unit of quantity") else "right")
    for r in totals.itertuples():
        t.add_row(r.kind, r.paradigm, f"{r.rows:,.0f}", f"{r.quantity:,.1f}", KIND_DOC[r.kind][1], f"{r.cost:,.0f}")
    console.print(t)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.partial")
        events.to_csv(tmp, index=False, float_format="%.6g", lineterminator="\n")
        tmp.replace(out)  # atomic: an interrupted export leaves an earlier file whole
        console.print(f"written {out} ({len(events):,} rows)")
