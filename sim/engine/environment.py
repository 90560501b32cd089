"""SimPy's environment with its hottest paths written out: the run loop, the timeout and a wait.

:class:`LeanEnvironment` is a ``simpy.Environment`` (the same event queue, priorities, event
ids and event classes); its methods do the same work with fewer Python calls:
``run(until)`` steps through the queue in one loop instead of a ``step()`` call per event, and
``timeout(delay)`` builds the ``Timeout`` and pushes it on the queue in one call instead of
three (the bound class, ``Timeout.__init__``, ``schedule``), and ``wait(delay)`` does what
``yield timeout(delay)`` would for a process nobody waits for. Events are processed in the same
order at the same times, so the model's outputs are byte-identical (tests/test_byte_identity.py).
"""

from __future__ import annotations

from heapq import heappop, heappush

import simpy
from simpy.events import NORMAL, URGENT, Event, Process, Timeout


class LeanEnvironment(simpy.Environment):
    """A ``simpy.Environment`` whose ``run`` and ``timeout`` take fewer Python calls (see the module)."""

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        # SimPy binds its event-class aliases early only for its own class's dict: bind the one still used.
        self.process = lambda generator: Process(self, generator)

    def timeout(self, delay: float = 0, value=None) -> Timeout:
        """``simpy.Environment.timeout``: a ``Timeout`` scheduled ``delay`` from now (normal priority)."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        ev = Timeout.__new__(Timeout)
        ev.env = self
        ev.callbacks = []
        ev._value = value
        ev._delay = delay
        ev._ok = True
        heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), ev))
        return ev

    def wait(self, delay: float, first: list = ()) -> None:
        """Do what ``yield self.timeout(delay)`` does for a process nobody waits for, without the timeout.

        Every event that such a timeout would let go first (in the queue's order of time,
        priority and event id: those before ``(now + delay, NORMAL, the timeout's id)``, also
        events they schedule in turn) is processed here, then the clock moves to ``now + delay``
        and the caller goes on, as the process would when its timeout fires. The timeout's id
        is drawn, so later events get the ids they would have. Only for times before the end
        of :meth:`run` (the stop event is never processed here).

        ``first``: processes started without their start event (``start()``: hospital.Episode), whose
        start events would head the queue now: started here first, after the timeout's id is drawn,
        then the list is emptied.
        """
        at = self._now + delay
        limit = (at, NORMAL, next(self._eid))  # the timeout's place in the queue (ids are unique: never a tie)
        if first:
            start_all(first)
        queue = self._queue
        while queue and queue[0] < limit:
            self._now, _, _, event = heappop(queue)
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                raise _failure(event)
        self._now = at

    def run(self, until: float | None = None):
        """Process events until the clock reaches ``until`` (a number), as ``simpy.Environment.run`` does."""
        if until is None or isinstance(until, Event):
            return super().run(until)
        at = until if isinstance(until, int) else float(until)
        if at <= self._now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        stop = Event(self)  # scheduled before all regular events at that time, as SimPy's own
        stop._ok = True
        stop._value = None
        self.schedule(stop, URGENT, at - self._now)
        queue = self._queue
        while True:
            try:
                self._now, _, _, event = heappop(queue)
            except IndexError:
                raise RuntimeError(f'No scheduled events left but "until" event was not triggered: {stop}') from None
            if event is stop:
                return None
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                raise _failure(event)


def start_all(processes: list) -> None:
    """Start the processes held back from their start events (``start()``), in list order, and empty the list."""
    for process in processes:
        process.start()
    processes.clear()


def _failure(event: Event) -> BaseException:
    """Return the exception ``simpy.Environment.step`` raises for a failed event nobody defused (value as cause)."""
    exc = type(event._value)(*event._value.args)
    exc.__cause__ = event._value
    return exc
