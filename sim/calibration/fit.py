"""Calibration of the service concepts' effect sizes to the reported outcomes.

The search is optuna's TPE sampler; each trial is one evaluation of the model at a set of free
parameters: ``replications_per_trial`` paired replications (both care systems on the same
persons), every measurement design of ``targets.toml`` computed on them, and the loss

    loss = sum over targets with weight > 0 of  weight * (distance(naive_mean, band) / scale)^2

``distance`` is zero inside the target's band (the source's own range, else reported ± 0.05)
and the distance to the nearer edge outside it, so a one-sided figure ("over 60 %", "up to
80 %") costs nothing anywhere on its side. ``scale`` is the target's documented noise scale
(its ``scale`` in targets.toml: the half-width of its naive 95 % interval at a calibrated fit,
floored at 0.05), else half the band width, so a noisy target does not dominate. It is fixed,
not the trial's own interval: with a per-trial scale the search lowers the loss by making a
figure noisier (it did: see calibration/README.md). The naive figure is fitted, because it is what the
studies measured. Every trial uses the same replication seeds (common random
numbers), so two trials differ by their parameters, not by their noise. Trials are evaluated
in batches, one per worker, through :mod:`sim.executor` (ask/tell).

The study lives in an SQLite file (optuna RDB storage), so an interrupted calibration goes on
with ``--resume``: completed trials are kept, trials that were running are marked failed.
"""

from __future__ import annotations

import copy
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.fileset import recover, write_set
from sim.config.loader import validate
from sim.executor import Executor
from sim.measure.report import needed_kinds, read_needed_events
from sim.measure.targets import Parameter, TargetFile
from sim.runner import metrics_frame, run_replication

PARADIGMS = ("intervention", "person")
NAN_PENALTY = 25.0  #: loss of a fitted target the trial cannot compute (no cohort), per weight


