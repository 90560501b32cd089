"""Hypothesis invariants: a mutated scenario is refused with a ScenarioError or it runs.

Tier: hypothesis (fuzz). Every scenario file in ``scenarios/`` is parsed and merged
(:func:`sim.config.loader.resolve`), then mutated: a field dropped, a value retyped, a number
perturbed (negative, zero, NaN, infinite, huge, tiny, scaled), an unknown field added, a key
renamed, a list changed. :func:`sim.config.loader.validate` must either return a
:class:`~sim.config.Scenario` or raise :class:`~sim.config.ScenarioError` whose every line
names the file and a field; any other exception fails the test. A share of the accepted
scenarios is shrunk (at most 300 persons, 0.3 years) and run through the whole pipeline
(both care systems, results folder written), which must not raise either.
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
from sim.config import Scenario, ScenarioError
from sim.config.loader import resolve, validate
from sim.executor import Executor
from sim.pipeline import simulate_to_folder

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


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(sorted(BASES)))
    data = copy.deepcopy(BASES[name])
    kinds = [mutate(draw, data) for _ in range(draw(st.sampled_from((1, 1, 1, 2, 3))))]
    run = draw(st.integers(0, RUN_ONE_IN - 1)) == 0
    return name, data, kinds, run


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


def check_one(name, data, kinds, run):
    STATS["examples"] += 1
    path = f"scenarios/{name}"
    try:
        scenario = validate(data, path)
    except ScenarioError as exc:
        STATS["refused"] += 1
        assert exc.problems, "a ScenarioError must say what is wrong"
        for line in str(exc).splitlines():
            # "file: dotted.path: what was expected"
            assert line.startswith(f"{path}: "), line
            assert ": " in line[len(path) + 2:], line
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
    print(f"\nfuzz: {STATS['examples']} examples, {STATS['refused']} refused,"
          f" {STATS['accepted']} accepted, {STATS['ran']} run")
    # The mutations must exercise both outcomes, and the runs must happen.
    assert STATS["examples"] >= EXAMPLES
    assert STATS["refused"] >= EXAMPLES // 20
    assert STATS["accepted"] >= EXAMPLES // 20
    assert STATS["ran"] >= 20


def test_unmutated_scenarios_validate():
    for name, data in BASES.items():
        assert isinstance(validate(copy.deepcopy(data), name), Scenario)
