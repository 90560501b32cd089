"""The ``narvard`` command line: arranges the model, the outputs and the plots."""

from __future__ import annotations

import os
import signal
import sys
from concurrent.futures import BrokenExecutor
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sim.config import ScenarioError
from sim.config.paths import default_results_dir
from sim.console_summary import UnknownMetricError, show_summary
from sim.experiments.executor import make_executor
from sim.experiments.pipeline import load, simulate_to_folder
from sim.measure.report import format_value
from sim.output.results import InterruptedAfterCommit, ResultsError, shown, write_files_atomically
from sim.terminal import console, err
from sim.terminal import fail as _fail

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="narvard-sim: the same elderly persons under intervention-driven and person-driven care.")

ScenarioArg = Annotated[Path, typer.Argument(help="scenario TOML file")]
SeedOpt = Annotated[int | None, typer.Option(help="override the scenario seed")]
RepsOpt = Annotated[int | None, typer.Option("--replications", "-n", min=1, help="override the number of replications")]
OutOpt = Annotated[Path | None, typer.Option(help="results folder (default: results/<file stem> beside the scenario)")]
ForceOpt = Annotated[bool, typer.Option("--force", help="replace an existing results folder")]
ExecOpt = Annotated[str, typer.Option(help="serial, processes or dask")]
SchedOpt = Annotated[str | None, typer.Option(help="Dask scheduler address, with --executor dask")]
WorkersOpt = Annotated[int | None, typer.Option(help="local worker processes (default: all cores)")]
AllOpt = Annotated[bool, typer.Option("--all", help="show every metric of summary.csv")]
MetricsOpt = Annotated[str | None, typer.Option(help="show only these metrics (comma-separated names)")]


def _terminate(signum, frame):  # SIGTERM: unwind like Ctrl-C so partial results are removed
    raise KeyboardInterrupt(f"signal {signum}")


def _os_error(exc: OSError, where: Path) -> str:
    """Say what an operating-system error was and where, on one line (disk full, read-only, ...)."""
    path = shown(exc.filename) if exc.filename else shown(where)
    what = exc.strerror or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return f"{path}: {what}"


def _num(x: float) -> str:
    """Three significant figures, thousands separated: enough for a console table."""
    return format_value(x, relative=False)


def _metrics(value: str | None) -> list[str] | None:
    return [m.strip() for m in value.split(",") if m.strip()] if value else None


def _show(summary: pd.DataFrame, scenario: dict, title: str, show_all: bool, metrics: str | None) -> None:
    try:
        show_summary(console, summary, scenario, title, show_all, _metrics(metrics))
    except UnknownMetricError as exc:
        _fail(str(exc))


def _simulate(scenario_path: Path, paradigms: tuple[str, ...], seed, replications, out, force,
              executor, scheduler, workers, command: str, show_all: bool = False, metrics: str | None = None) -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        scenario = load(scenario_path, seed, replications, paradigms=len(paradigms),
                        workers=1 if executor == "serial" else workers)
    except ScenarioError as exc:
        _fail(str(exc))
    out = out or default_results_dir(scenario_path)
    try:
        ex = make_executor(executor, workers, scheduler)
    except ValueError as exc:
        _fail(str(exc))
    reps = scenario.simulation.replications
    written = False  # say "nothing written" only when it is true
    try:
        with ex, Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task(f"{scenario.meta.name}: replications", total=reps)
            summary = simulate_to_folder(scenario, paradigms, out, force, ex, str(scenario_path),
                                         progress=lambda _r: bar.advance(task), command=command)
            written = True
    except ResultsError as exc:  # incl. a target that appeared meanwhile (the message says where the results are)
        _fail(str(exc))
    except BrokenExecutor as exc:  # a worker process died (killed, out of memory, os._exit)
        _fail(f"a worker process died ({exc}); nothing written to {shown(out)}")
    except OSError as exc:  # disk full, read-only, a file system error: where, what
        _fail(f"{_os_error(exc, out)}; nothing written to {shown(out)}"
              + (" (the earlier results there are unchanged)" if out.exists() else ""))
    except KeyboardInterrupt as exc:
        if written or isinstance(exc, InterruptedAfterCommit):
            err.print(f"interrupted: the results were complete and are in {shown(out)}", soft_wrap=True)
        else:
            err.print(f"interrupted: nothing written to {shown(out)}", soft_wrap=True)
        raise typer.Exit(130) from None
    _show(summary, scenario.model_dump(mode="json"),
          f"{scenario.meta.name}: {reps} replications, seed {scenario.simulation.seed}", show_all, metrics)
    console.print(f"results written to {out}/ (summary.csv, events.parquet, data_dictionary.md, manifest.json)")


