"""Functional: ``narvard reproduce`` re-runs a results folder from its manifest.

Tier: functional. Exit 0 when summary.csv comes out byte-identical (also on another
executor than the original run), 1 when it does not (parameters edited in the manifest), 2 for
a folder that was changed since the run or parameters that cannot be re-run. The manifest
records everything a re-run needs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.config import scenario_hash
from sim.experiments.executor import Executor, ProcessExecutor
from sim.experiments.pipeline import simulate_to_folder
from sim.output.results import MANIFEST, SUMMARY, read_manifest
from sim.reproduce import reproduce
from tests.conftest import small_scenario


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("orig") / "res"
    s = small_scenario(persons=500, years=0.4, warmup=0.2, replications=3, seed=11)
    simulate_to_folder(s, ("intervention", "person"), out, False, Executor(), command="compare")
    return out


@pytest.fixture
def copy(original, tmp_path) -> Path:
    return Path(shutil.copytree(original, tmp_path / "res"))


def invoke(*args):
    return CliRunner().invoke(app, ["reproduce", *map(str, args)])


def test_manifest_records_what_a_rerun_needs(original):
    m = read_manifest(original)
    for key in ("scenario", "scenario_sha256", "seed", "replications", "paradigms", "version", "dependencies"):
        assert key in m, key
    for dep in ("python", "simpy", "numpy", "scipy", "pandas", "pyarrow", "pydantic"):
        assert m["dependencies"][dep] not in ("", "not installed"), dep
    assert m["scenario"]["simulation"]["seed"] == m["seed"] == 11
    assert m["scenario"]["simulation"]["replications"] == m["replications"] == 3


def test_identical_on_another_executor(original):
    with ProcessExecutor(2) as ex:
        r = reproduce(original, ex)
    assert r.identical and r.events_identical and r.hash_matches


def test_cli_exit_0_when_identical(original):
    res = invoke(original, "--executor", "serial")
    assert res.exit_code == 0, res.output
    assert "summary.csv: byte-identical" in res.output


def test_cli_names_versions_that_differ_even_when_identical(copy):
    m = json.loads((copy / MANIFEST).read_text())
    m["dependencies"]["numpy"] = "0.0.1"
    (copy / MANIFEST).write_text(json.dumps(m))
    res = invoke(copy, "--executor", "serial")
    assert res.exit_code == 0, res.output
    assert "numpy: 0.0.1 then" in res.output and "summary.csv: byte-identical" in res.output


def test_cli_refuses_a_changed_summary(copy):
    text = (copy / SUMMARY).read_text()
    (copy / SUMMARY).write_text(text.replace(",", ";", 1))
    res = invoke(copy, "--executor", "serial")
    assert res.exit_code == 2, res.output
    assert f"{copy / SUMMARY}: changed since narvard wrote it" in res.output


def test_edited_parameters_differ_and_are_noticed(copy):
    m = json.loads((copy / MANIFEST).read_text())
    m["scenario"]["hospital"]["los_cv"] = 0.5
    (copy / MANIFEST).write_text(json.dumps(m))
    r = reproduce(copy)
    assert not r.hash_matches
    assert not r.identical and r.events_identical is False
    res = invoke(copy, "--executor", "serial")
    assert res.exit_code == 1
    assert "no longer hash to 'scenario_sha256'" in res.output


def test_invalid_parameters_exit_2(copy):
    m = json.loads((copy / MANIFEST).read_text())
    m["scenario"]["capacity"]["beds"] = 0
    (copy / MANIFEST).write_text(json.dumps(m))
    res = invoke(copy, "--executor", "serial")
    assert res.exit_code == 2
    assert "manifest.json (scenario): capacity.beds: Input should be greater than 0" in res.output


@pytest.mark.parametrize("breakage", ["no summary", "no manifest", "foreign manifest", "unknown paradigm"])
def test_broken_folder_exit_2(copy, breakage):
    if breakage == "no summary":
        (copy / SUMMARY).unlink()
    elif breakage == "no manifest":
        (copy / MANIFEST).unlink()
    elif breakage == "foreign manifest":
        (copy / MANIFEST).write_text('{"tool": "other"}')
    else:
        m = json.loads((copy / MANIFEST).read_text())
        m["paradigms"] = ["intervention", "holistic"]
        (copy / MANIFEST).write_text(json.dumps(m))
    res = invoke(copy, "--executor", "serial")
    assert res.exit_code == 2, res.output
    assert res.output.startswith("error: ") and str(copy) in res.output


def test_keep_writes_the_rerun(original, tmp_path):
    res = invoke(original, "--executor", "serial", "--out", tmp_path / "again")
    assert res.exit_code == 0, res.output
    again = read_manifest(tmp_path / "again")
    assert again["command"] == "reproduce"
    assert again["scenario_sha256"] == read_manifest(original)["scenario_sha256"]
    assert (tmp_path / "again" / SUMMARY).read_bytes() == (original / SUMMARY).read_bytes()
    # An existing --out is kept unless --force.
    res = invoke(original, "--executor", "serial", "--out", tmp_path / "again")
    assert res.exit_code == 2 and "use --force" in res.output


def test_scenario_hash_is_of_the_resolved_parameters(original):
    from sim.config.loader import validate

    m = read_manifest(original)
    assert scenario_hash(validate(m["scenario"], "m")) == m["scenario_sha256"]


def test_reproduce_reports_each_replication_to_its_progress_callback(tmp_path):
    from sim.experiments.executor import Executor
    from sim.experiments.pipeline import simulate_to_folder
    from sim.reproduce import reproduce
    from tests.conftest import small_scenario

    folder = tmp_path / "r"
    sc = small_scenario(persons=300, years=0.5, replications=2)
    simulate_to_folder(sc, ("intervention",), folder, False, Executor())
    seen = []
    result = reproduce(folder, Executor(), progress=seen.append)
    assert len(seen) == 2 and result.identical


def test_scenario_hash_does_not_depend_on_key_order(tmp_path):
    import re

    from sim.config import load_scenario
    from sim.config.loader import legacy_scenario_hash
    from sim.config.paths import bundled

    text = bundled("scenarios/default.toml").read_text()
    # A mapping (the transitions out of a stratum) with its entries in reverse order.
    m = re.search(r"transition_rates_per_year\.\w+ = \{ ([^{}]+, [^{}]+) \}", text)
    entries = m.group(1).split(", ")
    (tmp_path / "a.toml").write_text(text)
    (tmp_path / "b.toml").write_text(text[:m.start(1)] + ", ".join(reversed(entries)) + text[m.end(1):])
    a, b = load_scenario(tmp_path / "a.toml"), load_scenario(tmp_path / "b.toml")
    assert a == b
    assert legacy_scenario_hash(a) != legacy_scenario_hash(b)  # the file's key order reached the old hash
    assert scenario_hash(a) == scenario_hash(b)
