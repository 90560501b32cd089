"""From a region file to the runs: its areas, each option's scenario per area, the teams' survival.

Every option meets the same persons: an area's seed depends only on the region's seed and the
area's position, and its persons and health trajectories only on that seed and its population
(an option that does not change the population does not change the persons). A team's life is
one draw of the SURVIVAL stream per (area, replication, concept), turned into days with the
hazard of the option (with or without support): the same draw under every option, so support
always lengthens the same team's life and never reshuffles who dies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.config.loader import _deep_merge, validate
from sim.config.region import AreaGroup, Region, area_data
from sim.config.scenario import Scenario
from sim.domain.streams import Stream, replication_seed, stream_key, uniforms
from sim.domain.units import DAYS_PER_YEAR


@dataclass(frozen=True)
class Area:
    """One simulated area: its group, position, seed and the municipalities it stands for."""

    name: str
    group: AreaGroup
    index: int
    seed: int
    weight: float


@dataclass
class Team:
    """One concept's team in one area and replication: funded, acting, stopped (or not)."""

    concept: str
    start_day: float  #: funded from (the plan's year)
    acting_day: float  #: staff in place (start + recruitment)
    end_day: float  #: died on this day (inf: lives to the horizon)

    @property
    def died(self) -> bool:
        """Tell whether the team died before the horizon."""
        return math.isfinite(self.end_day)

    def alive(self, day: float) -> bool:
        """Tell whether the team is acting on ``day``."""
        return self.acting_day <= day < self.end_day


@dataclass
class AreaRun:
    """One option's run of one area in one replication."""

    option: str
    scenario: Scenario
    teams: list[Team] = field(default_factory=list)
    beds_closed: int = 0
    cut_day: float = math.inf


def areas(region: Region, seed: int) -> list[Area]:
    """Return the simulated areas, in file order; seeds from (region seed, position) only."""
    out = []
    for group in region.groups:
        for j in range(group.simulated):
            i = len(out)
            s = int(np.random.SeedSequence([seed, i]).generate_state(1, np.uint64)[0]) >> 1
            name = group.name if group.simulated == 1 else f"{group.name}-{j + 1}"
            out.append(Area(name, group, i, s, group.weight))
    return out


def concept_names(template: Scenario) -> list[str]:
    """Return the concepts' section names, in registration order (the SURVIVAL stream's index)."""
    c = template.concepts
    return [n for n in type(c).model_fields if hasattr(getattr(c, n), "enabled")]


def teams(region: Region, template: Scenario, area: Area, replication: int) -> list[Team]:
    """Return the teams the plan starts in ``area``, with their life drawn from the SURVIVAL stream."""
    names = concept_names(template)
    warmup, horizon = template.warmup_days, template.horizon_days
    build = region.build_up
    hazard = region.survival.hazard_per_day(region.support.enabled)
    key = stream_key(replication_seed(area.seed, replication), Stream.SURVIVAL)
    out: dict[str, Team] = {}
    for step in sorted(region.plan, key=lambda s: s.year):
        if step.concept in out or (step.groups is not None and area.group.name not in step.groups):
            continue
        start = warmup + step.year * DAYS_PER_YEAR
        u = float(uniforms(key, names.index(step.concept), 0))
        life = 0.0 if math.isinf(hazard) else (math.inf if hazard == 0.0 else -math.log(u) / hazard)
        end = start + life
        end = end if end < horizon else math.inf
        out[step.concept] = Team(step.concept, start, start + build.recruitment_days, end)
    return list(out.values())


def area_scenario(data: dict[str, Any], template: Scenario, region: Region, area: Area,
                  team_list: list[Team]) -> Scenario:
    """Return the area's scenario under the plan: only its teams enabled, each in its window."""
    base = area_data(data, template, region, area.group)
    build = region.build_up.model_dump()
    planned = {t.concept: t for t in team_list}
    concepts: dict[str, Any] = {}
    for name in concept_names(template):
        team = planned.get(name)
        if team is None or team.end_day <= team.acting_day:  # not planned, or died before it acted
            concepts[name] = {"enabled": False}
            continue
        section = {"enabled": True, "start_day": team.start_day, **build}
        if team.died:
            section["end_day"] = team.end_day
        concepts[name] = section
    concepts["team_collaboration"] = bool(region.team_collaboration and planned)
    out = _deep_merge(base, {"concepts": concepts, "simulation": {"seed": area.seed}})
    return validate(out, f"region area {area.name}")


def area_runs(options: dict[str, tuple[Scenario, Region, dict]], area: Area, replication: int) -> list[AreaRun]:
    """Each option's run of ``area`` in ``replication``."""
    runs = []
    for name, (template, region, data) in options.items():
        team_list = teams(region, template, area, replication)
        scenario = area_scenario(data, template, region, area, team_list)
        cut = region.bed_cut
        closed = int(round(cut.share * scenario.capacity.beds))
        closed = min(closed, scenario.capacity.beds - 1)
        cut_day = template.warmup_days + cut.from_year * DAYS_PER_YEAR if closed > 0 else math.inf
        runs.append(AreaRun(name, scenario, team_list, closed, cut_day))
    return runs
