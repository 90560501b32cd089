"""Calibration: the service concepts' effect sizes fitted to the reported outcomes (optuna TPE)."""

from sim.calibration.fit import CalibrationResult, apply_params, calibrate, evaluate, identifiability

__all__ = ["CalibrationResult", "apply_params", "calibrate", "evaluate", "identifiability"]
