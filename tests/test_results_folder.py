"""Functional: a results folder is replaced only when it is ours, and never lost at the commit.

Tier: functional. ``--force`` replaces only a folder narvard wrote (its manifest), an empty
folder or nothing; the final move re-checks the target (a concurrent run is not silently
replaced); a signal at any instant of the commit (SIGINT, SIGTERM, also delivered to a process
pool's thread; SIGKILL followed by the next run's clean-up) leaves the earlier or the new
complete folder at the target, and the command's message says which. The signal cases run
a real subprocess that signals itself just before each rename or deletion of the commit.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sim.experiments.pipeline
import sim.output.results as results
from sim.output.results import (
    AtomicFolder,
    ResultsExistError,
    ResultsKeptElsewhere,
    remove_stale,
    verify_folder,
    write_manifest,
)
from tests.conftest import DEFAULT, ROOT

WAIT = 120.0  # seconds: a limit for a stuck subprocess, not an assertion on speed


def fake_results(folder: Path, text: str = "earlier") -> Path:
    """A small complete results folder (a manifest with file hashes), without a simulation."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.csv").write_text(text)
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "sub" / "part.txt").write_text(text * 3)
    write_manifest(folder, {"tool": "narvard-sim", "seed": 1, "replications": 1, "paradigms": ["intervention"],
                            "scenario": {"simulation": {"warmup_years": 0.1, "years": 0.2}}})
    return folder


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def hidden(parent: Path, name: str = "out") -> list[str]:
    return sorted(p.name for p in parent.glob(f".{name}.*"))


def run_cli(*args, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=WAIT)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


# ---- 1. --force replaces only what narvard wrote ---------------------------------------------

def test_force_refuses_a_folder_of_the_users(tmp_path):
    mine = tmp_path / "my-scenarios"
    (mine / "sub").mkdir(parents=True)
    (mine / "notes.txt").write_text("my notes")
    (mine / "sub" / "a.toml").write_text("x = 1")
    before = snapshot(mine)
    line = one_error_line(run_cli("run", DEFAULT, "--out", mine, "--force", "-n", "1", "--executor", "serial"))
    assert "not a narvard results folder" in line and str(mine) in line
    assert snapshot(mine) == before and hidden(tmp_path, "my-scenarios") == []


