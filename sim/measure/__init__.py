"""Measurement designs: the reported outcomes computed from the event log, naive and causal."""

from sim.measure.designs import MeasureError, compute_design
from sim.measure.report import measure_events, measure_folder, plot_fit, write_measures
from sim.measure.targets import Cohort, Metric, Target, TargetFile, load_targets

__all__ = [
    "Cohort", "MeasureError", "Metric", "Target", "TargetFile", "compute_design", "load_targets",
    "measure_events", "measure_folder", "plot_fit", "write_measures",
]
