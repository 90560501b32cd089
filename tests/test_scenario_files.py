"""Unit: loading scenario files: precedence, origins, bundled paths, and bounded, blocking-free reads.

Tier: unit, on real files in temporary folders outside the repository (``tmp_path``). Each
refusal is one :class:`ScenarioError` line naming the file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sim.config.loader as loader
from sim.config import ScenarioError, load_scenario
from sim.config.loader import MAX_CHAIN, MAX_NESTING, overlay_warnings, resolve, resolve_sources
from sim.config.paths import bundled, default_results_dir, project_root
from sim.experiments.pipeline import load
from tests.conftest import DEFAULT, ROOT

FITTED = ROOT / "calibration" / "fitted.toml"


def one_line(exc: pytest.ExceptionInfo, path) -> str:
    lines = str(exc.value).splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{path}: "), lines[0]
    return lines[0]


# --- precedence: what the planner writes wins -------------------------------------------------

def test_own_values_win_over_base_and_calibrated_overlay(tmp_path):
    mine = tmp_path / "mine.toml"
    mine.write_text('base = ["narvard:scenarios/default.toml"]\n[meta]\nname = "mine"\n'
                    "[concepts.mobile_team]\nmax_enrolment_days = 60.0\nprevent_share = 0.10\n"
                    "[capacity]\nbeds = 96\n")
    s = load_scenario(mine)
    assert s.concepts.mobile_team.max_enrolment_days == 60.0
    assert s.concepts.mobile_team.prevent_share == 0.10
    assert s.capacity.beds == 96
    # the fields not written keep the calibrated values
    fitted = loader.read_toml(FITTED)
    assert s.concepts.mobile_team.los_multiplier == fitted["concepts"]["mobile_team"]["los_multiplier"]


def test_overlay_in_the_same_file_yields_to_the_files_own_values(tmp_path):
    (tmp_path / "over.toml").write_text("[capacity]\nbeds = 10\nshort_term_places = 7\n")
    (tmp_path / "s.toml").write_text(f'base = "{DEFAULT.as_posix()}"\noverlay = "over.toml"\n'
                                     "[capacity]\nbeds = 99\n")
    s = load_scenario(tmp_path / "s.toml")
    assert (s.capacity.beds, s.capacity.short_term_places) == (99, 7)


def test_origins_name_the_file_a_base_and_the_overlay(tmp_path):
    mine = tmp_path / "mine.toml"
    mine.write_text('base = ["narvard:scenarios/default.toml"]\n[capacity]\nbeds = 96\n'
                    "[concepts.mobile_team]\nprevent_share = 0.10\n")
    r = resolve_sources(mine)
    beds = r.origins[("capacity", "beds")]
    assert (beds[-1].via, beds[-1].file, beds[-1].value) == ("file", mine.resolve(), 96)
    assert (beds[0].via, beds[0].file) == ("base", DEFAULT.resolve())
    seed = r.origins[("simulation", "seed")]
    assert [(o.via, o.file) for o in seed] == [("base", DEFAULT.resolve())]
    los = r.origins[("concepts", "mobile_team", "los_multiplier")]
    assert [(o.via, o.file) for o in los] == [("overlay", FITTED.resolve())]
    prevent = r.origins[("concepts", "mobile_team", "prevent_share")]
    assert [o.via for o in prevent] == ["overlay", "file"]
    assert overlay_warnings(r) == []


def test_overlay_replacing_a_value_set_in_a_users_base_is_warned(tmp_path):
    (tmp_path / "mybase.toml").write_text("[concepts.mobile_team]\nprevent_share = 0.10\n")
    (tmp_path / "s.toml").write_text('base = ["mybase.toml", "narvard:scenarios/default.toml"]\n')
    r = resolve_sources(tmp_path / "s.toml")
    assert r.data["concepts"]["mobile_team"]["prevent_share"] != 0.10
    (w,) = overlay_warnings(r)
    assert w.startswith("concepts.mobile_team.prevent_share: the overlay narvard:calibration/fitted.toml replaced 0.1")
    assert "mybase.toml" in w


def test_bundled_scenarios_do_not_set_what_their_overlay_sets():
    # With the planner's values winning, a fitted field also written in default.toml would
    # silently replace the calibration; each fitted field must be set only by the overlay.
    for f in [*sorted((ROOT / "scenarios").glob("*.toml")), ROOT / "calibration" / "scenario.toml"]:
        r = resolve_sources(f)
        for path, history in r.origins.items():
            vias = [o.via for o in history]
            assert "overlay" not in vias or vias[-1] == "overlay", (f.name, path, history)
        assert overlay_warnings(r) == []


# --- paths: a copied scenario works from any folder ----------------------------------------------

def test_copied_default_works_from_any_folder(tmp_path, monkeypatch):
    plans = tmp_path / "plans"
    plans.mkdir()
    shutil.copy(DEFAULT, plans / "default.toml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_scenario(plans / "default.toml") == load_scenario(DEFAULT)


def test_relative_references_are_resolved_against_the_file(tmp_path, monkeypatch):
    (tmp_path / "bases").mkdir()
    (tmp_path / "what").mkdir()
    (tmp_path / "bases" / "area.toml").write_text(
        'base = "narvard:scenarios/default.toml"\noverlay = "beds.toml"\n[capacity]\nshort_term_places = 33\n')
    (tmp_path / "bases" / "beds.toml").write_text("[capacity]\nbeds = 77\n")
    (tmp_path / "what" / "s.toml").write_text('base = "../bases/area.toml"\n')
    monkeypatch.chdir(tmp_path / "bases")  # a folder where a cwd-relative lookup would find other things
    s = load_scenario(tmp_path / "what" / "s.toml")
    assert (s.capacity.beds, s.capacity.short_term_places) == (77, 33)


def test_bundled_files_are_found_from_the_package(tmp_path, monkeypatch):
    from sim.measure.targets import default_targets, load_targets

    monkeypatch.chdir(tmp_path)
    assert project_root() == ROOT
    assert bundled("calibration/fitted.toml") == FITTED
    assert default_targets() == ROOT / "calibration" / "targets.toml"
    assert load_targets(default_targets()).targets


def test_results_go_beside_the_scenario_file(tmp_path):
    a = tmp_path / "a" / "default.toml"
    b = tmp_path / "b" / "default.toml"
    assert default_results_dir(a) == tmp_path / "a" / "results" / "default"
    assert default_results_dir(b) == tmp_path / "b" / "results" / "default"
    assert default_results_dir(tmp_path / "a" / "beds.toml") == tmp_path / "a" / "results" / "beds"
    # the bundled scenarios keep the project's results/<stem>
    assert default_results_dir(DEFAULT) == ROOT / "results" / "default"


# --- each file read once; cycles, depth, odd files -----------------------------------------------

def _diamonds(folder: Path, levels: int) -> Path:
    """``l0`` names ``l1`` twice, ``l1`` names ``l2`` twice, ...; the last one is the default scenario."""
    (folder / f"l{levels}.toml").write_text(f'base = "{DEFAULT.as_posix()}"\n')
    for i in range(levels - 1, -1, -1):
        (folder / f"l{i}.toml").write_text(f'base = ["l{i + 1}.toml", "l{i + 1}.toml"]\n[meta]\nname = "l{i}"\n')
    return folder / "l0.toml"


def test_each_file_is_read_once(tmp_path, monkeypatch):
    reads: list[Path] = []
    real = loader._read_bytes

    def counting(path):
        reads.append(Path(path).resolve())
        return real(path)

    monkeypatch.setattr(loader, "_read_bytes", counting)
    top = _diamonds(tmp_path, 6)
    assert load_scenario(top).meta.name == "l0"
    # 7 levels + default.toml + fitted.toml, each once (naming each twice read 2^7 files before)
    assert len(reads) == len(set(reads)) == 9


def test_forty_levels_of_double_bases_load():
    # 2^40 reads before; each of the 42 files once now. No timing assertion: it completes.
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        assert load_scenario(_diamonds(Path(tmp), 40)).meta.name == "l0"


def test_cycle_anywhere_in_the_graph(tmp_path):
    (tmp_path / "a.toml").write_text('base = ["d.toml", "b.toml"]\n')
    (tmp_path / "b.toml").write_text('base = "c.toml"\n')
    (tmp_path / "c.toml").write_text('overlay = "b.toml"\n')
    (tmp_path / "d.toml").write_text("")
    with pytest.raises(ScenarioError) as info:
        resolve(tmp_path / "a.toml")
    line = one_line(info, (tmp_path / "c.toml").resolve())
    assert line.endswith("overlay: circular base chain (b.toml -> c.toml -> b.toml)")
    (tmp_path / "self.toml").write_text('base = "self.toml"\n')
    with pytest.raises(ScenarioError, match=r"base: circular base chain \(self\.toml -> self\.toml\)"):
        resolve(tmp_path / "self.toml")


def test_a_diamond_is_not_a_cycle(tmp_path):
    (tmp_path / "a.toml").write_text('base = ["b.toml", "c.toml"]\n')
    (tmp_path / "b.toml").write_text('base = "d.toml"\n[x]\nb = 1\n')
    (tmp_path / "c.toml").write_text('base = "d.toml"\n[x]\nc = 1\n')
    (tmp_path / "d.toml").write_text("[x]\nd = 1\nb = 0\n")
    # c, resolved with its own base d, comes last: d's b = 0 arrives with it
    assert resolve(tmp_path / "a.toml") == {"x": {"d": 1, "b": 0, "c": 1}}


def test_chain_of_1100_base_files_is_refused_in_one_line(tmp_path):
    n = 1100
    for i in range(n):
        (tmp_path / f"c{i}.toml").write_text(f'base = "c{i + 1}.toml"\n' if i < n - 1 else "")
    with pytest.raises(ScenarioError) as info:
        resolve(tmp_path / "c0.toml")
    line = str(info.value)
    assert "\n" not in line
    assert f"base: more than {MAX_CHAIN} files in one chain (c0.toml -> ... -> " in line
    # a chain within the limit loads
    (tmp_path / f"c{MAX_CHAIN - 1}.toml").write_text("")
    assert resolve(tmp_path / "c0.toml") == {}


@pytest.mark.parametrize("body", [
    ".".join(["a"] * 5000) + " = 1\n",  # parses; nesting refused afterwards
    "a = " + "[" * 5000 + "]" * 5000 + "\n",  # the parser's own recursion
    "a = " + "{ a = " * 5000 + "1" + " }" * 5000 + "\n",
])
def test_toml_nested_5000_deep_is_refused_in_one_line(tmp_path, body):
    deep = tmp_path / "deep.toml"
    deep.write_text(body)
    with pytest.raises(ScenarioError) as info:
        load_scenario(deep)
    assert one_line(info, deep).endswith(f"nested more than {MAX_NESTING} levels deep (a scenario needs 4)")
    # also as someone's base
    (tmp_path / "top.toml").write_text('base = "deep.toml"\n')
    with pytest.raises(ScenarioError, match="nested more than"):
        load_scenario(tmp_path / "top.toml")


def _load_in_subprocess(path: Path) -> subprocess.CompletedProcess:
    """``narvard scenario show`` in a fresh process, so a blocking read fails the test instead of hanging it."""
    return subprocess.run([sys.executable, "-m", "sim", "scenario", "show", os.fsdecode(path)],
                          capture_output=True, text=True, timeout=60, cwd=path.parent)


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError) as info:
        load_scenario(fifo)
    assert one_line(info, fifo).endswith("not a regular file (a FIFO)")
    (tmp_path / "top.toml").write_text('base = "fifo.toml"\n')
    proc = _load_in_subprocess(tmp_path / "top.toml")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "fifo.toml: not a regular file (a FIFO)" in proc.stderr


def test_folder_symlink_loop_and_missing_are_one_line(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path)
    assert one_line(info, tmp_path).endswith("not a regular file (a folder)")
    (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
    (tmp_path / "b.toml").symlink_to(tmp_path / "a.toml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "a.toml")
    assert "cannot read: Too many levels of symbolic links" in one_line(info, tmp_path / "a.toml")
    (tmp_path / "top.toml").write_text('base = "a.toml"\n')
    with pytest.raises(ScenarioError, match="a.toml: cannot read: Too many levels of symbolic links"):
        load_scenario(tmp_path / "top.toml")


def test_non_utf8_content_is_refused_in_one_line(tmp_path):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('[meta]\nname = "x"\ndescription = "Skövde"\n'.encode("latin-1"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad)
    offset = bad.read_bytes().index(b"\xf6")
    assert one_line(info, bad).endswith(f"not UTF-8 text (byte 0xf6 at offset {offset}); save the file as UTF-8")


def test_non_utf8_file_name_is_refused_before_any_work(tmp_path):
    name = os.fsdecode(b"sk\xf6vde.toml")
    (tmp_path / name).write_text(f'base = "{DEFAULT.as_posix()}"\n')
    with pytest.raises(ScenarioError, match=r"sk\\xf6vde\.toml: the file name is not valid UTF-8"):
        load(tmp_path / name)
    proc = _load_in_subprocess(tmp_path / name)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_oversized_file_is_refused(tmp_path):
    big = tmp_path / "big.toml"
    with big.open("w") as fh:
        fh.write("# " + "x" * 100 + "\n")
        fh.truncate(loader.MAX_BYTES + 1)
    with pytest.raises(ScenarioError) as info:
        load_scenario(big)
    assert "larger than 4 MiB" in one_line(info, big)


# --- command-line overrides: the file's limits --------------------------------------------------

@pytest.mark.parametrize(("seed", "reps", "match"), [
    (-5, None, r"command line: --seed \(simulation\.seed\): Input should be greater than or equal to 0 \(got -5\)"),
    (2**70, None, r"command line: --seed \(simulation\.seed\): expected at most .* \(got 1180591620717411303424\)"),
    (None, 1_000_000, r"command line: --replications/-n \(simulation\.replications\): expected at most 10000"),
    (None, 0, r"--replications/-n \(simulation\.replications\): Input should be greater than 0"),
])
def test_command_line_overrides_are_validated_like_the_file(seed, reps, match):
    with pytest.raises(ScenarioError, match=match) as info:
        load(DEFAULT, seed, reps)
    assert len(str(info.value).splitlines()) == 1


def test_valid_overrides_apply():
    s = load(DEFAULT, 5, 3)
    assert (s.simulation.seed, s.simulation.replications) == (5, 3)
    assert s.model_copy(update={"simulation": load(DEFAULT).simulation}) == load(DEFAULT)


def test_file_problems_still_name_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'base = "{DEFAULT.as_posix()}"\n[capacity]\nbeds = -1\n')
    with pytest.raises(ScenarioError, match=rf"^{bad}: capacity\.beds:"):
        load(bad, seed=-5)


# --- unknown fields: the nearest valid name ----------------------------------------------------

@pytest.mark.parametrize(("body", "line"), [
    ("[capacity]\nbedz = 3\n", "capacity.bedz: unknown field (did you mean 'beds'?)"),
    ("[capacities]\nbeds = 3\n", "capacities: unknown field (did you mean 'capacity'?)"),
    ("[concepts.mobile_team]\nprevent_shar = 0.3\n",
     "concepts.mobile_team.prevent_shar: unknown field (did you mean 'prevent_share'?)"),
    ("[concepts.mobile_team]\nCaseload-Max = 3\n",
     "concepts.mobile_team.Caseload-Max: unknown field (did you mean 'caseload_max'?)"),
    ("[capacity]\nzzzz = 3\n", "capacity.zzzz: unknown field"),
])
def test_unknown_field_suggests_the_nearest_name(tmp_path, body, line):
    f = tmp_path / "typo.toml"
    f.write_text(f'base = "{DEFAULT.as_posix()}"\n{body}')
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    assert one_line(info, f) == f"{f}: {line}"


def test_unknown_target_field_suggests_too(tmp_path):
    from sim.measure.targets import default_targets, load_targets

    text = default_targets().read_text().replace("[calibration]\n", "[calibration]\nbudjet = 3\n", 1)
    f = tmp_path / "targets.toml"
    f.write_text(text)
    with pytest.raises(ScenarioError, match=r"calibration\.budjet: unknown field \(did you mean 'budget'\?\)"):
        load_targets(f)

