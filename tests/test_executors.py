"""Functional: results are byte-identical whatever the executor (serial, processes, Dask).

Seeds come from the scenario seed and the replication number only, and the event-log parts
are spliced into one file by the client (sim.output.splice), so summary.csv, replications.csv and
events.parquet must not differ by a byte between executors. The Dask test starts a real
``LocalCluster`` of two worker processes (loopback), so the tasks, the scenario and the
event-log parts really cross process boundaries; on Dask the parts travel back as bytes
(``sim.experiments.runner.replication_part``), not through a shared folder.
"""

from __future__ import annotations

import pytest

from sim.experiments.executor import DaskExecutor, Executor, ProcessExecutor, make_executor
from sim.experiments.pipeline import simulate_to_folder
from tests.conftest import small_scenario

FILES = ("summary.csv", "replications.csv", "events.parquet")
PARADIGMS = ("intervention", "person")


def _scenario():
    return small_scenario(persons=800, years=0.5, warmup=0.25, replications=3)


def _run(tmp_path, name, executor):
    out = tmp_path / name
    with executor:
        simulate_to_folder(_scenario(), PARADIGMS, out, False, executor)
    return {f: (out / f).read_bytes() for f in FILES}


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("serial"), "serial", Executor())


def test_processes_equal_serial_byte_for_byte(tmp_path, serial):
    got = _run(tmp_path, "processes", ProcessExecutor(2))
    for f in FILES:
        assert got[f] == serial[f], f


@pytest.mark.slow
def test_dask_local_cluster_equals_serial_byte_for_byte(tmp_path, serial):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        ex = DaskExecutor(client=client)
        got = _run(tmp_path, "dask", ex)
        # Both workers took part (three replications on two single-threaded workers).
        assert len(client.scheduler_info()["workers"]) == 2
    for f in FILES:
        assert got[f] == serial[f], f


def test_the_round_before_a_split_one_is_encoded_by_the_main_process():
    """encode_later: the whole replications of the last round before a split round, on local workers only."""
    from sim.experiments.runner import encode_later, task_groups

    two = ProcessExecutor(2)
    assert encode_later(task_groups(5, PARADIGMS, two), two) == {2, 3}
    assert encode_later(task_groups(3, PARADIGMS, two), two) == {0, 1}  # _run's: the processes test covers it
    assert encode_later(task_groups(1, PARADIGMS, two), two) == set()  # a split round only
    assert encode_later(task_groups(4, PARADIGMS, two), two) == set()  # no split round
    assert encode_later(task_groups(5, PARADIGMS, Executor()), Executor()) == set()
    assert encode_later(task_groups(5, PARADIGMS[:1], two), two) == set()  # one care system: nothing split

    class Remote(ProcessExecutor):  # workers on other machines (Dask): parts come back encoded
        shared_filesystem = False

    assert encode_later(task_groups(5, PARADIGMS, Remote(2)), Remote(2)) == set()


def test_make_executor_refuses_dask_without_scheduler():
    with pytest.raises(ValueError, match="--scheduler"):
        make_executor("dask")
    with pytest.raises(ValueError, match="unknown executor"):
        make_executor("threads")


def test_the_pools_cancelled_future_race_is_not_printed():
    """CPython 3.11: the pool's thread raises InvalidStateError on a future map cancelled (an interrupt)."""
    import threading
    from concurrent.futures import InvalidStateError

    from sim.experiments.executor import _quiet_cancelled_future

    seen = []
    race = InvalidStateError("CANCELLED: <Future at 0x1 state=cancelled>")
    _quiet_cancelled_future(threading.ExceptHookArgs((InvalidStateError, race, None, None)), seen.append)
    assert seen == []
    other = threading.ExceptHookArgs((ValueError, ValueError("a real error"), None, None))
    _quiet_cancelled_future(other, seen.append)
    assert seen == [other]
