"""Replications: serial against local processes and Dask, results checked byte for byte.

Runs the same replications through ``sim.experiments.pipeline.simulate_to_folder`` (the code behind
``narvard run/compare``) on: the serial executor; ``ProcessExecutor`` with 2 workers; a Dask
``LocalCluster`` of 2 single-threaded worker processes; and a real cluster started from the
command line on loopback (``dask scheduler`` + 2 x ``dask worker``), driven by
``narvard compare --executor dask --scheduler ADDRESS``. Speed-ups are serial wall time
over parallel wall time; summary.csv and events.parquet must equal the serial ones.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, default_scenario, header, paradigms, scaled_scenario, stop_processes, write_scaled

from sim.experiments.executor import DaskExecutor, Executor, ProcessExecutor
from sim.experiments.pipeline import simulate_to_folder

FILES = ("summary.csv", "events.parquet")
BIN = Path(sys.executable).parent


def timed(scenario, par, out: Path, executor) -> float:
    t0 = time.perf_counter()
    with executor:
        simulate_to_folder(scenario, par, out, True, executor)
    return time.perf_counter() - t0


def same(a: Path, b: Path) -> bool:
    return all((a / f).read_bytes() == (b / f).read_bytes() for f in FILES)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_cluster(scenario_file: Path, reps: int, out: Path, workers: int = 2) -> tuple[float, float]:
    """``dask scheduler`` + ``dask worker`` processes on loopback; ``narvard compare`` on them.

    Returns (seconds of the narvard command, seconds to start the cluster).
    """
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = []
    log = open(out.parent / "dask-cluster.log", "w")
    t0 = time.perf_counter()
    try:
        procs.append(subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                       "--no-dashboard"], stdout=log, stderr=log))
        for _ in range(workers):
            procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1",
                                           "--no-dashboard", "--host", "127.0.0.1",
                                           "--local-directory", str(out.parent / "dask-worker")],
                                          stdout=log, stderr=log, cwd=ROOT))
        from dask.distributed import Client

        with Client(address, timeout=60) as c:
            c.wait_for_workers(workers, timeout=60)
        started = time.perf_counter() - t0
        t1 = time.perf_counter()
        cmd = [str(BIN / "narvard"), "compare" if len(paradigms()) == 2 else "run", str(scenario_file),
               "--replications", str(reps), "--out", str(out), "--force",
               "--executor", "dask", "--scheduler", address]
        subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
        return time.perf_counter() - t1, started
    finally:
        stop_processes(procs)
        log.close()


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--replications", type=int, default=4)
    ap.add_argument("--persons", type=int, default=None, help="scale the default scenario (quick mode: 6000)")
    ap.add_argument("--no-cli-cluster", action="store_true", help="skip the dask scheduler/worker processes")
    args = ap.parse_args(argv)
    par = paradigms()
    reps = args.replications
    scenario = (scaled_scenario(args.persons, None, replications=reps) if args.persons
                else default_scenario(replications=reps))
    header(f"Replications: {reps} x {scenario.population.persons_65plus:,} persons, "
           f"{'+'.join(par)}, through simulate_to_folder")
    tmp = Path(tempfile.mkdtemp(prefix="narvard-bench-"))
    out = {}
    try:
        serial = timed(scenario, par, tmp / "serial", Executor())
        print(f"serial:                        {serial:7.2f} s")
        procs = timed(scenario, par, tmp / "processes", ProcessExecutor(2))
        print(f"ProcessExecutor, 2 workers:    {procs:7.2f} s  speed-up {serial / procs:.2f} (target >= 1.8)"
              f"  identical: {same(tmp / 'serial', tmp / 'processes')}")
        from dask.distributed import Client, LocalCluster

        t0 = time.perf_counter()
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster, Client(cluster) as client:
            start = time.perf_counter() - t0
            dask = timed(scenario, par, tmp / "dask", DaskExecutor(client=client))
        print(f"Dask LocalCluster, 2 workers:  {dask:7.2f} s  speed-up {serial / dask:.2f}"
              f"  identical: {same(tmp / 'serial', tmp / 'dask')}  (cluster start {start:.1f} s, not counted)")
        out = {"serial": serial, "processes": procs, "dask": dask,
               "speedup_processes": serial / procs, "speedup_dask": serial / dask}
        if not args.no_cli_cluster:
            # The scenario as a file, for the command line.
            scen_file = write_scaled(tmp / "scenario.toml", scenario.population.persons_65plus, None,
                                     replications=reps)
            # Serial reference through the same command line, then the cluster.
            t1 = time.perf_counter()
            subprocess.run([str(BIN / "narvard"), "compare" if len(par) == 2 else "run", str(scen_file),
                            "--replications", str(reps), "--out", str(tmp / "cli-serial"), "--force",
                            "--executor", "serial"], check=True, capture_output=True, text=True, cwd=ROOT)
            cli_serial = time.perf_counter() - t1
            cli, start = cli_cluster(scen_file, reps, tmp / "cli-dask")
            print(f"dask scheduler + 2 dask worker (CLI, loopback): {cli:7.2f} s against serial CLI "
                  f"{cli_serial:.2f} s, speed-up {cli_serial / cli:.2f}"
                  f"  identical: {same(tmp / 'cli-serial', tmp / 'cli-dask')}  (cluster start {start:.1f} s)")
            out.update({"cli_dask": cli, "cli_serial": cli_serial, "speedup_cli": cli_serial / cli})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
