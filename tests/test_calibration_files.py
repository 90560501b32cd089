"""The calibration's and the ensemble's outputs are never lost or half-written.

Committed outputs are not replaced by a first run without a study; the outputs are replaced as
one set (a kill at any instant leaves the whole old or the whole new set); an interrupt leaves
the study resumable; a resumed study does not replay the sampler's start-up points.
"""

from __future__ import annotations

import builtins
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.experiments.calibration.fileset import STAGING_PREFIX, recover, write_set
from tests.test_calibration import _cli_folder, _study_trials, scenario_data, targets

OUTPUTS = ("fitted.toml", "fit.csv", "fit_detail.csv", "fit.html", "trials.csv", "identifiability.csv",
           "fit.md", "identifiability.html")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _cli(*args: str):
    from typer.testing import CliRunner

    from sim.cli import app

    return CliRunner().invoke(app, list(args))


def test_a_first_run_without_a_study_keeps_the_committed_outputs_unless_fresh(tmp_path):
    tf = _cli_folder(tmp_path)
    args = ["calibrate", str(tf), "--executor", "serial", "--profile", "0"]
    assert _cli(*args).exit_code == 0
    (tmp_path / "optuna.sqlite3").unlink()  # as in a fresh clone: the outputs are committed, the study is not
    before = _snapshot(tmp_path)
    for extra in ([], ["--resume"], ["--budget", "2"]):
        res = _cli(*args, *extra)
        assert res.exit_code == 2, res.output
        msg = res.output.strip()
        assert len(msg.splitlines()) == 1 and "--fresh" in msg and "trials.csv" in msg and "fitted.toml" in msg, msg
        assert _snapshot(tmp_path) == before  # nothing replaced, no study created
    res = _cli(*args, "--fresh", "--budget", "2")
    assert res.exit_code == 0, res.output
    assert len((tmp_path / "trials.csv").read_text().splitlines()) == 1 + 2
    assert _study_trials(tmp_path / "optuna.sqlite3") == 2


def test_the_search_does_not_replace_the_posteriors_fitted_toml_even_when_fresh(tmp_path):
    """fitted.toml written by `narvard posterior` is the overlay every scenario loads: calibrate refuses it."""
    tf = _cli_folder(tmp_path)
    header = "# Written by `narvard posterior --write-fitted` (sim/experiments/calibration/posterior.py) from the\n"
    (tmp_path / "fitted.toml").write_text(header + "\n[concepts.mobile_team]\nprevent_share = 0.3\n")
    before = _snapshot(tmp_path)
    res = _cli("calibrate", str(tf), "--executor", "serial", "--profile", "0", "--fresh", "--budget", "2")
    assert res.exit_code == 2, res.output
    msg = res.output.strip()
    assert len(msg.splitlines()) == 1 and "narvard posterior" in msg and "--out" in msg, msg
    assert _snapshot(tmp_path) == before  # nothing replaced, no study created
    # in a folder of its own the search runs
    res = _cli("calibrate", str(tf), "--executor", "serial", "--profile", "0", "--budget", "2",
               "--out", str(tmp_path / "search"))
    assert res.exit_code == 0, res.output
    assert (tmp_path / "search" / "fitted.toml").is_file() and _snapshot(tmp_path) == before


def _trace_kill_after(lines: int, module_file: str):
    """A trace function that ends the process (as SIGKILL would: no clean-up) after ``lines`` lines of the module."""
    count = [0]

    def tracer(frame, event, arg):
        if frame.f_code.co_filename != module_file:
            return None
        if event == "line":
            count[0] += 1
            if count[0] >= lines:
                os._exit(9)
        return tracer

    return tracer


def _write_in_child(folder: Path, files: dict[str, str], members: tuple[str, ...], kill_after: int) -> int:
    """Run write_set in a forked child killed after ``kill_after`` executed lines of fileset.py; its exit code."""
    import sim.experiments.calibration.fileset as fileset

    pid = os.fork()
    if pid == 0:  # the child
        try:
            sys.settrace(_trace_kill_after(kill_after, fileset.__file__))
            write_set(folder, files, members)
            sys.settrace(None)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork to kill a writer at each line")
def test_a_writer_killed_at_any_line_leaves_the_whole_old_or_the_whole_new_set(tmp_path):
    members = ("fitted.toml", "trials.csv", "profile.csv")
    old = {"fitted.toml": "[concepts.mobile_team]\nprevent_share = 0.1\n", "trials.csv": "trial,loss\n0,1\n",
           "profile.csv": "parameter,value\n"}
    new = {"fitted.toml": "[concepts.mobile_team]\nprevent_share = 0.2\n" + "# padding\n" * 5000,
           "trials.csv": "trial,loss\n" + "".join(f"{i},{i}\n" for i in range(3000))}  # no profile: removed
    seen = set()
    k = 1
    while True:
        folder = tmp_path / f"k{k}"
        folder.mkdir()
        for name, text in old.items():
            (folder / name).write_text(text)
        (folder / "notes.txt").write_text("the planner's own file")
        code = _write_in_child(folder, new, members, k)
        # at the instant of the kill every file present is whole: the old or the new version
        for name in members:
            p = folder / name
            if p.exists():
                assert p.read_text() in (old.get(name), new.get(name)), (k, name)
        recover(folder)
        now = {p.name: p.read_text() for p in folder.iterdir() if p.name in members}
        assert now in (old, new), (k, sorted(now))
        assert (folder / "notes.txt").read_text() == "the planner's own file"
        assert not list(folder.glob(STAGING_PREFIX + "*")), k
        seen.add("new" if now == new else "old")
        if code == 0:
            break
        assert code == 9, code
        k += 1
    assert seen == {"old", "new"} and k > 20  # killed both before and after the commit, at every line


