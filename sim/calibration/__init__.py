"""Calibration: the service concepts' effect sizes fitted to the reported outcomes (optuna TPE)."""

from sim.calibration.fit import calibrate
from sim.calibration.identifiability import identifiability
from sim.calibration.objective import evaluate
from sim.calibration.output import CalibrationResult
from sim.calibration.params import apply_params

__all__ = ["CalibrationResult", "apply_params", "calibrate", "evaluate", "identifiability"]
