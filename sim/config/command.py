"""``narvard scenario new|show``: a planner's own what-if file, and where each value comes from."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from sim.config.checks import plain_name_problem
from sim.config.loader import Origin, Resolved, ScenarioError, overlay_warnings, resolve_sources, validate
from sim.config.paths import BUNDLED_PREFIX, bundled_scenarios, display, project_root
from sim.config.scenario import STRATA

scenario_app = typer.Typer(no_args_is_help=True, add_completion=False,
                           help="Write a what-if scenario; show a scenario's resolved values and their sources.")
console = Console(width=None if sys.stdout.isatty() else 140, highlight=False)
err = Console(stderr=True, highlight=False)

#: Fields a planner usually changes, offered as commented hints in a new what-if file.
HINTS: tuple[tuple[str, str], ...] = (
    ("simulation.replications", "more replications: narrower intervals, longer run"),
    ("simulation.years", "measured years after the warm-up"),
    ("population.persons_65plus", "persons aged 65+ in the area"),
    ("capacity.beds", "hospital beds used by the area's 65+"),
    ("capacity.short_term_places", "short-term care places (korttidsboende)"),
    ("capacity.home_health_nurses_fte", "municipal home health nurses, full-time equivalents"),
    ("concepts.mobile_team.enabled", "the mobile närsjukvårdsteam (paradigm person)"),
    ("concepts.mobile_team.teams", "närsjukvårdsteam teams (capacity and staff cost follow)"),
    ("concepts.palliative_team.enabled", "the mobile palliative team"),
    ("concepts.home_physician.enabled", "the home-care physician"),
    ("concepts.home_physician.area_share", "share of the area's 65+ where the physician works"),
    ("concepts.safe_discharge.enabled", "Trygg hemgång"),
    ("costs.mobile_team_year", "SEK per year for the team"),
)


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(2)


def _toml_value(v: Any) -> str:
    """Write a value as TOML does (one line)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list) and any(isinstance(x, dict) for x in v):  # an array of tables (a staff table)
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, str | list):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }" if v else "{}"
    return repr(v)


def _get(data: dict[str, Any], dotted: str) -> Any:
    for k in dotted.split("."):
        data = data[k]
    return data


def _source(history: tuple[Origin, ...] | None, top: Path) -> str:
    """Where the value came from, and what it replaced when the user's value won over an overlay."""
    if not history:
        return "model default"
    last = history[-1]
    where = {"file": "this file", "base": f"base {display(last.file)}",
             "overlay": f"overlay {display(last.file)}"}[last.via]
    if last.via != "overlay":
        replaced = [o for o in history[:-1] if o.via == "overlay" and o.value != last.value]
        if replaced:
            where += f" (instead of {_toml_value(replaced[-1].value)} from overlay {display(replaced[-1].file)})"
    else:
        replaced = [o for o in history[:-1] if o.via != "overlay" and o.value != last.value]
        if replaced:  # see overlay_warnings
            where += f" (WARNING: replaced {_toml_value(replaced[-1].value)} set in {display(replaced[-1].file)})"
    return where


def _rows(values: dict[str, Any], origins: dict, top: Path, prefix: tuple[str, ...] = ()):
    """Yield ``(table, key, value, source)`` for every resolved value.

    A table's own values come before its sub-tables; a per-stratum table whose values come
    from one place is one inline row.
    """
    later = []
    for k, v in values.items():
        path = (*prefix, k)
        if v is None:  # an optional field left unset (TOML has no null): nothing to show
            continue
        if isinstance(v, dict) and v:
            sources = {_source(origins.get((*path, kk)), top) for kk in v}
            per_stratum = set(v) <= set(STRATA) and not any(isinstance(x, dict) and x for x in v.values())
            if prefix and per_stratum and len(sources) == 1:
                yield ".".join(prefix), k, _toml_value(v), sources.pop()
            else:
                later.append((v, path))
        else:
            yield ".".join(prefix), k, _toml_value(v), _source(origins.get(path), top)
    for v, path in later:
        yield from _rows(v, origins, top, path)