def _interrupt_nth_write(monkeypatch, folder: Path, n: int) -> list[str]:
    """Raise KeyboardInterrupt (as SIGINT does) at the n-th file opened for writing under ``folder``."""
    opened: list[str] = []
    real = builtins.open

    def fake_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax") and isinstance(file, str | os.PathLike) and \
                Path(file).resolve().is_relative_to(folder.resolve()):
            opened.append(str(file))
            if len(opened) == n:
                raise KeyboardInterrupt
        return real(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    return opened


def test_an_interrupt_while_calibrate_writes_keeps_the_old_set_and_the_study(tmp_path, monkeypatch):
    from sim.config.loader import resolve
    from sim.experiments.calibration.fit import calibrate
    from sim.experiments.executor import Executor
    from sim.measure.targets import load_targets

    tf_path = _cli_folder(tmp_path)
    assert _cli("calibrate", str(tf_path), "--executor", "serial", "--profile", "0").exit_code == 0
    before = _snapshot(tmp_path)
    store = before.pop("optuna.sqlite3")
    assert store and set(OUTPUTS) <= set(before)
    tf = load_targets(tf_path)
    data = resolve(tmp_path / "scenario.toml")
    for n in (1, 3, 6):
        with monkeypatch.context() as m:
            opened = _interrupt_nth_write(m, tmp_path, n)
            with pytest.raises(KeyboardInterrupt):
                calibrate(tf, data, tmp_path, Executor(), workers=1, budget=2, resume=True)
        assert len(opened) == n
        after = _snapshot(tmp_path)
        after.pop("optuna.sqlite3")
        assert after == before, n  # byte-identical: nothing of the new set
        assert not list(tmp_path.glob(STAGING_PREFIX + "*"))
    assert _study_trials(tmp_path / "optuna.sqlite3") == 2  # the trial the interrupted runs made is kept
    res = calibrate(tf, data, tmp_path, Executor(), workers=1, budget=2, resume=True)
    assert len(res.trials) == 2
    assert (tmp_path / "trials.csv").read_bytes() != before["trials.csv"]


def test_an_interrupt_while_the_ensemble_writes_keeps_both_old_files(tmp_path, monkeypatch):
    tf_path = _cli_folder(tmp_path)
    assert _cli("calibrate", str(tf_path), "--executor", "serial", "--profile", "0", "--budget", "2").exit_code == 0
    args = ["ensemble", str(tf_path), "--executor", "serial", "-n", "1", "--top", "1"]
    assert _cli(*args).exit_code == 0
    (tmp_path / "ensemble.csv").write_text("old csv\n")  # marks the old set
    (tmp_path / "ensemble.md").write_text("old md\n")
    with monkeypatch.context() as m:
        opened = _interrupt_nth_write(m, tmp_path, 2)
        res = _cli(*args)
    assert res.exit_code == 130 and len(opened) == 2, res.output
    assert (tmp_path / "ensemble.csv").read_text() == "old csv\n"
    assert (tmp_path / "ensemble.md").read_text() == "old md\n"
    assert _cli(*args).exit_code == 0
    assert (tmp_path / "ensemble.md").read_text() != "old md\n"


def _square(scenario_data, params, replications, targets) -> dict:
    """A cheap objective for the search (no simulation)."""
    return {"loss": sum((v - 0.3) ** 2 for v in params.values()), "measures": [], "seconds": 0.0}


def test_a_resumed_study_does_not_replay_the_sampled_points(tmp_path):
    from sim.experiments.calibration.search import search
    from sim.experiments.calibration.study import fingerprint, open_study
    from sim.experiments.executor import Executor

    tf = targets()
    prints = fingerprint(scenario_data(), tf, [0])
    store = tmp_path / "optuna.sqlite3"
    for n in range(1, 9):  # eight processes of one trial each, as eight --resume runs would be
        study = open_study(store, "narvard", 0, resume=n > 1, prints=prints)
        search(study, None, tf, tf.calibration.parameters, n, [0], Executor(), workers=1, objective=_square)
    points = [tuple(sorted(t.params.items())) for t in study.get_trials()]
    assert len(points) == 8
    assert len(set(points)) == 8, points
    # a new study is still reproducible from its seed
    again = open_study(tmp_path / "again.sqlite3", "narvard", 0, resume=False, prints=prints)
    search(again, None, tf, tf.calibration.parameters, 1, [0], Executor(), workers=1, objective=_square)
    assert tuple(sorted(again.trials[0].params.items())) == points[0]


@pytest.mark.parametrize(("executor", "signum"), [("serial", signal.SIGTERM), ("processes", signal.SIGINT)])
def test_a_signal_during_calibrate_leaves_the_outputs_and_a_resumable_study(tmp_path, executor, signum):
    tf_path = _cli_folder(tmp_path)
    assert _cli("calibrate", str(tf_path), "--executor", "serial", "--profile", "0").exit_code == 0
    before = _snapshot(tmp_path)
    before.pop("optuna.sqlite3")
    cmd = [sys.executable, "-m", "sim", "calibrate", str(tf_path), "--executor", executor, "--workers", "2",
           "--profile", "0", "--resume", "--budget", "200"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    lines = []
    deadline = time.monotonic() + 120
    for line in proc.stderr:  # wait until the resumed study has finished two more trials
        lines.append(line)
        if sum(x.startswith("trial ") for x in lines) >= 2 or time.monotonic() > deadline:
            break
    proc.send_signal(signum)  # to the main process only, as `kill` would
    rest = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130, "".join(lines) + rest
    assert "--resume" in rest
    after = _snapshot(tmp_path)
    after.pop("optuna.sqlite3")
    assert after == before
    done = _study_trials(tmp_path / "optuna.sqlite3")
    assert done >= 3
    res = _cli("calibrate", str(tf_path), "--executor", "serial", "--profile", "0", "--resume",
               "--budget", str(done))
    assert res.exit_code == 0, res.output
    assert len((tmp_path / "trials.csv").read_text().splitlines()) >= 1 + 3


def _network_references(html: str) -> list[str]:
    import re

    return re.findall(r'<(?:script|link)[^>]*(?:src|href)\s*=\s*["\']?(?:https?:)?//[^"\'> ]*', html)


def test_the_charts_open_offline_and_can_be_rendered_again_from_the_csvs(tmp_path):
    from sim.experiments.calibration.output import rewrite_charts
    from sim.measure.targets import load_targets

    tf_path = _cli_folder(tmp_path)
    assert _cli("calibrate", str(tf_path), "--executor", "serial", "--profile", "0", "--budget", "2").exit_code == 0
    for name in ("fit.html", "identifiability.html"):
        html = (tmp_path / name).read_text()
        assert "Plotly.newPlot" in html and _network_references(html) == [], name
        (tmp_path / name).unlink()
    written = rewrite_charts(tmp_path, load_targets(tf_path).calibration)
    assert sorted(p.name for p in written) == ["fit.html", "identifiability.html"]
    html = (tmp_path / "identifiability.html").read_text()
    assert _network_references(html) == [] and "Identifiability: loss against each parameter" in html
    assert _network_references('<script src="https://cdn.plot.ly/plotly-2.35.2.min.js"></script>')  # the check bites


def test_recover_leaves_a_running_writers_staging_alone(tmp_path):
    live = tmp_path / f"{STAGING_PREFIX}{os.getppid()}"  # our parent: alive
    live.mkdir()
    (live / "fitted.toml").write_text("being written")
    dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout.strip()
    dead = tmp_path / f"{STAGING_PREFIX}{dead_pid}"
    dead.mkdir()
    (dead / "fitted.toml").write_text("left by a killed run")
    done = recover(tmp_path)
    assert live.is_dir() and not dead.exists() and len(done) == 1 and "uncommitted" in done[0]


def test_charts_only_renders_the_uncommitted_charts_from_the_committed_csvs(tmp_path):
    import shutil

    import numpy as np
    import pandas as pd

    from sim.measure.targets import load_targets

    root = Path(__file__).resolve().parents[1] / "calibration"
    shutil.copy(root / "fit.csv", tmp_path / "fit.csv")  # the committed fit (now written with the posterior's point)
    # trials.csv is no longer committed (the posterior makes fitted.toml): a small study's trials in its format
    params = load_targets(root / "targets.toml").calibration.parameters
    rng = np.random.default_rng(0)
    pd.DataFrame({"trial": range(12), "loss": rng.uniform(0, 5, 12),
                  **{k: rng.uniform(p.low, p.high, 12) for k, p in params.items()}}).to_csv(tmp_path / "trials.csv",
                                                                                         index=False)
    cmd = [sys.executable, "-m", "sim", "calibrate", "--charts-only", "--out", str(tmp_path), "--executor", "serial"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for name in ("fit.html", "identifiability.html"):
        html = (tmp_path / name).read_text()
        assert "<script src=" not in html and "plotly" in html
    empty = tmp_path / "empty"
    empty.mkdir()
    done = subprocess.run(cmd[:-4] + ["--out", str(empty), "--executor", "serial"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "fit.csv" in done.stderr
