"""One executor interface for replications, sweeps, calibration and sensitivity runs.

``serial`` runs in this process, ``processes`` on local cores (the default), ``dask`` on a
Dask distributed cluster (``dask scheduler`` / ``dask worker``). Tasks are pure functions of
their arguments (each replication's seed comes from the scenario seed and the replication
number), so results are the same on every executor; they come back in submission order.
"""

from __future__ import annotations

import functools
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import InvalidStateError, ProcessPoolExecutor
from typing import Any


class Executor:
    """Maps a function over argument tuples; results in submission order."""

    name = "serial"
    #: Workers write files where the client can read them (see ``sim.experiments.runner.run_replications``).
    shared_filesystem = True
    #: Tasks run side by side (a replication's care systems are then run as tasks of their own).
    parallel = False

    def map(self, fn: Callable[..., Any], tasks: Sequence[tuple]) -> Iterator[Any]:
        """Yield ``fn(*task)`` for each task, in order."""
        for task in tasks:
            yield fn(*task)

    def close(self) -> None:
        """Release workers."""

    def abort(self) -> None:
        """Stop at once after an interrupt or a failure.

        No task may still be running after it returns (an interrupted run removes the folder
        its tasks write into). The executor stays usable. Serial: nothing runs any more; Dask:
        ``map`` cancels, and its tasks write no local files.
        """

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ExecutorError(ValueError):
    """An executor cannot be built or reached (a one-line message naming what and where)."""


def _worker_signals() -> None:
    """Set a worker's signals: Ctrl-C is the main process's to handle (it stops the workers).

    SIGTERM ends the worker at once (a forked worker would otherwise inherit the CLI's handler).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


#: How often a worker checks that its main process is alive (seconds).
PARENT_POLL = 0.2


def _watch_parent(parent: int) -> None:
    """End this worker once its main process is gone, however it died (SIGKILL included).

    A dead parent's children are re-parented, so ``getppid`` changes. (Linux's
    ``PR_SET_PDEATHSIG`` would fire when the *thread* that started the worker ends, which
    may be a short-lived thread, so it is not used.)
    """
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(1)


def _worker_init(parent: int) -> None:
    """Initialise a worker process: its signals, and a thread that ends it with its main process."""
    _worker_signals()
    threading.Thread(target=_watch_parent, args=(parent,), name="narvard-parent-watch", daemon=True).start()


def _quiet_cancelled_future(args: threading.ExceptHookArgs, previous=threading.__excepthook__) -> None:
    """Keep the pool's own race out of the terminal when a run is interrupted.

    CPython 3.11's ``ProcessPoolExecutor``: when :meth:`ProcessExecutor.abort` terminates the
    workers, the pool's management thread sets an exception on every pending future, and one
    that ``map`` has just cancelled raises ``InvalidStateError`` there, printed as a traceback
    under the one-line "interrupted" message. Nothing is lost: the future was cancelled on purpose.
    """
    if args.exc_type is InvalidStateError and "CANCELLED" in str(args.exc_value):
        return
    previous(args)


class ProcessExecutor(Executor):
    """Local worker processes (one per core by default)."""

    name = "processes"

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1
        self.parallel = self.workers > 1
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn, tasks):  # noqa: D102  (Executor.map)
        if len(tasks) <= 1 or self.workers <= 1:
            yield from Executor.map(self, fn, tasks)
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)),
                                             initializer=_worker_init, initargs=(os.getpid(),))
        futures = [self._pool.submit(fn, *t) for t in tasks]
        try:
            for f in futures:
                yield f.result()
        except BaseException:
            for f in futures:
                f.cancel()
            raise

    def close(self) -> None:  # noqa: D102
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def abort(self) -> None:  # noqa: D102
        # Queued tasks cannot be cancelled and running ones would finish first: the workers
        # are terminated (Python 3.14 has ProcessPoolExecutor.terminate_workers for this).
        if self._pool is not None:
            if not isinstance(threading.excepthook, functools.partial):  # installed once
                threading.excepthook = functools.partial(_quiet_cancelled_future, previous=threading.excepthook)
            for proc in list((getattr(self._pool, "_processes", None) or {}).values()):
                proc.terminate()
        self.close()  # the next map starts a new pool


class DaskExecutor(Executor):
    """A Dask distributed cluster: ``Client(address)``, or a given client (tests)."""

    name = "dask"
    #: Workers may run on other machines: event-log parts travel back as bytes.
    shared_filesystem = False
    parallel = True

    def __init__(self, address: str | None = None, client=None):
        from dask.distributed import Client

        self._own = client is None
        if client is None:
            try:
                client = Client(address)
            except (OSError, TimeoutError, ValueError) as exc:  # nobody listens, a bad address, a timeout
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ExecutorError(f"--scheduler {address}: cannot connect to a Dask scheduler ({first})") from None
        self.client = client

    def map(self, fn, tasks):  # noqa: D102
        # pure=False: every task runs (a seed is an argument, so caching would be safe, but
        # the caller may write files).
        futures = [self.client.submit(fn, *t, pure=False) for t in tasks]
        try:
            for i in range(len(futures)):
                yield futures[i].result()
                futures[i] = None  # let the cluster release the result
        except BaseException:
            self.client.cancel([f for f in futures if f is not None])
            raise

    def close(self) -> None:  # noqa: D102
        if self._own:
            self.client.close()


def make_executor(kind: str = "processes", workers: int | None = None, scheduler: str | None = None) -> Executor:
    """Build an executor by name: ``serial``, ``processes`` or ``dask``."""
    if kind == "serial":
        return Executor()
    if kind == "processes":
        return ProcessExecutor(workers)
    if kind == "dask":
        if not scheduler:
            raise ExecutorError("--executor dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")
        return DaskExecutor(scheduler)
    raise ExecutorError(f"unknown executor {kind!r}: expected serial, processes or dask")
