"""The search: optuna's TPE sampler asks for parameter sets, a batch per round, one per worker (ask/tell)."""

from __future__ import annotations

import math
from typing import Any

from sim.experiments.calibration.batch import map_sets
from sim.experiments.calibration.objective import evaluate
from sim.experiments.executor import Executor
from sim.measure.targets import Parameter, TargetFile


def _distributions(params: dict[str, Parameter]):
    import optuna

    return {k: optuna.distributions.FloatDistribution(p.low, p.high, log=p.log) for k, p in params.items()}


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
        try:
            results = map_sets(objective or evaluate, scenario_data, [t.params for t in batch], replications,
                               targets, executor)
            for trial, res in zip(batch, results, strict=True):
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
