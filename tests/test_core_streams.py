"""Statistical: the counter-based streams are uniform and independent; seeds are pure functions.

Fixed seeds make every test deterministic. Each statistical comparison is made at level
``ALPHA`` (the chance that a correct generator fails it at a seed picked at random); the
draws are large (10^5 numbers) so that real defects (a bias of a few per mille, a
correlation of 0.02) would fail.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.domain.streams import Stream, replication_seed, stream_key, uniform, uniforms, uniforms_of

ALPHA = 1e-3
SEED = 20261123
N_PERSONS, N_INDEX = 1000, 100  # 10^5 numbers per stream


def grid(stream: Stream, seed: int = SEED, person0: int = 0) -> np.ndarray:
    """Numbers of persons x indices of one stream, shape (N_PERSONS, N_INDEX)."""
    persons = np.arange(person0, person0 + N_PERSONS)[:, None]
    return uniforms(stream_key(seed, stream), persons, np.arange(N_INDEX)[None, :])


def test_open_unit_interval_and_resolution():
    u = grid(Stream.HEALTH)
    assert u.min() > 0.0 and u.max() < 1.0  # -log(u) and log1p(-u) stay finite
    assert len(np.unique(u)) == u.size  # 53-bit resolution: no ties in 10^5 draws


@pytest.mark.parametrize("stream", list(Stream), ids=[s.name for s in Stream])
def test_uniform_ks(stream):
    u = grid(stream).ravel()
    assert stats.kstest(u, "uniform").pvalue > ALPHA


def test_uniform_along_each_axis():
    # Across persons at one index (what the vectorised model draws at one step), and along
    # one person's stream: both uniform.
    key = stream_key(SEED, Stream.HEALTH)
    across = uniforms(key, np.arange(100_000), 0)
    along = uniforms(key, 0, np.arange(100_000))
    assert stats.kstest(across, "uniform").pvalue > ALPHA
    assert stats.kstest(along, "uniform").pvalue > ALPHA


def test_equidistributed_in_bins():
    # Chi-square over 100 equal bins: catches lumps a KS test on the whole range can miss.
    u = grid(Stream.CARE).ravel()
    counts = np.bincount((u * 100).astype(int), minlength=100)
    assert stats.chisquare(counts).pvalue > ALPHA


def _independent(a: np.ndarray, b: np.ndarray) -> None:
    """Pearson correlation zero, and the 10 x 10 joint histogram of the pair uniform."""
    assert stats.pearsonr(a, b).pvalue > ALPHA / 2
    joint = np.histogram2d(a, b, bins=10, range=[[0, 1], [0, 1]])[0].ravel()
    assert stats.chisquare(joint).pvalue > ALPHA / 2


@pytest.mark.parametrize(
    "pair",
    [
        # the same person and index in two purposes (health vs care: common random numbers
        # rely on these being unrelated)
        pytest.param(lambda: (grid(Stream.HEALTH), grid(Stream.CARE)), id="health-care"),
        pytest.param(lambda: (grid(Stream.CARE), grid(Stream.RELAPSE)), id="care-relapse"),
        # neighbouring persons in one stream
        pytest.param(lambda: (grid(Stream.HEALTH), grid(Stream.HEALTH, person0=1)), id="persons"),
        # consecutive numbers of one person's stream
        pytest.param(lambda: (grid(Stream.HEALTH)[:, :-1], grid(Stream.HEALTH)[:, 1:]), id="indices"),
        # the same stream under neighbouring seeds (replication seeds are far apart, but a
        # user's seeds 1, 2, 3 should be unrelated too)
        pytest.param(lambda: (grid(Stream.HEALTH, seed=1), grid(Stream.HEALTH, seed=2)), id="seeds"),
    ],
)
def test_uncorrelated(pair):
    a, b = pair()
    _independent(a.ravel(), b.ravel())


def test_keys_distinct():
    keys = {int(stream_key(seed, s)) for seed in range(50) for s in Stream}
    assert len(keys) == 50 * len(Stream)


def test_draw_is_a_pure_function_of_its_counter():
    # Any order, any batch shape, scalar or vector: the index-th number of a person's stream
    # is the same. This is what lets the care system skip a draw without shifting others.
    key = stream_key(SEED, Stream.CARE)
    idx = np.array([5, 0, 99, 3])
    batch = uniforms(key, 42, idx)
    assert [uniform(key, 42, int(i)) for i in idx] == list(batch)
    assert np.array_equal(uniforms(key, np.full(4, 42), idx), batch)
    assert np.array_equal(grid(Stream.CARE)[42, idx], batch)


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**64 - 1), stream=st.sampled_from(list(Stream)), person=st.integers(0, 2**40),
       start=st.integers(0, 2**60), count=st.integers(0, 16))
def test_uniforms_of_is_uniforms_to_the_bit(seed, stream, person, start, count):
    # The Python-integer draw of one person's numbers (a relapse's) is numpy's, bit for bit.
    key = stream_key(seed, stream)
    assert uniforms_of(key, person, start, count) == uniforms(key, person, np.arange(start, start + count)).tolist()


def test_stream_values_pinned():
    # Results depend on these numbers: renumbering a stream or changing the mixer must be a
    # deliberate, visible change (update the pins then, and say so).
    # 7 SURVIVAL (issue 18), 8 FRAILTY, 9 HOUSING and 10 PLANNED (issue 14) added; none renumbered
    assert [int(s) for s in Stream] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert int(stream_key(0, Stream.HEALTH)) == 13867563454281172139
    assert uniform(stream_key(0, Stream.HEALTH), 0, 0) == 0.3000480529771155
    assert uniform(stream_key(SEED, Stream.CARE), 7, 11) == 0.7567395964187735


# ---------------------------------------------------------------- replication seeds
def test_replication_seed_depends_on_seed_and_replication_only():
    reps = [replication_seed(SEED, r) for r in range(100)]
    assert len(set(reps)) == 100
    assert replication_seed(SEED + 1, 0) != reps[0]
    # Not on global random state, nor on what ran before.
    np.random.seed(1)  # noqa: NPY002  (the legacy global state is the point: it must not matter)
    np.random.random(10)  # noqa: NPY002
    assert [replication_seed(SEED, r) for r in reversed(range(100))] == reps[::-1]
    # Not on the process: a fresh interpreter (other hash seed) gives the same numbers.
    code = f"from sim.domain.streams import replication_seed; print([replication_seed({SEED}, r) for r in range(100)])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "12345", "PATH": ""}, cwd=str(_root()))
    assert out.stdout.strip() == str(reps)


def test_replication_seed_pinned():
    # numpy guarantees SeedSequence's output across versions; pin it so that a change to how
    # replication seeds are derived cannot pass unnoticed.
    assert replication_seed(SEED, 3) == 2861857414606301897
    assert replication_seed(0, 0) == 15793235383387715774


def _root():
    from pathlib import Path

    return Path(__file__).resolve().parents[1]
