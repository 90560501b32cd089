"""Where files are: bundled data found from the package, results beside the scenario file.

Nothing here depends on the current folder: a scenario copied anywhere names its bases and
overlays relative to itself, or as ``narvard:<path>`` for the files that ship with the project
(``narvard:calibration/fitted.toml``, ``narvard:scenarios/default.toml``).
"""

from __future__ import annotations

from pathlib import Path

#: Prefix of a reference to a bundled file, e.g. ``overlay = ["narvard:calibration/fitted.toml"]``.
BUNDLED_PREFIX = "narvard:"


def project_root() -> Path:
    """Return the folder holding ``scenarios/`` and ``calibration/``, found from the installed package.

    The package is installed editable (``make`` does ``pip install -e``), so the bundled data
    sit beside it, two levels above this file.
    """
    return Path(__file__).resolve().parents[2]


def bundled(relative: str | Path) -> Path:
    """Find a file that ships with the project (``calibration/targets.toml``), wherever the command runs."""
    return project_root() / relative


def bundled_scenarios() -> dict[str, Path]:
    """List the bundled scenario files by stem (``default``, ``skaraborg``, ...)."""
    return {p.stem: p for p in sorted(bundled("scenarios").glob("*.toml"))}


def reference(ref: str, relative_to: Path) -> Path:
    """Find the file a ``base``/``overlay`` entry names: ``narvard:<path>`` or relative to the naming file."""
    if ref.startswith(BUNDLED_PREFIX):
        return bundled(ref[len(BUNDLED_PREFIX):])
    return relative_to.parent / Path(ref).expanduser()


def display(path: Path | str) -> str:
    """Name a file short for messages: ``narvard:...`` when bundled, else relative to the current folder."""
    p = Path(path)
    try:
        return BUNDLED_PREFIX + p.resolve().relative_to(project_root()).as_posix()
    except (ValueError, OSError, RuntimeError):
        pass
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):
        return str(p)


def default_results_dir(scenario_path: Path | str) -> Path:
    """Results folder of a scenario without ``--out``: ``<scenario's folder>/results/<file stem>``.

    Derived from the file, not from ``[meta] name`` or the current folder, so a copied scenario
    never writes into the folder of the scenario it was copied from. The bundled scenarios
    (``scenarios/*.toml``) write to the project's ``results/<stem>``, as before.
    """
    p = Path(scenario_path)
    try:
        folder = p.resolve().parent
    except (OSError, RuntimeError):
        folder = p.parent
    if folder == bundled("scenarios"):
        return project_root() / "results" / p.stem
    return p.parent / "results" / p.stem
