"""Load a scenario file: TOML, its bases and overlays, validation with errors that name the field.

Precedence, lowest first: the ``base`` files (in order), the ``overlay`` files (the calibrated
effect sizes, ``calibration/fitted.toml``), then the file's own values. What a planner writes in
their own file therefore wins over what it builds on. Every value keeps its origin (which file,
reached as a base or an overlay) for ``narvard scenario show``.

Loading is bounded and reads each file once: a file named many times in the graph is resolved
once (a memo by inode), cycles anywhere in the graph are refused, as are chains deeper than
:data:`MAX_CHAIN` files, tables nested deeper than :data:`MAX_NESTING`, files larger than
:data:`MAX_BYTES`, anything that is not a regular file (a FIFO would block) and text that is
not UTF-8. Each refusal is one line naming the file and what is wrong.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.config.paths import display, reference
from sim.config.scenario import Scenario

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")

#: Files in one chain of bases/overlays (the bundled scenarios need 3).
MAX_CHAIN = 64
#: Levels of tables and arrays in one file (a scenario needs 4).
MAX_NESTING = 16
#: Largest file read (the default scenario is about 12 KB).
MAX_BYTES = 4 * 2**20


def _printable(text: str) -> str:
    """Make ``text`` safe to print and to write as UTF-8 (undecodable bytes of file names escaped)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")


class ScenarioError(ValueError):
    """A scenario or target file is invalid. One line per problem: file, field path, what."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = _printable(str(path))
        self.problems = [_printable(p) for p in problems]
        super().__init__("\n".join(f"{self.path}: {p}" for p in self.problems))


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _nesting(data: Any) -> int:
    """Deepest level of tables and arrays in parsed TOML (iterative: any depth is safe)."""
    deepest, todo = 0, [(data, 0)]
    while todo:
        node, depth = todo.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_NESTING:
            break
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        todo.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return deepest


def _open_regular(path: Path) -> tuple[int, os.stat_result]:
    """Open a regular file for reading without blocking on a FIFO; ScenarioError for anything else."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise ScenarioError(path, ["the file name is not valid UTF-8; rename the file"]) from None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ScenarioError(path, ["file not found"]) from None
    except (OSError, ValueError) as exc:  # ELOOP (a symlink loop), ENAMETOOLONG, EACCES, embedded NUL
        raise ScenarioError(path, [f"cannot read: {getattr(exc, 'strerror', None) or exc}"]) from None
    if not stat.S_ISREG(st.st_mode):
        what = ("a folder" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode)
                else "a device or socket")
        raise ScenarioError(path, [f"not a regular file ({what})"])
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise ScenarioError(path, [f"cannot read: {exc.strerror or exc}"]) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):  # replaced between stat and open
        os.close(fd)
        raise ScenarioError(path, ["not a regular file"])
    return fd, st


def _read_bytes(path: Path) -> tuple[bytes, tuple[int, int]]:
    fd, st = _open_regular(path)
    try:
        if st.st_size > MAX_BYTES:
            raise ScenarioError(path, [f"larger than {MAX_BYTES // 2**20} MiB ({st.st_size:,} bytes);"
                                       " a scenario is a few KB"])
        with os.fdopen(fd, "rb", closefd=False) as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(path, [f"cannot read: {exc.strerror or exc}"]) from None
    finally:
        os.close(fd)
    if len(raw) > MAX_BYTES:
        raise ScenarioError(path, [f"larger than {MAX_BYTES // 2**20} MiB; a scenario is a few KB"])
    return raw, (st.st_dev, st.st_ino)


def _parse(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, [f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start});"
                                   " save the file as UTF-8"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, [f"not valid TOML: {exc}"]) from None
    except RecursionError:
        raise ScenarioError(path, [f"nested more than {MAX_NESTING} levels deep (a scenario needs 4)"]) from None
    if _nesting(data) > MAX_NESTING:
        raise ScenarioError(path, [f"nested more than {MAX_NESTING} levels deep (a scenario needs 4)"])
    return data


