"""SimPy resources sized for a region: releases in constant time.

``simpy.Resource`` keeps its granted requests (``users``) in a list, so each release is a
``list.remove``: linear in the capacity. With the region's 2,200 beds this is one of the few
costs that grow faster than the persons (the model's work is otherwise linear in
person-years). :class:`PooledResource` keeps the same queueing discipline (FIFO requests,
same grant order) and only stores the granted requests in an insertion-ordered dict.
"""

from __future__ import annotations

import simpy


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
    """A ``simpy.Resource`` (FIFO, ``capacity`` slots) whose release is O(1)."""

    def __init__(self, env: simpy.Environment, capacity: int = 1):
        super().__init__(env, capacity)
        self.users = _Users()  # type: ignore[assignment]
