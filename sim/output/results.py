"""Results folders: written whole or not at all, replaced only when they are ours.

A run writes into a hidden temporary folder beside the target (``.NAME.partial-HOST-PID``) and
moves it into place only when every file is complete, ``manifest.json`` (with a SHA-256 of
every other file) last. An existing target is replaced only with ``force``, and only when it is
a folder this program wrote (its manifest says so and it holds nothing else but the outputs
of narvard's commands), an empty folder or nothing. The final move re-checks the target: if a
folder appeared there meanwhile (another run), the new results are kept under a visible name
beside it instead.

Replacing is three renames: target to ``.NAME.old-HOST-PID`` (the earlier complete folder),
the new folder to target, the old one to ``.NAME.trash-HOST-PID`` (no longer needed), then the
trash is deleted. SIGINT and SIGTERM are held for the renames (in whichever thread the kernel
delivers them). After SIGKILL or a power cut, the next run to the target (:func:`remove_stale`)
puts a complete ``.old`` back if the target is missing (or else a complete ``.partial``) and
deletes only what is not the only complete copy; it never touches a live process's folders.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import math
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

SUMMARY, EVENTS, MANIFEST = "summary.csv", "events.parquet", "manifest.json"
REPLICATIONS = "replications.csv"
#: Files narvard's commands add to a results folder after the run (``measure``, ``timeline``,
#: ``report``): not in the manifest, but ours, so ``--force`` may replace a folder holding them.
DERIVED = ("measures.csv", "measures_detail.csv", "timeline_person_*.csv", "timeline_person_*.html",
           "report.html", ".report.*.html.partial")


def _umask() -> int:
    """Return the process umask (read once, at import: setting it to query it is not thread-safe)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


class ResultsError(RuntimeError):
    """A results folder is missing, incomplete, corrupt or not ours."""


class ResultsExistError(ResultsError):
    """The target results folder exists and ``force`` was not given (or may not replace it)."""


class ResultsKeptElsewhere(ResultsError):
    """The target appeared while the run was writing: the complete new results are in ``kept``."""

    def __init__(self, message: str, kept: Path):
        super().__init__(message)
        self.kept = kept


class InterruptedAfterCommit(KeyboardInterrupt):
    """SIGINT/SIGTERM arrived while the complete results were being moved into place: they are there."""

    def __init__(self, folder: Path):
        super().__init__(f"interrupted after the results were complete in {folder}")
        self.folder = folder


