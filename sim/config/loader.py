"""Load a scenario file: TOML, optional bases, validation with errors that name the field."""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.config.scenario import Scenario

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


class ScenarioError(ValueError):
    """A scenario or target file is invalid. One line per problem: file, field path, what."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__("\n".join(f"{self.path}: {p}" for p in problems))


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def read_toml(path: Path) -> dict[str, Any]:
    """Parse one TOML file, turning parse errors into :class:`ScenarioError`."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ScenarioError(path, ["file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, [f"not valid TOML: {exc}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, [f"cannot read: {exc}"]) from None


def resolve(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario: its ``base`` files, then its own values, then its ``overlay`` files.

    Paths are relative to the file; later files override earlier ones.
    """
    path = path.resolve()
    if path in _seen:
        chain = " -> ".join(p.name for p in (*_seen[_seen.index(path):], path))
        raise ScenarioError(_seen[-1], [f"base: circular base chain ({chain})"])
    data = read_toml(path)
    bases = data.pop("base", [])
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise ScenarioError(path, [f"base: expected a file name or a list of file names (got {bases!r})"])
    overlays = data.pop("overlay", [])
    if isinstance(overlays, str):
        overlays = [overlays]
    if not isinstance(overlays, list) or not all(isinstance(b, str) for b in overlays):
        raise ScenarioError(path, [f"overlay: expected a file name or a list of file names (got {overlays!r})"])
    merged: dict[str, Any] = {}
    for b in bases:
        if not (path.parent / b).is_file():
            raise ScenarioError(path, [f"base: file {b!r} not found (looked for {path.parent / b})"])
        merged = _deep_merge(merged, resolve(path.parent / b, (*_seen, path)))
    merged = _deep_merge(merged, data)
    # Overlays come after the file's own values: calibration/fitted.toml replaces the
    # effect sizes a scenario states as assumptions.
    for b in overlays:
        if not (path.parent / b).is_file():
            raise ScenarioError(path, [f"overlay: file {b!r} not found (looked for {path.parent / b})"])
        merged = _deep_merge(merged, resolve(path.parent / b, (*_seen, path)))
    return merged


def _key(part: str | int) -> str:
    """A field name as written in a dotted path; quoted when it is not a plain name."""
    text = str(part)
    return text if _PLAIN_KEY.fullmatch(text) else repr(text)


def format_validation_error(exc: ValidationError) -> list[str]:
    """One line per problem: the dotted field path and what was expected."""
    lines = []
    for err in exc.errors():
        # "[key]": pydantic's marker for a bad mapping key; the key itself is the part before.
        loc = ".".join(_key(x) for x in err["loc"] if x != "[key]") or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "missing field"
        got = err.get("input")
        if err["type"] not in ("missing",) and not isinstance(got, dict | list):
            msg = f"{msg} (got {got!r})"
        lines.append(f"{loc}: {msg}")
    return lines


def validate(data: dict[str, Any], path: Path | str = "<scenario>", strict: bool = True) -> Scenario:
    """Validate a merged scenario mapping.

    ``strict``: types as written, no coercion (``beds = "120"``, ``beds = true`` and
    ``beds = 120.5`` are errors; an integer where a float is expected is fine). Code that
    builds scenarios from numpy numbers may pass ``strict=False``.
    """
    try:
        scenario = Scenario.model_validate(data, strict=strict)
    except ValidationError as exc:
        raise ScenarioError(path, format_validation_error(exc)) from None
    from sim.config.checks import semantic_problems

    problems = semantic_problems(scenario)
    if problems:
        raise ScenarioError(path, problems)
    return scenario


def load_scenario(path: Path | str) -> Scenario:
    """Load, merge and validate a scenario file."""
    path = Path(path)
    return validate(resolve(path), path)


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the fully resolved parameters (canonical JSON)."""
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()
