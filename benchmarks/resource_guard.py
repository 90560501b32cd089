"""Calibrate the resource guard's coefficients (``sim/config/budget.py``) from real runs.

Each point runs one replication of both care systems in a fresh process (events streamed to
Parquet, as ``narvard compare`` does) and reports the process's peak memory (VmHWM) and the
replication's wall time, with the estimator's drivers (persons ever present, person-years and
expected health events). A least-squares fit gives

    memory GiB = m0 + m1 * persons + m2 * health events
    seconds    = t0 + t1 * persons + t2 * person-years + t3 * health events   (both care systems)

Run: ``.venv/bin/python benchmarks/resource_guard.py`` (about two minutes on 2 cores). The
figures vary with the machine and its load; the guard only needs the order of magnitude.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: (persons at the start, measured years, deterioration-rate factor, entrants per year; None: in proportion)
POINTS = ((200, 0.1, 1.0, None), (4000, 2.0, 1.0, None), (16000, 2.0, 1.0, None), (60000, 2.0, 1.0, None),
          (4000, 2.0, 8.0, None), (8000, 2.0, 24.0, None), (4000, 8.0, 1.0, None), (4000, 1.0, 1.0, 100_000))

CHILD = r"""
import json, sys, time, tempfile
from pathlib import Path
from sim.config.loader import _deep_merge, resolve, validate
from sim.config.budget import drivers
from sim.experiments.runner import run_replication
persons, years, factor = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
entrants = float(sys.argv[5]) if sys.argv[5] != "None" else persons * 850 / 18000
data = resolve(Path(sys.argv[4]))
det = {k: v * factor for k, v in data["health"]["deterioration_rate_per_year"].items()}
data = _deep_merge(data, {
    "simulation": {"years": years, "warmup_years": 1.0 if years > 1 else 0.1, "replications": 1},
    "population": {"persons_65plus": int(persons), "entrants_per_year": entrants},
    "capacity": {"beds": max(4, int(persons * 120 // 18000)), "short_term_places": max(2, int(persons * 60 // 18000))},
    "health": {"deterioration_rate_per_year": det},
})
s = validate(data, "point")
with tempfile.TemporaryDirectory() as tmp:
    t0 = time.perf_counter()
    run_replication(s, 0, ("intervention", "person"), str(Path(tmp) / "r.parquet"))
    seconds = time.perf_counter() - t0
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
d = drivers(s)
print(json.dumps({"persons": d.persons, "person_years": d.person_years, "events": d.health_events,
                  "seconds": seconds, "gib": hwm / 2**20}))
"""


def main() -> None:
    """Run the points, print them and the fitted coefficients."""
    rows = []
    with tempfile.TemporaryDirectory():
        for persons, years, factor, entrants in POINTS:
            out = subprocess.run([sys.executable, "-c", CHILD, str(persons), str(years), str(factor),
                                  str(ROOT / "scenarios" / "default.toml"), str(entrants)],
                                 capture_output=True, text=True, check=True, cwd=ROOT)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"persons {persons:>6} years {years:>4} det x{factor:<4} entrants {entrants}:"
                  f" persons ever {row['persons']:>9,.0f}"
                  f"  person-years {row['person_years']:>9,.0f}  health events {row['events']:>10,.0f}"
                  f"  {row['seconds']:6.2f} s  {row['gib']:.3f} GiB", flush=True)
    # non-negative least squares: every driver costs memory and time, none gives any back
    from scipy.optimize import nnls

    a = np.array([[1.0, r["persons"], r["events"]] for r in rows])
    m = nnls(a, np.array([r["gib"] for r in rows]))[0]
    b = np.array([[1.0, r["persons"], r["person_years"], r["events"]] for r in rows])
    t = nnls(b, np.array([r["seconds"] for r in rows]))[0]
    print(f"memory GiB = {m[0]:.3g} + {m[1]:.3g} * persons + {m[2]:.3g} * health events")
    print(f"seconds    = {t[0]:.3g} + {t[1]:.3g} * persons + {t[2]:.3g} * person-years + {t[3]:.3g} * health events")
    for r in rows:
        print(f"  fitted {m @ [1.0, r['persons'], r['events']]:.3f} GiB (measured {r['gib']:.3f}),"
              f" {t @ [1.0, r['persons'], r['person_years'], r['events']]:.2f} s (measured {r['seconds']:.2f})")

if __name__ == "__main__":
    main()