def read_toml(path: Path) -> dict[str, Any]:
    """Parse one TOML file (a regular UTF-8 file of bounded size and depth); errors as :class:`ScenarioError`."""
    path = Path(path)
    raw, _ = _read_bytes(path)
    return _parse(path, raw)


@dataclass(frozen=True)
class Origin:
    """Where a resolved value was written: the file, and how the top file reached it."""

    file: Path
    via: str  # "file" (the scenario itself), "base" or "overlay" (anything reached through an overlay)
    value: Any


Path_ = tuple[str, ...]
History = tuple[Origin, ...]


def _leaves(data: dict[str, Any], prefix: Path_ = ()) -> dict[Path_, Any]:
    """Dotted leaf paths of a mapping; an empty table is a leaf."""
    out: dict[Path_, Any] = {}
    for k, v in data.items():
        if isinstance(v, dict) and v:
            out.update(_leaves(v, (*prefix, k)))
        else:
            out[(*prefix, k)] = v
    return out


def _dedupe(history: History) -> History:
    """Keep the last appearance of each (file, via): a file reached twice sets the same value twice."""
    seen: dict[tuple[Path, str], Origin] = {}
    for o in history:
        seen.pop((o.file, o.via), None)
        seen[(o.file, o.via)] = o
    return tuple(seen.values())


@dataclass(frozen=True)
class Resolved:
    """A merged scenario mapping and, per leaf path, every value set there (the last one wins)."""

    data: dict[str, Any]
    origins: dict[Path_, History]


def _references(path: Path, data: dict[str, Any], field: str) -> list[str]:
    refs = data.pop(field, [])
    if isinstance(refs, str):
        refs = [refs]
    if not isinstance(refs, list) or not all(isinstance(r, str) and r for r in refs):
        raise ScenarioError(path, [f"{field}: expected a file name or a list of file names (got {refs!r})"])
    return refs


class _Loader:
    """Resolves one scenario graph; each file read and resolved once."""

    def __init__(self) -> None:
        self.done: dict[tuple[int, int], Resolved] = {}
        self.stack: list[tuple[tuple[int, int], Path]] = []

    def resolve(self, path: Path, named_by: Path | None = None, field: str = "base") -> Resolved:
        if named_by is not None:
            if len(self.stack) >= MAX_CHAIN:
                chain = f"{self.stack[0][1].name} -> ... -> {self.stack[-1][1].name} -> {path.name}"
                raise ScenarioError(named_by, [f"{field}: more than {MAX_CHAIN} files in one chain ({chain})"])
            try:
                st = os.stat(path)
            except FileNotFoundError:
                raise ScenarioError(named_by, [f"{field}: file {path.name!r} not found (looked for {path})"]) from None
            except (OSError, ValueError):
                st = None  # _read_bytes names the problem
            if st is not None:
                key = (st.st_dev, st.st_ino)
                if key in self.done:
                    return self.done[key]
                for i, (k, _) in enumerate(self.stack):
                    if k == key:
                        names = " -> ".join(p.name for _, p in self.stack[i:])
                        raise ScenarioError(named_by, [f"{field}: circular base chain ({names} -> {path.name})"])
        raw, key = _read_bytes(path)
        if key in self.done:
            return self.done[key]
        data = _parse(path, raw)
        here = Path(os.path.realpath(path))  # references are relative to the file itself
        bases = _references(path, data, "base")
        overlays = _references(path, data, "overlay")
        self.stack.append((key, path))
        try:
            layers: list[tuple[dict[str, Any], dict[Path_, History]]] = []
            for field_, refs in (("base", bases), ("overlay", overlays)):
                for ref in refs:
                    child = self.resolve(reference(ref, here), path, field_)
                    layers.append((child.data, {p: tuple(_lift(o, field_) for o in h)
                                                for p, h in child.origins.items()}))
        finally:
            self.stack.pop()
        layers.append((data, {p: (Origin(here, "file", v),) for p, v in _leaves(data).items()}))
        merged: dict[str, Any] = {}
        origins: dict[Path_, History] = {}
        for layer, layer_origins in layers:
            merged = _deep_merge(merged, layer)
            origins = {p: _dedupe(origins.get(p, ()) + layer_origins.get(p, ())) for p in _leaves(merged)}
        self.done[key] = Resolved(merged, origins)
        return self.done[key]