@app.command()
def run(scenario: ScenarioArg,
        paradigm: Annotated[str, typer.Option(
            help="intervention (insatsstyrning) or person (individstyrning)")] = "intervention",
        seed: SeedOpt = None, replications: RepsOpt = None, out: OutOpt = None, force: ForceOpt = False,
        executor: ExecOpt = "processes", scheduler: SchedOpt = None, workers: WorkersOpt = None,
        show_all: AllOpt = False, metrics: MetricsOpt = None) -> None:
    """Run one care system on a scenario and write a results folder."""
    from sim.care import CARE_SYSTEMS

    if paradigm not in CARE_SYSTEMS:
        _fail(f"--paradigm: expected one of {', '.join(CARE_SYSTEMS)} (got {paradigm!r})")
    _simulate(scenario, (paradigm,), seed, replications, out, force, executor, scheduler, workers, "run",
              show_all, metrics)


PosteriorOpt = Annotated[int, typer.Option("--posterior", min=0, help=(
    "then run N parameter sets drawn from the calibration's posterior × the replications, on the same persons:"
    " uncertainty.csv (every difference with parameter uncertainty, decision figures)"))]
PosteriorFileOpt = Annotated[Path | None, typer.Option(help="posterior sample (default: calibration/posterior.csv)")]


@app.command()
def compare(scenario: ScenarioArg, seed: SeedOpt = None, replications: RepsOpt = None,
            out: OutOpt = None, force: ForceOpt = False, executor: ExecOpt = "processes",
            scheduler: SchedOpt = None, workers: WorkersOpt = None, show_all: AllOpt = False,
            metrics: MetricsOpt = None, posterior: PosteriorOpt = 0, posterior_file: PosteriorFileOpt = None) -> None:
    """Run both care systems on the same persons and trajectories; paired differences."""
    out = out or default_results_dir(scenario)
    _simulate(scenario, ("intervention", "person"), seed, replications, out, force, executor,
              scheduler, workers, "compare", show_all, metrics)
    if posterior:
        _posterior_compare(scenario, out, posterior, posterior_file, seed, replications, executor, scheduler, workers)


def _posterior_compare(scenario_path: Path, out: Path, draws: int, posterior_file: Path | None, seed, replications,
                       executor, scheduler, workers) -> None:
    """``compare --posterior N``: the draws on the compare's persons, uncertainty.csv, the console table."""
    from sim.console_summary import uncertainty_group
    from sim.experiments.calibration.posterior import POSTERIOR
    from sim.experiments.posterior_compare import UNCERTAINTY, UNCERTAINTY_MD, PosteriorError, posterior_compare
    from sim.measure.targets import default_targets, load_targets

    targets_path = default_targets()
    pfile = posterior_file or targets_path.parent / POSTERIOR
    try:
        sc = load(scenario_path, seed, replications, paradigms=2, workers=1 if executor == "serial" else workers)
        tf = load_targets(targets_path)
        post = pd.read_csv(pfile)
        ex = make_executor(executor, workers, scheduler)
    except (ScenarioError, ValueError, OSError) as exc:
        _fail(f"--posterior: {exc}")
    reps = sc.simulation.replications
    try:
        with ex, Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task(f"{sc.meta.name}: posterior draws × replications", total=draws * reps)
            table = posterior_compare(out, sc, post, tf, draws, ex, str(pfile), progress=lambda: bar.advance(task))
    except PosteriorError as exc:
        _fail(f"{shown(pfile)}: {exc}")
    except OSError as exc:
        _fail(f"{_os_error(exc, out)}; {UNCERTAINTY} not written")
    except KeyboardInterrupt:
        err.print(f"interrupted: the compare's results are in {shown(out)}; {UNCERTAINTY} not written", soft_wrap=True)
        raise typer.Exit(130) from None
    console.print(uncertainty_group(table))
    console.print(f"written {out / UNCERTAINTY}, {out / UNCERTAINTY_MD}")


