"""Unit: the layer contract of issue 12 holds, and no module takes part in an import cycle.

The contract is in ``.importlinter`` (also run by ``make lint``): layers import only downward,
care reaches the engine only through the port, service concepts are independent of each other.
"""

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
# Known cycles, outside the model core: CLI commands' modules import the CLI's error helper.
KNOWN_CYCLES: set[tuple[str, str]] = set()


def test_layer_contract_kept():
    exe = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(exe), "--no-cache", "--config", str(ROOT / ".importlinter")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Contracts: 3 kept, 0 broken." in r.stdout


def _cycles(graph) -> set[tuple[str, str]]:
    out = set()
    for a in graph.modules:
        for b in graph.find_modules_directly_imported_by(a):
            if graph.chain_exists(importer=b, imported=a):
                out.add(tuple(sorted((a, b))))
    return out


def test_no_import_cycles():
    graph = grimp.build_graph("sim", include_external_packages=False)
    assert _cycles(graph) <= KNOWN_CYCLES


def test_cycle_check_finds_a_cycle():
    # The check itself can fail: the vocabulary importing the engine (which imports it) is a cycle.
    graph = grimp.build_graph("sim", include_external_packages=False)
    graph.add_import(importer="sim.domain.events", imported="sim.engine.model")
    assert ("sim.domain.events", "sim.engine.model") in _cycles(graph)
