"""Unit: a corrupt or foreign results folder gets a one-line ResultsError naming the file.

Tier: unit (readers in :mod:`sim.output.results`) and functional (the ``measure`` and
``timeline`` commands on broken folders: exit code 2, one line, no traceback).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.experiments.executor import Executor
from sim.experiments.pipeline import simulate_to_folder
from sim.output.results import (
    EVENTS,
    MANIFEST,
    REPLICATIONS,
    SUMMARY,
    ResultsError,
    manifest_scenario,
    read_events,
    read_manifest,
    read_replications,
    read_summary,
)
from tests.conftest import ROOT, small_scenario


@pytest.fixture(scope="module")
def complete(tmp_path_factory) -> Path:
    """A complete ``compare`` results folder of a small scenario."""
    out = tmp_path_factory.mktemp("results") / "good"
    simulate_to_folder(small_scenario(persons=400, years=0.5, warmup=0.2, replications=2),
                       ("intervention", "person"), out, False, Executor())
    return out


@pytest.fixture
def folder(complete, tmp_path) -> Path:
    """A fresh copy of the complete folder, to break."""
    return Path(shutil.copytree(complete, tmp_path / "res"))


def error(fn, *args) -> str:
    with pytest.raises(ResultsError) as info:
        fn(*args)
    msg = str(info.value)
    assert "\n" not in msg, msg
    return msg


def test_complete_folder_reads(complete):
    m = read_manifest(complete)
    assert m["paradigms"] == ["intervention", "person"]
    assert len(read_events(complete)) > 0
    assert set(read_summary(complete)["paradigm"]) == {"intervention", "person", "difference"}
    assert len(read_replications(complete)) == 4
    assert manifest_scenario(m, complete).population.persons_65plus == 400


def test_missing_or_empty_folder(tmp_path):
    assert "no such directory" in error(read_manifest, tmp_path / "nope")
    assert "no such directory" in error(read_events, tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    assert f"{tmp_path / 'empty' / MANIFEST}: missing" in error(read_manifest, tmp_path / "empty")
    assert f"{tmp_path / 'empty' / EVENTS}: missing" in error(read_events, tmp_path / "empty")
    assert f"{tmp_path / 'empty' / SUMMARY}: missing" in error(read_summary, tmp_path / "empty")
    (tmp_path / "file").write_text("x")
    assert "no such directory" in error(read_manifest, tmp_path / "file")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "not valid JSON"),
        (b'{"tool": "narvard-sim", "seed": ', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"[1, 2, 3]", "not a narvard-sim manifest"),
        (b'{"tool": "mlflow", "run_id": "abc"}', "not a narvard-sim manifest"),
        (b'{"name": "some-package", "version": "1.0"}', "not a narvard-sim manifest"),
        (b'{"tool": "narvard-sim"}', "field 'scenario' missing"),
        (b"[" * 100000 + b"]" * 100000, "not"),  # deeply nested: no RecursionError escapes
    ],
)
def test_manifest_corrupt_or_foreign(folder, content, match):
    (folder / MANIFEST).write_bytes(content)
    msg = error(read_manifest, folder)
    assert msg.startswith(str(folder / MANIFEST))
    assert match in msg


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("seed", "42", "field 'seed' must be a non-negative integer"),
        ("seed", -1, "field 'seed'"),
        ("replications", 0, "field 'replications' must be a positive integer"),
        ("replications", True, "field 'replications'"),
        ("paradigms", [], "field 'paradigms' must be a non-empty list"),
        ("paradigms", "intervention", "field 'paradigms'"),
        ("scenario", "default.toml", "field 'scenario' must hold the resolved scenario"),
        ("scenario", {"simulation": {"years": "3"}}, "field 'scenario.simulation.warmup_years'"),
    ],
)
def test_manifest_wrong_types(folder, field, value, match):
    m = json.loads((folder / MANIFEST).read_text())
    m[field] = value
    (folder / MANIFEST).write_text(json.dumps(m))
    assert match in error(read_manifest, folder)


def test_manifest_scenario_validated_again(folder):
    from sim.config import ScenarioError

    m = json.loads((folder / MANIFEST).read_text())
    m["scenario"]["capacity"]["beds"] = -5
    (folder / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(ScenarioError, match=r"manifest\.json \(scenario\): capacity\.beds"):
        manifest_scenario(read_manifest(folder), folder)


def test_events_truncated_anywhere(folder):
    data = (folder / EVENTS).read_bytes()
    n = len(data)
    for cut in sorted({0, 1, 4, 100, n // 3, n // 2, n - 9, n - 8, n - 4, n - 1}):
        (folder / EVENTS).write_bytes(data[:cut])
        msg = error(read_events, folder)
        assert msg.startswith(f"{folder / EVENTS}: cannot read Parquet"), msg


def test_events_damaged_pages(folder):
    """Bytes overwritten inside the data: an error naming the file, or (undetectable) rows."""
    data = bytearray((folder / EVENTS).read_bytes())
    for at in range(64, len(data) - 4096, max(1, (len(data) - 4096) // 25)):
        damaged = bytearray(data)
        damaged[at:at + 64] = b"\x00" * 64
        (folder / EVENTS).write_bytes(bytes(damaged))
        try:
            read_events(folder)
        except ResultsError as exc:
            assert str(exc).startswith(f"{folder / EVENTS}: "), exc


def test_events_not_parquet(folder):
    (folder / EVENTS).write_text("replication,person\n0,1\n")
    assert "cannot read Parquet" in error(read_events, folder)


def test_events_foreign_parquet(folder):
    pq.write_table(pa.table({"a": [1, 2], "b": ["x", "y"]}), folder / EVENTS)
    msg = error(read_events, folder)
    assert "not a narvard event log (columns missing: replication, paradigm, person" in msg


def test_events_wrong_column_types(folder):
    table = pq.read_table(folder / EVENTS)
    i = table.schema.get_field_index("person")
    table = table.set_column(i, "person", pa.array([str(x) for x in table["person"].to_pylist()]))
    pq.write_table(table, folder / EVENTS)
    assert "column types: person is string, expected int64" in error(read_events, folder)


def test_events_unknown_column_requested(folder):
    assert "no such event-log columns: nope" in error(read_events, folder, ["person", "nope"])


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "not a readable CSV table"),
        (b"\xff\xfe\xfa\x00\x01", "not a readable CSV table"),
        (b"a,b\n1,2\n", "columns missing: paradigm, metric, mean"),
        (b"paradigm,metric,mean,ci_low,ci_high,unit\nx,y,abc,1,2,u\n", "column 'mean' is not numeric"),
    ],
)
def test_summary_corrupt(folder, content, match):
    (folder / SUMMARY).write_bytes(content)
    msg = error(read_summary, folder)
    assert msg.startswith(str(folder / SUMMARY)) and match in msg


# ---- the commands that read results: one line, exit 2, no traceback --------------------------

BREAKAGES = {
    "empty folder": lambda f: [p.unlink() for p in f.iterdir()],
    "no manifest": lambda f: (f / MANIFEST).unlink(),
    "manifest not JSON": lambda f: (f / MANIFEST).write_text("{not json"),
    "manifest of another tool": lambda f: (f / MANIFEST).write_text('{"tool": "other", "seed": 1}'),
    "events truncated": lambda f: (f / EVENTS).write_bytes((f / EVENTS).read_bytes()[:5000]),
    "events foreign": lambda f: pq.write_table(pa.table({"a": [1]}), f / EVENTS),
    "events missing": lambda f: (f / EVENTS).unlink(),
    "replications corrupt": lambda f: (f / "replications.csv").write_bytes(b"\xff\xfe\x00\x01"),
}


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


# timeline reads only the event log; measure reads the manifest, the event log and replications.csv
EVENT_LOG = ("empty folder", "events truncated", "events foreign", "events missing")


@pytest.mark.parametrize(("command", "breakage"), [("measure", b) for b in sorted(BREAKAGES)]
                         + [("timeline", b) for b in EVENT_LOG])
def test_commands_on_broken_folders(folder, command, breakage):
    BREAKAGES[breakage](folder)
    proc = run_cli(command, folder)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and str(folder) in lines[0], lines[0]


# ---- the manifest's file hashes: a changed folder is refused by every reader ---------------

def invoke(*args):
    from typer.testing import CliRunner

    from sim.cli import app

    return CliRunner().invoke(app, [*map(str, args)])


def refused(result, path: Path, what: str = "changed since narvard wrote it") -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert f"{path}: {what}" in lines[0], lines[0]


def test_manifest_lists_a_hash_of_every_file(complete):
    files = read_manifest(complete)["files"]
    assert sorted(files) == sorted(p.name for p in complete.iterdir() if p.name != MANIFEST)
    assert all(len(h) == 64 for h in files.values())


READERS = {
    "measure": lambda f: ("measure", f),
    "timeline": lambda f: ("timeline", f, "--out", f.parent / "tl"),
    "reproduce": lambda f: ("reproduce", f, "--executor", "serial"),
    "summary": lambda f: ("summary", f),
    "report": lambda f: ("report", f, "--calibration", f.parent / "none"),
}


@pytest.mark.parametrize("command", sorted(READERS))
def test_a_changed_event_log_is_refused(folder, command):
    """One quantity changed in a still valid events.parquet: was read as changed figures, with exit 0."""
    table = pq.read_table(folder / EVENTS)
    i = table.schema.get_field_index("quantity")
    quantity = table["quantity"].to_pylist()
    quantity[0] += 1e6
    pq.write_table(table.set_column(i, table.schema.field(i), pa.array(quantity, table.schema.field(i).type)),
                   folder / EVENTS)
    refused(invoke(*READERS[command](folder)), folder / EVENTS)


def test_random_bytes_inside_the_event_log_are_refused(folder):
    """4 KB of random bytes in the middle of events.parquet: refused by the hash, wherever they land."""
    import random

    data = bytearray((folder / EVENTS).read_bytes())
    mid = len(data) // 2
    data[mid:mid + 4096] = random.Random(1).randbytes(4096)
    (folder / EVENTS).write_bytes(bytes(data))
    refused(invoke("timeline", folder, "--out", folder.parent / "tl"), folder / EVENTS)


def test_truncated_replications_are_refused_not_blank(folder):
    data = (folder / REPLICATIONS).read_bytes()
    (folder / REPLICATIONS).write_bytes(data[: len(data) // 2])
    refused(invoke("measure", folder), folder / REPLICATIONS)
    assert not (folder / "measures.csv").exists()


def test_a_removed_file_and_a_folder_without_hashes_are_refused(folder):
    (folder / SUMMARY).unlink()
    refused(invoke("summary", folder), folder / SUMMARY, "missing (listed in manifest.json)")
    m = json.loads((folder / MANIFEST).read_text())
    del m["files"]
    (folder / MANIFEST).write_text(json.dumps(m))
    refused(invoke("measure", folder), folder / MANIFEST, "field 'files' (SHA-256 of each file) missing")


def test_files_outside_the_folder_are_not_followed(folder):
    m = json.loads((folder / MANIFEST).read_text())
    m["files"]["../../etc/passwd"] = "0" * 64
    (folder / MANIFEST).write_text(json.dumps(m))
    assert "outside the folder" in error(read_manifest, folder)


def test_files_added_by_the_commands_are_not_checked(folder):
    (folder / "measures.csv").write_text("written later by narvard measure")
    assert read_manifest(folder)["files"]


@pytest.mark.parametrize("value", [2**1100, 1e308, -1.0, float("inf")])
def test_absurd_run_window_in_a_manifest_is_one_line(folder, value):
    """warmup_years = 2**1100 was an OverflowError traceback in measure and reproduce."""
    m = json.loads((folder / MANIFEST).read_text())
    m["scenario"]["simulation"]["warmup_years"] = value
    (folder / MANIFEST).write_text(json.dumps(m))
    for command in ("measure", "reproduce"):
        refused(invoke(command, folder), folder / MANIFEST, "field 'scenario.simulation.warmup_years'")
