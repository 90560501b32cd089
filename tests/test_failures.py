"""Functional: failures a user can cause or meet end in one line, and nothing is left behind.

Tier: functional, with real subprocesses where the point is the operating system's part: a
disk that fills (a file-size limit: writes fail with EFBIG), worker processes whose main
process is killed with SIGKILL, a Dask scheduler nobody listens on. A read-only target is
simulated in-process (the tests may run as root, who may write anywhere).
"""

from __future__ import annotations

import errno
import hashlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.output.results import read_manifest, write_manifest
from tests.conftest import DEFAULT, ROOT
from tests.test_interrupt import alive, children

WAIT = 300.0  # seconds: a limit for a stuck subprocess, not an assertion on speed


def small_toml(folder: Path, persons: int = 300) -> Path:
    path = folder / "small.toml"
    path.write_text(f'base = "{DEFAULT.as_posix()}"\n[meta]\nname = "small"\n'
                    f"[population]\npersons_65plus = {persons}\n[simulation]\nyears = 0.2\nwarmup_years = 0.1\n")
    return path


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line(output: str) -> str:
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


@pytest.fixture(scope="module")
def earlier(tmp_path_factory) -> Path:
    """A complete results folder of a small scenario (copied by the tests that need one)."""
    parent = tmp_path_factory.mktemp("earlier")
    out = parent / "out"
    res = CliRunner().invoke(app, ["run", str(small_toml(parent)), "--out", str(out), "-n", "1",
                                   "--executor", "serial"])
    assert res.exit_code == 0, res.output
    return out


def cli(*args, cwd: Path = ROOT, limit: int | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    def fsize_limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write beyond the limit fails (EFBIG), as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-m", "sim", *map(os.fsencode, map(str, args))], cwd=cwd,
                          capture_output=True, text=True, timeout=WAIT, env={**os.environ, **(env or {})},
                          preexec_fn=fsize_limit if limit else None)


def hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


# ---- disk full, read-only, bad encoding, unreachable scheduler -----------------------------

def test_disk_full_while_writing_is_one_line_and_keeps_the_earlier_folder(earlier, tmp_path):
    """Writes beyond a file-size limit fail (EFBIG) as on a full disk: was a 138-line traceback."""
    out = Path(shutil.copytree(earlier, tmp_path / "out"))
    before = snapshot(out)
    proc = cli("run", small_toml(tmp_path), "--out", out, "--force", "-n", "1", "--executor", "serial",
               limit=20_000)
    assert proc.returncode == 2, proc.stderr
    line = one_line(proc.stderr)
    assert "File too large" in line and f"nothing written to {out}" in line, line
    assert snapshot(out) == before and hidden(tmp_path) == []


def test_read_only_target_is_one_line_before_the_run(tmp_path, monkeypatch):
    import sim.output.results

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), kwargs.get("dir"))

    monkeypatch.setattr(sim.output.results.tempfile, "mkdtemp", read_only)
    ran = []
    monkeypatch.setattr("sim.experiments.pipeline.run_replications", lambda *a: ran.append(1) or iter(()))
    res = CliRunner().invoke(app, ["run", str(small_toml(tmp_path)), "--out", str(tmp_path / "out"), "-n", "1",
                                   "--executor", "serial"])
    assert res.exit_code == 2, res.output
    line = one_line(res.output)
    assert f"{tmp_path}: cannot create the results folder there (Read-only file system)" in line, line
    assert ran == [] and not (tmp_path / "out").exists()


def test_out_path_not_utf8_is_one_line_before_the_run(tmp_path):
    """A folder name with a Latin-1 byte was a traceback from the Parquet writer."""
    out = Path(os.fsdecode(os.fsencode(tmp_path) + b"/r\xe9sultat"))
    proc = cli("run", small_toml(tmp_path), "--out", out, "-n", "1", "--executor", "serial")
    line = one_line(proc.stderr)
    assert proc.returncode == 2 and "r\\xe9sultat: the path is not valid UTF-8" in line, line
    assert sorted(os.listdir(tmp_path)) == ["small.toml"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_dask_scheduler_is_one_line(tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"  # nobody listens there
    proc = cli("run", small_toml(tmp_path), "--out", tmp_path / "out", "-n", "1", "--executor", "dask",
               "--scheduler", address, env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"})
    assert proc.returncode == 2, proc.stderr
    line = one_line(proc.stderr)
    assert f"--scheduler {address}: cannot connect to a Dask scheduler" in line, line
    assert not (tmp_path / "out").exists() and hidden(tmp_path) == []


# ---- worker processes end with the main process; long commands handle SIGTERM --------------

def wait_for(pred, seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while not pred():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("command", ["compare", "switch-off"])
def test_workers_end_when_the_main_process_is_killed(tmp_path, command):
    """SIGKILL of the main process left idle workers of 250-635 MB each, indefinitely."""
    out = ["--out", tmp_path / ("out" if command == "compare" else "o.csv")]
    args = [command, small_toml(tmp_path, persons=3000), *out, "-n", "40", "--executor", "processes", "--workers", "2"]
    proc = subprocess.Popen([sys.executable, "-m", "sim", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    workers: list[int] = []
    try:
        def started() -> bool:
            workers[:] = [w for w in children(proc.pid) if alive(w)]
            return len(workers) >= 2 or proc.poll() is not None

        wait_for(started, WAIT, "worker processes")
        assert proc.poll() is None, "the command ended before its workers could be seen"
        proc.kill()
        proc.wait()
        # The workers poll every 0.2 s; 30 s is a bound for a loaded machine, not a speed assertion.
        wait_for(lambda: not any(alive(w) for w in workers), 30.0, "worker processes to end")
    finally:
        for w in workers:
            if alive(w):
                os.kill(w, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()


MEASURE_SIGTERM = """
import os, signal, sys
import sim.measure.command as command
from sim.cli import app

def measure_folder(*args):  # SIGTERM arrives while the designs are computed
    os.kill(os.getpid(), signal.SIGTERM)
    raise AssertionError("SIGTERM was not handled")

command.measure_folder = measure_folder
sys.argv = ["narvard", "measure", sys.argv[1]]
app()
"""


def test_measure_handles_sigterm(earlier, tmp_path):
    folder = Path(shutil.copytree(earlier, tmp_path / "res"))
    m = read_manifest(folder)
    m["paradigms"] = ["intervention", "person"]  # measure refuses one-system folders before any work
    write_manifest(folder, {k: v for k, v in m.items() if k != "files"})
    before = snapshot(folder)
    proc = subprocess.run([sys.executable, "-c", MEASURE_SIGTERM, str(folder)], cwd=ROOT, capture_output=True,
                          text=True, timeout=WAIT)
    assert proc.returncode == 130, (proc.returncode, proc.stderr)
    assert "interrupted: measures.csv and measures_detail.csv not written" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(folder) == before and hidden(folder) == []
