"""The exogenous health trajectory: stratum changes, acute deteriorations and deaths.

Drawn once per replication from each person's own HEALTH stream, before any care system
runs, so both care systems meet exactly the same trajectories. A continuous-time Markov
chain over the strata with competing risks (move, deteriorate, die); stratum-dependent
rates from the scenario. Drawn for all persons at once, one competing-risk step per loop.

Rates can differ between persons (``Health.personal_rates``): a persistent frailty (drawn in
:mod:`sim.population.population` from its own stream) and hazard ratios per completed year of
age multiply a stratum's deterioration rate, its moves to a worse stratum and its "dying" rates
(moves to palliative, deaths outside palliative). Moves to a better stratum and the palliative
phase's own death rate are left alone. Age is piecewise constant per completed year: a step that
would pass a birthday stops there without an event and the next step draws at the new age
(exact for piecewise-constant rates, the exponential being memoryless).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from sim.config.scenario import Scenario
from sim.domain.health import DEATH, DETERIORATION, ENTER, MINOR, NEEDS_ASSESSMENT, NEEDS_BED, STRATUM_CHANGE
from sim.domain.strata import STRATA
from sim.domain.streams import Stream, stream_key, uniforms
from sim.domain.units import DAYS_PER_YEAR
from sim.population.population import Population

_UNIFORMS_PER_STEP = 3  # time to next event, which event, acuity of a deterioration


@dataclass
class Trajectories:
    """All health events of a replication, sorted by (time, person, kind order)."""

    time: np.ndarray  #: day
    person: np.ndarray
    kind: np.ndarray  #: one of ENTER, STRATUM_CHANGE, DETERIORATION, DEATH
    stratum: np.ndarray  #: stratum index after the event (for a deterioration: at the event)
    det_index: np.ndarray  #: n-th deterioration of that person (-1 for other kinds)
    acuity: np.ndarray  #: NEEDS_BED / NEEDS_ASSESSMENT / MINOR (-1 for other kinds)
    death_time: np.ndarray  #: per person; inf if alive at the horizon

    def __len__(self) -> int:
        return len(self.time)


def _base_rates(scenario: Scenario) -> np.ndarray:
    """Per stratum, rates per person-year: deterioration, a move to each stratum (STRATA order), death."""
    h = scenario.health
    k = len(STRATA)
    rates = np.zeros((k, 2 + k))
    for i, s in enumerate(STRATA):
        rates[i, 0] = getattr(h.deterioration_rate_per_year, s)
        for target, r in getattr(h.transition_rates_per_year, s).items():
            rates[i, 1 + STRATA.index(target)] = r
        rates[i, 1 + k] = getattr(h.death_rate_per_year, s)
    return rates


def rate_tables(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Per stratum: total event rate (per day) and cumulative choice probabilities.

    Choice columns: deterioration, a move to each stratum (in STRATA order), death. The rates of a
    person of the reference age and frailty 1.
    """
    rates = _base_rates(scenario)
    total = rates.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cum = np.cumsum(rates, axis=1) / total[:, None]
    cum = np.nan_to_num(cum, nan=1.0)
    cum[:, -1] = 1.0
    return total / DAYS_PER_YEAR, cum


# Which multiplier scales each rate-table column (per origin stratum): none, deterioration, worse, dying.
_NONE, _DET, _WORSE, _DYING = range(4)


def rate_classes() -> np.ndarray:
    """Per origin stratum and choice column (as in :func:`rate_tables`): which multiplier applies."""
    k = len(STRATA)
    pall = STRATA.index("palliative")
    cls = np.zeros((k, 2 + k), np.int64)
    for i in range(k):
        cls[i, 0] = _DET
        for j in range(k):
            if j > i:
                cls[i, 1 + j] = _DYING if j == pall else _WORSE
        cls[i, 1 + k] = _NONE if i == pall else _DYING
    return cls


def deterioration_frailty(h, frailty: np.ndarray) -> np.ndarray:
    """Each person's frailty multiplier of the deterioration rate: ``Z ** e / E[Z ** e]`` (mean 1).

    ``E`` over the entrants' gamma (mean 1, variance ``frailty_variance``): ``Gamma(k + e) / Gamma(k) / k ** e``
    with shape ``k = 1 / variance``; ``e = deterioration_frailty_exponent``, 1 gives the frailty itself.
    """
    e, var = h.deterioration_frailty_exponent, h.frailty_variance
    if e == 1.0 or var <= 0.0:
        return frailty
    k = 1.0 / var
    return frailty ** e / np.exp(gammaln(k + e) - gammaln(k) - e * np.log(k))


