"""The posterior of the free parameters by ABC-SMC (pyabc): priors, evaluations, a resumable history.

The priors are uniform on each free parameter's range in ``targets.toml`` (each with its
``source``). One evaluation runs the model at a parameter set: ``replications`` paired
replications (both care systems on the same persons) with *fresh* replication numbers (a new
area each time: the reported figures are single cohorts, so the simulated figure must carry a
single cohort's noise, not the mean of many), every measurement design on them, and the naive
figure of each target. The distance is the calibration's band distance
(:mod:`sim.experiments.calibration.objective`), ``sqrt(loss)``: zero inside every band, else the
misses in units of each target's noise scale; ABC-SMC accepts a particle when it is at most the
generation's epsilon (the median of the previous generation's distances), so the last
generation is a weighted sample of the parameters that reproduce the reported figures within
that tolerance.

Evaluations go through :mod:`sim.experiments.executor` (a pyabc mapping sampler whose map is
the executor's: local processes or a Dask cluster); each mapped task samples until it has one
accepted particle. The history is pyabc's SQLite database (``abc.sqlite3``, beside the outputs):
every finished generation is stored, and ``--resume`` loads it and goes on. A new history stores
the fingerprint of :func:`sim.experiments.calibration.study.fingerprint` (scenario, targets,
priors, replications per evaluation) in a table of its own; a resume of a history made for
something else is refused, as is a new run over a stored history without ``--fresh``.
"""

from __future__ import annotations

import math
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.calibration.batch import design_figures
from sim.experiments.calibration.objective import NAN_PENALTY, target_loss
from sim.experiments.calibration.study import FINGERPRINT_PARTS, StudyError, fingerprint
from sim.experiments.executor import Executor
from sim.measure.report import measure_table
from sim.measure.targets import Parameter, TargetFile

HISTORY = "abc.sqlite3"
FINGERPRINT_TABLE = "narvard_fingerprint"
#: Replication numbers of the evaluations are drawn from here (0...999 are the fixed ones of runs).
REPLICATION_RANGE = (1_000, 2**31 - 1)


def key(name: str) -> str:
    """Pyabc's name of a free parameter (dots are not safe in its history): ``a.b`` -> ``a__b``."""
    return name.replace(".", "__")


def fitted_targets(targets: TargetFile) -> list[str]:
    """Targets with a reported figure and weight > 0: those the distance counts."""
    return [tid for tid, t in targets.targets.items() if t.weight > 0 and t.reported is not None]


def prior(params: dict[str, Parameter]):
    """Pyabc prior: independent uniforms on the ranges (``log``: uniform in the logarithm)."""
    import pyabc

    rvs = {}
    for name, p in params.items():
        if p.log:
            rvs[key(name)] = pyabc.RV("loguniform", p.low, p.high)
        else:
            rvs[key(name)] = pyabc.RV("uniform", p.low, p.high - p.low)
    return pyabc.Distribution(**rvs)


#: Share of each generation's proposals drawn from the prior (defensive mixture, :func:`transition`).
PRIOR_SHARE = 0.2


def transition(prior_dist, prior_share: float = PRIOR_SHARE):
    """Return the perturbation kernel: pyabc's Gaussian KDE mixed with the prior (a defensive mixture).

    With 14 parameters and a few dozen particles the plain KDE's density varies by orders of
    magnitude between its centre and its tails, so the importance weights prior / proposal of
    the particles accepted in the tails dominate: a run of 2026-12-03 had an ESS of 3.3 of 32 in
    its second generation. Drawing ``prior_share`` of the proposals from the prior bounds every
    weight by 1 / ``prior_share`` (Hesterberg's defensive importance sampling); the cost is that
    share of proposals starting from the prior, which are accepted less often.
    """
    from sim.experiments.calibration.abc_transition import DefensiveTransition

    return DefensiveTransition(prior_dist, prior_share)


class DesignModel:
    """The pyabc model: a parameter set -> the naive (and causal) figure of every target.

    Picklable (plain data), so it travels to worker processes or a Dask cluster. Each call
    draws fresh replication numbers from numpy's global generator (the sampler seeds it from
    the task's place: :mod:`sim.experiments.calibration.abc_sampler`).
    """

    def __init__(self, scenario_data: dict[str, Any], targets: TargetFile, names: list[str], replications: int = 1):
        self.scenario_data = scenario_data
        self.targets = targets
        self.names = names
        self.replications = replications

    def __call__(self, pars) -> dict[str, float]:
        """Run the paired replications at ``pars`` and measure every target."""
        params = {n: float(pars[key(n)]) for n in self.names}
        first = int(np.random.randint(*REPLICATION_RANGE))  # noqa: NPY002  (the sampler seeds the global generator per task)
        reps = [first + i for i in range(self.replications)]
        t0 = time.process_time()
        per_rep = design_figures(self.scenario_data, params, reps, self.targets)
        table, _ = measure_table({tid: pd.DataFrame(r) for tid, r in per_rep.items()}, self.targets)
        out = {"replication": float(first), "cpu_seconds": time.process_time() - t0}
        for row in table.to_dict("records"):
            out[f"naive:{row['target']}"] = float(row["naive_mean"])
            out[f"causal:{row['target']}"] = float(row["causal_mean"])
        return out


