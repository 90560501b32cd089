"""``narvard app`` (start the workshop app) and ``narvard export-vidigi`` (the event log for animations)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

APP = Path(__file__).with_name("streamlit_app.py")


def app_command(
    port: Annotated[int, typer.Option(min=1024, max=65535, help="port on localhost")] = 8501,
    persons: Annotated[int | None, typer.Option(min=1, help="starting area size of the what-if forms")] = None,
    years: Annotated[float | None, typer.Option(min=0.1, help="starting measured years of the what-if forms")] = None,
    replications: Annotated[int | None, typer.Option(min=1, help="starting replications")] = None,
    example_persons: Annotated[int | None, typer.Option(min=200, help="persons in the paradigm-shift example")] = None,
) -> None:
    """Start the workshop app (Streamlit) on localhost and print its address; Ctrl-C stops it."""
    defaults = {k: v for k, v in {"persons": persons, "years": years, "replications": replications,
                                  "example_persons": example_persons}.items() if v is not None}
    env = {**os.environ, "NARVARD_APP_DEFAULTS": json.dumps(defaults)}
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", "--global.developmentMode", "false",
           "--client.toolbarMode", "minimal"]
    print(f"narvard app: http://127.0.0.1:{port}", flush=True)
    try:
        raise typer.Exit(subprocess.call(cmd, env=env))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def export_vidigi_command(
    results: Annotated[Path, typer.Argument(help="a results folder from `narvard compare`")],
    out: Annotated[Path, typer.Option(help="CSV file to write (refused if it exists, unless --force)")],
    replication: Annotated[int, typer.Option(help="which replication")] = 0,
    persons: Annotated[int, typer.Option(min=1, help="persons (the närsjukvårdsteam's first, then others)")] = 50,
    force: Annotated[bool, typer.Option("--force", help="replace an existing file")] = False,
) -> None:
    """Write the event log in the vidigi format (entity_id, event_type, event, time) for animations."""
    from sim.app.logic import vidigi_log
    from sim.output.results import ResultsError, read_events, read_manifest
    from sim.terminal import console
    from sim.terminal import fail as _fail

    try:
        manifest = read_manifest(results)
        ev = read_events(results)
    except ResultsError as exc:
        _fail(str(exc))
    if out.exists() and not force:
        _fail(f"{out}: exists; use --force to replace it")
    for col in ("paradigm", "kind", "detail"):
        ev[col] = ev[col].astype(str)
    ev = ev[ev["replication"] == replication]
    if ev.empty:
        _fail(f"{results}: no events for replication {replication}")
    sim = manifest["scenario"]["simulation"]
    start = float(sim["warmup_years"]) * 365.25
    end = start + float(sim["years"]) * 365.25
    alive = ev[(ev["person"] >= 0) & (ev["time"] >= start) & (ev["time"] < end)]  # persons seen in the period
    team = alive[alive["kind"] == "team_enrol"]["person"].drop_duplicates()
    others = alive[~alive["person"].isin(team)]["person"].drop_duplicates()
    chosen = [*team.head(persons).tolist(), *others.head(max(0, persons - len(team))).tolist()]
    log = vidigi_log(ev, chosen, start, end)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    log.to_csv(tmp, index=False, float_format="%.4f", lineterminator="\n")
    os.replace(tmp, out)
    console.print(f"written {out} ({len(log):,} rows, {len(chosen)} persons under both systems; time in days "
                  "since the measured period began)")