def _personal_factors(h, frailty: np.ndarray, years: np.ndarray, det_frailty: np.ndarray | None = None) -> np.ndarray:
    """Multipliers (n x 4: none, deterioration, worse, dying) from frailty and completed years of age.

    ``det_frailty``: the deterioration's frailty multiplier (:func:`deterioration_frailty`; None: the frailty).
    """
    x = years - h.age_reference_years
    det_frailty = frailty if det_frailty is None else det_frailty
    return np.stack([np.ones(len(x)), det_frailty * h.deterioration_hazard_ratio_per_year_of_age ** x,
                     frailty * h.worsening_hazard_ratio_per_year_of_age ** x,
                     frailty * h.dying_hazard_ratio_per_year_of_age ** x], axis=1)


_TERMINAL_BASE = 1 << 40  # HEALTH-stream indices of terminal episodes, far from the step indices


def _terminal_episodes(scenario: Scenario, key, death_time: np.ndarray, pop: Population,
                       traj_parts, ndet: np.ndarray) -> None:
    """Insert the terminal deterioration that precedes a share of deaths.

    Known in advance because the whole trajectory is drawn before any care runs; the care
    system then decides whether the person dies in hospital or at home.
    """
    out_t, out_p, out_k, out_s, out_d, out_a = traj_parts
    died = np.flatnonzero(np.isfinite(death_time))
    if not len(died):
        return
    # Stratum at death: the last stratum recorded for the person.
    times = np.concatenate(out_t)
    persons = np.concatenate(out_p)
    kinds = np.concatenate(out_k)
    strata = np.concatenate(out_s)
    is_death = kinds == DEATH
    stratum_at_death = np.zeros(pop.size, np.int64)
    stratum_at_death[persons[is_death]] = strata[is_death]
    del times
    u = uniforms(key, died[:, None], _TERMINAL_BASE + np.arange(3)[None, :])
    share = np.array(scenario.health.terminal_episode_share.as_tuple())
    st = stratum_at_death[died]
    lead = -scenario.health.terminal_lead_days_mean * np.log(u[:, 1])
    t = death_time[died] - lead
    keep = (u[:, 0] < share[st]) & (t > pop.entry_time[died])
    p, t, st = died[keep], t[keep], st[keep]
    bed = scenario.health.terminal_share_needs_bed
    acuity = np.full(len(p), NEEDS_ASSESSMENT, np.int8)
    if bed is not None:
        acuity[u[keep, 2] < np.array(bed.as_tuple())[st]] = NEEDS_BED
    out_t.append(t)
    out_p.append(p)
    out_k.append(np.full(len(p), DETERIORATION, np.int8))
    out_s.append(st.astype(np.int8))
    out_d.append(ndet[p].copy())
    out_a.append(acuity)
    ndet[p] += 1