class BandDistance:
    """sqrt of the calibration loss of a simulated figure set (the observed figures are the bands)."""

    def __init__(self, targets: TargetFile):
        self.terms = [(f"naive:{tid}", targets.targets[tid]) for tid in fitted_targets(targets)]

    def __call__(self, x: dict, x0: dict) -> float:
        """Distance of simulated statistics ``x`` (``x0``, the reported figures, is not used: the bands are)."""
        total = 0.0
        for name, t in self.terms:
            v = x.get(name, float("nan"))
            total += t.weight * (NAN_PENALTY if v != v else target_loss(float(v), t))
        return math.sqrt(total)


class _ExecutorMap:
    """``map(fn, items)`` through an executor (tasks are 1-tuples)."""

    def __init__(self, executor: Executor):
        self.executor = executor

    def __call__(self, fn, items):
        return list(self.executor.map(fn, [(x,) for x in items]))


def sampler(executor: Executor, seed: int = 0):
    """Return a pyabc mapping sampler whose map is the executor's (each task samples until one acceptance).

    Task ``i`` of generation ``t`` seeds its draws from ``(seed, t, i)``: the run is reproducible
    (:mod:`sim.experiments.calibration.abc_sampler`).
    """
    from sim.experiments.calibration.abc_sampler import SeededMappingSampler

    return SeededMappingSampler(_ExecutorMap(executor), seed)


# --------------------------------------------------------------------------- the stored history
def _stored_fingerprint(db: Path) -> dict[str, str] | None:
    with sqlite3.connect(db) as con:
        try:
            rows = con.execute(f"SELECT part, digest FROM {FINGERPRINT_TABLE}").fetchall()
        except sqlite3.OperationalError:
            return None
    return dict(rows)


def _store_fingerprint(db: Path, prints: dict[str, str]) -> None:
    with sqlite3.connect(db) as con:
        con.execute(f"CREATE TABLE IF NOT EXISTS {FINGERPRINT_TABLE} (part TEXT PRIMARY KEY, digest TEXT)")
        con.executemany(f"INSERT OR REPLACE INTO {FINGERPRINT_TABLE} VALUES (?, ?)", sorted(prints.items()))


def abc_fingerprint(scenario_data: dict[str, Any], targets: TargetFile, replications: int) -> dict[str, str]:
    """Return the study fingerprint (scenario, targets, priors with their ranges, replications per evaluation)."""
    return fingerprint(scenario_data, targets, [f"abc:{replications}"])


def check_history(db: Path, resume: bool, fresh: bool, prints: dict[str, str]) -> bool:
    """Decide what to do with a stored history; return whether to load it (else start a new one).

    Without ``resume`` a stored history is refused unless ``fresh`` (which deletes it); with
    ``resume`` its fingerprint must equal ``prints`` (:class:`StudyError` names what differs).
    """
    if resume and fresh:
        raise StudyError("--resume and --fresh exclude each other")
    if not db.is_file():
        if resume:
            raise StudyError(f"{db}: no stored ABC history to resume; start one without --resume")
        return False
    if not resume:
        if not fresh:
            raise StudyError(f"{db} already holds an ABC history: go on with --resume, or delete it and start"
                             " over with --fresh")
        db.unlink()
        return False
    old = _stored_fingerprint(db)
    if old is None:
        raise StudyError(f"{db}: the history has no fingerprint: cannot check it matches; start over with --fresh")
    differ = [FINGERPRINT_PARTS[k] for k in FINGERPRINT_PARTS if old.get(k) != prints.get(k)]
    if differ:
        raise StudyError(f"cannot resume the ABC history in {db}: " + "; ".join(differ)
                         + " differ from the stored history's; start over with --fresh")
    return True


@dataclass
class AbcRun:
    """What an ABC-SMC run produced: the particles of every generation and the bookkeeping."""

    particles: pd.DataFrame  #: generation, weight, distance, parameters (dotted names), statistics
    populations: pd.DataFrame  #: generation, epsilon, particles, samples (evaluations), acceptance
    evaluations: int
    seconds: float
    cpu_per_evaluation: float
    notes: list[str] = field(default_factory=list)

    @property
    def last(self) -> pd.DataFrame:
        """The last generation's particles: the posterior sample (weights sum to 1)."""
        t = int(self.particles["generation"].max())
        return self.particles[self.particles["generation"] == t].reset_index(drop=True)