def show_command(
    scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
) -> None:
    """Print every resolved parameter and where it came from: this file, a base, the calibrated overlay.

    A value written in the scenario file wins over its bases and overlays; a warning names any
    value an overlay replaced although a scenario file set it.
    """
    try:
        resolved: Resolved = resolve_sources(scenario)
    except ScenarioError as exc:
        _fail(str(exc))
    problems: list[str] = []
    try:
        values = validate(resolved.data, scenario).model_dump(mode="json")
    except ScenarioError as exc:
        problems = str(exc).splitlines()
        values = resolved.data
    console.print(f"# {escape(display(scenario))}: resolved values; after each, where it came from", soft_wrap=True)
    section = None
    for table, key, value, source in _rows(values, resolved.origins, scenario):
        if table != section:
            section = table
            console.print("\n" + escape(f"[{table}]"), soft_wrap=True)
        console.print(escape(f"{key} = {value}".ljust(40) + f"  # {source}"), soft_wrap=True)
    for w in overlay_warnings(resolved):
        err.print(f"[yellow]warning:[/yellow] {escape(w)}", soft_wrap=True)
    if problems:
        for line in problems:
            err.print(f"[red]error:[/red] {escape(line)}", soft_wrap=True)
        raise typer.Exit(2)


def _base_reference(source: Path, target_dir: Path) -> str:
    """How the new file names its base: ``narvard:`` for a bundled file, else a path relative to it."""
    try:
        return BUNDLED_PREFIX + source.resolve().relative_to(project_root()).as_posix()
    except ValueError:
        pass
    try:
        return Path(os.path.relpath(source.resolve(), target_dir.resolve())).as_posix()
    except ValueError:  # another drive
        return source.resolve().as_posix()


def what_if_text(name: str, base_ref: str, base_name: str, base_values: dict[str, Any]) -> str:
    """Compose a new what-if scenario: its base, its name, commented hints with the base's values."""
    hints = []
    for dotted, what in HINTS:
        try:
            value = _toml_value(_get(base_values, dotted))
        except (KeyError, TypeError):
            continue
        hints.append(f"# {dotted} = {value}".ljust(48) + f"  # {what}")
    return "\n".join([
        f"# What-if scenario {name!r}: {base_name} with the changes below.",
        "# It holds only what differs from its base. A value written here wins over the base and over the",
        "# calibrated effect sizes (calibration/fitted.toml). `narvard scenario show` prints every resolved",
        "# value and where it came from; `narvard compare` on this file writes results/<file name>/ beside it.",
        f"base = [{json.dumps(base_ref, ensure_ascii=False)}]",
        "",
        f"# Fields a planner usually changes: remove the '# ' before one and edit it (shown: the {base_name} value).",
        *hints,
        "",
        "[meta]",
        f"name = {json.dumps(name, ensure_ascii=False)}",
        f"description = {json.dumps(f'What-if on {base_name}: (describe the change)', ensure_ascii=False)}",
        "",
    ])


def new_command(
    name: Annotated[str, typer.Argument(help="name of the what-if; writes NAME.toml")],
    from_: Annotated[str, typer.Option("--from", help="bundled scenario or file")] = "default",
    folder: Annotated[Path, typer.Option("--dir", help="folder to write NAME.toml in")] = Path("."),
) -> None:
    """Write a short what-if file that names its base and holds only what differs."""
    name = name.removesuffix(".toml")
    bad = plain_name_problem(name)
    if bad:
        _fail(f"NAME: {bad}")
    bundled = bundled_scenarios()
    source = bundled.get(from_) or Path(from_)
    if from_ not in bundled and not source.is_file():
        _fail(f"--from: expected one of {', '.join(bundled)} or a scenario file (got {from_!r})")
    try:
        base = resolve_sources(source)
        base_values = validate(base.data, source).model_dump(mode="json")
    except ScenarioError as exc:
        _fail(str(exc))
    if not folder.is_dir():
        _fail(f"--dir: {folder} is not a folder")
    target = folder / f"{name}.toml"
    text = what_if_text(name, _base_reference(source, folder), source.stem, base_values)
    tmp = folder / f".{name}.toml.{os.getpid()}.tmp"
    try:
        tmp.write_text(text, encoding="utf-8")
        try:
            validate(resolve_sources(tmp).data, target)
        except ScenarioError as exc:  # cannot happen with a valid base; say so rather than write a broken file
            _fail(str(exc))
        try:
            os.link(tmp, target)  # never replaces: a planner's file of that name stays
        except FileExistsError:
            _fail(f"{target}: exists; choose another name or remove the file")
        except OSError as exc:
            _fail(f"{target}: cannot write: {exc.strerror or exc}")
    except OSError as exc:
        _fail(f"{tmp}: cannot write: {exc.strerror or exc}")
    finally:
        tmp.unlink(missing_ok=True)
    console.print(f"written {target} (base {source.stem}); edit it, then:", soft_wrap=True)
    console.print(f"  narvard scenario show {target}\n  narvard compare {target}", soft_wrap=True)


scenario_app.command("new")(new_command)
scenario_app.command("show")(show_command)
