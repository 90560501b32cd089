"""Shared helpers of the benchmarks: scenarios, paradigms, printing.

Benchmarks print figures; they never assert on time (the machine is shared and noisy).
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.care import CARE_SYSTEMS  # noqa: E402
from sim.care.concepts import REGISTRY  # noqa: E402
from sim.config.loader import _deep_merge, resolve, validate  # noqa: E402

DEFAULT = ROOT / "scenarios" / "default.toml"
DEFAULT_PERSONS = 18000


def paradigms() -> tuple[str, ...]:
    """Both care systems when the person-driven one is registered, else intervention only."""
    return ("intervention", "person") if "person" in CARE_SYSTEMS else ("intervention",)


def default_scenario(replications: int = 1):
    """The default scenario with ``replications`` replications."""
    return scaled_scenario(DEFAULT_PERSONS, None, replications=replications)


def scaled_scenario(persons: int, years: float | None, warmup: float | None = None,
                    replications: int = 1, path: Path = DEFAULT):
    """A scenario file scaled to ``persons``: entrants and every capacity in proportion.

    ``years``/``warmup``: measured period and warm-up in years (None keeps the file's).
    Team caseloads and team costs scale too (more teams of the same kind, not larger ones).
    """
    data = resolve(path)
    over = scaled_overrides(data, persons, years, warmup, replications)
    return validate(_deep_merge(data, over), f"{path.name} scaled to {persons} persons")


def write_scaled(out: Path, persons: int, years: float | None, warmup: float | None = None,
                 replications: int = 1, path: Path = DEFAULT) -> Path:
    """The same scaled scenario as a TOML file with ``base = <path>`` (for the command line)."""
    over = scaled_overrides(resolve(path), persons, years, warmup, replications)
    lines = [f'base = ["{path}"]', "", "[meta]", f'name = "scaled-{persons}"', ""]

    def section(name, d):
        scalars = {k: v for k, v in d.items() if not isinstance(v, dict)}
        if scalars:
            lines.append(f"[{name}]")
            lines.extend(f"{k} = {v!r}" for k, v in scalars.items())
            lines.append("")
        for k, v in d.items():
            if isinstance(v, dict):
                section(f"{name}.{k}", v)

    for name, d in over.items():
        section(name, d)
    out.write_text("\n".join(lines))
    return out


def scaled_overrides(data: dict, persons: int, years: float | None, warmup: float | None,
                     replications: int) -> dict:
    """The overrides behind :func:`scaled_scenario` (a nested dict of numbers)."""
    f = persons / data["population"]["persons_65plus"]
    over: dict = {
        "simulation": {"replications": replications},
        "population": {"persons_65plus": persons,
                       "entrants_per_year": data["population"]["entrants_per_year"] * f},
        "capacity": {
            "beds": max(1, round(data["capacity"]["beds"] * f)),
            "short_term_places": max(1, round(data["capacity"]["short_term_places"] * f)),
            "home_health_nurses_fte": data["capacity"]["home_health_nurses_fte"] * f,
        },
    }
    if years is not None:
        over["simulation"]["years"] = years
    if warmup is not None:
        over["simulation"]["warmup_years"] = warmup
    concepts = data.get("concepts", {})
    # Every registered concept: its place limit scales with the area, and so does its staff cost.
    for concept in REGISTRY:
        for cap in ("caseload_max", "list_max"):
            if concept in concepts and cap in concepts[concept]:
                over.setdefault("concepts", {}).setdefault(concept, {})[cap] = max(
                    1, round(concepts[concept][cap] * f))
        cost = REGISTRY[concept].staff_cost
        if concept in over.get("concepts", {}) and cost in data.get("costs", {}):
            over.setdefault("costs", {})[cost] = data["costs"][cost] * f
    return over


def spread(values: list[float]) -> str:
    """Median and range of repeated measurements, as text."""
    if len(values) == 1:
        return f"{values[0]:.3g}"
    return f"{statistics.median(values):.3g} (range {min(values):.3g}-{max(values):.3g}, n={len(values)})"


def header(title: str) -> None:
    """Print a section header with the machine's load (the machine is shared)."""
    load = os.getloadavg()
    print(f"\n=== {title} === (cores {os.cpu_count()}, load average {load[0]:.2f} {load[1]:.2f})", flush=True)


def stop_processes(procs: list) -> None:
    """Terminate the processes started here (by their ids), then kill any that linger."""
    import subprocess

    for p in reversed(procs):
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
