"""Unit/functional: PooledResource behaves exactly like simpy.Resource (grant order, release, cancel)."""

from __future__ import annotations

import random

import simpy

from sim.engine.resources import PooledResource


def _trace(cls, seed: int, capacity: int = 3, n: int = 60, **kw):
    env = simpy.Environment()
    res = cls(env, capacity=capacity, **kw)
    rng = random.Random(seed)
    log = []

    def user(i, arrive, hold, patience):
        yield env.timeout(arrive)
        req = res.request()
        got = yield req | env.timeout(patience)
        if req not in got:  # gave up while queued
            req.cancel()
            log.append(("left", i, env.now))
            return
        log.append(("got", i, env.now, res.count))
        yield env.timeout(hold)
        res.release(req)
        log.append(("out", i, env.now))

    for i in range(n):
        env.process(user(i, rng.expovariate(1.0), rng.expovariate(0.3), rng.expovariate(0.5)))
    env.run()
    return log


def test_same_trace_as_simpy_resource():
    for seed in range(5):
        assert _trace(PooledResource, seed) == _trace(simpy.Resource, seed)
        assert _trace(PooledResource, seed, immediate=True) == _trace(simpy.Resource, seed)


def test_release_of_unknown_request_is_ignored_like_simpy():
    env = simpy.Environment()
    res = PooledResource(env, capacity=1)
    a = res.request()
    b = res.request()  # queued
    env.run()
    res.release(b)  # not a user: SimPy ignores it
    env.run()
    assert res.count == 1 and list(res.users) == [a]