def shown(path: Path | str) -> str:
    """Show a path in a one-line message: bytes that are not UTF-8 as escapes, never an error."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _matches_derived(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in DERIVED)


def replace_refusal(target: Path | str) -> str | None:
    """Why ``--force`` may not replace ``target`` (a one-line reason), or None if it may.

    It may replace nothing (no such path), an empty folder, or a results folder this program
    wrote: a narvard-sim ``manifest.json`` and, besides it, only the files the manifest lists
    and the outputs narvard's commands add later (:data:`DERIVED`).
    """
    target = Path(target)
    if not os.path.lexists(target):
        return None
    if target.is_symlink():
        return f"{shown(target)}: is a symbolic link; give the folder itself as --out"
    if not target.is_dir():
        return f"{shown(target)}: exists and is not a folder; refusing to replace it (choose another --out)"
    try:
        entries = sorted(os.listdir(target))
    except OSError as exc:
        return f"{shown(target)}: cannot list it ({exc.strerror or exc}); refusing to replace it"
    if not entries:
        return None
    try:
        manifest = read_manifest(target, verify=False)  # changed files are still ours to replace
    except ResultsError:
        return (f"{shown(target)}: not a narvard results folder (no narvard-sim {MANIFEST}); --force replaces"
                " only those, so your files there are kept: choose another --out")
    files = manifest.get("files")
    listed = {str(k).split("/", 1)[0] for k in files} if isinstance(files, dict) else {SUMMARY, EVENTS, REPLICATIONS}
    foreign = [e for e in entries if e != MANIFEST and e not in listed and not _matches_derived(e)]
    if foreign:
        names = ", ".join(map(shown, foreign[:3])) + (", ..." if len(foreign) > 3 else "")
        return (f"{shown(target)}: holds files narvard did not write ({names}); refusing to replace it:"
                " move them away or choose another --out")
    return None


def write_files_atomically(writers: dict[Path, Callable[[Path], object]]) -> None:
    """Write each file through a hidden temporary name beside it, then rename them all into place.

    ``writers`` maps each target to a function that writes a given path. Nothing is renamed
    until every file is written, so an error or an interruption (Ctrl-C, SIGTERM) leaves the
    earlier files whole and no temporary file behind.
    """
    tmps = {path: path.with_name(f".{path.name}.partial-{os.getpid()}") for path in writers}
    try:
        for path, write in writers.items():
            write(tmps[path])
        for path, tmp in tmps.items():
            os.replace(tmp, path)
    finally:
        for tmp in tmps.values():
            with contextlib.suppress(OSError):
                tmp.unlink()


def _inside_cwd(target: Path) -> bool:
    """Tell whether the target is the working folder or one of its parents (it cannot be moved away)."""
    try:
        cwd = Path(os.getcwd())
    except OSError:  # the working folder was deleted
        return False
    return target == cwd or target in cwd.parents


class AtomicFolder:
    """Context manager yielding a temporary folder that becomes ``target`` on success.

    ``recovered``: folders an earlier killed run left that were put back at the target.
    ``committed``: the new folder is at the target.
    """

    def __init__(self, target: Path | str, force: bool = False):
        self.shown = Path(target)
        self.target = Path(os.path.abspath(target))
        self.force = force
        self.tmp: Path | None = None
        self.recovered: list[Path] = []
        self.committed = False

    def _check(self) -> None:
        try:
            str(self.target).encode("utf-8")
        except UnicodeEncodeError:  # bytes of another encoding in a folder name
            raise ResultsError(f"{shown(self.shown)}: the path is not valid UTF-8 (the event log's Parquet writer"
                               " cannot use it); choose another --out") from None
        if not self.target.name or _inside_cwd(self.target):
            raise ResultsExistError(f"{shown(self.shown)}: is the working folder (or contains it); results cannot"
                                    " replace it: give a new folder name as --out")
        if not os.path.lexists(self.target):
            return
        reason = replace_refusal(self.target)
        if reason is not None:
            raise ResultsExistError(reason)
        if not self.force:
            restored = " (put back from an interrupted earlier run)" if self.recovered else ""
            raise ResultsExistError(f"{shown(self.shown)}: results folder exists{restored}; use --force to replace it"
                                    " or --out elsewhere")

    def __enter__(self) -> Path:
        self.recovered = [p for p in remove_stale(self.target) if p == self.target]
        self._check()
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self.tmp = Path(tempfile.mkdtemp(prefix=f"{_prefix(self.target)}{os.getpid()}-", dir=self.target.parent))
        except OSError as exc:  # read-only, no permission, disk full: before any work
            raise ResultsError(f"{shown(self.target.parent)}: cannot create the results folder there"
                               f" ({exc.strerror or exc})") from None
        return self.tmp

    def _publish_mode(self) -> None:
        # mkdtemp makes the folder private (0700); a finished results folder gets the mode
        # any folder made here would get (0777 less the umask), so colleagues can read it.
        os.chmod(self.tmp, 0o777 & ~_UMASK)

    def _discard(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    @contextlib.contextmanager
    def late_signals(self):
        """Around the ``with`` block and its caller's next steps: a plain interrupt after the commit says so.

        A signal handled just after the new folder is in place (after :meth:`__exit__` has returned)
        raises :class:`InterruptedAfterCommit`, so the caller does not say "nothing written".
        """
        try:
            yield
        except KeyboardInterrupt as exc:
            if self.committed and not isinstance(exc, InterruptedAfterCommit):
                raise InterruptedAfterCommit(self.shown) from None
            raise

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.tmp is not None
        if exc_type is not None:
            self._discard()
            return
        try:
            with _signals_deferred() as pending:
                self._publish_mode()
                trash = self._commit()
                if trash is not None:  # held here too: a trash folder left would be deleted later anyway
                    shutil.rmtree(trash, ignore_errors=True)
            for signum in pending:  # delivered now, to the handlers the caller set
                signal.raise_signal(signum)
        except BaseException as exc:
            if not self.committed:
                self._discard()
                raise
            # After the commit, also a signal handled while the caller's handlers are being put
            # back (not held any more, not yet returned): the results are at the target.
            if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, InterruptedAfterCommit):
                raise InterruptedAfterCommit(self.shown) from None
            raise

    def _keep_elsewhere(self, why: str) -> None:
        kept = self.target.with_name(f"{self.target.name}.kept-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
        os.rename(self.tmp, kept)
        raise ResultsKeptElsewhere(f"{shown(self.shown)}: {why}; not replaced: the new results are in {shown(kept)}",
                                   kept)

    def _commit(self) -> Path | None:
        """Move the new folder into place (signals held); the replaced folder to delete, if any."""
        if not os.path.lexists(self.target):
            try:
                os.rename(self.tmp, self.target)  # replaces at most an empty folder made meanwhile
            except OSError:
                self._keep_elsewhere("appeared while this run was writing (another run?)")
            self.committed = True
            return None
        if not self.force:
            self._keep_elsewhere("appeared while this run was writing (another run?)")
        reason = replace_refusal(self.target)
        if reason is not None:
            self._keep_elsewhere(f"changed while this run was writing ({reason.split(': ', 1)[-1]})")
        old = self.target.with_name(f"{_prefix(self.target, 'old')}{os.getpid()}")
        os.rename(self.target, old)
        try:
            os.rename(self.tmp, self.target)
        except OSError:
            # Something was put at the target between the two renames: the earlier folder is
            # kept visibly beside it, and so are the new results.
            os.rename(old, self.target.with_name(f"{self.target.name}.earlier-{os.getpid()}"))
            self._keep_elsewhere("appeared while this run was replacing it (another run?)")
        self.committed = True
        trash = self.target.with_name(f"{_prefix(self.target, 'trash')}{os.getpid()}")
        os.rename(old, trash)
        return trash


def _host() -> str:
    return socket.gethostname().replace("-", "_").replace("/", "_") or "host"


def _prefix(target: Path, what: str = "partial") -> str:
    """Name prefix of a temporary (``partial``), replaced (``old``) or deletable (``trash``) folder."""
    return f".{target.name}.{what}-{_host()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _complete(folder: Path) -> bool:
    try:
        verify_folder(folder)
    except (ResultsError, OSError):
        return False
    return True


def remove_stale(target: Path | str) -> list[Path]:
    """Tidy the hidden folders of ``target`` that dead processes on this host left; what changed.

    A complete ``.old`` (the earlier results, moved aside for a replacement) goes back to the
    target if the target is missing, else a complete ``.partial`` (a finished run killed before
    its last rename) does; ``target`` is then in the returned list. Others are deleted, except
    an ``.old`` when the target is not a complete results folder (it may be the only copy).
    """
    target = Path(os.path.abspath(target))
    changed: list[Path] = []
    if not target.parent.is_dir() or not target.name:
        return changed
    stale: dict[str, list[Path]] = {"old": [], "partial": [], "trash": []}
    for entry in sorted(target.parent.iterdir()):
        for what, found in stale.items():
            prefix = _prefix(target, what)
            if entry.name.startswith(prefix) and entry.is_dir() and not entry.is_symlink():
                pid = entry.name[len(prefix):].split("-", 1)[0]
                if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                    found.append(entry)
    for entry in stale["trash"]:
        shutil.rmtree(entry, ignore_errors=True)
        changed.append(entry)
    for what in ("old", "partial"):
        for entry in stale[what]:
            if not os.path.lexists(target) and _complete(entry):
                os.rename(entry, target)
                changed.append(target)
            elif what == "partial" or _complete(target):
                shutil.rmtree(entry, ignore_errors=True)
                changed.append(entry)
    return changed


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT and SIGTERM; yields the list of those that arrived (the caller delivers them).

    Python runs signal handlers in the main thread whichever thread the kernel delivered the
    signal to (a process pool's threads take them too), so the handlers are swapped rather
    than the thread's mask. Outside the main thread handlers cannot be set, and none runs
    there either: nothing to do.
    """
    pending: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield pending
        return
    previous = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda s, _f: pending.append(s))
        yield pending
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


