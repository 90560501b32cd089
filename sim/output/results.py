"""Results folders: written whole or not at all.

A run writes into a hidden temporary folder beside the target and moves it into place only
when every file is complete. An interrupted run leaves the earlier complete folder as it was;
an existing folder is replaced only when the user asks (``force``). The temporary folder's name
carries the host and process id, so a later run to the same target removes the ones a killed
run (SIGKILL, power cut) left behind, and never one a live run is writing.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import tempfile
import threading
from pathlib import Path

SUMMARY, EVENTS, MANIFEST = "summary.csv", "events.parquet", "manifest.json"
REPLICATIONS = "replications.csv"


def _umask() -> int:
    """The process umask (read once, at import: setting it to query it is not thread-safe)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


class ResultsError(RuntimeError):
    """A results folder is missing, incomplete, corrupt or not ours."""


class ResultsExistError(ResultsError):
    """The target results folder exists and ``force`` was not given."""


class AtomicFolder:
    """Context manager yielding a temporary folder that becomes ``target`` on success."""

    def __init__(self, target: Path | str, force: bool = False):
        self.target = Path(target)
        self.force = force
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        remove_stale(self.target)
        if self.target.exists() and not self.force:
            raise ResultsExistError(
                f"{self.target}: results folder exists; use --force to replace it or --out elsewhere"
            )
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{_prefix(self.target)}{os.getpid()}-", dir=self.target.parent))
        return self.tmp

    def _publish_mode(self) -> None:
        # mkdtemp makes the folder private (0700); a finished results folder gets the mode
        # any folder made here would get (0777 less the umask), so colleagues can read it.
        os.chmod(self.tmp, 0o777 & ~_UMASK)

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.tmp is not None
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        self._publish_mode()
        old = None
        # Between the two renames the target does not exist: a SIGINT or SIGTERM arriving
        # there is held until both are done, so the new folder is always put in place.
        with _signals_held():
            if self.target.exists():
                old = self.target.with_name(f"{_prefix(self.target, 'old')}{os.getpid()}")
                os.replace(self.target, old)
            os.replace(self.tmp, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _host() -> str:
    return socket.gethostname().replace("-", "_").replace("/", "_") or "host"


def _prefix(target: Path, what: str = "partial") -> str:
    """Name prefix of a temporary (``partial``) or replaced (``old``) folder of ``target``."""
    return f".{target.name}.{what}-{_host()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale(target: Path | str) -> list[Path]:
    """Remove temporary folders for ``target`` left by dead processes on this host; the removed."""
    target = Path(target)
    prefixes = (_prefix(target), _prefix(target, "old"))
    removed = []
    if not target.parent.is_dir():
        return removed
    for entry in target.parent.iterdir():
        prefix = next((x for x in prefixes if entry.name.startswith(x)), None)
        if prefix is None or not entry.is_dir():
            continue
        pid = entry.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


@contextlib.contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM (delivered on exit) when in the main thread; else do nothing."""
    held = {signal.SIGINT, signal.SIGTERM}
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _check_manifest(manifest, path: Path) -> None:
    """The fields every reader relies on, with the types they rely on."""
    def bad(field: str, expected: str) -> ResultsError:
        return ResultsError(f"{path}: field '{field}' {expected}")

    def number(x) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)

    for key in ("scenario", "seed", "replications", "paradigms"):
        if key not in manifest:
            raise ResultsError(f"{path}: field '{key}' missing")
    if not isinstance(manifest["seed"], int) or isinstance(manifest["seed"], bool) or manifest["seed"] < 0:
        raise bad("seed", "must be a non-negative integer")
    reps = manifest["replications"]
    if not isinstance(reps, int) or isinstance(reps, bool) or reps < 1:
        raise bad("replications", "must be a positive integer")
    paradigms = manifest["paradigms"]
    if not isinstance(paradigms, list) or not paradigms or not all(isinstance(x, str) for x in paradigms):
        raise bad("paradigms", "must be a non-empty list of names")
    scenario = manifest["scenario"]
    if not isinstance(scenario, dict) or not isinstance(scenario.get("simulation"), dict):
        raise bad("scenario", "must hold the resolved scenario (with a 'simulation' table)")
    sim = scenario["simulation"]
    for key in ("warmup_years", "years"):
        if not number(sim.get(key)) or sim[key] < 0:
            raise bad(f"scenario.simulation.{key}", "must be a non-negative number")


def read_manifest(folder: Path | str) -> dict:
    """The manifest of a results folder, or a :class:`ResultsError` naming what is wrong.

    The fields readers use (``scenario.simulation``, ``seed``, ``replications``,
    ``paradigms``) are there with the right types; the scenario itself is validated only by
    :func:`manifest_scenario` (an older results folder may predate a schema change).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsError(f"{folder}: not a results folder (no such directory)")
    path = folder / MANIFEST
    if not path.is_file():
        raise ResultsError(f"{path}: missing; is {folder} a complete narvard results folder?")
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc})") from None
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not isinstance(manifest, dict) or manifest.get("tool") != "narvard-sim":
        raise ResultsError(f"{path}: not a narvard-sim manifest (field 'tool')")
    _check_manifest(manifest, path)
    return manifest


