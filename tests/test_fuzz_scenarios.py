"""Hypothesis invariants: a mutated scenario, loaded from files with overrides, is refused cleanly or runs.

Tier: hypothesis (fuzz). Every scenario file in ``scenarios/`` is parsed and merged
(:func:`sim.config.loader.resolve`), then mutated: a field dropped, a value retyped, a number
perturbed (negative, zero, NaN, infinite, huge, tiny, scaled), an unknown field added, a key
renamed, a list changed. The mutated mapping is then written as real files in a temporary folder,
its fields spread over a base file, an overlay file and the scenario file itself (which names the
other two), sometimes with the file graph broken (a missing or repeated base, a cycle, a wrong
type, a byte that is not UTF-8, a FIFO), and loaded by :func:`sim.experiments.pipeline.load` with command-line
overrides of the seed and the replications (valid or not). The outcome must be either a
:class:`~sim.config.Scenario` or a :class:`~sim.config.ScenarioError` whose every line names a file
(or the command line) and a field; any other exception fails the test. Where the graph is intact,
loading the files must agree with validating the mapping directly (same parameters, or both
refused). A share of the accepted scenarios is shrunk (at most 300 persons, 0.3 years) and run
through the whole pipeline (both care systems, results folder written), which must not raise either.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import os
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.care import CARE_SYSTEMS
from sim.config import Scenario, ScenarioError, load_scenario, scenario_hash
from sim.config.loader import resolve, validate
from sim.experiments.executor import Executor
from sim.experiments.pipeline import load, simulate_to_folder

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "scenarios").glob("*.toml"))
BASES = {f.name: resolve(f) for f in FILES}
EXAMPLES = int(os.environ.get("NARVARD_FUZZ_EXAMPLES", "2000"))  # CI: 2,000; raise it for a long hunt
RUN_ONE_IN = 3  # of the accepted scenarios, about one in this many is also run

STATS: Counter[str] = Counter()

SPECIAL_NUMBERS = (
    -1, 0, -0.0, 1, -1e-9, 5e-324, 1e-12, 0.5, 2.0, 1e6, 1e15, 1e308, 10**30, 2**63, -(2**63),
    math.nan, math.inf, -math.inf,
)
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(-5, 5), max_size=2),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.sampled_from(("stable", "fluctuating", "unstable", "palliative", "region", "municipality")),
)


def paths(tree, prefix=()):
    """Every key path into nested dicts (sections and leaves)."""
    out = []
    for k, v in tree.items():
        out.append((*prefix, k))
        if isinstance(v, dict):
            out.extend(paths(v, (*prefix, k)))
    return out


def parent(tree, path):
    for k in path[:-1]:
        tree = tree[k]
    return tree


def perturb(draw, value):
    """A new value for a leaf of the same kind, often out of range."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        how = draw(st.sampled_from(("special", "scale", "plausible", "plausible", "shift", "flip_type",
                                    "negate")))
        if how == "plausible":  # mostly accepted: exercises the model, not only the validator
            return type(value)(value * draw(st.floats(min_value=0.0, max_value=2.0)))
        if how == "special":
            return draw(st.sampled_from(SPECIAL_NUMBERS))
        if how == "scale":
            return value * draw(st.floats(min_value=-3.0, max_value=12.0))
        if how == "shift":
            return value + draw(st.integers(-3, 3))
        if how == "flip_type":
            if isinstance(value, int):
                return float(value)
            return int(value) if math.isfinite(value) else value
        return -value
    if isinstance(value, str):
        return draw(st.sampled_from(("", " ", value.upper(), value + "x", "../" + value, "a/b", "region",
                                     "municipality", "stable", ".hidden", "x" * 200)))
    if isinstance(value, list):
        how = draw(st.sampled_from(("empty", "append", "duplicate", "drop")))
        if how == "empty":
            return []
        if how == "append":
            return [*value, draw(ANY_VALUE)]
        if how == "duplicate":
            return value + value
        return value[1:]
    return draw(ANY_VALUE)


def mutate(draw, data):
    """Apply one mutation in place; returns its name."""
    all_paths = paths(data)
    if not all_paths:
        data["meta"] = draw(ANY_VALUE)
        return "add"
    path = draw(st.sampled_from(all_paths))
    node = parent(data, path)
    key = path[-1]
    kind = draw(st.sampled_from(("drop", "retype", "perturb", "perturb", "perturb", "perturb",
                                 "unknown", "rename")))
    if kind == "drop":
        del node[key]
    elif kind == "retype":
        node[key] = draw(ANY_VALUE)
    elif kind == "perturb":
        node[key] = perturb(draw, node[key])
    elif kind == "unknown":
        where = node[key] if isinstance(node[key], dict) else node
        where[draw(st.sampled_from(("extra", "bedz", "Beds", "", "base", "seed ")))] = draw(ANY_VALUE)
    else:
        new = draw(st.sampled_from((key + "s", key.upper(), key[:-1] or "x", key.replace("_", "-"))))
        node[new] = node.pop(key)
    return kind