#: Longest warm-up or horizon a manifest may state (years): a bound far beyond any run, so that
#: readers never compute with absurd values (2**1100 overflows a float).
MAX_YEARS = 10_000


def _check_manifest(manifest, path: Path) -> None:
    """Check the fields every reader relies on, with the types they rely on."""
    def bad(field: str, expected: str) -> ResultsError:
        return ResultsError(f"{path}: field '{field}' {expected}")

    def number(x) -> bool:
        if not isinstance(x, int | float) or isinstance(x, bool):
            return False
        try:
            return math.isfinite(float(x)) and abs(x) <= MAX_YEARS
        except OverflowError:  # an integer beyond any float (2**1100)
            return False

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
            raise bad(f"scenario.simulation.{key}", f"must be a number from 0 to {MAX_YEARS:g} (years)")


def read_manifest(folder: Path | str, verify: bool = True) -> dict:
    """Open a results folder for reading: its manifest, or a one-line :class:`ResultsError`.

    The one check every reader (``measure``, ``timeline``, ``reproduce``, ``report``,
    ``summary``) makes first. The fields readers use (``scenario.simulation``, ``seed``,
    ``replications``, ``paradigms``) are there with the right types; the scenario itself is
    validated only by :func:`manifest_scenario` (an older results folder may predate a schema
    change). ``verify``: also every file the manifest lists is unchanged (:func:`verify_files`).
    """
    manifest = _read_manifest(folder)
    if verify:
        verify_files(folder, manifest)
    return manifest


