"""``narvard report RESULTS_DIR``: the leadership report as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def report_command(
    results: Annotated[Path, typer.Argument(help="a results folder (from `narvard compare`)")],
    calibration: Annotated[Path | None, typer.Option(
        help="calibration folder with fit.csv (default: the bundled calibration/; skipped if absent)")] = None,
    scenario: Annotated[Path | None, typer.Option(help="the commented scenario file (default: the manifest's)")] = None,
) -> None:
    """Write RESULTS_DIR/report.html: headline, over time, one person, costs, calibration, methods."""
    from sim.config.paths import bundled
    from sim.output.results import ResultsError
    from sim.report.build import write_report
    from sim.terminal import console
    from sim.terminal import fail as _fail

    calibration = calibration or bundled("calibration")  # never the current folder's
    try:
        path = write_report(results, calibration if calibration.is_dir() else None, scenario)
    except ResultsError as exc:
        _fail(str(exc))
    size = path.stat().st_size / 1e6
    console.print(f"written {path} ({size:.1f} MB, self-contained: opens offline)")
