"""Results folders: written whole or not at all.

A run writes into a hidden temporary folder beside the target and moves it into place only
when every file is complete. An interrupted run leaves the earlier complete folder as it was;
an existing folder is replaced only when the user asks (``force``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

SUMMARY, EVENTS, MANIFEST = "summary.csv", "events.parquet", "manifest.json"


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
        if self.target.exists() and not self.force:
            raise ResultsExistError(
                f"{self.target}: results folder exists; use --force to replace it or --out elsewhere"
            )
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.partial-", dir=self.target.parent))
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.tmp is not None
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        old = None
        if self.target.exists():
            old = self.target.with_name(f".{self.target.name}.old-{os.getpid()}")
            os.replace(self.target, old)
        os.replace(self.tmp, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def read_manifest(folder: Path | str) -> dict:
    """The manifest of a results folder, or a :class:`ResultsError` naming what is wrong."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsError(f"{folder}: not a results folder (no such directory)")
    path = folder / MANIFEST
    if not path.is_file():
        raise ResultsError(f"{path}: missing; is {folder} a narvard results folder?")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("tool") != "narvard-sim":
        raise ResultsError(f"{path}: not a narvard-sim manifest (field 'tool')")
    for key in ("scenario", "seed", "replications", "paradigms"):
        if key not in manifest:
            raise ResultsError(f"{path}: field '{key}' missing")
    return manifest


def read_events(folder: Path | str, columns: list[str] | None = None):
    """The event log of a results folder as a DataFrame, or a :class:`ResultsError`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.output.recorder import SCHEMA

    path = Path(folder) / EVENTS
    if not path.is_file():
        raise ResultsError(f"{path}: missing")
    try:
        f = pq.ParquetFile(str(path))
        missing = [n for n in SCHEMA.names if n not in f.schema_arrow.names]
        if missing:
            raise ResultsError(f"{path}: not a narvard event log (columns missing: {', '.join(missing)})")
        return f.read(columns=columns).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise ResultsError(f"{path}: cannot read Parquet ({exc})") from None
