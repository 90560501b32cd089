"""Calibration of the service concepts' effect sizes to the reported outcomes: the whole run.

Each trial evaluates the model at one set of free parameters: ``replications_per_trial`` paired
replications (both care systems on the same persons), every measurement design of
``targets.toml`` computed on them, and the loss of :mod:`sim.experiments.calibration.objective`. The parts:

- :mod:`~sim.experiments.calibration.params`: parameter sets as dotted paths into the scenario;
- :mod:`~sim.experiments.calibration.batch`: parameter sets × replications through an executor;
- :mod:`~sim.experiments.calibration.study` and :mod:`~sim.experiments.calibration.search`: the resumable optuna study
  and the TPE search (ask/tell, a batch per round);
- :mod:`~sim.experiments.calibration.identifiability`: which parameters the targets pin down;
- :mod:`~sim.experiments.calibration.output` and :mod:`~sim.experiments.calibration.fileset`: the outputs, one set.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sim.config.loader import validate
from sim.experiments.calibration.batch import measures_at
from sim.experiments.calibration.fileset import recover
from sim.experiments.calibration.identifiability import identifiability, profile, with_profile
from sim.experiments.calibration.output import CalibrationResult, output_names, posterior_wrote, write_outputs
from sim.experiments.calibration.params import apply_params, start_point
from sim.experiments.calibration.search import search
from sim.experiments.calibration.study import fingerprint, open_study, param_importances, trials_frame
from sim.experiments.executor import Executor
from sim.measure.targets import TargetFile


def calibrate(targets: TargetFile, scenario_data: dict[str, Any], out_dir: Path, executor: Executor,
              workers: int, budget: int | None = None, replications_per_trial: int | None = None,
              final_replications: int | None = None, resume: bool = False, seed: int | None = None,
              progress=None, write: bool = True, profile_points: int = 0, fresh: bool = False) -> CalibrationResult:
    """Fit the free parameters of ``targets.calibration`` and write the outputs to ``out_dir``.

    Files (one set, :func:`~sim.experiments.calibration.output.output_names`): ``fitted.toml`` (overlay),
    ``fit.csv`` (as measures.csv, at the best parameters over the final replications),
    ``fit_detail.csv``, ``fit.md``, ``fit.html`` (reported vs simulated), ``trials.csv``,
    ``identifiability.csv`` and ``.html``, ``profile.csv``; beside them the optuna study (SQLite).
    A stored study is refused without ``resume`` unless ``fresh``, and refused with ``resume``
    when its fingerprint differs; outputs without a stored study are refused unless ``fresh``
    (:func:`~sim.experiments.calibration.study.open_study`).
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
    if posterior_wrote(out_dir / cal.fitted):  # the overlay every bundled scenario loads: not the search's to replace
        raise ValueError(f"{out_dir / cal.fitted}: written by `narvard posterior`, which --fresh does not replace;"
                         " give the optuna search its own folder with --out DIR")
    present = [n for n in output_names(cal) if (out_dir / n).exists()]
    study = open_study(out_dir / cal.storage, cal.study_name, cal.seed if seed is None else seed, resume,
                       fresh, fingerprint(scenario_data, targets, reps), present)
    if not study.trials:
        study.enqueue_trial(start_point(scenario_data, cal.parameters))
    search(study, scenario_data, targets, cal.parameters, budget, reps, executor, workers, progress)
    trials = trials_frame(study, cal.parameters)
    best = {k: float(study.best_params[k]) for k in cal.parameters}
    fit, detail = measures_at(scenario_data, best, targets, final, executor)
    ident = identifiability(trials, cal.parameters, cal.identifiability_delta,
                            importances=param_importances(study))
    prof_grid = None
    if profile_points >= 2:
        prof_grid, prof = profile(scenario_data, best, targets, cal.parameters, profile_points, reps,
                                  executor, cal.identifiability_delta)
        ident = with_profile(ident, prof)
    result = CalibrationResult(best, float(study.best_value), trials, fit, detail, ident,
                               time.perf_counter() - start)
    if write:
        result.files = write_outputs(out_dir, cal, result, prof_grid, targets, len(reps), len(final))
    return result
