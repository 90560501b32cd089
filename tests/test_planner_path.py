"""End to end: the planner's path, from a folder of their own outside the repository.

Tier: end-to-end. The installed ``narvard`` command, run as a separate process in a temporary
folder: write a what-if (``scenario new``), edit it as a person would (uncomment and change
lines), check it (``scenario show``), run both care systems at a small size (``compare``),
read the table, and measure the pilots' designs (``measure``). Real files throughout; the
repository is never written to.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
NARVARD = Path(sys.executable).parent / "narvard"


def narvard(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run([str(NARVARD), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def edit(text: str, values: dict[str, str]) -> str:
    """Uncomment the hint line of each field and set its value; add the fields that have no hint."""
    for field, value in values.items():
        hint = re.compile(rf"^# {re.escape(field)} = .*$", re.M)
        if hint.search(text):
            text = hint.sub(f"{field} = {value}", text, count=1)
        else:
            text = text.replace("\n[meta]", f"\n{field} = {value}\n[meta]", 1)
    return text


def test_the_planners_path(tmp_path):
    home = tmp_path / "planning"
    home.mkdir()
    assert not home.resolve().is_relative_to(ROOT)

    new = narvard("scenario", "new", "fewer_beds", cwd=home)
    assert new.returncode == 0, new.stderr
    path = home / "fewer_beds.toml"
    text = path.read_text()
    assert "base = " in text and "default" in text

    # The planner's edit: fewer beds; a small area so that the test is quick (the pilots' designs
    # need the default 1 + 3 years).
    path.write_text(edit(text, {
        "capacity.beds": "6",
        "capacity.short_term_places": "4",
        "population.persons_65plus": "1200",
        "population.entrants_per_year": "56.0",
        "simulation.replications": "2",
        "concepts.home_physician.prevent_share": "0.1",  # a calibrated field: the planner's value wins
    }))

    show = narvard("scenario", "show", path.name, cwd=home)
    assert show.returncode == 0, show.stderr
    beds = next(line for line in show.stdout.splitlines() if line.startswith("beds = "))
    assert beds.startswith("beds = 6") and "this file" in beds
    prevent = [line for line in show.stdout.splitlines() if line.startswith("prevent_share = 0.1 ")]
    assert prevent and "this file" in prevent[0]

    compare = narvard("compare", path.name, "--executor", "serial", cwd=home)
    assert compare.returncode == 0, compare.stderr
    results = home / "results" / "fewer_beds"
    for name in ("summary.csv", "events.parquet", "manifest.json", "replications.csv", "data_dictionary.md"):
        assert (results / name).is_file(), name
    screen = compare.stdout
    assert max(len(line) for line in screen.splitlines() if not line.startswith("results written")) <= 80
    assert "bed_occupancy" in screen and "avoidable_admissions" in screen and "Limits" in screen
    summary = pd.read_csv(results / "summary.csv")
    occ = summary[(summary.metric == "bed_occupancy") & (summary.paradigm == "intervention")]["mean"].iloc[0]
    assert f"{100 * occ:.1f} %" in screen

    measure = narvard("measure", "results/fewer_beds", cwd=home)
    assert measure.returncode == 0, measure.stderr
    assert (results / "measures.csv").is_file()
    assert "SKA-1" in measure.stdout

    again = narvard("summary", "results/fewer_beds", "--metrics", "bed_days,bed_occupancy", cwd=home)
    assert again.returncode == 0 and "bed_occupancy" in again.stdout and "admissions " not in again.stdout

    # nothing written into the repository or the current folder's neighbours
    assert not (ROOT / "results" / "fewer_beds").exists() and not (ROOT / "fewer_beds.toml").exists()
    assert sorted(p.name for p in home.iterdir()) == ["fewer_beds.toml", "results"]
