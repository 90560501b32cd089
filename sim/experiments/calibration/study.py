"""The optuna study in an SQLite file (optuna RDB storage): opened, fingerprinted, resumed, read.

An interrupted calibration goes on with ``--resume``: completed trials are kept, trials that
were running are marked failed. A study stores a fingerprint of what makes its losses
comparable, and a resume of a study made for something else is refused.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.calibration.params import set_path
from sim.measure.targets import Parameter, TargetFile


class StudyError(ValueError):
    """A stored study that must not be replaced or resumed as asked (one-line message)."""


FINGERPRINT_PARTS = {
    "scenario": "the scenario (resolved parameters)",
    "targets": "the targets and their designs",
    "parameters": "the free parameters or their ranges",
    "replications": "the replications per trial",
}


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(scenario_data: dict[str, Any], targets: TargetFile, replications: list[int]) -> dict[str, str]:
    """Hash what makes two trials' losses comparable, stored in the study's user attributes.

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
    """Return the stored study's summary, or None (without creating the SQLite file)."""
    import optuna

    if not Path(storage_path).is_file():
        return None
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        if summary.study_name == name:
            return summary
    return None


def sampler_seed(seed: int, trials: int) -> int:
    """Return the sampler's seed for a study that already holds ``trials`` trials (finished or failed).

    A new study uses ``seed`` itself. A resumed one must not: TPE draws its random start-up
    points from the seed, so each new process would replay the first process's points (8 trials
    were 4 distinct parameter sets). Mixing in the number of trials gives each resume its own.
    """
    return seed if trials == 0 else int(np.random.SeedSequence([seed, trials]).generate_state(1)[0])


def open_study(storage_path: Path, name: str, seed: int, resume: bool, fresh: bool = False,
               prints: dict[str, str] | None = None, outputs: list[str] | None = None):
    """Open the optuna study in an SQLite file.

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


def trials_frame(study, params: dict[str, Parameter]) -> pd.DataFrame:
    """Return the completed trials: number, loss, parameters and the naive figure of each target."""
    import optuna

    rows = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        row = {"trial": t.number, "loss": t.value, **{k: t.params.get(k) for k in params}}
        row.update({f"naive:{k}": v for k, v in t.user_attrs.get("naive", {}).items()})
        rows.append(row)
    return pd.DataFrame(rows).sort_values("loss").reset_index(drop=True) if rows else pd.DataFrame()


def param_importances(study) -> dict[str, float]:
    """Return the fANOVA importances of the parameters for the loss (empty if it cannot be computed)."""
    import optuna

    try:
        return dict(optuna.importance.get_param_importances(study))
    except Exception:  # too few trials, a constant loss...
        return {}