def _read_manifest(folder: Path | str) -> dict:
    """Read and check a manifest without verifying the files it lists."""
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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_hashes(folder: Path | str, known: dict[str, str] | None = None) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` but the manifest, by relative POSIX path (sorted).

    ``known``: hashes of files taken from the bytes their writer wrote (not read back).
    """
    folder = Path(folder)
    known = known or {}
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if rel != MANIFEST and path.is_file():
            out[rel] = known[rel] if rel in known else _sha256(path)
    return out


def manifest_bytes(manifest: dict, what: str = MANIFEST) -> bytes:
    """Encode a manifest as written (indented UTF-8 JSON), or raise a one-line :class:`ResultsError`.

    Called on the manifest's fixed part before a run starts, so that a value JSON cannot hold
    (a file name that is not UTF-8) is refused before the work, not after it.
    """
    try:
        return (json.dumps(manifest, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError, OverflowError, RecursionError) as exc:
        bad = next((k for k, v in manifest.items() if not _serialisable(v)), "?")
        value = manifest.get(bad)
        value = [shown(x) if isinstance(x, str) else x for x in value] if isinstance(value, list) else value
        value = shown(value) if isinstance(value, str) else value
        raise ResultsError(f"{what}: field '{bad}' cannot be recorded ({type(exc).__name__}: the value"
                           f" {str(value)[:200]!s} is not valid UTF-8/JSON); rename the file or path") from None


def _serialisable(value) -> bool:
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError, OverflowError, RecursionError):
        return False
    return True


def write_manifest(folder: Path | str, manifest: dict, known: dict[str, str] | None = None) -> None:
    """Write ``manifest.json`` with ``files``: the SHA-256 of every other file in ``folder``.

    Write it last: its presence marks the folder complete. ``known``: as in :func:`file_hashes`.
    """
    folder = Path(folder)
    data = manifest_bytes({**manifest, "files": file_hashes(folder, known)})
    (folder / MANIFEST).write_bytes(data)


def verify_files(folder: Path | str, manifest: dict) -> None:
    """Check every file the manifest lists against its SHA-256; a one-line :class:`ResultsError` if not.

    Refuses a folder without file hashes (an older version's) and one whose files were
    changed, truncated or removed since the run wrote them. Files added later (``measure``'s
    tables, timelines, the report) are not checked.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    files = manifest.get("files")
    if not isinstance(files, dict) or not files or not all(isinstance(v, str) for v in files.values()):
        raise ResultsError(f"{shown(path)}: field 'files' (SHA-256 of each file) missing; written by an older"
                           " narvard? run it again to get a folder that can be checked")
    for rel, digest in files.items():
        parts = Path(rel).parts
        if Path(rel).is_absolute() or ".." in parts or not parts:
            raise ResultsError(f"{shown(path)}: field 'files' names {shown(rel)!r}, outside the folder")
        f = folder / rel
        if not f.is_file():
            raise ResultsError(f"{shown(f)}: missing (listed in {MANIFEST}); the folder is incomplete")
        try:
            actual = _sha256(f)
        except OSError as exc:
            raise ResultsError(f"{shown(f)}: cannot read ({exc.strerror or exc})") from None
        if actual != digest:
            raise ResultsError(f"{shown(f)}: changed since narvard wrote it (SHA-256 differs from {MANIFEST});"
                               " refusing to read a changed results folder")


def verify_folder(folder: Path | str) -> dict:
    """Open a results folder, verified (:func:`read_manifest` with ``verify``); its manifest."""
    return read_manifest(folder, verify=True)


#: The name readers use: open a results folder (verified), get its manifest.
open_results = verify_folder


def manifest_scenario(manifest: dict, folder: Path | str):
    """Validate the manifest's resolved parameters again (a :class:`ScenarioError` if they fail)."""
    from sim.config.loader import validate

    return validate(manifest["scenario"], Path(folder) / f"{MANIFEST} (scenario)")


def _type_ok(actual, expected) -> bool:
    """Compare column kinds: strings may be dictionary-encoded or not; numbers by family."""
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
    """Read the event log of a results folder as a DataFrame, or raise a :class:`ResultsError`.

    Refuses a file that is not Parquet, is truncated, or lacks the event log's columns and
    their types; a row group that cannot be decoded is reported the same way.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.engine.recorder import SCHEMA

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
