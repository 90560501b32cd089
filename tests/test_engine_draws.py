"""Exact: the engine's shortcuts for drawing random numbers give the numbers of ``uniforms`` to the bit.

Pure-speed code (issue 13): a weekly draw over everyone from pre-computed stream starts, and
the sparse pre-draw of planned admissions (:class:`sim.engine.weekly.WeeklyHits`), must pick
the same persons with the same numbers as the direct draw they replace.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim.engine.weekly as weekly
from sim.domain.streams import Stream, stream_key, stream_starts, uniforms, uniforms_from
from sim.engine.weekly import WeeklyHits

KEY = stream_key(20261203, Stream.PLANNED)


def test_uniforms_from_starts_equal_uniforms():
    persons = np.array([0, 1, 7, 999, 123456])
    index = np.arange(50)
    direct = uniforms(KEY, persons[:, None], index[None, :])
    assert np.array_equal(uniforms_from(stream_starts(KEY, persons)[:, None], index[None, :]), direct)
    assert uniforms_from(stream_starts(KEY, 7), 3) == uniforms(KEY, 7, 3)


@pytest.mark.parametrize("cells", [1, 1000, 1 << 20])  # a week at a time, a few weeks, all weeks
def test_weekly_hits_are_the_persons_below_the_threshold(monkeypatch, cells):
    monkeypatch.setattr(weekly, "_CELLS", cells)
    n, threshold = 400, 0.02
    hits = WeeklyHits(KEY, n, threshold)
    everyone = np.arange(n)
    for w in [1, 2, 3, 9, 5, 40, 41]:  # out of order: a week drawn earlier is kept
        u = uniforms(KEY, everyone, w)
        expect = np.flatnonzero(u < threshold)
        persons, numbers = hits.week(w)
        assert persons.dtype == np.int64 and persons.tolist() == expect.tolist()
        assert numbers.tolist() == u[expect].tolist()
    assert hits.week(1000)[0].tolist() == np.flatnonzero(uniforms(KEY, everyone, 1000) < threshold).tolist()
