"""SimPy resources sized for a region: releases in constant time, free places granted without an event.

``simpy.Resource`` keeps its granted requests (``users``) in a list, so each release is a
``list.remove``: linear in the capacity. With the region's 2,200 beds this is one of the few
costs that grow faster than the persons (the model's work is otherwise linear in
person-years). :class:`PooledResource` keeps the same queueing discipline (FIFO requests,
same grant order) and only stores the granted requests in an insertion-ordered dict.

It also spares up to two of the engine events of an admission (``immediate=True``). A request
for a free place (nobody waiting) is granted as an event that is already processed, so the
process yielding it goes on at once instead of through the event queue; a release with nobody
waiting frees the place without a ``Release`` event. A release with someone waiting is SimPy's
own (the ``Release`` event grants the first one waiting when it is processed), so that grant
keeps its place among the events at that time: granting it at once reordered same-time rows
(a short-term place handed on before a housing grant scheduled earlier at the same time).
Everything happens at the same simulated time as before, and the model's outputs are
byte-identical (tests/test_byte_identity.py).
"""

from __future__ import annotations

import simpy
from simpy.resources.resource import Request


class _Users(dict):
    """Granted requests: the list operations SimPy uses, on an insertion-ordered dict."""

    __slots__ = ()

    def append(self, request) -> None:
        self[request] = None

    def remove(self, request) -> None:
        try:
            del self[request]
        except KeyError:
            raise ValueError("request not granted") from None  # what list.remove raises

    def __iter__(self):
        return iter(self.keys())


class PooledResource(simpy.Resource):
    """A ``simpy.Resource`` (FIFO, ``capacity`` slots) whose release is O(1) and free grants event-free."""

    def __init__(self, env: simpy.Environment, capacity: int = 1, immediate: bool = False):
        super().__init__(env, capacity)
        self.users = _Users()  # type: ignore[assignment]
        # Grant a free place as an already-processed event: only for callers that yield the
        # request (a processed event takes no callbacks), as the hospital pathway does.
        self.immediate = immediate

    def request(self) -> Request:  # type: ignore[override]
        """Request a place: with ``immediate``, granted and processed at once when one is free and nobody waits."""
        if not self.immediate or self.put_queue or len(self.users) >= self._capacity:
            return Request(self)  # queued: granted by a release, through the event queue
        env = self._env
        req = Request.__new__(Request)
        req.env = env
        req.resource = self
        req.proc = env._active_proc  # env.active_process
        req.usage_since = env._now  # env.now
        req._ok = True
        req._value = None
        req.callbacks = None  # processed: ``yield req`` goes on without waiting
        self.users[req] = None  # users.append(req)
        return req

    def release(self, request: Request):  # type: ignore[override]
        """Give the place back; with ``immediate`` and nobody waiting, without an engine event.

        When someone waits, SimPy's release (a ``Release`` event whose processing grants the
        first one waiting): the grant keeps its place in the order of same-time events, so a
        grant never overtakes rows that other events at that time write before it. With
        nobody waiting the ``Release`` event would do nothing but free the place, which is
        done here at once. A request that holds no place (still queued, or released already)
        is ignored, as SimPy does.
        """
        if not self.immediate or self.put_queue:
            return super().release(request)
        dict.pop(self.users, request, None)  # not granted (or released already): nothing to free
        return None
