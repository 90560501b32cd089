"""The vulnerability of the trio: switch off each service concept alone and compare.

For every variant (all concepts on, then each one off) the same persons run under both care
systems; the paired difference person − intervention per replication gives the effect of
the remaining concepts, with a Student-t 95 % interval.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from sim.care.concepts import REGISTRY
from sim.config.scenario import Scenario
from sim.experiments.calibration.batch import paired_replications
from sim.experiments.executor import Executor
from sim.experiments.runner import metrics_frame
from sim.output.summary import paired_differences

SWITCHES = ("direct_admission", "team_collaboration")  # switches of individstyrning that are not concepts
SHOWN = ("bed_days", "ed_visits", "readmissions_30d", "short_term_care_days", "home_help_hours",
         "cost_region_sek", "cost_municipality_sek", "cost_total_sek")


def without(scenario: Scenario, concept: str) -> Scenario:
    """Return the scenario with one concept switched off."""
    c = scenario.concepts
    value = getattr(c, concept)
    off = value.model_copy(update={"enabled": False}) if hasattr(value, "enabled") else False
    return scenario.model_copy(update={"concepts": c.model_copy(update={concept: off})})


def variants(scenario: Scenario) -> dict[str, Scenario]:
    """``all on`` plus one variant per concept that is on in the scenario."""
    out = {"all on": scenario}
    for name in (*REGISTRY, *SWITCHES):
        value = getattr(scenario.concepts, name)
        if getattr(value, "enabled", value):
            out[f"without {name}"] = without(scenario, name)
    return out


def switch_off_tasks(scenario: Scenario) -> int:
    """Count the paired replications a switch-off run makes (variants × replications)."""
    return len(variants(scenario)) * scenario.simulation.replications


def switch_off_table(scenario: Scenario, executor: Executor,
                     progress: Callable[[], None] | None = None) -> pd.DataFrame:
    """Long table: variant, metric, mean, ci_low, ci_high of person − intervention.

    ``progress`` is called once per finished paired replication.
    """
    vs = variants(scenario)
    runs = paired_replications(list(vs.values()), range(scenario.simulation.replications), executor,
                               progress=progress)
    frames = []
    for name, chunk in zip(vs, runs, strict=True):
        d = paired_differences(metrics_frame(chunk, "intervention"), metrics_frame(chunk, "person"))
        frames.append(d[d["metric"].isin(SHOWN)].assign(variant=name))
    out = pd.concat(frames, ignore_index=True)
    return out[["variant", "metric", "mean", "ci_low", "ci_high", "unit"]]
