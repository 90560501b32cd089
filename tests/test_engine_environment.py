"""Exact: the lean environment processes the events of a SimPy program in SimPy's order, at SimPy's times."""

from __future__ import annotations

import random

import pytest
import simpy

from sim.engine.environment import LeanEnvironment


def _trace(env: simpy.Environment, seed: int) -> list[tuple]:
    """Run a program of processes, callbacks and same-time timeouts on ``env``; the (time, who, step) trace."""
    rng = random.Random(seed)
    trace = []
    res = simpy.Resource(env, capacity=2)

    def worker(i):
        for k in range(6):
            with res.request() as req:
                yield req
                trace.append((env.now, i, "got", k))
                yield env.timeout(rng.choice([0, 0.5, 1.0, rng.random()]))
            trace.append((env.now, i, "released", k))

    for i in range(8):
        env.process(worker(i))
    for j in range(20):
        env.timeout(rng.choice([1.0, 2.0, rng.random() * 5])).callbacks.append(
            lambda _e, j=j: trace.append((env.now, "callback", j)))
    env.run(until=4.0)
    trace.append((env.now, "end"))
    return trace


@pytest.mark.parametrize("seed", range(5))
def test_same_order_and_times_as_simpy(seed):
    assert _trace(LeanEnvironment(), seed) == _trace(simpy.Environment(), seed)


def test_timeout_is_simpys():
    env = LeanEnvironment()
    ev = env.timeout(2.5, "v")
    assert isinstance(ev, simpy.Timeout) and ev.value == "v"
    with pytest.raises(ValueError):
        env.timeout(-1)
    with pytest.raises(ValueError):
        env.run(until=0)
    env.run(until=3)
    assert env.now == 3 and ev.processed


@pytest.mark.parametrize("seed", range(5))
def test_wait_is_a_timeout_nobody_waits_for(seed):
    """A driver that calls ``env.wait(d)`` sees and makes the same trace as one that yields ``env.timeout(d)``."""

    def run(inline: bool) -> list[tuple]:
        env = LeanEnvironment()
        rng = random.Random(seed)
        trace = []

        def echo(k):
            trace.append((env.now, "echo", k))
            if k % 3 == 0:  # an event at the same time, scheduled while the driver waits
                env.timeout(0).callbacks.append(lambda _e: trace.append((env.now, "same-time", k)))

        def driver():
            for k in range(40):
                env.timeout(rng.choice([0, 0.25, 0.5, 1.0, rng.random()])).callbacks.append(lambda _e, k=k: echo(k))
                d = rng.choice([0.25, 0.5, rng.random()])
                if inline:
                    env.wait(d)
                else:
                    yield env.timeout(d)
                trace.append((env.now, "driver", k))
            yield env.timeout(0)

        env.process(driver())
        env.run(until=100)
        return trace + [next(env._eid)]

    assert run(inline=True) == run(inline=False)