def manifest_scenario(manifest: dict, folder: Path | str):
    """The manifest's resolved parameters, validated again (a :class:`ScenarioError` if not)."""
    from sim.config.loader import validate

    return validate(manifest["scenario"], Path(folder) / f"{MANIFEST} (scenario)")


def _type_ok(actual, expected) -> bool:
    """Same kind of column: strings may be dictionary-encoded or not; numbers by family."""
    import pyarrow as pa

    def base(t):
        return t.value_type if pa.types.is_dictionary(t) else t

    a, e = base(actual), base(expected)
    for family in (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer,
                   pa.types.is_floating, pa.types.is_boolean):
        if family(e):
            return family(a) or (pa.types.is_string(e) and pa.types.is_large_string(a))
    return a == e


def read_events(folder: Path | str, columns: list[str] | None = None):
    """The event log of a results folder as a DataFrame, or a :class:`ResultsError`.

    Refuses a file that is not Parquet, is truncated, or lacks the event log's columns and
    their types; a row group that cannot be decoded is reported the same way.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.output.recorder import SCHEMA

    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsError(f"{folder}: not a results folder (no such directory)")
    path = folder / EVENTS
    if not path.is_file():
        raise ResultsError(f"{path}: missing; is {folder} a complete narvard results folder?")
    if columns is not None:
        unknown = [c for c in columns if c not in SCHEMA.names]
        if unknown:
            raise ResultsError(f"{path}: no such event-log columns: {', '.join(map(str, unknown))}")
    try:
        f = pq.ParquetFile(str(path))
        schema = f.schema_arrow
        missing = [n for n in SCHEMA.names if n not in schema.names]
        if missing:
            raise ResultsError(f"{path}: not a narvard event log (columns missing: {', '.join(missing)})")
        wrong = [f"{n} is {schema.field(n).type}, expected {SCHEMA.field(n).type}"
                 for n in SCHEMA.names if not _type_ok(schema.field(n).type, SCHEMA.field(n).type)]
        if wrong:
            raise ResultsError(f"{path}: not a narvard event log (column types: {'; '.join(wrong)})")
        return f.read(columns=columns).to_pandas()
    except ResultsError:
        raise
    except (pa.ArrowException, OSError, ValueError, KeyError, IndexError, EOFError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ResultsError(f"{path}: cannot read Parquet ({first})") from None


SUMMARY_COLUMNS = ("paradigm", "metric", "mean", "ci_low", "ci_high", "unit")


def _read_csv(path: Path, folder: Path, required: tuple[str, ...]):
    import pandas as pd

    if not Path(folder).is_dir():
        raise ResultsError(f"{folder}: not a results folder (no such directory)")
    if not path.is_file():
        raise ResultsError(f"{path}: missing; is {folder} a complete narvard results folder?")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ResultsError(f"{path}: not a readable CSV table ({first})") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ResultsError(f"{path}: columns missing: {', '.join(missing)}")
    return df


def read_summary(folder: Path | str):
    """``summary.csv`` as a DataFrame (paradigm, metric, mean, ci_low, ci_high, unit)."""
    import pandas as pd

    folder = Path(folder)
    path = folder / SUMMARY
    df = _read_csv(path, folder, SUMMARY_COLUMNS)
    for col in ("mean", "ci_low", "ci_high"):
        if not pd.api.types.is_numeric_dtype(df[col]):
            raise ResultsError(f"{path}: column '{col}' is not numeric")
    return df


def read_replications(folder: Path | str):
    """``replications.csv`` (metrics per replication and paradigm) as a DataFrame."""
    folder = Path(folder)
    return _read_csv(folder / REPLICATIONS, folder, ("replication", "paradigm"))
