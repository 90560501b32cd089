"""Named, counter-based random streams: one seed, a stream per person and purpose.

Every uniform the model uses is a pure function of ``(seed, stream, person, index)``.
That gives each person independent streams for each purpose (health, care, relapse...)
without creating a generator object per person, and it lets the model draw the
``index``-th number of a person's stream in any order: the care system can skip or
prevent an event without shifting any other draw. This is what makes the two care
systems see the same persons with the same health trajectories (common random numbers).

The generator is SplitMix64 (Steele, Lea & Flood 2014, the generator behind Java's
``SplittableRandom``): a per-(seed, stream, person) starting state, advanced by the golden
gamma per index, and passed through the Stafford "variant 13" finaliser. It passes
BigCrush as a sequence; here each person's stream is such a sequence from its own
pseudo-random starting point. Vectorised over numpy ``uint64`` arrays, it draws tens of
millions of numbers a second.
"""

from __future__ import annotations

import enum

import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_TO_UNIT = 2.0**-53


class Stream(enum.IntEnum):
    """Purposes of random numbers. Never renumber: results depend on the values."""

    POPULATION = 1  #: a person's attributes at entry
    HEALTH = 2  #: stratum changes, deteriorations, deaths (the exogenous trajectory)
    CARE = 3  #: what the care system does at each deterioration
    RELAPSE = 4  #: care-dependent post-discharge relapses
    AREA = 5  #: area-level draws: arrival times of new 65-year-olds and movers-in
    CONCEPT = 6  #: service-concept decisions not tied to one deterioration
    SURVIVAL = 7  #: whether and when a new team dies (rollout, issue 18): one draw per area and concept
    FRAILTY = 8  #: a person's persistent frailty, drawn once at entry (same under every care system)
    HOUSING = 9  #: special housing: residents at day 0, weekly needs assessments (issue 14)
    PLANNED = 10  #: planned (elective) admissions: which week, and the stay's uniforms (issue 14)


def _mix(z: np.ndarray) -> np.ndarray:
    # After the first step (a new array: ``z`` is the caller's) in place: half the temporaries of
    # ``(z ^ (z >> a)) * m`` on arrays of a whole draw (the trajectories draw 10^5 numbers a step).
    z = z ^ (z >> _S30)
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


def stream_key(seed: int, stream: Stream) -> np.uint64:
    """Key of one named stream under a seed (a 64-bit integer)."""
    with np.errstate(over="ignore"):
        s = np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64)
        k = _mix(_mix(s + _GAMMA) ^ (np.uint64(int(stream)) * _GAMMA))
    return k[0]


def uniforms(key: np.uint64, person, index) -> np.ndarray:
    """Uniforms on (0, 1): the ``index``-th number of each ``person``'s stream.

    Args:
        key: a key from :func:`stream_key`.
        person: integer array (or scalar), broadcast with ``index``.
        index: integer array (or scalar): which number of each person's stream.

    """
    return uniforms_from(stream_starts(key, person), index)


def stream_starts(key: np.uint64, person) -> np.ndarray:
    """Return the starting states (uint64) of the ``person`` streams under ``key``, for :func:`uniforms_from`.

    For draws of the same persons at many indices (a weekly draw over everyone): the start is
    two of the three mixes of :func:`uniforms`, and depends on the person only.
    """
    p = np.asarray(person, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return _mix(key ^ _mix((p + np.uint64(1)) * _GAMMA))


def uniforms_from(start: np.ndarray, index) -> np.ndarray:
    """Uniforms on (0, 1): the ``index``-th number of the streams that start at ``start`` (:func:`stream_starts`).

    ``uniforms_from(stream_starts(key, person), index)`` is ``uniforms(key, person, index)``.
    """
    i = np.asarray(index, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = _mix(start + (i + np.uint64(1)) * _GAMMA)
    u = (z >> _S11).astype(np.float64)
    u += 0.5  # in place, as in _mix: the same float64 operations, fewer temporaries
    u *= _TO_UNIT
    return u


_MASK = (1 << 64) - 1
_IGAMMA, _IM1, _IM2 = int(_GAMMA), int(_M1), int(_M2)  # the constants as Python integers (uniforms_of)


def _imix(z: int) -> int:
    z = ((z ^ (z >> 30)) * _IM1) & _MASK
    z = ((z ^ (z >> 27)) * _IM2) & _MASK
    return z ^ (z >> 31)


def uniforms_of(key: np.uint64, person: int, start: int, count: int) -> list[float]:
    """``uniforms(key, person, range(start, start + count)).tolist()`` for one person, in Python integers.

    The same numbers to the bit (64-bit integer arithmetic, an exact conversion); for a few numbers
    of one person, numpy's cost per call is most of the work (a relapse's numbers).
    """
    s = _imix(int(key) ^ _imix(((person + 1) * _IGAMMA) & _MASK))
    return [((_imix((s + (i + 1) * _IGAMMA) & _MASK) >> 11) + 0.5) * _TO_UNIT for i in range(start, start + count)]


def uniform(key: np.uint64, person: int, index: int) -> float:
    """One uniform on (0, 1); scalar convenience for rare, care-dependent events."""
    return float(uniforms(key, np.array([person]), np.array([index]))[0])


def replication_seed(seed: int, replication: int) -> int:
    """Seed of one replication, from the scenario seed and the replication number only.

    The same on every executor: a worker never chooses a seed.
    """
    return int(np.random.SeedSequence([seed, replication]).generate_state(1, np.uint64)[0])
