"""A sensitivity study in a folder: its fingerprint, its completed design points, resumable.

``study.json`` holds what makes the points comparable (the resolved scenario's hash, the
assumptions and their ranges, the design, the evaluation function) and ``points.parquet`` every
completed evaluation (one row per design point and replication). Both are replaced atomically
(written beside, flushed, renamed), so an interrupted run leaves the points finished before the
last save; running again goes on from there. A folder holding another study's points is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.executor import Executor

STUDY, POINTS = "study.json", "points.parquet"
FINGERPRINT_PARTS = {
    "scenario": "the scenario (resolved parameters)",
    "assumptions": "the assumptions or their ranges",
    "design": "the design (seeds, replications, r, levels, N, selection)",
    "evaluation": "the evaluation function",
}
#: Seconds between saves of the completed points while a stage runs (and at its end, always).
SAVE_EVERY = 5.0


class StudyError(ValueError):
    """A study folder that must not be resumed or replaced as asked (one-line message)."""


def digest(obj: Any) -> str:
    """SHA-256 of an object as canonical JSON."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str, separators=(",", ":")).encode()).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write beside ``path``, flush to disk, rename over it (a reader sees the old or the new file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@dataclass
class StudyStore:
    """The completed points of one study in ``folder``; :meth:`open` checks the fingerprint."""

    folder: Path
    fingerprint: dict[str, str]
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    sessions: list[dict] = field(default_factory=list)
    _new: list[dict] = field(default_factory=list)
    _saved: float = 0.0

    @classmethod
    def open(cls, folder: Path | str, fingerprint: dict[str, str], fresh: bool = False,
             outputs: tuple[str, ...] = ()) -> StudyStore:
        """Open (or start) the study in ``folder``.

        A stored study with another fingerprint is refused, naming what differs, unless
        ``fresh``, which deletes its points, its record and ``outputs`` (the files a study writes).
        Points without a study record are refused (not ours to resume or delete).
        """
        folder = Path(folder)
        record, points = folder / STUDY, folder / POINTS
        if points.exists() and not record.exists():
            raise StudyError(f"{points}: points without {STUDY}: not a study this program can resume;"
                             " move it away")
        if record.exists():
            try:
                stored = json.loads(record.read_text(encoding="utf-8"))
                old = stored["fingerprint"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise StudyError(f"{record}: unreadable study record ({exc}); move the folder away") from None
            if fresh:
                for name in (STUDY, POINTS, *outputs):
                    (folder / name).unlink(missing_ok=True)
            else:
                differ = [what for k, what in FINGERPRINT_PARTS.items() if old.get(k) != fingerprint.get(k)]
                if differ:
                    raise StudyError(f"{folder}: holds a study of another set-up (" + "; ".join(differ)
                                     + " differ): cannot mix their points; start over with --fresh")
                store = cls(folder, fingerprint, sessions=list(stored.get("sessions", [])))
                if points.exists():
                    store.rows = pd.read_parquet(points)
                return store
        folder.mkdir(parents=True, exist_ok=True)
        store = cls(folder, fingerprint)
        store.save(force=True)
        return store

    def _merge(self) -> None:
        """Move the rows added since the last merge into :attr:`rows`."""
        if self._new:
            new = pd.DataFrame(self._new)
            self.rows = new if self.rows.empty else pd.concat([self.rows, new], ignore_index=True)
            self._new = []

    @property
    def runs(self) -> int:
        """Model runs stored (one per design point and replication)."""
        return len(self.rows) + len(self._new)

    def done(self, stage: str) -> pd.DataFrame:
        """Return the stored rows of a stage."""
        self._merge()
        if self.rows.empty:
            return self.rows
        return self.rows[self.rows["stage"] == stage]

    def add(self, stage: str, point: int, values: dict[str, float], rows: list[dict]) -> None:
        """Keep a completed point's rows (saved at most every :data:`SAVE_EVERY` seconds)."""
        self._new += [{"stage": stage, "point": point, **{f"x:{k}": v for k, v in values.items()}, **r} for r in rows]
        self.save()

    def save(self, force: bool = False) -> None:
        """Write the points and the record atomically (if changed, and if due or ``force``)."""
        now = time.monotonic()
        if not force and (not self._new or now - self._saved < SAVE_EVERY):
            return
        self._merge()
        if not self.rows.empty:
            rows = self.rows.sort_values(["stage", "point", "replication"], kind="stable").reset_index(drop=True)
            _write_atomic(self.folder / POINTS, rows.to_parquet(index=False))
        record = {"tool": "narvard-sim sensitivity", "fingerprint": self.fingerprint, "sessions": self.sessions}
        _write_atomic(self.folder / STUDY, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())
        self._saved = now


def run_stage(store: StudyStore, stage: str, points: list[dict[str, float]], replications: list[list[int]],
              evaluate: Callable[..., list[dict]], task_head: tuple, executor: Executor,
              progress: Callable[[], None] | None = None) -> pd.DataFrame:
    """Evaluate the points of a stage not stored yet (``evaluate(*task_head, values, replications)``).

    A stored point must be the same point (values equal) as the design's: else the design changed
    under the study (a SALib version, say) and the study is refused. Returns the stage's rows,
    ordered by point and replication. ``progress`` is called once per point (stored ones included).
    """
    done = store.done(stage)
    names = [f"x:{k}" for k in points[0]] if points else []
    have: set[int] = set()
    for p, chunk in done.groupby("point") if not done.empty else ():
        expect = np.array([points[int(p)][c[2:]] for c in names]) if int(p) < len(points) else None
        if expect is None or not np.allclose(chunk[names].to_numpy(dtype=float)[0], expect, rtol=1e-12, atol=0):
            raise StudyError(f"{store.folder}: stored {stage} point {int(p)} is not the design's point:"
                             " the design changed; start over with --fresh")
        have.add(int(p))
    for _ in have:
        if progress:
            progress()
    todo = [i for i in range(len(points)) if i not in have]
    tasks = [(*task_head, points[i], replications[i]) for i in todo]
    try:
        for i, rows in zip(todo, executor.map(evaluate, tasks), strict=False):
            store.add(stage, i, points[i], rows)
            if progress:
                progress()
    except BaseException:
        getattr(executor, "abort", lambda: None)()
        raise
    finally:
        store.save(force=True)
    return store.done(stage).sort_values(["point", "replication"], kind="stable").reset_index(drop=True)