@app.command()
def summary(results: Annotated[Path, typer.Argument(help="a results folder (of run, compare or reproduce)")],
            show_all: AllOpt = False, metrics: MetricsOpt = None) -> None:
    """Show a results folder's summary again: every metric in its unit, the limits that bound."""
    from sim.output.results import read_manifest, read_summary

    try:
        manifest, table = read_manifest(results), read_summary(results)
    except ResultsError as exc:
        _fail(str(exc))
    _show(table, manifest["scenario"], f"{results}: {manifest['replications']} replications, seed {manifest['seed']}",
          show_all, metrics)
    if (Path(results) / "uncertainty.csv").is_file():  # written by compare --posterior
        from sim.console_summary import uncertainty_group

        console.print(uncertainty_group(pd.read_csv(Path(results) / "uncertainty.csv")))


@app.command()
def timeline(results: Annotated[Path, typer.Argument(help="a results folder from `narvard compare`")],
             person: Annotated[int | None, typer.Option(help="person id (default: a typical unstable person)")] = None,
             replication: Annotated[int, typer.Option(help="which replication")] = 0,
             months: Annotated[float, typer.Option(min=1.0, help="window length (months)")] = 18.0,
             out: Annotated[Path | None, typer.Option(
                 help="output folder (default: the results folder)")] = None,
             force: Annotated[bool, typer.Option(
                 "--force", help="replace this person's timeline files in another --out folder")] = False) -> None:
    """One person's months under both care systems: CSV and an HTML chart.

    Both files are written under temporary names and renamed into place, so an interrupted
    command leaves the earlier files whole. In the results folder they are narvard's own and are
    replaced; in another ``--out`` folder an existing file is replaced only with ``--force``.
    """
    from sim.output.timeline import person_timeline, timeline_caption, timeline_totals
    from sim.plots import timeline_figure

    try:
        rows, pid = person_timeline(results, person, replication, months)
    except ResultsError as exc:
        _fail(str(exc))
    ours = out is None or out.resolve() == results.resolve()
    out = out or results
    csv = out / f"timeline_person_{pid}.csv"
    html = out / f"timeline_person_{pid}.html"
    existing = [f for f in (csv, html) if os.path.lexists(f)]
    if existing and not ours and not force:
        _fail(f"{existing[0]}: exists; use --force to replace it (or choose another --out)")
    caption = timeline_caption(rows, pid)
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_files_atomically({
            csv: lambda path: rows.to_csv(path, index=False, float_format="%.4f", lineterminator="\n"),
            html: lambda path: timeline_figure(rows, pid, caption, months).write_html(path, include_plotlyjs=True),
        })
    except OSError as exc:
        _fail(f"{exc.filename or out}: {exc.strerror or exc}; timeline not written")
    except KeyboardInterrupt:
        _fail("interrupted: timeline not written")
    totals = timeline_totals(rows)
    table = Table(title=f"Person {pid}, {months:g} months")
    for col in ("paradigm", "kind", "payer", "quantity", "cost SEK"):
        table.add_column(col, justify="right" if col in ("quantity", "cost SEK") else "left")
    for r in totals.itertuples():
        table.add_row(r.paradigm, r.kind, r.payer, f"{r.quantity:,.1f}", f"{r.cost:,.0f}")
    console.print(table)
    for p, c in rows.groupby("paradigm")["cost"].sum().items():
        console.print(f"{p}: {c:,.0f} SEK")
    console.print(caption)
    console.print(f"written {csv} and {html}")


from sim.measure.command import measure_command  # noqa: E402  (measurement designs, calibration targets)

app.command("measure")(measure_command)

from sim.experiments.calibration.command import calibrate_command, ensemble_command  # noqa: E402  (optuna fit)

app.command("calibrate")(calibrate_command)
app.command("ensemble")(ensemble_command)

from sim.experiments.calibration.posterior_command import posterior_command  # noqa: E402  (ABC-SMC posterior)

app.command("posterior")(posterior_command)

from sim.reproduce import reproduce_command  # noqa: E402  (re-run from a manifest, compare bytes)

app.command("reproduce")(reproduce_command)

from sim.report.command import report_command  # noqa: E402  (leadership report, one HTML file)

app.command("report")(report_command)

from sim.experiments.rollout.cli import rollout_command  # noqa: E402  (a region's rollout, options side by side)

app.command("rollout")(rollout_command)

from sim.config.command import scenario_app  # noqa: E402  (scenario new / show)

app.add_typer(scenario_app, name="scenario")