def _lift(o: Origin, field: str) -> Origin:
    """See an origin from the file that named its file as a base or an overlay."""
    if field == "overlay":
        return Origin(o.file, "overlay", o.value)
    return Origin(o.file, "base", o.value) if o.via == "file" else o


def resolve_sources(path: Path | str) -> Resolved:
    """Read a scenario with its bases and overlays; every value with its origins."""
    return _Loader().resolve(Path(path))


def resolve(path: Path | str) -> dict[str, Any]:
    """Read a scenario: bases, then overlays, then its own values (later ones win).

    Paths are relative to the file, or ``narvard:<path>`` for a bundled file.
    """
    return resolve_sources(path).data


def overlay_warnings(resolved: Resolved) -> list[str]:
    """Values an overlay replaced although a scenario file (not an overlay) set another one."""
    out = []
    for p, h in resolved.origins.items():
        last = h[-1]
        if last.via != "overlay":
            continue
        for o in h[:-1]:
            if o.via != "overlay" and o.value != last.value:
                out.append(f"{'.'.join(p)}: the overlay {display(last.file)} replaced {o.value!r}"
                           f" (set in {display(o.file)}) by {last.value!r}")
    return out


def _key(part: str | int) -> str:
    """Write a field name as in a dotted path; quoted when it is not a plain name."""
    text = str(part)
    return text if _PLAIN_KEY.fullmatch(text) else repr(text)


def _field_names(model: type[BaseModel], loc: tuple) -> list[str]:
    """List the valid field names of the object at ``loc`` (a pydantic error location), if a model."""
    import typing

    node: Any = model
    for part in loc:
        if not (isinstance(node, type) and issubclass(node, BaseModel)):
            return []
        field = node.model_fields.get(str(part))
        if field is None:
            return []
        node = field.annotation
        # Optional[X] / X | None: the model inside
        args = [a for a in typing.get_args(node) if isinstance(a, type) and issubclass(a, BaseModel)]
        if args:
            node = args[0]
    if isinstance(node, type) and issubclass(node, BaseModel):
        return list(node.model_fields)
    return []


def suggestion(name: str, valid: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the nearest valid name, or ``""``."""
    near = difflib.get_close_matches(str(name), valid, n=1, cutoff=0.6)
    if not near:
        near = [v for v in valid if str(name).strip().lower().replace("-", "_") == v.lower()]
    return f" (did you mean {near[0]!r}?)" if near else ""


def format_validation_error(exc: ValidationError, model: type[BaseModel] | None = None) -> list[str]:
    """One line per problem: the dotted field path and what was expected.

    With ``model``, an unknown field names the nearest valid one (``capacity.bedz: unknown field
    (did you mean 'beds'?)``).
    """
    lines = []
    for err in exc.errors():
        # "[key]": pydantic's marker for a bad mapping key; the key itself is the part before.
        loc = ".".join(_key(x) for x in err["loc"] if x != "[key]") or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
            if model is not None and err["loc"]:
                msg += suggestion(str(err["loc"][-1]), _field_names(model, tuple(err["loc"][:-1])))
        elif err["type"] == "missing":
            msg = "missing field"
        got = err.get("input")
        if err["type"] not in ("missing", "extra_forbidden") and not isinstance(got, dict | list):
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
        raise ScenarioError(path, format_validation_error(exc, Scenario)) from None
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
    """SHA-256 of the fully resolved parameters (canonical JSON: keys sorted at every level).

    Sorted keys make the hash a property of the values alone: two files that give the same
    parameters in another key order (inside a mapping such as the transition rates) hash alike.
    """
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def legacy_scenario_hash(scenario: Scenario) -> str:
    """Hash as results folders written before sorted keys have it (key order as in the file)."""
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()
