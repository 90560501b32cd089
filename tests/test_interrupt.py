"""Functional: no half-written results. A run that is interrupted (SIGTERM, SIGINT/Ctrl-C) or
whose worker process dies leaves neither a partial folder (nor its hidden temporary
``.NAME.partial-*``) nor a changed earlier complete folder; ``--force`` is needed to replace one.

Tier: functional, multi-process (``slow``). The interrupted runs are real ``python -m sim run``
subprocesses on the default scenario (about a second per replication), stopped once the hidden
temporary folder holds a finished replication's part, that is mid-way.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

import sim.experiments.runner
from sim.experiments.executor import Executor, ProcessExecutor
from sim.experiments.pipeline import simulate_to_folder
from sim.output.results import AtomicFolder, ResultsExistError, read_manifest, write_manifest
from tests.conftest import DEFAULT, small_scenario

pytestmark = pytest.mark.slow
ROOT = DEFAULT.parents[1]
WAIT = 300.0  # seconds: a generous limit for a stuck process, not an assertion on speed


def snapshot(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder``, by relative path."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path, name: str) -> list[Path]:
    """Hidden temporary folders of ``name`` (partial results, or an old folder being replaced)."""
    return sorted(parent.glob(f".{name}.*"))


@pytest.fixture
def earlier(tmp_path) -> Path:
    """An earlier complete results folder, ``tmp_path/out``."""
    out = tmp_path / "out"
    simulate_to_folder(small_scenario(persons=300, years=0.2, warmup=0.1, replications=2), ("intervention",),
                       out, False, Executor())
    read_manifest(out)
    return out


def wait_for(pred, what: str) -> None:
    end = time.monotonic() + WAIT
    while not pred():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (Linux /proc)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def start_run(out: Path, executor: str, replications: int = 40) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "sim", "run", str(DEFAULT), "--out", str(out), "--force",
           "--replications", str(replications), "--executor", executor, "--workers", "2"]
    return subprocess.Popen(cmd, cwd=out.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, text=True)


def mid_run(parent: Path, name: str) -> bool:
    """The second replication's part is in the hidden temporary folder (serially: the first is done).

    (Each part is deleted once it is appended to the event log, so they cannot be counted.)
    """
    return any(parent.glob(f".{name}.partial-*/parts/r0001-*"))


@pytest.mark.parametrize(
    ("executor", "how"),
    [
        ("serial", "SIGTERM"),
        ("serial", "SIGINT"),
        ("processes", "SIGTERM"),  # to the main process only (a service manager's stop)
        ("processes", "Ctrl-C"),  # SIGINT to the whole process group, workers included
    ],
)
def test_interrupted_run_leaves_nothing(earlier, executor, how):
    parent, before = earlier.parent, snapshot(earlier)
    proc = start_run(earlier, executor)
    try:
        wait_for(lambda: mid_run(parent, "out") or proc.poll() is not None, "a replication part")
        assert proc.poll() is None, f"run ended before it was interrupted: {proc.communicate()}"
        workers = children(proc.pid)
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        elif how == "SIGINT":
            proc.send_signal(signal.SIGINT)
        else:
            os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=WAIT)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr, stderr
    assert leftovers(parent, "out") == []
    assert snapshot(earlier) == before
    wait_for(lambda: not any(alive(w) for w in workers), "worker processes to exit")


def test_complete_run_replaces_only_with_force(earlier):
    parent, before = earlier.parent, snapshot(earlier)
    cmd = [sys.executable, "-m", "sim", "run", str(DEFAULT), "--out", str(earlier), "--replications", "1",
           "--executor", "serial"]
    proc = subprocess.run(cmd, cwd=parent, capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 2
    assert "results folder exists; use --force" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(earlier) == before
    assert leftovers(parent, "out") == []
    proc = subprocess.run([*cmd, "--force"], cwd=parent, capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 0, proc.stderr
    assert read_manifest(earlier)["replications"] == 1
    assert snapshot(earlier) != before
    assert leftovers(parent, "out") == []


def fake_results(folder: Path, text: str = "earlier") -> Path:
    """A small complete results folder (a manifest with file hashes), without a simulation."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.csv").write_text(text)
    write_manifest(folder, {"tool": "narvard-sim", "seed": 1, "replications": 1, "paradigms": ["intervention"],
                            "scenario": {"simulation": {"warmup_years": 0.1, "years": 0.2}}})
    return folder