def toml_string(s: str) -> str:
    """A TOML basic string: printable ASCII as is, everything else escaped."""
    out = []
    for ch in s:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def toml_value(v) -> str:
    """One value as inline TOML (``None`` never reaches here: TOML has no null)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{toml_string(str(k))} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_text(data: dict) -> str:
    """A mapping as TOML: one top-level key per line, tables inline."""
    return "".join(f"{toml_string(str(k))} = {toml_value(v)}\n" for k, v in data.items())


def without_none(data):
    """TOML cannot hold ``None``: the key is left out (as a planner would leave it out)."""
    if isinstance(data, dict):
        return {k: without_none(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [without_none(v) for v in data if v is not None]
    return data


def leaves(data: dict, prefix=()):
    for k, v in data.items():
        if isinstance(v, dict) and v:
            yield from leaves(v, (*prefix, k))
        else:
            yield (*prefix, k), v


def put(tree: dict, path, value) -> None:
    for k in path[:-1]:
        tree = tree.setdefault(k, {})
    tree[path[-1]] = value


GRAPH_FAULTS = ("none", "repeat", "missing", "cycle", "bad_type", "latin1", "fifo", "self")
#: Seeds and replications from the command line: mostly none, else valid or out of range.
SEEDS = st.one_of(st.none(), st.none(), st.none(), st.integers(0, 2**64 - 1), st.integers(-(2**70), 2**70),
                  st.sampled_from((-5, -1, 0, 2**64 - 1, 2**64, 2**70)))
REPLICATIONS = st.one_of(st.none(), st.none(), st.none(), st.integers(1, 12),
                         st.sampled_from((0, -3, 10_000, 10_001, 10**6)))


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(sorted(BASES)))
    data = copy.deepcopy(BASES[name])
    kinds = [mutate(draw, data) for _ in range(draw(st.sampled_from((1, 1, 1, 2, 3))))]
    data = without_none(data)
    # each leaf in one of three files: the base, the overlay or the scenario itself
    layers = {"base": {}, "overlay": {}, "top": {}}
    for path, value in leaves(data):
        put(layers[draw(st.sampled_from(("base", "overlay", "top", "top")))], path, value)
    # half the examples keep the file graph intact, the others break it one way
    fault = draw(st.sampled_from(GRAPH_FAULTS)) if draw(st.booleans()) else "none"
    seed, reps = draw(SEEDS), draw(REPLICATIONS)
    run = draw(st.integers(0, RUN_ONE_IN - 1)) == 0
    return name, data, layers, fault, seed, reps, kinds, run


def shrink(scenario: Scenario) -> Scenario:
    """The same scenario, at most 300 persons and 0.3 years, one replication; validated again."""
    d = scenario.model_dump(mode="json")
    sim, pop = d["simulation"], d["population"]
    sim["years"] = min(sim["years"], 0.3)
    sim["warmup_years"] = min(sim["warmup_years"], 0.2)
    sim["replications"] = 1
    pop["persons_65plus"] = min(pop["persons_65plus"], 300)
    pop["entrants_per_year"] = min(pop["entrants_per_year"], 100.0)
    return validate(d, "shrunk")


def write_files(folder: Path, layers: dict, fault: str) -> Path:
    """The three files of one example, with the file graph broken as ``fault`` says."""
    top = dict(layers["top"])
    bases = ["base.toml", "base.toml"] if fault == "repeat" else ["base.toml"]
    refs = {"missing": ["nowhere.toml"], "self": ["top.toml"], "bad_type": [3]}.get(fault, bases)
    head = f"base = {toml_value(refs)}\noverlay = {toml_value(['overlay.toml'])}\n"
    top.pop("base", None), top.pop("overlay", None)  # a mutation adding these keys is written below
    extra = {k: layers["top"][k] for k in ("base", "overlay") if k in layers["top"]}
    if extra:  # the mutation's own base/overlay value replaces the intact graph
        head = toml_text(extra) + ("" if "overlay" in extra else f"overlay = {toml_value(['overlay.toml'])}\n")
    (folder / "top.toml").write_text(head + toml_text(top))
    base_text = toml_text(layers["base"])
    if fault == "cycle":
        base_text = "base = \"top.toml\"\n" + base_text
    (folder / "base.toml").write_text(base_text)
    overlay = folder / "overlay.toml"
    if fault == "fifo":
        os.mkfifo(overlay)
    elif fault == "latin1":
        overlay.write_bytes(b"# Sk\xf6vde\n" + toml_text(layers["overlay"]).encode())
    else:
        overlay.write_text(toml_text(layers["overlay"]))
    return folder / "top.toml"


def expected(data: dict, seed, reps):
    """Validating the mapping directly, with the overrides and the resource guard: the scenario or None."""
    from sim.config import budget

    over = {k: v for k, v in (("seed", seed), ("replications", reps)) if v is not None}
    try:
        scenario = validate(data, "direct")
        if over:
            scenario = validate({**data, "simulation": {**data.get("simulation", {}), **over}}, "direct")
    except ScenarioError:
        return None
    return None if budget.check(scenario)[0] else scenario


def check_one(name, data, layers, fault, seed, reps, kinds, run):
    STATS["examples"] += 1
    STATS[f"fault_{fault}"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        top = write_files(Path(tmp), layers, fault)
        files = {str(Path(tmp) / f) for f in ("top.toml", "base.toml", "overlay.toml", "nowhere.toml")}
        files |= {os.path.realpath(f) for f in files} | {"command line"}
        try:
            scenario = load(top, seed, reps, warn=None)
        except ScenarioError as exc:
            STATS["refused"] += 1
            assert exc.problems, "a ScenarioError must say what is wrong"
            for line in str(exc).splitlines():
                # "file: dotted.path: what was expected" (or "file: what" for the file itself)
                where, _, what = line.partition(": ")
                assert where in files, line
                assert what, line
            scenario = None
    intact = fault in ("none", "repeat") and not ({"base", "overlay"} & set(layers["top"]))
    if intact:  # loading the files agrees with validating the mapping
        direct = expected(data, seed, reps)
        assert (scenario is None) == (direct is None), (kinds, fault, seed, reps)
        if scenario is not None:  # equal parameters (the order of keys in a mapping may differ)
            assert scenario == direct
    elif fault in ("missing", "cycle", "bad_type", "latin1", "fifo", "self"):
        assert scenario is None, fault
    if scenario is None:
        return
    STATS["accepted"] += 1
    assert isinstance(scenario, Scenario)
    if not run:
        return
    small = shrink(scenario)
    with tempfile.TemporaryDirectory() as tmp:
        summary = simulate_to_folder(small, tuple(CARE_SYSTEMS), Path(tmp) / "out", False, Executor())
        assert (Path(tmp) / "out" / "summary.csv").is_file()
    assert len(summary) > 0
    STATS["ran"] += 1


def test_mutated_scenarios_are_refused_cleanly_or_run(record_property):
    STATS.clear()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(mutated())
    def fuzz(case):
        check_one(*case)

    fuzz()
    for key in ("examples", "accepted", "refused", "ran"):
        record_property(f"fuzz_{key}", STATS[key])
    faults = ", ".join(f"{k.removeprefix('fault_')} {v}" for k, v in sorted(STATS.items()) if k.startswith("fault_"))
    print(f"\nfuzz: {STATS['examples']} examples, {STATS['refused']} refused,"
          f" {STATS['accepted']} accepted, {STATS['ran']} run; file graphs: {faults}")
    # The mutations must exercise both outcomes, and the runs must happen.
    assert STATS["examples"] >= EXAMPLES
    assert STATS["refused"] >= EXAMPLES // 20
    assert STATS["accepted"] >= EXAMPLES // 20
    assert STATS["ran"] >= 20
    assert all(STATS[f"fault_{f}"] > 0 for f in GRAPH_FAULTS), STATS


def test_unmutated_scenarios_validate():
    for name, data in BASES.items():
        assert isinstance(validate(copy.deepcopy(data), name), Scenario)


def test_unmutated_scenarios_load_through_three_files(tmp_path):
    """The harness itself: an intact graph loads to the same parameters as the bundled file."""
    for f in FILES:
        folder = tmp_path / f.stem
        folder.mkdir()
        data = BASES[f.name]
        layers = {"base": {}, "overlay": {}, "top": {}}
        for i, (path, value) in enumerate(leaves(data)):
            put(layers[("base", "overlay", "top")[i % 3]], path, value)
        top = write_files(folder, layers, "repeat")
        assert scenario_hash(load(top, warn=None)) == scenario_hash(load_scenario(f))
