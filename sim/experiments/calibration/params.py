"""Parameter sets: free parameters as dotted paths (``concepts.mobile_team.prevent_share``) into a scenario mapping."""

from __future__ import annotations

import copy
from typing import Any

from sim.measure.targets import Parameter


def set_path(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """Return a copy of a nested mapping with ``a.b.c`` set to ``value`` (the path must exist)."""
    out = copy.deepcopy(data)
    node = out
    keys = dotted.split(".")
    for k in keys[:-1]:
        if not isinstance(node.get(k), dict):
            raise KeyError(f"{dotted}: no table {k!r} in the scenario")
        node = node[k]
    if keys[-1] not in node:
        raise KeyError(f"{dotted}: no field {keys[-1]!r} in the scenario")
    node[keys[-1]] = value
    return out


def get_path(data: dict[str, Any], dotted: str) -> Any:
    """Return the value at ``a.b.c`` in a nested mapping (KeyError naming the path if absent)."""
    node: Any = data
    for k in dotted.split("."):
        if not isinstance(node, dict) or k not in node:
            raise KeyError(f"{dotted}: no field {k!r} in the scenario")
        node = node[k]
    return node


def start_point(scenario_data: dict[str, Any], params: dict[str, Parameter]) -> dict[str, float]:
    """Return the scenario's own values of the free parameters, clipped to their ranges.

    A new study evaluates this point first, so a recalibration starts from the fit the bundled
    scenarios use (their ``overlay``) rather than from nothing.
    """
    out = {}
    for k, p in params.items():
        try:
            v = float(get_path(scenario_data, k))
        except (KeyError, TypeError, ValueError):
            v = (p.low + p.high) / 2
        out[k] = min(max(v, p.low), p.high)
    return out


def apply_params(data: dict[str, Any], params: dict[str, float]) -> dict[str, Any]:
    """Return the scenario mapping with the free parameters set."""
    for k, v in params.items():
        data = set_path(data, k, v)
    return data