from sim.events_command import events_command  # noqa: E402  (totals and export of events.parquet)

app.command("events")(events_command)

from sim.app.command import app_command, export_vidigi_command  # noqa: E402  (workshop app, vidigi log)

app.command("app")(app_command)
app.command("export-vidigi")(export_vidigi_command)


@app.command("switch-off")
def switch_off(scenario: ScenarioArg, seed: SeedOpt = None, replications: RepsOpt = None,
               out: Annotated[Path | None, typer.Option(
                   help="CSV file to write (long: variant, metric, mean, CI)")] = None,
               force: ForceOpt = False,
               executor: ExecOpt = "processes", scheduler: SchedOpt = None, workers: WorkersOpt = None) -> None:
    """Switch off each service concept alone: what is left of the effect (the trio's vulnerability).

    Not resumable: an interrupted run writes nothing and must be started again (the default
    scenario takes about a minute on 2 cores with 4 replications).
    """
    from sim.experiments.switch_off import switch_off_table, switch_off_tasks, variants

    if out is not None and out.exists() and not force:
        _fail(f"{out}: exists; use --force to replace it")
    try:
        # The resource guard counts every variant's two care systems (each variant is a paired run).
        sc = load(scenario, seed, replications, warn=None)
        sc = load(scenario, seed, replications, paradigms=2 * len(variants(sc)), workers=workers)
        ex = make_executor(executor, workers, scheduler)
    except (ScenarioError, ValueError) as exc:
        _fail(str(exc))
    signal.signal(signal.SIGTERM, _terminate)
    with ex, _progress() as bar:
        task = bar.add_task(f"{sc.meta.name}: variants × replications", total=switch_off_tasks(sc))
        try:
            table = switch_off_table(sc, ex, progress=lambda: bar.advance(task))
        except KeyboardInterrupt:
            err.print("interrupted: nothing written", soft_wrap=True)
            raise typer.Exit(130) from None
    show_switch_off(table, f"{sc.meta.name}: person − intervention with each concept switched off "
                           f"({sc.simulation.replications} replications)")
    if out:
        _write_table(table, out)


def _write_table(table: pd.DataFrame, out: Path) -> None:
    """Write a long table (as summary.csv) to ``out`` atomically: an interrupted write leaves an earlier file whole."""
    from sim.output.summary import write_summary

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_files_atomically({out: lambda path: write_summary(table, path)})
    except OSError as exc:  # disk full, read-only
        _fail(f"{_os_error(exc, out)}; {shown(out)} not written")
    console.print(f"written {out}")


@app.command("sizing")
def sizing(scenario: ScenarioArg,
           concept: Annotated[str, typer.Option(help="the staffed concept whose teams vary")] = "mobile_team",
           teams: Annotated[str, typer.Option(help="options: a range 1..K or a list 1,2,4")] = "1..3",
           seed: SeedOpt = None, replications: RepsOpt = None,
           out: Annotated[Path | None, typer.Option(
               help="CSV file to write (long: teams, metric, comparison, mean, CI)")] = None,
           force: ForceOpt = False,
           executor: ExecOpt = "processes", scheduler: SchedOpt = None, workers: WorkersOpt = None) -> None:
    """Sizing what-if: 1..K teams of a concept on the same persons; unmet need, area bed-days, cost per payer.

    Today's care runs once per replication, each option under person-driven care, all on the
    same persons (common random numbers). Not resumable: an interrupted run writes nothing.
    """
    from sim.experiments.sizing import SizingError, check_concept, parse_teams, sizing_table, sizing_tasks

    if out is not None and out.exists() and not force:
        _fail(f"{out}: exists; use --force to replace it")
    try:
        options = parse_teams(teams)
        # The resource guard counts today's care once and each option once per replication.
        sc = load(scenario, seed, replications, paradigms=1 + len(options), workers=workers)
        check_concept(sc, concept)
        ex = make_executor(executor, workers, scheduler)
    except (ScenarioError, SizingError, ValueError) as exc:
        _fail(str(exc))
    signal.signal(signal.SIGTERM, _terminate)
    with ex, _progress() as bar:
        task = bar.add_task(f"{sc.meta.name}: options × replications", total=sizing_tasks(sc, options))
        try:
            table = sizing_table(sc, concept, options, ex, progress=lambda: bar.advance(task))
        except KeyboardInterrupt:
            err.print("interrupted: nothing written", soft_wrap=True)
            raise typer.Exit(130) from None
    show_sizing(table, concept, f"{sc.meta.name}: {concept} with {teams} teams "
                                f"({sc.simulation.replications} replications, same persons)")
    if out:
        _write_table(table, out)