def set_path(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A copy of a nested mapping with ``a.b.c`` set to ``value`` (the path must exist)."""
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
    """The value at ``a.b.c`` in a nested mapping (KeyError naming the path if absent)."""
    node: Any = data
    for k in dotted.split("."):
        if not isinstance(node, dict) or k not in node:
            raise KeyError(f"{dotted}: no field {k!r} in the scenario")
        node = node[k]
    return node


def start_point(scenario_data: dict[str, Any], params: dict[str, Parameter]) -> dict[str, float]:
    """The scenario's own values of the free parameters, clipped to their ranges.

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
    """The scenario mapping with the free parameters set."""
    for k, v in params.items():
        data = set_path(data, k, v)
    return data


def band_distance(mean: float, band: tuple[float, float]) -> float:
    """How far ``mean`` lies outside ``band`` (0 inside, edges included)."""
    return float(max(band[0] - mean, 0.0, mean - band[1]))


def target_loss(mean: float, target) -> float:
    """One target's unweighted loss: (distance from the band / ``target.loss_scale()``)^2.

    The scale is fixed per target (documented noise scale, else half the band width); NaN mean
    (no cohort): ``NAN_PENALTY``.
    """
    if mean != mean:
        return NAN_PENALTY
    return (band_distance(mean, target.band_or_default()) / target.loss_scale()) ** 2


def loss_terms(table: pd.DataFrame, targets: TargetFile) -> dict[str, float]:
    """Each fitted target's weighted contribution to the loss (see the module docstring)."""
    t = table.set_index("target")
    out = {}
    for tid, target in targets.targets.items():
        if target.weight <= 0 or target.reported is None:
            continue
        out[tid] = target.weight * target_loss(float(t.loc[tid, "naive_mean"]), target)
    return out


def loss_of(table: pd.DataFrame, targets: TargetFile) -> float:
    """The calibration loss: the sum of :func:`loss_terms`."""
    return float(sum(loss_terms(table, targets).values()))


def evaluate(scenario_data: dict[str, Any], params: dict[str, float], replications: list[int],
             targets: TargetFile) -> dict[str, Any]:
    """One trial: run the paired replications at ``params`` and measure every target.

    Returns ``loss``, ``measures`` (the measures table as records) and ``seconds``.
    """
    from sim.measure.report import measure_table

    t0 = time.perf_counter()
    per_rep = _evaluate_per_rep(scenario_data, params, replications, targets)
    table, detail = measure_table({tid: pd.DataFrame(r) for tid, r in per_rep.items()}, targets)
    return {"loss": loss_of(table, targets), "measures": table.to_dict("records"),
            "detail": detail.to_dict("records"), "seconds": time.perf_counter() - t0}


@dataclass
class CalibrationResult:
    """What a calibration produced."""

    best_params: dict[str, float]
    best_loss: float
    trials: pd.DataFrame
    fit: pd.DataFrame
    fit_detail: pd.DataFrame
    identifiability: pd.DataFrame
    seconds: float
    files: dict[str, str] = field(default_factory=dict)


def _distributions(params: dict[str, Parameter]):
    import optuna

    return {k: optuna.distributions.FloatDistribution(p.low, p.high, log=p.log) for k, p in params.items()}


class StudyError(ValueError):
    """A stored study that must not be replaced or resumed as asked (one-line message)."""


FINGERPRINT_PARTS = {
    "scenario": "the scenario (resolved parameters)",
    "targets": "the targets and their designs",
    "parameters": "the free parameters or their ranges",
    "replications": "the replications per trial",
}


def _digest(obj: Any) -> str:
    import hashlib
    import json

    text = json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(scenario_data: dict[str, Any], targets: TargetFile, replications: list[int]) -> dict[str, str]:
    """Hashes of what makes two trials' losses comparable, stored in the study's user attributes.

    ``scenario``: the resolved scenario with the free parameters blanked (every trial sets
    them, and their values in the scenario come from ``fitted.toml``, which each calibration
    rewrites: a resume after a finished run must still match); ``targets``: metrics, cohorts
    and targets (reported figures, bands, weights, scales); ``parameters``: the free
    parameters and their ranges; ``replications``: the replication numbers of each trial. The
    budget, final replications and profile are not part of it (``--resume`` may change them).
    """
    cal = targets.calibration
    params = cal.parameters if cal else {}
    masked = scenario_data
    for k in params:
        try:
            masked = set_path(masked, k, None)
        except KeyError:
            pass
    dumped = targets.model_dump(mode="json")
    return {
        "scenario": _digest(masked),
        "targets": _digest({k: dumped[k] for k in ("metrics", "cohorts", "targets")}),
        "parameters": _digest({k: p.model_dump(mode="json") for k, p in params.items()}),
        "replications": _digest(list(replications)),
    }


def _stored_study(storage: str, storage_path: Path, name: str):
    """The stored study's summary, or None (without creating the SQLite file)."""
    import optuna

    if not Path(storage_path).is_file():
        return None
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        if summary.study_name == name:
            return summary
    return None


def sampler_seed(seed: int, trials: int) -> int:
    """The sampler's seed for a study that already holds ``trials`` trials (finished or failed).

    A new study uses ``seed`` itself. A resumed one must not: TPE draws its random start-up
    points from the seed, so each new process would replay the first process's points (8 trials
    were 4 distinct parameter sets). Mixing in the number of trials gives each resume its own.
    """
    return seed if trials == 0 else int(np.random.SeedSequence([seed, trials]).generate_state(1)[0])


def open_study(storage_path: Path, name: str, seed: int, resume: bool, fresh: bool = False,
               prints: dict[str, str] | None = None, outputs: list[str] | None = None):
    """The optuna study in an SQLite file.

    Without ``resume`` a stored study of that name is refused (:class:`StudyError`) unless
    ``fresh``, which deletes it. With ``resume`` the stored study goes on, provided its
    fingerprint (see :func:`fingerprint`) equals ``prints``; else :class:`StudyError` names
    what differs. A new study stores ``prints`` in its user attributes. ``outputs``: the
    names of an earlier calibration's outputs present beside the study; without a stored study
    they are refused unless ``fresh`` (they are committed with the repository, the study is not:
    a first run must not silently replace 300 trials by 2).
    """
    import optuna

    if resume and fresh:
        raise StudyError("--resume and --fresh exclude each other")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{storage_path}"
    stored = _stored_study(storage, storage_path, name)
    if stored is not None and not resume:
        if not fresh:
            raise StudyError(f"{storage_path} already holds study {name!r} ({stored.n_trials} trials):"
                             " go on with --resume, or delete it and start over with --fresh")
        optuna.delete_study(study_name=name, storage=storage)
        stored = None
    if stored is None and outputs and not fresh:
        raise StudyError(f"{Path(storage_path).parent} holds an earlier calibration's outputs ({', '.join(outputs)})"
                         f" but no study {name!r} in {Path(storage_path).name} to go on with: start over with"
                         " --fresh to replace them")
    if stored is not None and prints is not None:
        old = stored.user_attrs.get("fingerprint")
        if not isinstance(old, dict):
            raise StudyError(f"{storage_path}: study {name!r} has no fingerprint (made by an older"
                             " version): cannot check it matches; start over with --fresh")
        differ = [FINGERPRINT_PARTS[k] for k in FINGERPRINT_PARTS if old.get(k) != prints.get(k)]
        if differ:
            raise StudyError(f"cannot resume study {name!r} in {storage_path}: "
                             + "; ".join(differ) + " differ from the stored study's; start over with --fresh")
    sampler = optuna.samplers.TPESampler(seed=sampler_seed(seed, stored.n_trials if stored else 0),
                                         n_startup_trials=10, multivariate=True)
    study = optuna.create_study(study_name=name, storage=storage, sampler=sampler,
                                direction="minimize", load_if_exists=True)
    if stored is None and prints is not None:
        study.set_user_attr("fingerprint", dict(prints))
    if resume:
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            study.tell(t.number, state=optuna.trial.TrialState.FAIL)
    return study


def search(study, scenario_data: dict[str, Any], targets: TargetFile, params: dict[str, Parameter],
           budget: int, replications: list[int], executor: Executor, workers: int,
           progress=None, objective=None) -> None:
    """Run trials until the study holds ``budget`` completed trials (ask/tell in batches).

    ``objective(scenario_data, params, replications, targets)`` returns a dict with ``loss``,
    ``measures`` and ``seconds`` (default :func:`evaluate`).
    """
    import optuna

    dists = _distributions(params)
    while True:
        done = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
        left = budget - done
        if left <= 0:
            return
        batch = [study.ask(dists) for _ in range(min(workers, left))]
        tasks = [(scenario_data, dict(t.params), replications, targets) for t in batch]
        try:
            for trial, res in zip(batch, executor.map(objective or evaluate, tasks), strict=True):
                trial.set_user_attr("naive", {m["target"]: m["naive_mean"] for m in res["measures"]})
                trial.set_user_attr("seconds", res["seconds"])
                loss = res["loss"]
                study.tell(trial, loss if math.isfinite(loss) else None,
                           state=None if math.isfinite(loss) else optuna.trial.TrialState.FAIL)
                if progress:
                    progress(trial.number, loss)
        except BaseException:
            for trial in batch:
                try:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                except Exception:  # already told
                    pass
            raise


def trials_frame(study, params: dict[str, Parameter]) -> pd.DataFrame:
    """Completed trials: number, loss, parameters and the naive figure of each target."""
    import optuna

    rows = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        row = {"trial": t.number, "loss": t.value, **{k: t.params.get(k) for k in params}}
        row.update({f"naive:{k}": v for k, v in t.user_attrs.get("naive", {}).items()})
        rows.append(row)
    return pd.DataFrame(rows).sort_values("loss").reset_index(drop=True) if rows else pd.DataFrame()


def identifiability(trials: pd.DataFrame, params: dict[str, Parameter], delta: float,
                    top_share: float = 0.1, min_top: int = 5,
                    importances: dict[str, float] | None = None) -> pd.DataFrame:
    """Which parameters the targets pin down: their spread among the trials that fit well.

    The trials that fit are those whose loss is within ``delta`` of the best
    (``[calibration] identifiability_delta``, default 1: one target one noise scale, its 95 %
    half-width, further outside its band than at the best), together with the top ``top_share``
    of trials (at least ``min_top``). For each parameter: the best value, the range among the trials that fit, and
    that range as a share of the search range. Under a quarter of the range: ``pinned``; half
    or more: ``loose`` (the targets hardly constrain it); ``partly`` in between. With a profile (see
    :func:`profile`) the verdict uses the profile interval instead.
    ``importance`` is optuna's fANOVA importance of the parameter for the loss, if computed.
    """
    n = len(trials)
    k = min(n, max(min_top, int(math.ceil(top_share * n))))
    best_loss = float(trials["loss"].min()) if n else float("nan")
    good = trials[(trials["loss"] <= best_loss + delta) | trials.index.isin(trials.nsmallest(k, "loss").index)]
    rows = []
    for name, p in params.items():
        v = good[name].to_numpy(float)
        spread = (v.max() - v.min()) / (p.high - p.low) if len(v) else float("nan")
        verdict = "pinned" if spread < 0.25 else ("loose" if spread >= 0.5 else "partly")
        rows.append({"parameter": name,
                     "best": float(trials.loc[trials["loss"].idxmin(), name]) if n else float("nan"),
                     "fit_min": float(v.min()) if len(v) else float("nan"),
                     "fit_max": float(v.max()) if len(v) else float("nan"),
                     "range_low": p.low, "range_high": p.high, "fit_spread_share": spread,
                     "importance": (importances or {}).get(name, float("nan")),
                     "verdict": verdict, "trials_that_fit": len(good), "loss_delta": delta})
    return pd.DataFrame(rows)


def profile(scenario_data: dict[str, Any], best: dict[str, float], targets: TargetFile,
            params: dict[str, Parameter], points: int, replications: list[int], executor: Executor,
            delta: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A one-parameter-at-a-time profile of the loss through the best point.

    Each parameter is set to ``points`` evenly spaced values of its range (the others at the
    best), with the same replications as the search (common random numbers). The interval is
    where the loss stays within ``delta`` of the loss at the best, with the edges interpolated
    linearly between grid points. Returns the grid (``parameter, value, loss, loss_at_best``) and
    the intervals (``parameter, low, high``).
    """
    tasks, keys = [(scenario_data, dict(best), replications, targets)], [("", float("nan"))]
    for name, p in params.items():
        for v in np.linspace(p.low, p.high, points):
            tasks.append((scenario_data, {**best, name: float(v)}, replications, targets))
            keys.append((name, float(v)))
    losses = [r["loss"] for r in executor.map(evaluate, tasks)]
    at_best = losses[0]
    limit = at_best + delta
    rows = [{"parameter": k, "value": v, "loss": loss} for (k, v), loss in zip(keys[1:], losses[1:], strict=True)]
    grid = pd.DataFrame(rows)
    out = []
    for name in params:
        g = pd.concat([grid[grid["parameter"] == name],
                       pd.DataFrame([{"parameter": name, "value": best[name], "loss": at_best}])])
        g = g.sort_values("value").reset_index(drop=True)
        x, y = g["value"].to_numpy(float), g["loss"].to_numpy(float)
        i = int(np.flatnonzero(np.isclose(x, best[name]) & np.isclose(y, at_best))[0])
        lo = hi = x[i]
        j = i
        while j > 0 and y[j - 1] <= limit:
            j -= 1
        lo = x[j] if j == 0 or y[j - 1] <= limit else x[j] - (x[j] - x[j - 1]) * (limit - y[j]) / max(y[j - 1] - y[j], 1e-12)
        j = i
        while j < len(x) - 1 and y[j + 1] <= limit:
            j += 1
        hi = x[j] if j == len(x) - 1 else x[j] + (x[j + 1] - x[j]) * (limit - y[j]) / max(y[j + 1] - y[j], 1e-12)
        out.append({"parameter": name, "low": float(lo), "high": float(hi)})
    return grid.assign(loss_at_best=at_best), pd.DataFrame(out)


def param_importances(study) -> dict[str, float]:
    """fANOVA importances of the parameters for the loss (empty if it cannot be computed)."""
    import optuna

    try:
        return dict(optuna.importance.get_param_importances(study))
    except Exception:  # too few trials, a constant loss...
        return {}


def _g(x: float) -> str:
    return "" if x != x else f"{x:.3g}"


def identifiability_markdown(ident: pd.DataFrame) -> str:
    """A markdown table: each parameter's range, fitted value, spread among fitting trials, profile."""
    from sim.measure.report import markdown_table

    has_profile = "profile_low" in ident.columns
    head = ["parameter", "range", "fitted", "range among trials that fit"]
    head += ["profile interval", "verdict"] if has_profile else ["verdict"]
    rows = []
    for _, r in ident.iterrows():
        cells = [f"`{r['parameter']}`", f"{_g(r['range_low'])}–{_g(r['range_high'])}", _g(r["best"]),
                 f"{_g(r['fit_min'])}–{_g(r['fit_max'])}"]
        if has_profile:
            cells.append(f"{_g(r['profile_low'])}–{_g(r['profile_high'])}")
        cells.append(str(r["verdict"]))
        rows.append(cells)
    return markdown_table(head, rows)


def fit_markdown(result: CalibrationResult, targets: TargetFile, per_trial: int, final: int) -> str:
    """``fit.md``: the fit and identifiability tables as the READMEs quote them, with the timing."""
    from sim.measure.report import measures_markdown

    terms = loss_terms(result.fit, targets)
    return (
        f"# Calibration fit\n\n{len(result.trials)} completed trials × {per_trial} paired replications;"
        f" final run {final} replications; wall time of this invocation {result.seconds:,.0f} s"
        f" ({result.seconds / 60:.1f} min; a `--resume` counts only what it ran).\n"
        f"Best loss {result.best_loss:.3f} over the trials' replications, {sum(terms.values()):.3f} over the"
        " final run (the loss terms below). Naive = as the studies measured it; causal = the same persons"
        " with and without the concepts; no-concept change = the naive design without any concept.\n\n"
        + measures_markdown(result.fit, result.fit_detail, terms)
        + "\n## Identifiability\n\n" + identifiability_markdown(result.identifiability)
    )


def fitted_text(best: dict[str, float], header: str) -> str:
    """A partial scenario overlay (TOML) with the fitted values, grouped by table."""
    tables: dict[str, list[tuple[str, float]]] = {}
    for dotted, v in sorted(best.items()):
        table, _, key = dotted.rpartition(".")
        tables.setdefault(table, []).append((key, v))
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for table, items in tables.items():
        lines += ["", f"[{table}]"]
        lines += [f"{key} = {round(v, 4)!r}" for key, v in items]
    return "\n".join(lines) + "\n"


def final_run(scenario_data: dict[str, Any], best: dict[str, float], targets: TargetFile,
              replications: list[int], executor: Executor) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replications at the best parameters, one task per replication; the measures table."""
    from sim.measure.report import measure_table

    tasks = [(scenario_data, best, [r], targets) for r in replications]
    per_target: dict[str, list[dict]] = {}
    # Re-measure over all replications together: collect each replication's per-target rows.
    results = list(executor.map(_evaluate_per_rep, tasks))
    for res in results:
        for tid, recs in res.items():
            per_target.setdefault(tid, []).extend(recs)
    per_rep = {tid: pd.DataFrame(recs) for tid, recs in per_target.items()}
    return measure_table(per_rep, targets)


def run_and_measure(scenario_data, params, replications, targets) -> tuple[dict[str, list[dict]], pd.DataFrame]:
    """Paired replications at ``params``: per-replication design figures, and the metrics.

    Returns ``{target: records}`` (for intervals over replications) and each replication's
    summary metrics of both paradigms (``replication, paradigm, <metric>...``).
    """
    from sim.measure.report import per_replication

    scenario = validate(apply_params(scenario_data, params), "calibration run")
    kinds = needed_kinds(targets)
    with tempfile.TemporaryDirectory(prefix="narvard-cal-") as tmp:
        frames, results = [], []
        for r in replications:
            part = Path(tmp) / f"part{r}"
            part.mkdir()
            res = run_replication(scenario, r, PARADIGMS, events_path=str(part / "events.parquet"))
            results.append(res)
            frames.append(read_needed_events(part, kinds))
    events = pd.concat(frames, ignore_index=True)
    reps = pd.concat([metrics_frame(results, p).assign(paradigm=p) for p in PARADIGMS], ignore_index=True)
    out = per_replication(events, targets, scenario.warmup_days, scenario.horizon_days, reps)
    return {tid: f.to_dict("records") for tid, f in out.items()}, reps


def _evaluate_per_rep(scenario_data, params, replications, targets) -> dict[str, list[dict]]:
    """Per-replication design figures (for intervals over the final replications)."""
    return run_and_measure(scenario_data, params, replications, targets)[0]


def calibrate(targets: TargetFile, scenario_data: dict[str, Any], out_dir: Path, executor: Executor,
              workers: int, budget: int | None = None, replications_per_trial: int | None = None,
              final_replications: int | None = None, resume: bool = False, seed: int | None = None,
              progress=None, write: bool = True, profile_points: int = 0, fresh: bool = False) -> CalibrationResult:
    """Fit the free parameters of ``targets.calibration`` and write the outputs to ``out_dir``.

    Files: ``fitted.toml`` (overlay), ``fit.csv`` (as measures.csv, at the best parameters over
    the final replications), ``fit_detail.csv``, ``fit.html`` (reported vs simulated),
    ``trials.csv``, ``identifiability.csv``, and the optuna study (SQLite). A stored study is
    refused without ``resume`` unless ``fresh``, and refused with ``resume`` when its
    fingerprint differs (:func:`open_study`).
    """
    cal = targets.calibration
    if cal is None:
        raise ValueError("targets file has no [calibration] table")
    start = time.perf_counter()
    budget = budget or cal.budget
    reps = list(range(replications_per_trial or cal.replications_per_trial))
    final = list(range(final_replications or cal.final_replications))
    out_dir.mkdir(parents=True, exist_ok=True)
    recover(out_dir)
    # validate the free parameter paths before any trial runs
    mid = {k: (p.low + p.high) / 2 for k, p in cal.parameters.items()}
    validate(apply_params(scenario_data, mid), "calibration scenario")
    present = [n for n in output_names(cal) if (out_dir / n).exists()]
    study = open_study(out_dir / cal.storage, cal.study_name, cal.seed if seed is None else seed, resume,
                       fresh, fingerprint(scenario_data, targets, reps), present)
    if not study.trials:
        study.enqueue_trial(start_point(scenario_data, cal.parameters))
    search(study, scenario_data, targets, cal.parameters, budget, reps, executor, workers, progress)
    trials = trials_frame(study, cal.parameters)
    best = {k: float(study.best_params[k]) for k in cal.parameters}
    fit, detail = final_run(scenario_data, best, targets, final, executor)
    ident = identifiability(trials, cal.parameters, cal.identifiability_delta,
                            importances=param_importances(study))
    prof_grid = None
    if profile_points >= 2:
        prof_grid, prof = profile(scenario_data, best, targets, cal.parameters, profile_points, reps,
                                  executor, cal.identifiability_delta)
        ident = ident.merge(prof.rename(columns={"low": "profile_low", "high": "profile_high"}), on="parameter")
        width = (ident["profile_high"] - ident["profile_low"]) / (ident["range_high"] - ident["range_low"])
        ident["profile_share"] = width
        ident["verdict"] = np.where(width < 0.25, "pinned", np.where(width >= 0.5, "loose", "partly"))
    result = CalibrationResult(best, float(study.best_value), trials, fit, detail, ident,
                               time.perf_counter() - start)
    if write:
        result.files = write_outputs(out_dir, cal, result, prof_grid, targets, len(reps), len(final))
    return result


def output_names(cal) -> list[str]:
    """Every file a calibration writes into its folder (one set: replaced as a whole)."""
    return [cal.fitted, "fit.csv", "fit_detail.csv", "fit.html", "trials.csv", "identifiability.csv",
            "profile.csv", "fit.md", "identifiability.html"]


def _csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, float_format="%.6g", lineterminator="\n")


def write_outputs(out_dir: Path, cal, result: CalibrationResult, prof_grid: pd.DataFrame | None,
                  targets: TargetFile, per_trial: int, final: int) -> dict[str, str]:
    """Write the calibration's outputs as one set (:func:`sim.calibration.fileset.write_set`).

    Returns ``{key: path}`` of the files written.
    """
    from sim.calibration.plots import identifiability_figure
    from sim.measure.report import plot_fit

    names = {"fitted": cal.fitted, "fit": "fit.csv", "fit_detail": "fit_detail.csv", "chart": "fit.html",
             "trials": "trials.csv", "identifiability": "identifiability.csv"}
    files = {
        "fitted": fitted_text(
            result.best_params,
            "Fitted by `narvard calibrate` (sim/calibration/fit.py) against calibration/targets.toml:\n"
            f"{len(result.trials)} completed trials, {per_trial} replications per trial, best loss"
            f" {result.best_loss:.3f}.\nA partial scenario overlay: scenarios take it as their"
            " `overlay` (scenarios/default.toml).\nDo not edit by hand; rerun the calibration."),
        "fit": _csv(result.fit), "fit_detail": _csv(result.fit_detail),
        "chart": plot_fit(result.fit, "Calibration: reported vs simulated (naive and causal, 95 % CI)").to_html(
            include_plotlyjs="cdn"),
        "trials": _csv(result.trials), "identifiability": _csv(result.identifiability),
    }
    if prof_grid is not None:
        names["profile"] = "profile.csv"
        files["profile"] = _csv(prof_grid)
    names["markdown"] = "fit.md"
    files["markdown"] = fit_markdown(result, targets, per_trial, final)
    names["identifiability_chart"] = "identifiability.html"
    files["identifiability_chart"] = identifiability_figure(result.trials, cal.parameters).to_html(
        include_plotlyjs="cdn")
    write_set(out_dir, {names[k]: v for k, v in files.items()}, output_names(cal))
    return {k: str(out_dir / names[k]) for k in names}
