"""The assumptions file (``calibration/sensitivity.toml``): named assumptions, their ranges and the design."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.config.loader import ScenarioError, format_validation_error, read_toml
from sim.experiments.calibration.params import get_path

#: Sections a sensitivity analysis may not vary: they decide the run itself, not an assumption.
FORBIDDEN = ("simulation.", "meta.")


class Strict(BaseModel):
    """Frozen, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Assumption(Strict):
    """One assumption: a range for a scenario field (``value``) or a factor on a table of them (``scale``)."""

    low: float
    high: float
    mode: Literal["value", "scale"] = "value"
    source: str = Field(min_length=1, description="the source of the range, or the reason for it")

    @model_validator(mode="after")
    def _range(self) -> Assumption:
        if not self.high > self.low:
            raise ValueError("high must be above low")
        if self.mode == "scale" and self.low <= 0:
            raise ValueError("a scale factor's low must be > 0")
        return self


class Design(Strict):
    """The study's design: seeds, replications, Morris and Sobol sizes."""

    seed: int = Field(default=2026, ge=0)
    replications: list[int] = Field(default=[0], min_length=1, description="replication numbers of every point")
    noise_replications: int = Field(default=5, ge=0, le=100)
    morris_trajectories: int = Field(default=10, ge=2, le=1000)
    morris_levels: int = Field(default=4, ge=2, le=20)
    select_share: float = Field(default=0.10, gt=0.0, le=1.0)
    sobol_max: int = Field(default=5, ge=0, le=50)
    sobol_n: int = Field(default=256, ge=2, le=2**20)
    resamples: int = Field(default=1000, ge=10, le=100_000)

    @model_validator(mode="after")
    def _checks(self) -> Design:
        if self.sobol_n & (self.sobol_n - 1):
            raise ValueError("sobol_n must be a power of 2 (Sobol' sequences)")
        if self.morris_levels % 2:
            raise ValueError("morris_levels must be even (Morris' step p / (2 (p - 1)))")
        if len(set(self.replications)) != len(self.replications) or min(self.replications) < 0:
            raise ValueError("replications must be distinct numbers >= 0")
        return self


class AssumptionFile(Strict):
    """The whole file."""

    targets: str | None = None
    design: Design = Design()
    assumptions: dict[str, Assumption] = Field(min_length=1)

    @property
    def names(self) -> list[str]:
        """Return the assumptions' dotted paths, in file order."""
        return list(self.assumptions)

    def digest(self) -> str:
        """SHA-256 of the assumptions and their ranges (what makes two studies' points comparable)."""
        dumped = {k: a.model_dump(mode="json", exclude={"source"}) for k, a in self.assumptions.items()}
        return hashlib.sha256(json.dumps(dumped, sort_keys=True).encode()).hexdigest()


def load_assumptions(path: Path | str) -> AssumptionFile:
    """Load and validate an assumptions file; errors name the file and field (:class:`ScenarioError`)."""
    path = Path(path)
    data = read_toml(path)
    try:
        spec = AssumptionFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(path, format_validation_error(exc, AssumptionFile)) from None
    problems = [f"assumptions.{k!r}: {k.split('.')[0]} may not be varied (it decides the run, not an assumption)"
                for k in spec.assumptions if k.startswith(FORBIDDEN)]
    if spec.targets:
        pinned = _pinned(path.parent / spec.targets)
        problems += [f"assumptions.{k!r}: pinned by a calibration target (a fitted parameter of {spec.targets})"
                     for k in spec.assumptions if k in pinned]
    if problems:
        raise ScenarioError(path, problems)
    return spec


def _pinned(targets: Path) -> set[str]:
    """Return the fitted parameters of a targets file (its ``[calibration.parameters]``)."""
    data = read_toml(targets)
    return set((data.get("calibration") or {}).get("parameters") or {})


def check_against(spec: AssumptionFile, scenario_data: dict[str, Any], path: Path | str) -> None:
    """Refuse assumptions whose field is not in the scenario, is of the wrong type, or whose range misses its value."""
    problems = []
    for k, a in spec.assumptions.items():
        try:
            value = get_path(scenario_data, k)
        except KeyError as exc:
            problems.append(f"assumptions.{k!r}: {exc.args[0]}")
            continue
        if a.mode == "scale":
            if not (isinstance(value, dict) and value and all(_number(v) for v in value.values())):
                problems.append(f"assumptions.{k!r}: mode 'scale' needs a table of numbers (got {value!r})")
            elif not a.low <= 1.0 <= a.high:
                problems.append(f"assumptions.{k!r}: the range [{a.low:g}, {a.high:g}] must hold factor 1")
        elif not _number(value):
            problems.append(f"assumptions.{k!r}: not a number in the scenario (got {value!r}); use mode = 'scale'"
                            " for a table")
        elif not a.low <= value <= a.high:
            problems.append(f"assumptions.{k!r}: the scenario's value {value:g} is outside [{a.low:g}, {a.high:g}]")
    if problems:
        raise ScenarioError(path, problems)


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def defaults(spec: AssumptionFile, scenario_data: dict[str, Any]) -> dict[str, float]:
    """Return each assumption's value at the scenario's own point (a scale assumption's is 1)."""
    return {k: 1.0 if a.mode == "scale" else float(get_path(scenario_data, k)) for k, a in spec.assumptions.items()}


def apply(scenario_data: dict[str, Any], spec: AssumptionFile, values: dict[str, float]) -> dict[str, Any]:
    """Return the scenario mapping with the assumptions set (an integer field rounded, a table scaled)."""
    out = copy.deepcopy(scenario_data)
    for k, v in values.items():
        a = spec.assumptions[k]
        *parents, leaf = k.split(".")
        node = out
        for p in parents:
            node = node[p]
        if a.mode == "scale":
            node[leaf] = {s: x * float(v) for s, x in node[leaf].items()}
        elif isinstance(node[leaf], int) and not isinstance(node[leaf], bool):
            node[leaf] = int(round(float(v)))
        else:
            node[leaf] = float(v)
    return out