def show_sizing(table: pd.DataFrame, concept: str, title: str) -> None:
    """Per option: unmet need and waits, then area bed-days and cost per payer against today and per extra team."""
    console.print(title, style="bold", highlight=False)

    def cell(k: int, metric: str, comparison: str, ci: bool = True) -> str:
        r = table[(table["teams"] == k) & (table["metric"] == metric) & (table["comparison"] == comparison)]
        if r.empty:
            return ""
        r = r.iloc[0]
        sign = "+" if comparison != "option" and r["mean"] > 0 else ""
        text = sign + _num(r["mean"])
        if not ci or r["ci_low"] != r["ci_low"]:
            return text
        return f"{text} [{_num(r['ci_low'])}, {_num(r['ci_high'])}]"

    options = list(dict.fromkeys(table["teams"]))
    need = Table(title="Reach and unmet need (person-driven care)", box=box.SIMPLE_HEAD, show_edge=False,
                 collapse_padding=True, title_justify="left")
    for col in ("teams", "capacity", "caseload", "not served / year", "waiting person-days / year", "mean wait, d",
                "p90 wait, d"):
        need.add_column(col, justify="right", no_wrap=True)
    for k in options:
        need.add_row(str(k), cell(k, f"{concept}_capacity", "option", False),
                     cell(k, f"{concept}_caseload", "option", False) or cell(k, f"{concept}_list", "option", False),
                     cell(k, f"{concept}_unserved", "option"), cell(k, f"{concept}_wait_days", "option"),
                     cell(k, f"{concept}_wait_mean", "option", False),
                     cell(k, f"{concept}_wait_p90", "option", False))
    console.print(need)
    for comparison in ("vs today", "vs one team fewer"):
        t = Table(title=f"Area per year, {comparison} (bed-days; MSEK by payer)", box=box.SIMPLE_HEAD,
                  show_edge=False, collapse_padding=True, title_justify="left")
        for col in ("teams", "bed-days", "region", "municipality", "total"):
            t.add_column(col, justify="right", no_wrap=True)
        for k in options:
            if comparison == "vs one team fewer" and k == options[0]:
                continue
            metrics = ("area_bed_days", "area_cost_region_msek", "area_cost_municipality_msek", "area_cost_total_msek")
            t.add_row(str(k), *(cell(k, m, comparison) for m in metrics))
        console.print(t)


def _progress() -> Progress:
    """Return a progress bar on stderr (drawn on a terminal only, so logs stay clean)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal)


def show_switch_off(table: pd.DataFrame, title: str) -> None:
    """One block per metric: the effect left with each variant, and its share of the 'all on' effect."""
    console.print(title, style="bold", highlight=False)
    for metric, rows in table.groupby("metric", sort=False):
        t = Table(title=f"{metric} ({rows['unit'].iloc[0]})", box=box.SIMPLE_HEAD, show_edge=False,
                  collapse_padding=True, title_justify="left")
        t.add_column("variant", no_wrap=True, min_width=28)
        t.add_column("difference (95 % CI)", justify="right", no_wrap=True)
        t.add_column("of 'all on'", justify="right", no_wrap=True)
        base = rows.loc[rows["variant"] == "all on", "mean"]
        base = float(base.iloc[0]) if len(base) else float("nan")
        for r in rows.itertuples():
            share = f"{100 * r.mean / base:.0f} %" if base and base == base else ""
            t.add_row(r.variant, f"{_num(r.mean)} [{_num(r.ci_low)}, {_num(r.ci_high)}]", share)
        console.print(t, width=min(console.width, 80))


def main() -> None:  # pragma: no cover - console entry point
    """Entry point."""
    sys.exit(app())


from sim.measure.validate_command import validate_command  # noqa: E402  (baseline against published figures)

app.command("validate")(validate_command)

from sim.reprice import reprice_command  # noqa: E402  (prices after the run)

app.command("reprice")(reprice_command)

from sim.experiments.sensitivity.command import sensitivity_command  # noqa: E402  (SALib: tornado, Morris, Sobol')

app.command("sensitivity")(sensitivity_command)


if __name__ == "__main__":  # `python -m sim.cli` as well as `python -m sim`
    app()
