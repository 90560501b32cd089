"""Calibration: the service concepts' effect sizes fitted to the reported outcomes (optuna TPE)."""

from sim.experiments.calibration.fit import calibrate
from sim.experiments.calibration.identifiability import identifiability
from sim.experiments.calibration.objective import evaluate
from sim.experiments.calibration.output import CalibrationResult
from sim.experiments.calibration.params import apply_params

__all__ = ["CalibrationResult", "apply_params", "calibrate", "evaluate", "identifiability"]