def test_force_refuses_a_results_folder_holding_the_users_files(tmp_path):
    out = fake_results(tmp_path / "out")
    (out / "measures.csv").write_text("derived by narvard measure")  # ours: may go
    with AtomicFolder(out, force=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    out = fake_results(tmp_path / "out2")
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    with pytest.raises(ResultsExistError, match=r"holds files narvard did not write \(notes.txt\)"):
        with AtomicFolder(out, force=True):
            pass
    assert snapshot(out) == before and hidden(tmp_path, "out2") == []


def test_force_refuses_an_existing_file(tmp_path):
    target = tmp_path / "out"
    target.write_text("a planner's file")
    line = one_error_line(run_cli("run", DEFAULT, "--out", target, "--force", "-n", "1", "--executor", "serial"))
    assert "exists and is not a folder" in line
    assert target.read_text() == "a planner's file" and hidden(tmp_path) == []


def test_force_refuses_a_symlink(tmp_path):
    real = fake_results(tmp_path / "real")
    (tmp_path / "out").symlink_to(real)
    with pytest.raises(ResultsExistError, match="symbolic link"):
        with AtomicFolder(tmp_path / "out", force=True):
            pass
    assert verify_folder(real) and (tmp_path / "out").is_symlink()


def test_force_replaces_an_empty_folder_or_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    for name in ("empty", "new"):
        with AtomicFolder(tmp_path / name, force=True) as tmp:
            (tmp / "x.txt").write_text("x")
        assert (tmp_path / name / "x.txt").is_file() and hidden(tmp_path, name) == []


def test_out_dot_is_refused_before_the_run(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    for args in (["--out", "."], ["--out", ".", "--force"], ["--out", ".."]):
        line = one_error_line(run_cli("run", DEFAULT, *args, "-n", "1", "--executor", "serial", cwd=work))
        assert "working folder" in line, line
    assert list(work.iterdir()) == [] and [p.name for p in tmp_path.iterdir()] == ["work"]


# ---- 2. the final move re-checks the target -------------------------------------------------

def test_concurrent_runs_to_the_same_target(tmp_path):
    """Both started while the target was absent: the first to finish wins, the second is kept aside."""
    target = tmp_path / "out"
    first, second = AtomicFolder(target), AtomicFolder(target)
    a, b = first.__enter__(), second.__enter__()
    fake_results(a, "first")
    fake_results(b, "second")
    first.__exit__(None, None, None)
    with pytest.raises(ResultsKeptElsewhere, match="appeared while this run was writing") as info:
        second.__exit__(None, None, None)
    assert (target / "summary.csv").read_text() == "first"
    kept = info.value.kept
    assert kept.name.startswith("out.kept-") and (kept / "summary.csv").read_text() == "second"
    verify_folder(kept)
    assert hidden(tmp_path) == []


def test_cli_says_where_the_results_went_when_the_target_appeared(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from sim.cli import app

    target = tmp_path / "out"
    real = sim.experiments.pipeline.write_summary

    def other_run_finishes_first(summary, path):
        fake_results(target, "the other run")
        real(summary, path)

    monkeypatch.setattr(sim.experiments.pipeline, "write_summary", other_run_finishes_first)
    scenario = tmp_path / "small.toml"
    scenario.write_text(f'base = "{DEFAULT.as_posix()}"\n[meta]\nname = "small"\n'
                        "[population]\npersons_65plus = 200\n[simulation]\nyears = 0.1\nwarmup_years = 0.1\n")
    result = CliRunner().invoke(app, ["run", str(scenario), "--out", str(target), "-n", "1", "--executor", "serial"])
    assert result.exit_code == 2, result.output
    assert "appeared while this run was writing" in result.output and "out.kept-" in result.output
    assert "nothing written" not in result.output
    assert (target / "summary.csv").read_text() == "the other run"
    (kept,) = tmp_path.glob("out.kept-*")
    assert verify_folder(kept)["replications"] == 1


# ---- 3. a signal at every instant of the commit ---------------------------------------------

COMMIT = textwrap.dedent("""
    import importlib.util, os, shutil, signal, sys
    from concurrent.futures import ProcessPoolExecutor

    # The module alone (it imports only the standard library): starting the whole package
    # in each of these subprocesses would take most of the test's time.
    spec = importlib.util.spec_from_file_location("results", sys.argv[5])
    R = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(R)
    target, step, how, where = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

    def fake_results(folder, text):
        (folder / "summary.csv").write_text(text)
        (folder / "sub").mkdir()
        (folder / "sub" / "part.txt").write_text(text * 3)
        R.write_manifest(folder, {"tool": "narvard-sim", "seed": 1, "replications": 1, "paradigms": ["intervention"],
                                  "scenario": {"simulation": {"warmup_years": 0.1, "years": 0.2}}})
    sig = getattr(signal, "SIG" + how)

    def terminate(signum, frame):  # the CLI's SIGTERM handler
        raise KeyboardInterrupt(signum)

    signal.signal(signal.SIGTERM, terminate)
    pool = None
    if how != "KILL":  # a live process pool: its threads take signals too
        pool = ProcessPoolExecutor(2)
        pool.submit(int, 1).result()
        thread = pool._executor_manager_thread
    calls = [0]

    def fire():
        if where == "thread":
            signal.pthread_kill(thread.ident, sig)
        else:
            os.kill(os.getpid(), sig)

    def counted(fn):
        def wrapped(*args, **kwargs):
            calls[0] += 1
            if calls[0] == step:
                fire()
            return fn(*args, **kwargs)
        return wrapped

    written, said = False, None  # written: what the CLI knows (the pipeline returned)
    try:
        folder = R.AtomicFolder(target, force=True)
        with folder as tmp:
            fake_results(tmp, "new")
            os.rename, os.replace, shutil.rmtree = counted(os.rename), counted(os.replace), counted(shutil.rmtree)
        written = True
        calls[0] += 1
        if calls[0] <= step:
            fire()
        said = "DONE"
    except R.InterruptedAfterCommit:
        said = "INTERRUPTED written"
    except KeyboardInterrupt:  # a bare interrupt out of the with block after the commit is the bug of 5cffd2d
        said = ("INTERRUPTED written" if written
                else "BARE AFTER COMMIT" if folder.committed else "INTERRUPTED nothing written")
    finally:
        # A late signal must not interrupt the test's clean-up. A no-op handler, not SIG_IGN: a signal
        # already tripped but not yet handled would then raise "ignored due to race condition"; and
        # one handled while the handlers are being swapped is simply late: swap them again.
        while True:
            try:
                signal.signal(signal.SIGTERM, lambda signum, frame: None)
                signal.signal(signal.SIGINT, lambda signum, frame: None)
                break
            except KeyboardInterrupt:
                continue
        if said is None:  # a signal handled late, inside an except clause
            said = "INTERRUPTED written" if written or folder.committed else "INTERRUPTED nothing written"
        print(said, flush=True)
        if pool is not None:
            pool.shutdown()
""")


def commit_with_signal(tmp_path: Path, step: int, how: str, where: str, earlier: bool) -> tuple[Path, str]:
    target = tmp_path / "out"
    if earlier:
        fake_results(target, "earlier")
    proc = subprocess.run([sys.executable, "-c", COMMIT, str(target), str(step), how, where, results.__file__],
                          cwd=ROOT, capture_output=True, text=True, timeout=WAIT)
    if how == "KILL":
        assert proc.returncode == -9, proc.stderr
    else:
        assert "Traceback" not in proc.stderr, proc.stderr
    return target, proc.stdout.strip()


def content(target: Path) -> str:
    verify_folder(target)  # complete: every file as the manifest says
    return (target / "summary.csv").read_text()


# The commit is at most four file operations (three renames and the deletion of the old
# folder); step 5 signals just after it.
STEPS = range(1, 6)


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize(("how", "where"), [("TERM", "thread"), ("INT", "thread"), ("TERM", "process")])
@pytest.mark.parametrize("earlier", [True, False], ids=["replacing", "first"])
def test_signal_at_each_instant_of_the_commit(tmp_path, step, how, where, earlier):
    target, said = commit_with_signal(tmp_path, step, how, where, earlier)
    assert hidden(tmp_path) == []
    now = content(target)
    assert said != "BARE AFTER COMMIT"  # committed, so AtomicFolder must say so (InterruptedAfterCommit)
    if said in ("DONE", "INTERRUPTED written"):
        assert now == "new", said
    else:
        assert said == "INTERRUPTED nothing written" and now == "earlier", (said, now)


def test_a_signal_while_the_callers_handlers_are_put_back_says_the_results_are_there(tmp_path, monkeypatch):
    """After the commit the held handlers are swapped back; a signal handled in between is after the commit.

    (Under load a signal sent to a pool's thread is handled whenever that thread is scheduled:
    here it is made to come exactly as the caller's SIGINT handler is put back.)
    """
    def interrupt(signum, frame):
        raise KeyboardInterrupt(signum)

    real = signal.signal

    def restoring(signum, handler):
        old = real(signum, handler)
        if handler is interrupt:  # the caller's handler is back, the commit is done: the signal comes now
            signal.raise_signal(signal.SIGINT)
        return old

    target = fake_results(tmp_path / "out", "earlier")
    previous = real(signal.SIGINT, interrupt)
    try:
        monkeypatch.setattr(signal, "signal", restoring)
        with pytest.raises(KeyboardInterrupt) as raised:  # not pytest's own Ctrl-C if this fails
            with AtomicFolder(target, force=True) as tmp:
                fake_results(tmp, "new")
    finally:
        monkeypatch.undo()
        real(signal.SIGINT, previous)
    assert isinstance(raised.value, results.InterruptedAfterCommit), repr(raised.value)
    assert content(target) == "new" and hidden(tmp_path) == []


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("earlier", [True, False], ids=["replacing", "first"])
def test_sigkill_at_each_instant_then_the_next_run_tidies(tmp_path, step, earlier):
    target, _ = commit_with_signal(tmp_path, step, "KILL", "process", earlier)
    remove_stale(target)  # what the next run to the target does first
    assert content(target) in ({"new"} if not earlier and step > 1 else {"earlier", "new"})
    assert hidden(tmp_path) == []


def test_next_run_puts_back_an_earlier_folder_and_says_so(tmp_path):
    """SIGKILL between the renames: the next run without --force restores it and refuses."""
    target, _ = commit_with_signal(tmp_path, 2, "KILL", "process", True)
    assert not target.exists() and len(hidden(tmp_path)) == 2
    with pytest.raises(ResultsExistError, match="put back from an interrupted earlier run"):
        with AtomicFolder(target):
            pass
    assert content(target) == "earlier" and hidden(tmp_path) == []


def test_cleanup_keeps_an_old_folder_when_the_target_is_not_complete(tmp_path):
    target, _ = commit_with_signal(tmp_path, 2, "KILL", "process", True)
    target.mkdir()  # something else appeared at the target: the .old is the only complete copy
    (target / "half.txt").write_text("?")
    remove_stale(target)
    (old,) = [p for p in tmp_path.iterdir() if p.name.startswith(".out.old-")]
    assert (old / "summary.csv").read_text() == "earlier"


def test_a_killed_runs_trash_is_deleted(tmp_path):
    target, _ = commit_with_signal(tmp_path, 4, "KILL", "process", True)
    assert [n.split("-")[0] for n in hidden(tmp_path)] == [".out.trash"]
    assert content(target) == "new"
    remove_stale(target)
    assert hidden(tmp_path) == [] and os.listdir(tmp_path) == ["out"]