def history_frames(history, names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Particles (every generation, with their statistics) and the populations table of a pyabc history."""
    frames = []
    for t in range(history.max_t + 1):
        pop = history.get_population(t=t)
        rows = []
        for p in pop.particles:
            row = {"generation": t, "weight": float(p.weight), "distance": float(p.distance)}
            row.update({n: float(p.parameter[key(n)]) for n in names})
            row.update({k: float(v) for k, v in p.sum_stat.items()})
            rows.append(row)
        f = pd.DataFrame(rows)
        f["weight"] = f["weight"] / f["weight"].sum()
        frames.append(f)
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].rename(columns={"t": "generation", "particles": "particles",
                                                 "samples": "samples"})
    pops["acceptance"] = pops["particles"] / pops["samples"]
    pops["ess"] = [effective_sample_size(f["weight"].to_numpy(float)) for f in frames]
    return (pd.concat(frames, ignore_index=True),
            pops[["generation", "epsilon", "particles", "samples", "acceptance", "ess"]])


def run_abc(targets: TargetFile, scenario_data: dict[str, Any], out_dir: Path, executor: Executor,
            population: int, generations: int, replications: int = 1, resume: bool = False, fresh: bool = False,
            minutes: float | None = None, min_epsilon: float = 0.0, model=None, distance=None,
            prior_share: float = PRIOR_SHARE, min_eps_drop: float = 0.0, seed: int = 0) -> AbcRun:
    """Run (or go on with) ABC-SMC until ``generations`` generations are stored (or ``minutes`` pass).

    ``min_eps_drop``: also stop once a generation lowered epsilon by less than this fraction of the
    one before (:func:`epsilon_stalled`; checked before a resumed run starts and after every
    generation; 0 = off). ``model``/``distance``: replace the simulation model (tests: a toy with
    the same interface). ``seed``: the sampler's (the same seed and settings give the same history).
    """
    import pyabc

    cal = targets.calibration
    if cal is None:
        raise ValueError("targets file has no [calibration] table")
    names = list(cal.parameters)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / HISTORY
    prints = abc_fingerprint(scenario_data, targets, replications)
    load = check_history(db, resume, fresh, prints)
    prior_dist = prior(cal.parameters)
    abc = pyabc.ABCSMC(model or DesignModel(scenario_data, targets, names, replications), prior_dist,
                       distance or BandDistance(targets), population_size=population,
                       transitions=transition(prior_dist, prior_share),
                       # a new history's generation 0 takes the prior sample as it is (no calibration
                       # sample); a resumed one starts from the median distance of its last generation
                       eps=pyabc.QuantileEpsilon(initial_epsilon="from_sample" if load else 1e9, alpha=0.5),
                       sampler=sampler(executor, seed))
    url = f"sqlite:///{db}"
    observed = {f"naive:{tid}": float(targets.targets[tid].reported) for tid in fitted_targets(targets)}
    if load:
        history = abc.load(url, 1, observed)
    else:
        history = abc.new(url, observed)
        _store_fingerprint(db, prints)
    done = history.max_t + 1
    start = time.perf_counter()
    notes = []
    stalled = min_eps_drop > 0.0 and epsilon_stalled(history.get_all_populations(), min_eps_drop)
    if generations > done and not stalled:
        wall = timedelta(minutes=minutes) if minutes else None
        if min_eps_drop > 0.0:
            base = abc.check_terminate

            def check_terminate(t, acceptance_rate):  # pyabc's criteria, then the epsilon's fall
                nonlocal stalled
                stalled = epsilon_stalled(abc.history.get_all_populations(), min_eps_drop)
                return base(t=t, acceptance_rate=acceptance_rate) or stalled

            abc.check_terminate = check_terminate
        history = abc.run(minimum_epsilon=min_epsilon, max_nr_populations=generations - done, max_walltime=wall)
    if stalled:
        notes.append(f"stopped: the last generation lowered epsilon by less than {min_eps_drop:.0%}")
    particles, pops = history_frames(history, names)
    evaluations = int(pops["samples"].sum())
    cpu = float(particles["cpu_seconds"].mean()) if "cpu_seconds" in particles else float("nan")
    return AbcRun(particles, pops, evaluations, time.perf_counter() - start, cpu, notes)


def epsilon_stalled(populations: pd.DataFrame, min_drop: float) -> bool:
    """Whether the last generation lowered epsilon by less than ``min_drop`` (a fraction) of the one before.

    ``populations``: pyabc's table (``t``, ``epsilon``); generation 0, the prior sample, has no
    epsilon of its own (pyabc stores the initial 1e9), so at least generations 1 and 2 are needed.
    An epsilon of 0 (every particle inside every band) cannot fall further: stalled.
    """
    eps = populations.loc[populations["t"] >= 1].sort_values("t")["epsilon"].to_numpy(float)
    if len(eps) < 2:
        return False
    prev, last = eps[-2], eps[-1]
    return prev <= 0.0 or (prev - last) / prev < min_drop


# --------------------------------------------------------------------------- summaries of the posterior
def effective_sample_size(w: np.ndarray) -> float:
    """Kish's effective sample size of importance weights: (sum w)^2 / sum w^2 (= n for equal weights)."""
    w = np.asarray(w, float)
    return float(w.sum() ** 2 / np.sum(w**2)) if len(w) and np.sum(w**2) > 0 else 0.0


#: How :func:`point_estimate` picks the one parameter set the bundled scenarios use.
POINT_RULES = ("median", "best")


def point_estimate(last: pd.DataFrame, params: dict[str, Parameter], rule: str = "median") -> dict[str, float]:
    """One parameter set standing for the posterior (``fitted.toml``).

    ``median`` (the default): each parameter's weighted posterior median. Robust with few
    particles, inside the prior, and not chosen on noise. ``best``: the particle with the smallest
    distance (the largest weight among ties). With one replication per evaluation that is the
    luckiest draw rather than the best parameters, and with band distances many particles tie at
    zero; it is offered for comparison. The medians of correlated marginals need not be a point
    the posterior favours jointly: ``narvard posterior --write-fitted`` therefore runs the point
    again (``fit.csv``) to show that it reproduces the targets.
    """
    if rule not in POINT_RULES:
        raise ValueError(f"point rule {rule!r}: expected one of {', '.join(POINT_RULES)}")
    if rule == "best":
        best = last.sort_values(["distance", "weight"], ascending=[True, False], kind="stable").iloc[0]
        return {n: float(best[n]) for n in params}
    w = last["weight"].to_numpy(float)
    return {n: float(weighted_quantile(last[n].to_numpy(float), w, 0.5)) for n in params}


def weighted_quantile(x: np.ndarray, w: np.ndarray, q) -> np.ndarray:
    """Quantiles of a weighted sample (the weighted empirical distribution, interpolated)."""
    order = np.argsort(x)
    x, w = np.asarray(x, float)[order], np.asarray(w, float)[order]
    cw = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cw, x)