def draw_trajectories(scenario: Scenario, pop: Population, seed: int) -> Trajectories:
    """Draw every person's health trajectory from the entry to death or the horizon."""
    horizon = scenario.horizon_days
    total, cum = rate_tables(scenario)
    personal = scenario.health.personal_rates
    if personal:
        h = scenario.health
        base = _base_rates(scenario)
        cls = rate_classes()
        frailty = pop.frailty_or_ones()
        det_frailty = deterioration_frailty(h, frailty)
        # completed years of age of each person, raised at each birthday
        years_all = np.floor(pop.age_at_entry)
    share_bed = np.array(scenario.health.share_needs_bed.as_tuple())
    share_assess = np.array(scenario.health.share_needs_assessment.as_tuple())
    key = stream_key(seed, Stream.HEALTH)
    k = len(STRATA)

    n = pop.size
    out_t, out_p, out_k, out_s, out_d, out_a = [], [], [], [], [], []
    ids = np.arange(n, dtype=np.int64)
    out_t.append(pop.entry_time.copy())
    out_p.append(ids)
    out_k.append(np.full(n, ENTER, np.int8))
    out_s.append(pop.stratum_at_entry.astype(np.int8))
    out_d.append(np.full(n, -1, np.int32))
    out_a.append(np.full(n, -1, np.int8))

    death_time = np.full(n, np.inf)
    act = ids.copy()
    t = pop.entry_time.copy()
    s = pop.stratum_at_entry.astype(np.int64)
    ndet = np.zeros(n, np.int32)
    step = 0
    while len(act):
        first = step * _UNIFORMS_PER_STEP
        u = uniforms(key, act[:, None], first + np.arange(_UNIFORMS_PER_STEP)[None, :])
        if personal:
            years = years_all[act]
            factors = _personal_factors(h, frailty[act], years, det_frailty[act])
            rates = base[s] * np.take_along_axis(factors, cls[s], axis=1)
            rate = rates.sum(axis=1) / DAYS_PER_YEAR
        else:
            rate = total[s]
        with np.errstate(divide="ignore"):
            dt = np.where(rate > 0, -np.log(u[:, 0]) / rate, np.inf)
        t = t + dt
        if personal:
            # A step past the next birthday stops there, with no event; the next step is at the new age.
            birthday = pop.entry_time[act] + (years + 1.0 - pop.age_at_entry[act]) * DAYS_PER_YEAR
            passed = (t >= birthday) & (birthday < horizon)
            t = np.where(passed, birthday, t)
            years_all[act[passed]] += 1.0
            with np.errstate(invalid="ignore", divide="ignore"):
                pcum = np.cumsum(rates, axis=1) / rates.sum(axis=1)[:, None]
            pcum = np.nan_to_num(pcum, nan=1.0)
            pcum[:, -1] = 1.0
        alive = t < horizon
        if personal:
            keep = alive & ~passed
            pcum = pcum[keep]
            # persons at a birthday stay active without an event
            carry_a, carry_t, carry_s = act[alive & passed], t[alive & passed], s[alive & passed]
            act, t, s, u = act[keep], t[keep], s[keep], u[keep]
            choice = (u[:, 1:2] > pcum).sum(axis=1)
        else:
            act, t, s, u = act[alive], t[alive], s[alive], u[alive]
            choice = (u[:, 1:2] > cum[s]).sum(axis=1)  # 0 = deterioration, 1..k move, k+1 death
        is_det = choice == 0
        is_move = (choice >= 1) & (choice <= k)
        is_death = choice == k + 1
        # deteriorations
        if is_det.any():
            p = act[is_det]
            st = s[is_det]
            ua = u[is_det, 2]
            acu = np.where(ua < share_bed[st], NEEDS_BED,
                           np.where(ua < share_bed[st] + share_assess[st], NEEDS_ASSESSMENT, MINOR))
            out_t.append(t[is_det])
            out_p.append(p)
            out_k.append(np.full(len(p), DETERIORATION, np.int8))
            out_s.append(st.astype(np.int8))
            out_d.append(ndet[p].copy())
            out_a.append(acu.astype(np.int8))
            ndet[p] += 1
        if is_move.any():
            s = np.where(is_move, choice - 1, s)
            out_t.append(t[is_move])
            out_p.append(act[is_move])
            out_k.append(np.full(int(is_move.sum()), STRATUM_CHANGE, np.int8))
            out_s.append(s[is_move].astype(np.int8))
            out_d.append(np.full(int(is_move.sum()), -1, np.int32))
            out_a.append(np.full(int(is_move.sum()), -1, np.int8))
        if is_death.any():
            p = act[is_death]
            death_time[p] = t[is_death]
            out_t.append(t[is_death])
            out_p.append(p)
            out_k.append(np.full(len(p), DEATH, np.int8))
            out_s.append(s[is_death].astype(np.int8))
            out_d.append(np.full(len(p), -1, np.int32))
            out_a.append(np.full(len(p), -1, np.int8))
            keep = ~is_death
            act, t, s = act[keep], t[keep], s[keep]
        if personal and len(carry_a):
            act, t, s = np.concatenate([act, carry_a]), np.concatenate([t, carry_t]), np.concatenate([s, carry_s])
        step += 1

    _terminal_episodes(scenario, key, death_time, pop, traj_parts=(out_t, out_p, out_k, out_s, out_d, out_a),
                       ndet=ndet)
    time = np.concatenate(out_t)
    person = np.concatenate(out_p)
    kind = np.concatenate(out_k)
    order = np.lexsort((kind, person, time))
    return Trajectories(
        time=time[order],
        person=person[order],
        kind=kind[order],
        stratum=np.concatenate(out_s)[order],
        det_index=np.concatenate(out_d)[order],
        acuity=np.concatenate(out_a)[order],
        death_time=death_time,
    )
