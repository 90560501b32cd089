"""A set of output files replaced as one: afterwards the folder holds the whole old set or the whole new one.

The calibration's outputs (``fitted.toml``, which every bundled scenario loads, ``trials.csv``,
``fit.*``, ...) share a folder with files the program did not write (``targets.toml``, the README),
so the folder itself cannot be swapped. Instead each new file is written into a hidden staging
folder beside them (same file system) and flushed to disk; then a commit marker listing the files
is renamed into the staging folder: that rename is the commit point. After it, each file is
renamed over its target (a rename is atomic, so a file is never seen half-written) and members
of the set that the new set lacks are removed; last the staging folder goes.

A process that dies before the commit leaves the old set and an uncommitted staging folder; one
that dies after it leaves a committed staging folder. :func:`recover`, which every writer calls
first, removes the former and completes the latter. SIGINT and SIGTERM are held during the commit
(in the main thread, where Python runs signal handlers), so Ctrl-C does not stop it half-way.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

STAGING_PREFIX = ".narvard-staging-"
COMMIT = "COMMIT.json"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own earlier attempt (an exception that escaped the clean-up)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _finish(staging: Path, folder: Path) -> None:
    """Complete a committed staging folder: move its files into place, remove the stale ones."""
    plan = json.loads((staging / COMMIT).read_text(encoding="utf-8"))
    for name in plan["write"]:
        src = staging / name
        if src.exists():  # else already moved by an earlier, interrupted completion
            os.replace(src, folder / name)
    for name in plan["remove"]:
        (folder / name).unlink(missing_ok=True)
    _fsync_dir(folder)
    (staging / COMMIT).unlink()
    shutil.rmtree(staging, ignore_errors=True)


def recover(folder: Path | str) -> list[str]:
    """Complete committed sets and drop uncommitted ones left by processes that died.

    Staging folders of a process that is still running are left alone. Returns what was done,
    one line per staging folder (for a message).
    """
    folder = Path(folder)
    done = []
    if not folder.is_dir():
        return done
    for staging in sorted(folder.glob(STAGING_PREFIX + "*")):
        pid = staging.name[len(STAGING_PREFIX):]
        if not staging.is_dir() or not pid.isdigit() or _pid_alive(int(pid)):
            continue
        if (staging / COMMIT).is_file():
            _finish(staging, folder)
            done.append(f"{staging.name}: completed an interrupted commit")
        else:
            shutil.rmtree(staging, ignore_errors=True)
            done.append(f"{staging.name}: removed an uncommitted set")
    return done


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then act on the first one that came.

    Outside the main thread (where handlers cannot be set) the block runs unprotected;
    :func:`recover` still completes a commit a signal interrupted.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in old:
        signal.signal(s, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        if caught:
            handler = old[caught[0]]
            if callable(handler):
                handler(caught[0], None)
            elif handler == signal.SIG_DFL:
                if caught[0] == signal.SIGINT:
                    raise KeyboardInterrupt
                os.kill(os.getpid(), caught[0])


def write_set(folder: Path | str, files: Mapping[str, str | bytes], members: Iterable[str] = ()) -> list[Path]:
    """Replace the set in ``folder`` by ``files`` (name: text or bytes) as one.

    ``members``: every name the set may hold; those present in ``folder`` but not in ``files``
    are removed at the commit (a stale ``profile.csv`` must not outlive its calibration).
    Returns the written paths.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    recover(folder)
    for name in files:
        if Path(name).name != name or name.startswith(STAGING_PREFIX):
            raise ValueError(f"{name}: an output name, not a path")
    staging = folder / f"{STAGING_PREFIX}{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        for name, data in files.items():
            _write_synced(staging / name, data.encode("utf-8") if isinstance(data, str) else data)
        stale = sorted(m for m in set(members) - set(files) if (folder / m).exists())
        plan = json.dumps({"write": list(files), "remove": stale}).encode("utf-8")
        _write_synced(staging / f"{COMMIT}.partial", plan)
        _fsync_dir(staging)
        with signals_held():
            os.replace(staging / f"{COMMIT}.partial", staging / COMMIT)  # the commit point
            _fsync_dir(staging)
            _finish(staging, folder)
    except BaseException:
        if (staging / COMMIT).is_file():
            _finish(staging, folder)
        else:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    return [folder / name for name in files]