def marginals(last: pd.DataFrame, params: dict[str, Parameter]) -> pd.DataFrame:
    """Per parameter: prior range, posterior mean, median, 90 % interval, shrinkage and verdicts.

    ``shrinkage`` = 1 - posterior variance / prior variance (uniform prior: range^2 / 12);
    ``still_prior``: shrinkage below 0.2 and the mean within a tenth of the range of the prior's
    (the targets say nothing about it); ``at_bound``: the posterior median within 10 % of the
    range of an edge (the prior's edge decides where the posterior sits).
    """
    w = last["weight"].to_numpy(float)
    rows = []
    for name, p in params.items():
        x = last[name].to_numpy(float)
        mean = float(np.average(x, weights=w))
        var = float(np.average((x - mean) ** 2, weights=w))
        width = p.high - p.low
        q05, q50, q95 = weighted_quantile(x, w, [0.05, 0.5, 0.95])
        shrink = 1.0 - var / (width**2 / 12.0)
        mid = (p.low + p.high) / 2
        still = shrink < 0.2 and abs(mean - mid) < 0.1 * width
        bound = "low" if q50 - p.low < 0.1 * width else ("high" if p.high - q50 < 0.1 * width else "")
        rows.append({"parameter": name, "prior_low": p.low, "prior_high": p.high, "mean": mean, "median": q50,
                     "q05": q05, "q95": q95, "sd": math.sqrt(var), "shrinkage": shrink,
                     "still_prior": bool(still), "at_bound": bound, "source": p.source})
    return pd.DataFrame(rows)


def correlations(last: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Weighted Pearson correlations of the posterior sample (what trades against what)."""
    w = last["weight"].to_numpy(float)
    x = last[names].to_numpy(float)
    cov = np.atleast_2d(np.cov(x, rowvar=False, aweights=w))  # one parameter: a 1 x 1 matrix
    sd = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    return pd.DataFrame(cov / np.outer(sd, sd), index=names, columns=names)


def resample(last: pd.DataFrame, names: list[str], n: int, seed: int) -> list[dict[str, float]]:
    """``n`` parameter sets drawn from the posterior sample by its weights (with replacement, seeded)."""
    rng = np.random.default_rng(seed)
    w = last["weight"].to_numpy(float)
    idx = rng.choice(len(last), size=n, replace=True, p=w / w.sum())
    return [{k: float(last.iloc[i][k]) for k in names} for i in idx]
