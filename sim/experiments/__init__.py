"""Experiments: batches of parameter sets × replications run through an executor.

``executor`` (serial, local processes, Dask), ``runner`` (the replications of one scenario on
the same persons), ``pipeline`` (a scenario file to a complete results folder), ``switch_off``
(each service concept off alone) and ``calibration`` (fit, identifiability, ensemble).
"""
