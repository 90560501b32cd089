"""The region-scale run: scenarios/vastra_gotaland.toml on a real Dask cluster on loopback.

Starts ``dask scheduler`` and two ``dask worker --nthreads 1 --no-nanny`` processes (so
each worker is one process whose peak memory can be read from /proc), runs every
replication of every registered care system through ``simulate_to_folder`` with the Dask
executor (event-log parts come back to this process as bytes), and prints the wall time,
which worker ran which replication and for how long, each worker's peak resident memory
(VmHWM) and this client's. Results go to results/vastra_gotaland (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, header, paradigms, stop_processes
from replications import BIN, free_port

from sim.config import load_scenario
from sim.experiments.executor import DaskExecutor
from sim.experiments.pipeline import simulate_to_folder


def vmhwm(pid: int) -> int:
    """Peak resident memory of a live process (bytes), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "vastra_gotaland.toml"))
    ap.add_argument("--out", default=str(ROOT / "results" / "vastra_gotaland"))
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    scenario = load_scenario(args.scenario)
    par = paradigms()
    header(f"Scale run: {scenario.meta.name}, {scenario.population.persons_65plus:,} persons, "
           f"{scenario.simulation.warmup_years:g}+{scenario.simulation.years:g} years, "
           f"{scenario.simulation.replications} replications, {'+'.join(par)}, Dask {args.workers} workers")
    from dask.distributed import Client, get_task_stream

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    tmp = Path(tempfile.mkdtemp(prefix="narvard-scale-"))
    log = open(tmp / "cluster.log", "w")
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=log, stderr=log)]
    workers = []
    try:
        for _ in range(args.workers):
            workers.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1",
                                             "--no-nanny", "--no-dashboard", "--host", "127.0.0.1",
                                             "--local-directory", str(tmp)], stdout=log, stderr=log, cwd=ROOT))
        procs += workers
        with Client(address, timeout=60) as client:
            client.wait_for_workers(args.workers, timeout=60)
            addr_pid = client.run(os.getpid)
            t0 = time.perf_counter()
            with get_task_stream(client) as ts:
                summary = simulate_to_folder(scenario, par, Path(args.out), True, DaskExecutor(client=client),
                                             args.scenario, command="scale-run")
            wall = time.perf_counter() - t0
            peaks = {a: vmhwm(pid) for a, pid in addr_pid.items()}
        tasks = []
        for t in ts.data:
            start = min(s["start"] for s in t["startstops"] if s["action"] == "compute")
            stop = max(s["stop"] for s in t["startstops"] if s["action"] == "compute")
            tasks.append((t["worker"], start, stop))
        tasks.sort(key=lambda x: x[1])
        t_first = min(t[1] for t in tasks)
        print(f"wall time (simulate_to_folder, cluster running): {wall:.1f} s")
        for i, (w, a, b) in enumerate(tasks):
            print(f"  task {i}: worker {w} (pid {addr_pid.get(w)}), {a - t_first:6.1f} s -> {b - t_first:6.1f} s, "
                  f"{b - a:.1f} s")
        for w, peak in peaks.items():
            print(f"  worker {w}: peak memory {peak / 2**30:.2f} GiB")
        client_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(f"  client (writes the parts, concatenates, summarises): peak memory {client_peak / 2**30:.2f} GiB")
        man = json.loads((Path(args.out) / "manifest.json").read_text())
        size = (Path(args.out) / "events.parquet").stat().st_size
        print(f"  events.parquet: {man['events_rows']:,} rows, {size / 2**20:.0f} MiB; engine events "
              f"{man['engine_events']:,}; replication seconds {man['replication_seconds']}")
        shown = summary[summary["metric"].isin(["admissions", "bed_days", "cost_total_sek"])]
        print(shown.to_string(index=False))
        return {"wall": wall, "tasks": tasks, "peaks": peaks, "client_peak": client_peak}
    finally:
        stop_processes(procs)
        log.close()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
