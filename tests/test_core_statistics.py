"""Statistical: simulated health processes match their scenario parameters and analytic results.

All tests run at fixed seeds, so they are deterministic; the significance level says how often
a *correct* model would fail at a seed picked at random. Each test states its level (``ALPHA``
for the family, split evenly, Bonferroni, when one test makes several comparisons), and the
interval it uses comes from an exact distribution or from the spread over replications, never
from a tolerance picked by hand.

- Deteriorations per person-year in each stratum, rebuilt from the event log (deterioration
  rows over the exposure from enter / stratum_change / death rows), against the scenario rate.
- Acuity shares of deteriorations met at home, against share_needs_bed / share_needs_assessment.
- Terminal deteriorations: the extra deteriorations before deaths, against their expected count.
- The population at entry: strata, ages, the entrants' Poisson arrivals, the movers-in.
- Length of stay: lognormal with the stratum's mean and the scenario's coefficient of variation.
- The pure Markov stratum chain (:mod:`sim.population.health`): sojourn times exponential with
  mean 1 / (total rate of leaving the stratum), and exits to each target in proportion to rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.config.scenario import STRATA
from sim.domain.health import DEATH, ENTER, STRATUM_CHANGE
from sim.domain.streams import replication_seed
from sim.experiments.runner import run_replication
from sim.population import draw_trajectories, make_population
from tests import core_invariants as ci
from tests.conftest import small_scenario

ALPHA = 0.01  # family-wise level of each test below
DAYS_PER_YEAR = 365.25
REPS = 10
#: the pure stratum chain: no terminal episodes, and the same rates for every person (no frailty, no age
#: effect; those are tested in test_persons.py)
SAME_RATES = {"frailty_variance": 0.0, "deterioration_hazard_ratio_per_year_of_age": 1.0,
              "worsening_hazard_ratio_per_year_of_age": 1.0, "dying_hazard_ratio_per_year_of_age": 1.0}
NO_TERMINAL = {"health": {"terminal_episode_share": dict.fromkeys(STRATA, 0.0), **SAME_RATES}}


def exposure_years(df: pd.DataFrame, horizon: float) -> pd.Series:
    """Person-years spent in each stratum, from the enter, stratum_change and death rows.

    A row's stratum is the stratum after the event (at the event for a death); each person's
    segment runs from one such row to the next, the last one to the horizon.
    """
    st = df[df.kind.isin(("enter", "stratum_change", "death"))][["person", "time", "kind", "stratum"]]
    st = st.sort_values(["person", "time"], kind="stable")
    nxt = st.groupby("person").time.shift(-1).fillna(horizon)
    days = np.where(st.kind == "death", 0.0, nxt - st.time)
    assert (days >= 0).all()
    per_stratum = pd.Series(days, index=st.index).groupby(st.stratum).sum()
    return per_stratum.reindex(list(STRATA), fill_value=0.0) / DAYS_PER_YEAR


def trajectory_deteriorations(df: pd.DataFrame) -> pd.Series:
    """Deteriorations of the health trajectory, by stratum at the time.

    All deterioration rows except relapses (which the care system causes): those met at home
    (needs_bed / needs_assessment / minor) *and* those that happen while the person is in
    hospital or short-term care (``in_care``), since the trajectory runs in every location.
    """
    d = df[(df.kind == "deterioration") & (df.detail != "relapse")]
    return d.groupby("stratum").size().reindex(list(STRATA), fill_value=0)


@pytest.fixture(scope="module")
def rate_runs():
    """Ten replications of a closed-ish population, 2 years, no warm-up, no terminal episodes."""
    s = small_scenario(persons=3000, years=2.0, warmup=0.0, seed=2024, replications=REPS, **NO_TERMINAL)
    counts, expo, logs = [], [], []
    for rep in range(REPS):
        res = run_replication(s, rep, ("intervention",), keep=True)
        df = ci.frame(res.tables["intervention"])
        counts.append(trajectory_deteriorations(df))
        expo.append(exposure_years(df, s.horizon_days))
        logs.append(df)
    return s, pd.DataFrame(counts), pd.DataFrame(expo), logs


def test_exposure_adds_up_to_person_years(rate_runs):
    # The stratum segments partition each person's time in the area: their total is the
    # person-years of population_counts (no warm-up here, so the whole run is measured).
    s, _, expo, _ = rate_runs
    res = run_replication(s, 0, ("intervention",))
    assert expo.iloc[0].sum() == pytest.approx(res.metrics["intervention"]["person_years"], rel=1e-9)


def test_deterioration_rate_exact_poisson(rate_runs):
    """Pooled over replications, each stratum's count lies in its exact Poisson interval.

    Why exact Poisson: a deterioration does not change the stratum (it is a self-loop among
    competing exponential risks), so given the time spent in stratum s the number of
    deteriorations there is exactly Poisson(rate_s x exposure_s), and sums of independent
    replications stay Poisson. The Garwood (chi-square) interval is then exact, also for the
    palliative stratum with few person-years, where a normal interval would not be.
    """
    s, counts, expo, _ = rate_runs
    a = ALPHA / len(STRATA)
    rate = dict(zip(STRATA, s.health.deterioration_rate_per_year.as_tuple(), strict=True))
    for st in STRATA:
        n, e = int(counts[st].sum()), float(expo[st].sum())
        assert n > 100, st  # enough events for the test to have power
        lo = stats.chi2.ppf(a / 2, 2 * n) / 2 / e
        hi = stats.chi2.ppf(1 - a / 2, 2 * n + 2) / 2 / e
        assert lo <= rate[st] <= hi, f"{st}: {n} in {e:.1f} py, [{lo:.3f}, {hi:.3f}] vs {rate[st]}"


def test_deterioration_rate_within_replication_interval(rate_runs):
    """Mean ± t-quantile x sd / sqrt(n) over the replications contains each stratum's rate.

    This interval uses the spread the replications actually show, so it also fails if the
    replications were not independent (identical copies give sd = 0). Normal enough here:
    each replication's rate rests on hundreds of events per stratum.
    """
    s, counts, expo, _ = rate_runs
    a = ALPHA / len(STRATA)
    rate = dict(zip(STRATA, s.health.deterioration_rate_per_year.as_tuple(), strict=True))
    per_rep = counts / expo
    t = stats.t.ppf(1 - a / 2, REPS - 1)
    for st in STRATA:
        x = per_rep[st].to_numpy()
        assert x.std(ddof=1) > 0, st
        half = t * x.std(ddof=1) / np.sqrt(REPS)
        assert abs(x.mean() - rate[st]) <= half, f"{st}: {x.mean():.4f} ± {half:.4f} vs {rate[st]}"


def test_acuity_shares_at_home(rate_runs):
    """Deteriorations met at home split into needs_bed / needs_assessment / minor as the shares say.

    Whether a person is at home does not depend on this deterioration's own acuity uniform, so
    the acuities of those met at home are multinomial with the scenario's shares: a
    chi-square goodness-of-fit test per stratum.
    """
    s, _, _, logs = rate_runs
    df = pd.concat(logs)
    d = df[(df.kind == "deterioration") & df.detail.isin(("needs_bed", "needs_assessment", "minor"))]
    h = s.health
    a = ALPHA / len(STRATA)
    for st in STRATA:
        obs = d[d.stratum == st].detail.value_counts().reindex(["needs_bed", "needs_assessment", "minor"], fill_value=0)
        bed, assess = getattr(h.share_needs_bed, st), getattr(h.share_needs_assessment, st)
        exp = obs.sum() * np.array([bed, assess, 1.0 - bed - assess])
        assert exp.min() >= 5, st
        p = stats.chisquare(obs.to_numpy(), exp).pvalue
        assert p > a, f"{st}: {obs.to_dict()} vs {exp.round(1)}, p={p:.2g}"


def test_terminal_deteriorations_add_expected_count():
    """With terminal episodes on, the extra deteriorations number what the deaths imply.

    Trajectory deteriorations = Poisson(sum_s rate_s x exposure_s) from the chain plus one
    terminal deterioration for each death with probability share[stratum at death] x
    P(lead < time since entry) (an exponential lead, dropped if it would fall before entry).
    Mean and variance of that sum are exact given the deaths; with thousands of events the sum
    is normal, so a two-sided z-test.
    """
    s = small_scenario(persons=3000, years=2.0, warmup=0.0, seed=99, replications=4, health=SAME_RATES)
    share = dict(zip(STRATA, s.health.terminal_episode_share.as_tuple(), strict=True))
    m = s.health.terminal_lead_days_mean
    rate = pd.Series(s.health.deterioration_rate_per_year.as_tuple(), index=list(STRATA))
    observed = chain = term_mean = term_var = 0.0
    for rep in range(4):
        df = ci.frame(run_replication(s, rep, ("intervention",), keep=True).tables["intervention"])
        observed += trajectory_deteriorations(df).sum()
        chain += float((rate * exposure_years(df, s.horizon_days)).sum())
        enter = df[df.kind == "enter"].set_index("person").time
        deaths = df[df.kind == "death"]
        p = deaths.stratum.map(share).to_numpy() * -np.expm1(-(deaths.time - enter[deaths.person].to_numpy()) / m)
        term_mean += p.sum()
        term_var += (p * (1 - p)).sum()
    z = (observed - chain - term_mean) / np.sqrt(chain + term_var)
    assert abs(z) < stats.norm.ppf(1 - ALPHA / 2), f"observed {observed}, expected {chain + term_mean:.0f}, z={z:.2f}"
    # The test can tell: the chain alone would be rejected (the terminal episodes are there).
    assert (observed - chain) / np.sqrt(chain) > stats.norm.ppf(1 - ALPHA / 2)


def test_length_of_stay_lognormal():
    """Bed-days of an admission are lognormal with the stratum's mean and the scenario's CV.

    No short-term care and no wait for home care, so the bed-days are the medical length of
    stay alone; deaths are (almost) switched off so that no stay is cut short. Stays are kept
    if their bed was granted at least 300 days before the horizon (P(LOS > 300 d) < 1e-9 here),
    so censoring at the horizon cannot favour short stays. log(LOS) ~ Normal(log m - s^2/2, s)
    with s^2 = log(1 + cv^2): Kolmogorov-Smirnov per stratum of admission.
    """
    s = small_scenario(persons=3000, years=2.0, warmup=0.0, seed=404, replications=3,
                       capacity={"beds": 400},
                       health={"death_rate_per_year": {"stable": 0.0, "fluctuating": 0.0, "unstable": 0.0,
                                                       "palliative": 1e-9},
                               "terminal_episode_share": dict.fromkeys(STRATA, 0.0)},
                       hospital={"short_term_care_share": dict.fromkeys(STRATA, 0.0),
                                 "home_care_lag_mean_days": 0.0})
    adm = []
    for rep in range(3):
        df = ci.frame(run_replication(s, rep, ("intervention",), keep=True).tables["intervention"])
        a = df[df.kind == "admission"]
        adm.append(a[(a.time + a.duration - a.quantity) < s.horizon_days - 300.0])
    adm = pd.concat(adm)
    assert (adm.detail != "censored").all()
    sigma = np.sqrt(np.log1p(s.hospital.los_cv**2))
    a = ALPHA / (len(STRATA) + 1)
    planned = adm.detail == "planned"  # planned stays have their own mean (any stratum)
    for st, mean in zip(STRATA, s.hospital.los_mean_days.as_tuple(), strict=True):
        x = np.log(adm[~planned & (adm.stratum == st)].quantity.to_numpy())
        assert len(x) > 100, st
        p = stats.kstest(x, "norm", args=(np.log(mean) - sigma**2 / 2, sigma)).pvalue
        assert p > a, f"{st}: mean LOS {np.exp(x).mean():.2f} d vs {mean}, p={p:.2g}"
    x = np.log(adm[planned].quantity.to_numpy())
    mean = s.hospital.planned_los_mean_days
    assert len(x) > 100
    p = stats.kstest(x, "norm", args=(np.log(mean) - sigma**2 / 2, sigma)).pvalue
    assert p > a, f"planned: mean LOS {np.exp(x).mean():.2f} d vs {mean}, p={p:.2g}"


# ---------------------------------------------------------------- the population at entry
def test_population_at_entry():
    """Initial strata, ages and the entrants' arrival process follow the scenario.

    Exact or distribution-free tests, ALPHA split over six: strata chi-square against
    stratum_shares; ages KS against 65 + an exponential truncated at age_max; entrants' count
    in its exact Poisson interval (rate x horizon, pooled over seeds); their arrival times KS
    uniform on the run (given the count, a Poisson process's times are uniform); the share
    moving in (older than 65) in its exact binomial (Clopper-Pearson) interval, and their
    ages KS against the same truncated exponential as the initial population's.
    """
    # the truncated exponential of ages (the default's age bands are tested in test_persons.py)
    s = small_scenario(persons=20000, years=2.0, warmup=0.5, population={
        "entrants_per_year": 2000.0, "age_band_lower_years": None, "age_band_shares": None})
    p = s.population
    a = ALPHA / 6
    pops = [make_population(s, replication_seed(s.simulation.seed, r)) for r in range(5)]
    n0 = p.persons_65plus
    initial = np.concatenate([q.stratum_at_entry[:n0] for q in pops])
    obs = np.bincount(initial, minlength=len(STRATA))
    assert stats.chisquare(obs, len(initial) * np.array(p.stratum_shares.as_tuple())).pvalue > a
    span, mean = p.age_max - 65.0, p.age_excess_mean_years
    excess = np.concatenate([q.age_at_entry[:n0] for q in pops]) - 65.0
    assert excess.min() >= 0 and excess.max() < span

    def cdf(x):
        return -np.expm1(-np.asarray(x) / mean) / -np.expm1(-span / mean)

    assert stats.kstest(excess, cdf).pvalue > a
    entrants = [q.entry_time[n0:] for q in pops]
    n = sum(len(e) for e in entrants)
    expected = len(pops) * p.entrants_per_year * s.horizon_days / DAYS_PER_YEAR
    assert stats.chi2.ppf(a / 2, 2 * n) / 2 <= expected <= stats.chi2.ppf(1 - a / 2, 2 * n + 2) / 2
    assert stats.kstest(np.concatenate(entrants) / s.horizon_days, "uniform").pvalue > a
    movers = sum(int((q.age_at_entry[n0:] > 65.0).sum()) for q in pops)
    ci_ = stats.binomtest(movers, n).proportion_ci(1 - a, method="exact")
    assert ci_.low <= p.share_entrants_moving_in <= ci_.high
    mover_excess = np.concatenate([q.age_at_entry[n0:] for q in pops]) - 65.0
    assert stats.kstest(mover_excess[mover_excess > 0], cdf).pvalue > a


# ---------------------------------------------------------------- the pure Markov chain
@pytest.fixture(scope="module")
def chain():
    """Stratum sojourns of a closed population over a long horizon, straight from the sampler.

    Rates of leaving each stratum are the default's times 10 (the sampler does not care), so
    that sojourns are short against the horizon: only sojourns that start at least ``L_s``
    before the horizon are kept, with P(sojourn > L_s) < 1e-6, so censoring is negligible and
    the selection (on start time) does not bias the durations.
    """
    base = small_scenario(persons=4000, years=40.0, warmup=0.0, seed=31)
    h = base.health
    tr = {o: {t: 10 * r for t, r in getattr(h.transition_rates_per_year, o).items()} for o in STRATA}
    death = {st: 10 * v for st, v in zip(STRATA, h.death_rate_per_year.as_tuple(), strict=True)}
    s = small_scenario(persons=4000, years=40.0, warmup=0.0, seed=31,
                       population={"entrants_per_year": 0.0,
                                   "stratum_shares": {"stable": 0.4, "fluctuating": 0.3, "unstable": 0.2,
                                                      "palliative": 0.1}},
                       health={"transition_rates_per_year": tr, "death_rate_per_year": death,
                               "terminal_episode_share": dict.fromkeys(STRATA, 0.0), **SAME_RATES})
    seed = replication_seed(s.simulation.seed, 0)
    traj = draw_trajectories(s, make_population(s, seed), seed)
    keep = np.isin(traj.kind, (ENTER, STRATUM_CHANGE, DEATH))
    t, p, k, st = traj.time[keep], traj.person[keep], traj.kind[keep], traj.stratum[keep]
    order = np.lexsort((t, p))
    t, p, k, st = t[order], p[order], k[order], st[order]
    nxt = np.r_[p[1:] == p[:-1], False]  # this row's sojourn ends at the next row of the same person
    start = k != DEATH
    sojourn = pd.DataFrame({
        "stratum": st[start], "start": t[start],
        "end": np.where(nxt, np.r_[t[1:], np.nan], np.nan)[start],
        "exit": np.where(nxt, np.r_[k[1:], -1], -1)[start],
        "to": np.where(nxt, np.r_[st[1:], -1], -1)[start],
    })
    return s, tr, death, sojourn


def _leave_rate(tr, death, st):
    return (sum(tr[st].values()) + death[st]) / DAYS_PER_YEAR  # per day


def test_markov_sojourn_mean_and_distribution(chain):
    """Completed sojourns in each stratum: exact Gamma interval on the mean, and KS on the law.

    n independent Exp(mean m) sojourns sum to Gamma(n, m), so the sample sum lies in the
    Gamma quantiles around n x m (exact, no normal approximation); and the fully specified
    exponential law is tested with Kolmogorov-Smirnov. 2 tests x 4 strata share ALPHA.
    """
    s, tr, death, soj = chain
    a = ALPHA / (2 * len(STRATA))
    horizon = s.horizon_days
    for i, st in enumerate(STRATA):
        q = _leave_rate(tr, death, st)
        L = -np.log(1e-6) / q
        x = soj[(soj.stratum == i) & (soj.start < horizon - L)]
        assert len(x) > 300, st
        assert x.end.notna().all(), st  # none censored
        d = (x.end - x.start).to_numpy()
        total, n = d.sum(), len(d)
        lo, hi = stats.gamma.ppf(a / 2, n), stats.gamma.ppf(1 - a / 2, n)
        assert lo <= total * q <= hi, f"{st}: mean {d.mean():.2f} d vs 1/q = {1 / q:.2f} d (n={n})"
        assert stats.kstest(d, "expon", args=(0, 1 / q)).pvalue > a, st


def test_markov_exit_destinations(chain):
    """A sojourn ends in a move to each target, or death, with probability rate / total rate.

    Chi-square goodness of fit per stratum with at least two possible exits.
    """
    s, tr, death, soj = chain
    done = soj[soj.end.notna()]
    strata_tested = [st for st in STRATA if len(tr[st]) >= 1]
    a = ALPHA / len(strata_tested)
    for st in strata_tested:
        i = STRATA.index(st)
        x = done[done.stratum == i]
        labels = [*tr[st], "death"]
        obs = np.array([((x.exit == STRATUM_CHANGE) & (x.to == STRATA.index(t))).sum() for t in tr[st]]
                       + [(x.exit == DEATH).sum()])
        assert obs.sum() == len(x)  # every exit is a listed move or a death
        rates = np.array([*tr[st].values(), death[st]])
        exp = obs.sum() * rates / rates.sum()
        assert exp.min() >= 5, st
        p = stats.chisquare(obs, exp).pvalue
        assert p > a, f"{st}: {dict(zip(labels, obs, strict=True))} vs {exp.round(1)}"