def test_atomic_folder_refuses_existing_without_force(tmp_path):
    before = snapshot(fake_results(tmp_path / "out"))
    with pytest.raises(ResultsExistError, match="use --force"):
        with AtomicFolder(tmp_path / "out"):
            pass
    assert snapshot(tmp_path / "out") == before
    with AtomicFolder(tmp_path / "out", force=True) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".out.partial-")
        (tmp / "new.txt").write_text("new")
        assert snapshot(tmp_path / "out") == before  # replaced only when complete
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["new.txt"]
    assert leftovers(tmp_path, "out") == []


def test_atomic_folder_exception_removes_temporary(tmp_path):
    before = snapshot(fake_results(tmp_path / "out"))
    with pytest.raises(RuntimeError):
        with AtomicFolder(tmp_path / "out", force=True) as tmp:
            (tmp / "half.txt").write_text("half")
            raise RuntimeError("crash")
    assert snapshot(tmp_path / "out") == before
    assert leftovers(tmp_path, "out") == []


def test_results_folder_readable_by_others(tmp_path):
    """The temporary folder is private while written; the finished folder gets the umask's mode."""
    with AtomicFolder(tmp_path / "out"):
        pass
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o777 & ~umask


def crash_in_worker(scenario, replication, paradigms, events_path=None, keep=False):
    """A task that kills its worker process mid-run on replication 1."""
    if replication == 1:
        os._exit(3)
    return REAL(scenario, replication, paradigms, events_path, keep)


def raise_in_worker(scenario, replication, paradigms, events_path=None, keep=False):
    if replication == 2:
        raise ValueError("model bug in replication 2")
    return REAL(scenario, replication, paradigms, events_path, keep)


REAL = sim.experiments.runner.run_replication


@pytest.mark.parametrize(("task", "error"), [(crash_in_worker, BrokenProcessPool),
                                             (raise_in_worker, ValueError)])
def test_worker_failure_leaves_nothing(earlier, monkeypatch, task, error):
    parent, before = earlier.parent, snapshot(earlier)
    monkeypatch.setattr(sim.experiments.runner, "run_replication", task)  # workers are forked: they see it
    s = small_scenario(persons=300, years=0.2, warmup=0.1, replications=4)
    with ProcessExecutor(2) as ex, pytest.raises(error):
        simulate_to_folder(s, ("intervention",), earlier, True, ex)
    assert snapshot(earlier) == before
    assert leftovers(parent, "out") == []


def test_cli_worker_crash_is_one_line(earlier, monkeypatch):
    from typer.testing import CliRunner

    from sim.cli import app

    parent, before = earlier.parent, snapshot(earlier)
    monkeypatch.setattr(sim.experiments.runner, "run_replication", crash_in_worker)
    scenario = parent / "small.toml"
    scenario.write_text(f'base = "{DEFAULT.as_posix()}"\n[meta]\nname = "small"\n'
                        "[population]\npersons_65plus = 300\n[simulation]\nyears = 0.2\nwarmup_years = 0.1\n")
    result = CliRunner().invoke(app, ["run", str(scenario), "--out", str(earlier), "--force", "-n", "4",
                                      "--executor", "processes", "--workers", "2"])
    assert result.exit_code == 2, result.output
    assert "a worker process died" in result.output and "nothing written to" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert snapshot(earlier) == before
    assert leftovers(parent, "out") == []


def test_folders_left_by_a_killed_run_are_removed_by_the_next_run(tmp_path):
    """SIGKILL leaves the temporary folder; the next run to that target removes it, not a live one's."""
    code = ("import sys, time; from sim.output.results import AtomicFolder\n"
            "with AtomicFolder(sys.argv[1], force=True) as tmp:\n"
            "    (tmp / 'half.txt').write_text('half'); print(tmp, flush=True); time.sleep(60)\n")
    target = tmp_path / "out"
    killed = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True)
    killed_tmp = Path(killed.stdout.readline().strip())
    live = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True)
    live_tmp = Path(live.stdout.readline().strip())
    try:
        killed.kill()
        killed.wait()
        assert killed_tmp.is_dir() and live_tmp.is_dir()
        with AtomicFolder(target) as tmp:
            (tmp / "done.txt").write_text("done")
        assert not killed_tmp.exists()  # the dead run's folder is gone
        assert live_tmp.is_dir()        # the live run's is untouched
        assert (target / "done.txt").is_file()
    finally:
        live.kill()
        live.wait()
